//! [`Scanner`]: every detector behind one `scan()`.

use std::borrow::Cow;
use std::collections::BTreeSet;

use crate::detectors::Detectors;
use crate::error::Error;
use crate::finding::{Finding, Kind};
use crate::lexicon::{Lexicon, SharedLexicon};
use crate::limits::{Interrupt, ScanLimits};
use crate::overlap;
use crate::pii::custom::{self, CustomCursor};
use crate::pii::{date, PiiDetectors, PiiKinds};
use crate::pseudonym::{PseudonymMode, RestoreRule, Spot, Vault};
use crate::redact::RedactionPolicy;
use crate::stream::{StreamDetectors, StreamScanner};

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
    custom: bool,
    lexicon: Option<SharedLexicon>,
    detectors: Option<Detectors>,
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
        for &k in Kind::ALL {
            kinds.set(k, true);
        }
        ScannerBuilder {
            kinds,
            words: true,
            custom: true,
            lexicon: None,
            detectors: None,
        }
    }

    /// Turns the detector of `kind` on or off.
    pub fn kind(&mut self, kind: Kind, on: bool) -> &mut ScannerBuilder {
        self.kinds.set(kind, on);
        match kind {
            Kind::SensitiveWord => self.words = on,
            Kind::Custom => self.custom = on,
            _ => {}
        }
        self
    }

    /// Turns on exactly the detectors of `kinds`.
    pub fn only(&mut self, kinds: &[Kind]) -> &mut ScannerBuilder {
        self.kinds = PiiKinds::none();
        self.words = kinds.contains(&Kind::SensitiveWord);
        self.custom = kinds.contains(&Kind::Custom);
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

    /// The detector configuration (context words, minimum confidence,
    /// custom detectors, allow list) of a scanner without a lexicon. A
    /// scanner with a lexicon uses the lexicon's, so that it reloads with
    /// the word lists.
    pub fn detectors(&mut self, detectors: Detectors) -> &mut ScannerBuilder {
        self.detectors = Some(detectors);
        self
    }

    /// Builds the scanner. Fails when no detector is on.
    pub fn build(&self) -> Result<Scanner, Error> {
        let words = self.words && self.lexicon.is_some();
        if !self.kinds.any() && !words && !self.custom {
            return Err(Error::invalid_option(
                "kinds",
                "no detector is enabled; enable at least one kind",
            ));
        }
        Ok(Scanner {
            pii: PiiDetectors::new(),
            kinds: self.kinds,
            words,
            custom: self.custom,
            lexicon: self.lexicon.clone(),
            detectors: self.detectors.clone().unwrap_or_default(),
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
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScanOptions {
    kinds: Option<BTreeSet<Kind>>,
    categories: Option<BTreeSet<String>>,
    min_confidence: Option<f32>,
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

    /// Reports personal data of at least this confidence (clamped to
    /// `[0, 1]`) instead of the configuration's minimum
    /// ([`Detectors::min_confidence`], by default
    /// [`DEFAULT_MIN_CONFIDENCE`](crate::DEFAULT_MIN_CONFIDENCE)).
    ///
    /// ```
    /// use filter_core::{ScanOptions, Scanner};
    ///
    /// let text = "订单号4607598386756508";
    /// assert!(Scanner::new().scan(text).is_empty(), "an order number");
    /// let all = ScanOptions::new().min_confidence(0.0);
    /// assert_eq!(Scanner::new().scan_with(text, &all)[0].confidence(), 0.2);
    /// ```
    pub fn min_confidence(mut self, min: f32) -> ScanOptions {
        self.min_confidence = Some(if min.is_nan() {
            0.0
        } else {
            min.clamp(0.0, 1.0)
        });
        self
    }

    fn wants(&self, kind: Kind) -> bool {
        self.kinds.as_ref().is_none_or(|k| k.contains(&kind))
    }

    /// The kinds, categories and minimum confidence chosen (`None`: all,
    /// the configuration's).
    #[cfg(feature = "serde")]
    pub(crate) fn parts(
        &self,
    ) -> (
        Option<&BTreeSet<Kind>>,
        Option<&BTreeSet<String>>,
        Option<f32>,
    ) {
        (
            self.kinds.as_ref(),
            self.categories.as_ref(),
            self.min_confidence,
        )
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
    words: bool,
    custom: bool,
    lexicon: Option<SharedLexicon>,
    /// Used when there is no lexicon.
    detectors: Detectors,
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
        let mut out = self.collect(text, options, &Interrupt::none());
        overlap::resolve(&mut out);
        out
    }

    /// [`Scanner::scan_with`] on two threads when `threads` allows and the
    /// scan has two parts: the personal-data detectors on one, the word
    /// lists on the other (for a large file both take long). The findings
    /// are exactly those of [`Scanner::scan_with`]. For one large text
    /// where a caller has cores to spare (the command line's `-j`); a
    /// server scanning many requests at once gains nothing from it.
    ///
    /// ```
    /// use filter_core::{LexiconBuilder, ScanOptions, Scanner};
    ///
    /// let words = LexiconBuilder::new().term("fraud", "代开发票").build()?;
    /// let scanner = Scanner::builder().words(words).build()?;
    /// let text = "代开发票，手机13800138000";
    /// let found = scanner.scan_with_threads(text, &ScanOptions::new(), 2);
    /// let spans: Vec<&str> = found.iter().map(|f| f.as_str()).collect();
    /// assert_eq!(spans, ["代开发票", "13800138000"]);
    /// # Ok::<(), filter_core::Error>(())
    /// ```
    pub fn scan_with_threads<'h>(
        &self,
        text: &'h str,
        options: &ScanOptions,
        threads: usize,
    ) -> Vec<Finding<'h>> {
        let lexicon = self.lexicon.as_ref().map(SharedLexicon::load);
        let (Some(lexicon), true) = (lexicon.filter(|_| self.wants_words(options)), threads >= 2)
        else {
            return self.scan_with(text, options);
        };
        let (mut out, found) = std::thread::scope(|scope| {
            let words = scope.spawn(|| {
                let mut found = Vec::new();
                let none = Interrupt::none();
                lexicon.find_into(text, options.categories.as_ref(), &none, &mut found);
                found
            });
            let none = Interrupt::none();
            let out = self.collect_pii(text, options, lexicon.detectors(), &none);
            (out, words.join())
        });
        match found {
            Ok(found) => out.extend(found),
            Err(panic) => std::panic::resume_unwind(panic),
        }
        overlap::resolve(&mut out);
        out
    }

    /// [`Scanner::scan_with`] within `limits`: fails when the text holds
    /// more findings than the limit, when the cancel token is cancelled or
    /// when the deadline passes, and in each case stops working at once
    /// rather than at the end of the text.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use filter_core::{ScanLimits, ScanOptions, Scanner};
    ///
    /// let limits = ScanLimits::new()
    ///     .max_findings(10_000)
    ///     .deadline(Instant::now() + Duration::from_secs(1));
    /// let found = Scanner::new().try_scan_with("手机13800138000", &ScanOptions::new(), &limits)?;
    /// assert_eq!(found.len(), 1);
    /// # Ok::<(), filter_core::Error>(())
    /// ```
    pub fn try_scan_with<'h>(
        &self,
        text: &'h str,
        options: &ScanOptions,
        limits: &ScanLimits,
    ) -> Result<Vec<Finding<'h>>, Error> {
        let interrupt = Interrupt::new(limits);
        let mut out = self.collect(text, options, &interrupt);
        interrupt.check_now();
        interrupt.result()?;
        overlap::resolve(&mut out);
        interrupt.check_count(out.len())?;
        Ok(out)
    }

    /// Every pass over `text`, findings unsorted and possibly overlapping.
    fn collect<'h>(
        &self,
        text: &'h str,
        options: &ScanOptions,
        interrupt: &Interrupt<'_>,
    ) -> Vec<Finding<'h>> {
        let lexicon = self.lexicon.as_ref().map(SharedLexicon::load);
        let detectors = lexicon.as_ref().map_or(&self.detectors, |l| l.detectors());
        let mut out = self.collect_pii(text, options, detectors, interrupt);
        if let Some(lexicon) = lexicon.filter(|_| self.wants_words(options)) {
            lexicon.find_into(text, options.categories.as_ref(), interrupt, &mut out);
        }
        out
    }

    /// Whether the scanner and `options` select sensitive words.
    fn wants_words(&self, options: &ScanOptions) -> bool {
        self.words && options.wants(Kind::SensitiveWord)
    }

    /// The personal data of a whole text (built-in and custom detectors),
    /// judged by its context, unsorted.
    fn collect_pii<'h>(
        &self,
        text: &'h str,
        options: &ScanOptions,
        detectors: &Detectors,
        interrupt: &Interrupt<'_>,
    ) -> Vec<Finding<'h>> {
        let kinds = self.selected_kinds(options);
        let mut out = Vec::new();
        if kinds.any() {
            self.pii
                .scan(text, kinds, date::today(), interrupt, &mut out);
        }
        if self.custom && options.wants(Kind::Custom) {
            let mut cursor = CustomCursor::default();
            custom::advance_all(
                detectors.custom(),
                &mut cursor,
                text,
                0,
                true,
                interrupt,
                &mut out,
            );
        }
        let min = options.min_confidence.unwrap_or(detectors.min_confidence());
        detectors.judge(&mut out, min);
        out
    }

    /// The personal-data kinds both the scanner and `options` select.
    fn selected_kinds(&self, options: &ScanOptions) -> PiiKinds {
        let mut kinds = self.kinds;
        for &k in Kind::ALL {
            if !options.wants(k) {
                kinds.set(k, false);
            }
        }
        kinds
    }

    /// The detector configuration in service: the lexicon's, or the
    /// scanner's own without one.
    fn detectors_in_service(&self, lexicon: Option<&Lexicon>) -> Detectors {
        lexicon.map_or(&self.detectors, |l| l.detectors()).clone()
    }

    /// A [`StreamScanner`] over the kinds and categories `options` select,
    /// redacting with `policy`. The stream uses the lexicon in service when
    /// it starts until it ends.
    pub fn stream(&self, options: &ScanOptions, policy: RedactionPolicy) -> StreamScanner {
        let lexicon = self.lexicon.as_ref().map(SharedLexicon::load);
        let detectors = self.detectors_in_service(lexicon.as_deref());
        let custom = self.custom && options.wants(Kind::Custom);
        StreamScanner::new(
            self.pii.clone(),
            self.selected_kinds(options),
            lexicon.filter(|_| self.wants_words(options)),
            options.categories.clone(),
            policy,
            StreamDetectors {
                min_confidence: options.min_confidence.unwrap_or(detectors.min_confidence()),
                custom,
                detectors,
            },
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

    /// `text` with personal data replaced by numbered placeholders
    /// (`[PHONE_1]`) recorded in `vault`, and sensitive words replaced as
    /// `policy` says (they are never pseudonymized). A value the vault
    /// already holds, however it is written, gets its placeholder again;
    /// [`Vault::restore`] puts the values back. Fails, leaving the vault
    /// as it was, when the vault would grow past its limit.
    pub fn pseudonymize(
        &self,
        text: &str,
        vault: &mut Vault,
        policy: &RedactionPolicy,
    ) -> Result<String, Error> {
        self.pseudonymize_with(text, &ScanOptions::default(), vault, policy)
    }

    /// [`Scanner::pseudonymize`] with options: only the selected kinds
    /// and categories are replaced.
    pub fn pseudonymize_with(
        &self,
        text: &str,
        options: &ScanOptions,
        vault: &mut Vault,
        policy: &RedactionPolicy,
    ) -> Result<String, Error> {
        self.pseudonymize_as(text, options, PseudonymMode::Placeholder, vault, policy)
    }

    /// [`Scanner::pseudonymize_with`] in either mode: with
    /// [`PseudonymMode::Surrogate`], each new value gets a fake value of
    /// its kind that this scanner's detectors find again as that kind
    /// (and category), which [`Scanner::restore`] turns back into the
    /// original however the model re-formats it.
    ///
    /// ```
    /// use filter_core::{PseudonymMode, RedactionPolicy, ScanOptions, Scanner, Vault};
    ///
    /// let scanner = Scanner::new();
    /// let mut vault = Vault::new();
    /// let prompt = "给138 0013 8000写封信";
    /// let sent = scanner.pseudonymize_as(
    ///     prompt,
    ///     &ScanOptions::new(),
    ///     PseudonymMode::Surrogate,
    ///     &mut vault,
    ///     &RedactionPolicy::new(),
    /// )?;
    /// // Another number of the same segment, grouped the same way.
    /// assert!(sent.starts_with("给138 0") && sent != prompt);
    /// let surrogate = &sent["给".len()..sent.len() - "写封信".len()];
    /// // The model writes it without spaces; it still comes back.
    /// let answer = format!("已致电{}。", surrogate.replace(' ', ""));
    /// assert_eq!(scanner.restore(&answer, &vault), "已致电138 0013 8000。");
    /// # Ok::<(), filter_core::Error>(())
    /// ```
    pub fn pseudonymize_as(
        &self,
        text: &str,
        options: &ScanOptions,
        mode: PseudonymMode,
        vault: &mut Vault,
        policy: &RedactionPolicy,
    ) -> Result<String, Error> {
        let findings = self.scan_with(text, options);
        self.pseudonymize_found(text, &findings, mode, vault, policy)
    }

    /// [`Scanner::pseudonymize_as`] of findings already made (by
    /// [`Scanner::try_scan_with`], say, within limits): `findings` are
    /// those of `text`, sorted and non-overlapping as a scan returns them.
    pub fn pseudonymize_found(
        &self,
        text: &str,
        findings: &[Finding<'_>],
        mode: PseudonymMode,
        vault: &mut Vault,
        policy: &RedactionPolicy,
    ) -> Result<String, Error> {
        match mode {
            PseudonymMode::Placeholder => vault.pseudonymize(text, findings, policy),
            PseudonymMode::Surrogate => {
                let check = |spot: Spot<'_>, candidate: &str, kind: Kind, category: &str| {
                    self.finds_exactly(candidate, kind, category)
                        && self.finds_in_place(spot, candidate, kind, category)
                };
                vault.pseudonymize_in(text, findings, policy, Some(&check))
            }
        }
    }

    /// Whether `candidate`, scanned alone at any confidence, is one
    /// finding of `kind` and `category` covering all of it.
    fn finds_exactly(&self, candidate: &str, kind: Kind, category: &str) -> bool {
        let options = ScanOptions::new().kinds(&[kind]).min_confidence(0.0);
        match self.scan_with(candidate, &options)[..] {
            [ref f] => f.range() == (0..candidate.len()) && f.category() == category,
            _ => false,
        }
    }

    /// Whether `candidate`, written between `spot.before` and
    /// `spot.after` and scanned for personal data as an answer is scanned
    /// to restore it (at any confidence), is found there as one value of
    /// `kind` and `category` that no other finding overlaps.
    fn finds_in_place(&self, spot: Spot<'_>, candidate: &str, kind: Kind, category: &str) -> bool {
        let text = [spot.before, candidate, spot.after].concat();
        let place = spot.before.len()..spot.before.len() + candidate.len();
        let options = ScanOptions::new().kinds(&PII_KINDS).min_confidence(0.0);
        let found = self.scan_with(&text, &options);
        let touching: Vec<&Finding<'_>> = found
            .iter()
            .filter(|f| f.start() < place.end && place.start < f.end())
            .collect();
        matches!(touching[..], [f] if f.range() == place && f.kind() == kind && f.category() == category)
    }

    /// Puts a vault's values back into an answer: its placeholders, as
    /// [`Vault::restore`] finds them, and its surrogates, found by this
    /// scanner's detectors at any confidence and looked up by canonical
    /// value, so a surrogate the model wrote in another way (`138 0013
    /// 8000` for `13800138000`, full width) still comes back. Everything
    /// else stays as written. Borrows `text` when nothing is replaced.
    pub fn restore<'h>(&self, text: &'h str, vault: &Vault) -> Cow<'h, str> {
        if !vault.has_surrogates() {
            return vault.restore(text);
        }
        let options = ScanOptions::new().kinds(&PII_KINDS);
        self.restore_with(text, &options, vault, None)
    }

    /// Restores an answer and redacts it in one pass, as a
    /// [`StreamScanner::restoring`] stream does: the vault's values come
    /// back (and its originals, should the model repeat them, stay), and
    /// what else `options` selects (personal data the model produced
    /// itself, sensitive words) is replaced as `policy` says.
    ///
    /// ```
    /// use filter_core::{RedactionPolicy, ScanOptions, Scanner, Vault};
    ///
    /// let scanner = Scanner::new();
    /// let mut vault = Vault::new();
    /// let policy = RedactionPolicy::new();
    /// scanner.pseudonymize("电话13800138000", &mut vault, &policy)?;
    /// let answer = "请拨[PHONE_1]或13900139000";
    /// assert_eq!(
    ///     scanner.restore_and_redact(answer, &ScanOptions::new(), &vault, &policy),
    ///     "请拨13800138000或[PHONE]"
    /// );
    /// # Ok::<(), filter_core::Error>(())
    /// ```
    pub fn restore_and_redact(
        &self,
        text: &str,
        options: &ScanOptions,
        vault: &Vault,
        policy: &RedactionPolicy,
    ) -> String {
        self.restore_with(text, options, vault, Some(policy))
            .into_owned()
    }

    /// Restores `text` by the shared rule, scanning at confidence 0 for
    /// surrogates and judging the rest by `options`' minimum.
    fn restore_with<'h>(
        &self,
        text: &'h str,
        options: &ScanOptions,
        vault: &Vault,
        policy: Option<&RedactionPolicy>,
    ) -> Cow<'h, str> {
        // The configured minimum, read without copying the detectors.
        let min_confidence = options.min_confidence.unwrap_or_else(|| {
            let lexicon = self.lexicon.as_ref().map(SharedLexicon::load);
            lexicon
                .as_deref()
                .map_or(&self.detectors, Lexicon::detectors)
                .min_confidence()
        });
        let findings = self.scan_with(text, &options.clone().min_confidence(0.0));
        if findings.is_empty() {
            return vault.restore(text);
        }
        let rule = RestoreRule {
            vault,
            policy,
            min_confidence,
        };
        Cow::Owned(rule.apply(text, &findings))
    }
}

/// Every personal-data kind.
const PII_KINDS: [Kind; Kind::ALL.len() - 1] = {
    let mut out = [Kind::IdCard; Kind::ALL.len() - 1];
    let mut i = 0;
    let mut o = 0;
    while i < Kind::ALL.len() {
        if !matches!(Kind::ALL[i], Kind::SensitiveWord) {
            out[o] = Kind::ALL[i];
            o += 1;
        }
        i += 1;
    }
    out
};
