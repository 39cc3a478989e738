//! [`Scanner`]: every detector behind one `scan()`.

use std::borrow::Cow;
use std::collections::BTreeSet;

use crate::error::Error;
use crate::finding::{Finding, Kind};
use crate::lexicon::{Lexicon, SharedLexicon};
use crate::pii::{date, PiiDetectors, PiiKinds};
use crate::redact::RedactionPolicy;
use crate::stream::StreamScanner;

/// Builds a [`Scanner`].
///
/// A builder is reusable: `build()` takes `&self`.
///
/// ```
/// use filter_core::{Kind, ScannerBuilder};
///
/// let scanner = ScannerBuilder::new().kind(Kind::Email, false).build()?;
/// assert_eq!(scanner.scan("a@b.cn 13800138000").len(), 1);
/// # Ok::<(), filter_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ScannerBuilder {
    kinds: PiiKinds,
    words: bool,
    lexicon: Option<SharedLexicon>,
}

impl Default for ScannerBuilder {
    fn default() -> ScannerBuilder {
        ScannerBuilder::new()
    }
}

impl ScannerBuilder {
    /// A builder with every personal-data detector on.
    pub fn new() -> ScannerBuilder {
        let mut kinds = PiiKinds::none();
        for k in Kind::ALL {
            kinds.set(k, true);
        }
        ScannerBuilder {
            kinds,
            words: true,
            lexicon: None,
        }
    }

    /// Turns the detector of `kind` on or off.
    pub fn kind(&mut self, kind: Kind, on: bool) -> &mut ScannerBuilder {
        self.kinds.set(kind, on);
        if kind == Kind::SensitiveWord {
            self.words = on;
        }
        self
    }

    /// Turns on exactly the detectors of `kinds`.
    pub fn only(&mut self, kinds: &[Kind]) -> &mut ScannerBuilder {
        self.kinds = PiiKinds::none();
        self.words = kinds.contains(&Kind::SensitiveWord);
        for &k in kinds {
            self.kinds.set(k, true);
        }
        self
    }

    /// Matches sensitive words with `lexicon`, a handle whose lexicon can be
    /// replaced while the scanner is in use (hot reload).
    pub fn lexicon(&mut self, lexicon: SharedLexicon) -> &mut ScannerBuilder {
        self.lexicon = Some(lexicon);
        self
    }

    /// Matches sensitive words with a fixed `lexicon`.
    pub fn words(&mut self, lexicon: Lexicon) -> &mut ScannerBuilder {
        self.lexicon(SharedLexicon::new(lexicon))
    }

    /// Builds the scanner. Fails when no detector is on.
    pub fn build(&self) -> Result<Scanner, Error> {
        let words = self.words && self.lexicon.is_some();
        if !self.kinds.any() && !words {
            return Err(Error::invalid_option(
                "kinds",
                "no detector is enabled; enable at least one kind",
            ));
        }
        Ok(Scanner {
            pii: PiiDetectors::new(),
            kinds: self.kinds,
            lexicon: self.lexicon.clone().filter(|_| words),
        })
    }
}

/// Selects part of what a scanner is configured to find, per call.
///
/// ```
/// use filter_core::{Kind, ScanOptions, Scanner};
///
/// let scanner = Scanner::new();
/// let phones_only = ScanOptions::new().kinds(&[Kind::Phone]);
/// let text = "13800138000 a@b.cn";
/// assert_eq!(scanner.scan_with(text, &phones_only).len(), 1);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScanOptions {
    kinds: Option<BTreeSet<Kind>>,
    categories: Option<BTreeSet<String>>,
}

impl ScanOptions {
    /// Everything the scanner is configured for.
    pub fn new() -> ScanOptions {
        ScanOptions::default()
    }

    /// Only these kinds (an empty slice means every kind).
    pub fn kinds(mut self, kinds: &[Kind]) -> ScanOptions {
        self.kinds = (!kinds.is_empty()).then(|| kinds.iter().copied().collect());
        self
    }

    /// Only sensitive words of these categories (an empty slice means every
    /// category). Personal-data kinds are not affected.
    pub fn categories<S: AsRef<str>>(mut self, categories: &[S]) -> ScanOptions {
        self.categories = (!categories.is_empty())
            .then(|| categories.iter().map(|c| c.as_ref().to_string()).collect());
        self
    }

    fn wants(&self, kind: Kind) -> bool {
        self.kinds.as_ref().is_none_or(|k| k.contains(&kind))
    }
}

/// Finds personal data and, with a lexicon, sensitive words in text.
///
/// A scanner is immutable once built, `Send + Sync`, and meant to be built
/// once and shared by every thread. Findings borrow the scanned text, come
/// sorted by start, and never overlap.
#[derive(Clone, Debug)]
pub struct Scanner {
    pii: PiiDetectors,
    kinds: PiiKinds,
    lexicon: Option<SharedLexicon>,
}

impl Default for Scanner {
    fn default() -> Scanner {
        Scanner::new()
    }
}

impl Scanner {
    /// A scanner with every personal-data detector on.
    pub fn new() -> Scanner {
        ScannerBuilder::new()
            .build()
            .expect("the default configuration is valid")
    }

    /// A builder for a scanner.
    pub fn builder() -> ScannerBuilder {
        ScannerBuilder::new()
    }

    /// Every finding in `text`, sorted by start, non-overlapping.
    pub fn scan<'h>(&self, text: &'h str) -> Vec<Finding<'h>> {
        self.scan_with(text, &ScanOptions::default())
    }

    /// The findings in `text` of the kinds and categories `options` selects.
    pub fn scan_with<'h>(&self, text: &'h str, options: &ScanOptions) -> Vec<Finding<'h>> {
        let mut kinds = self.kinds;
        for k in Kind::ALL {
            if !options.wants(k) {
                kinds.set(k, false);
            }
        }
        let mut out = Vec::new();
        if kinds.any() {
            self.pii.scan(text, kinds, date::today(), &mut out);
        }
        if let Some(lexicon) = self
            .lexicon
            .as_ref()
            .filter(|_| options.wants(Kind::SensitiveWord))
        {
            lexicon
                .load()
                .find_into(text, options.categories.as_ref(), &mut out);
        }
        resolve_overlaps(&mut out);
        out
    }

    /// A [`StreamScanner`] over the kinds and categories `options` select,
    /// redacting with `policy`. The stream uses the lexicon in service when
    /// it starts until it ends.
    pub fn stream(&self, options: &ScanOptions, policy: RedactionPolicy) -> StreamScanner {
        let mut kinds = self.kinds;
        for k in Kind::ALL {
            if !options.wants(k) {
                kinds.set(k, false);
            }
        }
        let lexicon = self
            .lexicon
            .as_ref()
            .filter(|_| options.wants(Kind::SensitiveWord))
            .map(SharedLexicon::load);
        StreamScanner::new(
            self.pii.clone(),
            kinds,
            lexicon,
            options.categories.clone(),
            policy,
        )
    }

    /// The lexicon handle, when the scanner matches sensitive words; store a
    /// new lexicon in it to reload the word lists.
    pub fn lexicon(&self) -> Option<&SharedLexicon> {
        self.lexicon.as_ref()
    }

    /// `text` with every finding replaced as `policy` says; borrowed when
    /// nothing was found.
    pub fn redact<'h>(&self, text: &'h str, policy: &RedactionPolicy) -> Cow<'h, str> {
        let findings = self.scan(text);
        policy.apply(text, &findings)
    }
}

/// How specific a kind is, when two findings claim the same text and
/// neither contains the other: lower wins.
pub(crate) fn rank(kind: Kind) -> u8 {
    match kind {
        Kind::IdCard => 0,
        Kind::Secret => 1,
        Kind::Email => 2,
        Kind::Phone => 3,
        Kind::BankCard => 4,
        Kind::SensitiveWord => 5,
    }
}

/// Sorts findings by start and removes overlaps: a finding that contains
/// another wins (an email whose local part is a mobile number is an
/// email); otherwise the more specific kind wins.
pub(crate) fn resolve_overlaps(v: &mut Vec<Finding<'_>>) {
    v.sort_unstable_by(|a, b| {
        (a.start(), std::cmp::Reverse(a.end()), rank(a.kind())).cmp(&(
            b.start(),
            std::cmp::Reverse(b.end()),
            rank(b.kind()),
        ))
    });
    let mut kept: Vec<Finding<'_>> = Vec::with_capacity(v.len());
    for f in v.drain(..) {
        // Kept findings are disjoint and sorted, so only the last can overlap.
        match kept.last() {
            Some(last) if last.end() > f.start() => {
                let contains = last.start() <= f.start() && f.end() <= last.end();
                if !contains && rank(f.kind()) < rank(last.kind()) {
                    kept.pop();
                    kept.push(f);
                }
            }
            _ => kept.push(f),
        }
    }
    *v = kept;
}
