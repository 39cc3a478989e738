//! [`Vault`]: the pseudonyms of one conversation and the values they
//! stand for.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use crate::error::Error;
use crate::finding::{Finding, Kind};
use crate::redact::{canonical_value, RedactionPolicy};

use super::placeholder;

/// The most entries a vault holds unless told otherwise.
pub const DEFAULT_MAX_VAULT_ENTRIES: usize = 10_000;

/// One value and its pseudonym.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) kind: Kind,
    /// The label of the placeholder (`PHONE`, a custom detector's own).
    pub(super) label: Box<str>,
    /// The number after the label: `[PHONE_2]` is 2.
    pub(super) number: u32,
    /// The value as first written.
    pub(super) original: Box<str>,
}

/// `PHONE_2`: the placeholder without its brackets, the key restore looks
/// up; written into texts as `[PHONE_2]`.
impl std::fmt::Display for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}_{}", self.label, self.number)
    }
}

/// The mapping from pseudonym to original value for one conversation.
///
/// [`Scanner::pseudonymize`](crate::Scanner::pseudonymize) replaces
/// personal data by numbered placeholders (`[PHONE_1]`, `[ID_CARD_1]`)
/// and records them here; [`Vault::restore`] puts the values back into an
/// answer. One value gets one placeholder however it is written
/// (`138 0013 8000`, `+86 13800138000` and `13800138000` are one number),
/// and the vault grows across turns: a later prompt reuses the placeholders
/// of the earlier ones and numbers new values after them. Between calls a
/// vault travels sealed ([`Vault::seal`], [`Vault::open`]).
///
/// ```
/// use filter_core::{RedactionPolicy, Scanner, Vault};
///
/// let scanner = Scanner::new();
/// let mut vault = Vault::new();
/// let policy = RedactionPolicy::new();
/// let prompt = scanner.pseudonymize("给13800138000写封信", &mut vault, &policy)?;
/// assert_eq!(prompt, "给[PHONE_1]写封信");
/// let second = scanner.pseudonymize("还有+86 138 0013 8000和13900139000", &mut vault, &policy)?;
/// assert_eq!(second, "还有[PHONE_1]和[PHONE_2]");
/// // Models write placeholders back in their own way.
/// assert_eq!(vault.restore("请致电【phone_1】"), "请致电13800138000");
/// # Ok::<(), filter_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Vault {
    entries: Vec<Entry>,
    /// (kind, canonical value) → entry.
    by_value: HashMap<(Kind, String), usize>,
    /// `PHONE_1` → entry.
    by_key: HashMap<String, usize>,
    /// The last number given per label.
    last: HashMap<Box<str>, u32>,
    max_entries: usize,
}

/// Counts only: the values are personal data, which logs must not carry.
impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("entries", &self.entries.len())
            .field("max_entries", &self.max_entries)
            .finish_non_exhaustive()
    }
}

impl Default for Vault {
    fn default() -> Vault {
        Vault::new()
    }
}

impl PartialEq for Vault {
    fn eq(&self, other: &Vault) -> bool {
        self.entries == other.entries
    }
}

impl Eq for Vault {}

impl Vault {
    /// An empty vault holding at most [`DEFAULT_MAX_VAULT_ENTRIES`].
    pub fn new() -> Vault {
        Vault {
            entries: Vec::new(),
            by_value: HashMap::new(),
            by_key: HashMap::new(),
            last: HashMap::new(),
            max_entries: DEFAULT_MAX_VAULT_ENTRIES,
        }
    }

    /// This vault refusing to grow past `max` entries (it keeps the ones
    /// it has).
    pub fn with_max_entries(mut self, max: usize) -> Vault {
        self.max_entries = max;
        self
    }

    /// How many values the vault holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the vault holds no value.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The most entries this vault grows to.
    pub fn max_entries(&self) -> usize {
        self.max_entries
    }

    /// The original value of a placeholder, written with or without its
    /// brackets, in any case (`[PHONE_1]`, `phone_1`).
    pub fn original(&self, placeholder: &str) -> Option<&str> {
        let key = placeholder
            .trim_start_matches(['[', '［', '【'])
            .trim_end_matches([']', '］', '】'])
            .to_ascii_uppercase();
        self.by_key.get(&key).map(|&i| &*self.entries[i].original)
    }

    /// The placeholders and their values, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = (String, &str)> {
        self.entries
            .iter()
            .map(|e| (format!("[{e}]"), &*e.original))
    }

    /// Puts the original values back: every placeholder of this vault in
    /// `text` is replaced by its value, in one pass. Placeholders are
    /// recognized as models write them back: `[PHONE_1]`, with full-width
    /// or CJK brackets (`［PHONE_1］`, `【PHONE_1】`, mixed too), with the
    /// label in any case (`[phone_1]`) and full-width letters or digits.
    /// Anything else, unknown placeholders included, stays as it is.
    /// Borrows `text` when nothing is replaced.
    pub fn restore<'h>(&self, text: &'h str) -> Cow<'h, str> {
        let mut out = String::new();
        let mut at = 0;
        for p in placeholder::find_all(text) {
            if let Some(&i) = self.by_key.get(&p.key) {
                out.push_str(&text[at..p.range.start]);
                out.push_str(&self.entries[i].original);
                at = p.range.end;
            }
        }
        if at == 0 {
            return Cow::Borrowed(text);
        }
        out.push_str(&text[at..]);
        Cow::Owned(out)
    }

    /// Replaces `findings` of `text` (sorted, non-overlapping, as a
    /// scanner returns them): personal data by placeholders recorded in
    /// this vault, sensitive words by `policy`, as
    /// [`RedactionPolicy::apply`] does for redaction. On error (the vault
    /// is full) the vault is left as it was.
    pub fn pseudonymize(
        &mut self,
        text: &str,
        findings: &[Finding<'_>],
        policy: &RedactionPolicy,
    ) -> Result<String, Error> {
        let before = self.entries.len();
        // Numbers whose placeholder the text already holds are skipped, so
        // that restoring never turns the user's own `[PHONE_1]` into a value.
        let taken: HashSet<String> = placeholder::find_all(text).map(|p| p.key).collect();
        let mut out = String::with_capacity(text.len() + 8 * findings.len());
        let mut at = 0;
        for f in findings {
            if f.start() < at {
                continue;
            }
            out.push_str(&text[at..f.start()]);
            at = f.end();
            if !f.kind().is_pii() {
                policy.replace_into(f, &mut out);
                continue;
            }
            match self.entry_for(f, &taken) {
                Ok(i) => {
                    // Writing to a String cannot fail.
                    let _ = write!(out, "[{}]", self.entries[i]);
                }
                Err(e) => {
                    self.truncate(before);
                    return Err(e);
                }
            }
        }
        out.push_str(&text[at..]);
        Ok(out)
    }

    /// The entry of a finding's value, added when new.
    fn entry_for(&mut self, f: &Finding<'_>, taken: &HashSet<String>) -> Result<usize, Error> {
        let value = (f.kind(), canonical_value(f.kind(), f.as_str(), f.term()));
        if let Some(&i) = self.by_value.get(&value) {
            return Ok(i);
        }
        if self.entries.len() >= self.max_entries {
            return Err(Error::vault_full(self.max_entries));
        }
        let label: Box<str> = f.label().into();
        let mut number = self.last.get(&label).copied().unwrap_or(0);
        loop {
            number += 1;
            if !taken.contains(&format!("{label}_{number}")) {
                break;
            }
        }
        self.push(Entry {
            kind: f.kind(),
            label,
            number,
            original: f.as_str().into(),
        });
        Ok(self.entries.len() - 1)
    }

    /// Adds an entry and indexes it.
    pub(super) fn push(&mut self, e: Entry) {
        let i = self.entries.len();
        self.by_value
            .insert((e.kind, canonical_value(e.kind, &e.original, None)), i);
        self.by_key.insert(e.to_string(), i);
        let last = self.last.entry(e.label.clone()).or_insert(0);
        *last = (*last).max(e.number);
        self.entries.push(e);
    }

    /// Drops the entries from `len` on, with their indexes.
    fn truncate(&mut self, len: usize) {
        let dropped: Vec<Entry> = self.entries.drain(len..).collect();
        if dropped.is_empty() {
            return;
        }
        self.by_value.retain(|_, i| *i < len);
        self.by_key.retain(|_, i| *i < len);
        self.last.clear();
        for e in &self.entries {
            let last = self.last.entry(e.label.clone()).or_insert(0);
            *last = (*last).max(e.number);
        }
    }

    /// The entries, for sealing.
    pub(super) fn entries(&self) -> &[Entry] {
        &self.entries
    }
}
