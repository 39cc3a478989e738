//! [`Vault`]: the pseudonyms of one conversation and the values they
//! stand for.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use crate::error::Error;
use crate::finding::{Finding, Kind};
use crate::offsets::{ceil_char, floor_char};
use crate::redact::{canonical_value, RedactionPolicy};

use super::placeholder;
use super::surrogate::{self, SEED_LEN};

/// The most entries a vault holds unless told otherwise.
pub const DEFAULT_MAX_VAULT_ENTRIES: usize = 10_000;

/// What stands for a value in pseudonymized text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Pseudonym {
    /// `[LABEL_N]`: the label of the kind (`PHONE`, a custom detector's
    /// own) and a number.
    Placeholder { label: Box<str>, number: u32 },
    /// A fake value of the same kind and shape, as written into the text.
    Surrogate(Box<str>),
}

/// One value and its pseudonym.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) kind: Kind,
    /// The value as first written.
    pub(super) original: Box<str>,
    pub(super) pseudonym: Pseudonym,
}

impl Entry {
    /// `PHONE_2`: a placeholder without its brackets, the key restore
    /// looks up; written into texts as `[PHONE_2]`.
    fn key(&self) -> Option<String> {
        match &self.pseudonym {
            Pseudonym::Placeholder { label, number } => Some(format!("{label}_{number}")),
            Pseudonym::Surrogate(_) => None,
        }
    }

    /// Writes the pseudonym as it stands in texts.
    fn write_pseudonym(&self, out: &mut String) {
        match &self.pseudonym {
            Pseudonym::Placeholder { label, number } => {
                // Writing to a String cannot fail.
                let _ = write!(out, "[{label}_{number}]");
            }
            Pseudonym::Surrogate(s) => out.push_str(s),
        }
    }
}

/// How [`Scanner::pseudonymize_as`](crate::Scanner::pseudonymize_as)
/// replaces personal data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PseudonymMode {
    /// Numbered placeholders: `[PHONE_1]`, `[ID_CARD_2]`.
    #[default]
    Placeholder,
    /// Fake values of the same kind and shape that pass the same
    /// validation (a mobile number in its real segment, an ID number with
    /// its region, a real birth date and a correct check character, a
    /// Luhn-valid card of the same issuer, an address at `example.com`),
    /// drawn deterministically from the vault's secret seed, never equal
    /// to a value of the text or the vault, in the original's formatting.
    /// A value no surrogate can be drawn for (a custom detector whose
    /// validator random values rarely pass) gets a placeholder.
    Surrogate,
}

/// How a value found in an answer comes back.
pub(crate) enum Restored<'v> {
    /// It is a surrogate: its original.
    Original(&'v str),
    /// It is an original of the vault, as the user wrote it: it stays.
    Kept,
}

/// Where a surrogate goes: the text written before it (other values
/// already replaced) and the text after it (as the user wrote it), a
/// few dozen characters of each.
#[derive(Clone, Copy)]
pub(crate) struct Spot<'a> {
    pub(crate) before: &'a str,
    pub(crate) after: &'a str,
}

/// The check a surrogate candidate must pass: the detectors find it, in
/// its place between `Spot::before` and `Spot::after`, as one value of
/// this kind and category, which nothing else found overlaps (a drawn
/// number glued to the letters after it could otherwise read as another
/// kind of value, and never be restored).
pub(crate) type SurrogateCheck<'a> = &'a dyn Fn(Spot<'_>, &str, Kind, &str) -> bool;

/// What drawing a surrogate for one value needs: the check, the place it
/// goes, and the values of the text (a surrogate is none of them).
#[derive(Clone, Copy)]
struct Draw<'a> {
    check: SurrogateCheck<'a>,
    spot: Spot<'a>,
    in_text: &'a HashSet<(Kind, String)>,
}

/// The bytes of text on each side of a surrogate its check scans: more
/// than the longest value a neighbour could join it into (an 18-character
/// code, a 48-character token, an email's 64-byte local part).
const SPOT_BYTES: usize = 96;

/// How many surrogates are drawn for one value before it gets a
/// placeholder instead.
const SURROGATE_ATTEMPTS: u32 = 200;

/// The mapping from pseudonym to original value for one conversation.
///
/// [`Scanner::pseudonymize`](crate::Scanner::pseudonymize) replaces
/// personal data by numbered placeholders (`[PHONE_1]`, `[ID_CARD_1]`), or
/// with [`PseudonymMode::Surrogate`] by fake values of the same kind, and
/// records them here; [`Scanner::restore`](crate::Scanner::restore) puts
/// the values back into an answer ([`Vault::restore`] does it for
/// placeholders alone, without a scanner). One value gets one pseudonym
/// however it is written (`138 0013 8000`, `+86 13800138000` and
/// `13800138000` are one number), and the vault grows across turns: a
/// later prompt reuses the pseudonyms of the earlier ones and numbers new
/// values after them. Between calls a vault travels sealed
/// ([`Vault::seal`], [`Vault::open`]).
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
    /// (kind, canonical original) → entry.
    by_value: HashMap<(Kind, String), usize>,
    /// (kind, canonical surrogate) → entry.
    by_surrogate: HashMap<(Kind, String), usize>,
    /// `PHONE_1` → entry.
    by_key: HashMap<String, usize>,
    /// The last number given per label.
    last: HashMap<Box<str>, u32>,
    max_entries: usize,
    /// The secret surrogates are drawn with, made on first use.
    seed: Option<[u8; SEED_LEN]>,
}

/// Counts only: the values are personal data, which logs must not carry.
impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("entries", &self.entries.len())
            .field("surrogates", &self.by_surrogate.len())
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
        self.entries == other.entries && self.seed == other.seed
    }
}

impl Eq for Vault {}

impl Vault {
    /// An empty vault holding at most [`DEFAULT_MAX_VAULT_ENTRIES`].
    pub fn new() -> Vault {
        Vault {
            entries: Vec::new(),
            by_value: HashMap::new(),
            by_surrogate: HashMap::new(),
            by_key: HashMap::new(),
            last: HashMap::new(),
            max_entries: DEFAULT_MAX_VAULT_ENTRIES,
            seed: None,
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

    /// Whether some value of the vault has a surrogate, which only a
    /// scanner finds again in an answer.
    pub fn has_surrogates(&self) -> bool {
        !self.by_surrogate.is_empty()
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

    /// The pseudonyms (placeholders with their brackets, surrogates as
    /// written) and their values, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = (String, &str)> {
        self.entries.iter().map(|e| {
            let mut p = String::new();
            e.write_pseudonym(&mut p);
            (p, &*e.original)
        })
    }

    /// Puts the original values back for placeholders: every placeholder
    /// of this vault in `text` is replaced by its value, in one pass.
    /// Placeholders are recognized as models write them back: `[PHONE_1]`,
    /// with full-width or CJK brackets (`［PHONE_1］`, `【PHONE_1】`, mixed
    /// too), with the label in any case (`[phone_1]`) and full-width
    /// letters or digits. Anything else, unknown placeholders included,
    /// stays as it is. Surrogates need the detectors to be found again:
    /// [`Scanner::restore`](crate::Scanner::restore) restores both.
    /// Borrows `text` when nothing is replaced.
    pub fn restore<'h>(&self, text: &'h str) -> Cow<'h, str> {
        let mut hits = self.placeholders_in(text).peekable();
        if hits.peek().is_none() {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let at = Self::write_restored(text, hits, &mut out);
        out.push_str(&text[at..]);
        Cow::Owned(out)
    }

    /// Appends `text` to `out` with this vault's placeholders replaced.
    pub(crate) fn restore_into(&self, text: &str, out: &mut String) {
        let at = Self::write_restored(text, self.placeholders_in(text), out);
        out.push_str(&text[at..]);
    }

    /// The placeholders of this vault in `text` and their values.
    fn placeholders_in<'a>(
        &'a self,
        text: &'a str,
    ) -> impl Iterator<Item = (std::ops::Range<usize>, &'a str)> + 'a {
        placeholder::find_all(text).filter_map(|p| {
            let &i = self.by_key.get(&p.key)?;
            Some((p.range, &*self.entries[i].original))
        })
    }

    /// Appends `text` up to its last placeholder in `hits`, replaced;
    /// returns where the rest starts.
    fn write_restored<'a>(
        text: &str,
        hits: impl Iterator<Item = (std::ops::Range<usize>, &'a str)>,
        out: &mut String,
    ) -> usize {
        let mut at = 0;
        for (range, original) in hits {
            out.push_str(&text[at..range.start]);
            out.push_str(original);
            at = range.end;
        }
        at
    }

    /// How a personal-data finding of an answer comes back: a surrogate
    /// of this vault by its original, an original of this vault as it is;
    /// `None` for anything else.
    pub(crate) fn restored(&self, f: &Finding<'_>) -> Option<Restored<'_>> {
        if !f.kind().is_pii() || self.entries.is_empty() {
            return None;
        }
        let value = (f.kind(), canonical_value(f.kind(), f.as_str(), None));
        if let Some(&i) = self.by_surrogate.get(&value) {
            return Some(Restored::Original(&self.entries[i].original));
        }
        self.by_value.get(&value).map(|_| Restored::Kept)
    }

    /// Replaces `findings` of `text` (sorted, non-overlapping, as a
    /// scanner returns them): personal data by placeholders recorded in
    /// this vault, sensitive words by `policy`, as
    /// [`RedactionPolicy::apply`] does for redaction. On error (the vault
    /// is full) the vault is left as it was. Surrogates are drawn by
    /// [`Scanner::pseudonymize_as`](crate::Scanner::pseudonymize_as),
    /// which checks them against its detectors.
    pub fn pseudonymize(
        &mut self,
        text: &str,
        findings: &[Finding<'_>],
        policy: &RedactionPolicy,
    ) -> Result<String, Error> {
        self.pseudonymize_in(text, findings, policy, None)
    }

    /// [`Vault::pseudonymize`], drawing surrogates where `surrogates`
    /// gives the check a candidate must pass (it is found by the
    /// detectors as a value of the same kind and category).
    pub(crate) fn pseudonymize_in(
        &mut self,
        text: &str,
        findings: &[Finding<'_>],
        policy: &RedactionPolicy,
        surrogates: Option<SurrogateCheck<'_>>,
    ) -> Result<String, Error> {
        let before = self.entries.len();
        // Numbers whose placeholder the text already holds are skipped, so
        // that restoring never turns the user's own `[PHONE_1]` into a value.
        let taken: HashSet<String> = placeholder::find_all(text).map(|p| p.key).collect();
        // A surrogate must not be a value the text holds.
        let in_text: HashSet<(Kind, String)> = match surrogates {
            Some(_) => findings
                .iter()
                .map(|f| (f.kind(), canonical_value(f.kind(), f.as_str(), None)))
                .collect(),
            None => HashSet::new(),
        };
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
            let spot = Spot {
                before: &out[floor_char(&out, out.len().saturating_sub(SPOT_BYTES))..],
                after: &text[at..ceil_char(text, (at + SPOT_BYTES).min(text.len()))],
            };
            let draw = surrogates.map(|check| Draw {
                check,
                spot,
                in_text: &in_text,
            });
            match self.entry_for(f, &taken, draw) {
                Ok(i) => match &self.entries[i].pseudonym {
                    // Each occurrence keeps its own formatting.
                    Pseudonym::Surrogate(s) => {
                        out.push_str(&surrogate::reformat(f.kind(), f.as_str(), s));
                    }
                    Pseudonym::Placeholder { .. } => self.entries[i].write_pseudonym(&mut out),
                },
                Err(e) => {
                    self.truncate(before);
                    return Err(e);
                }
            }
        }
        out.push_str(&text[at..]);
        Ok(out)
    }

    /// The entry of a finding's value, added when new: with a surrogate
    /// when `draw` is given and one is found, else with a placeholder.
    fn entry_for(
        &mut self,
        f: &Finding<'_>,
        taken: &HashSet<String>,
        draw: Option<Draw<'_>>,
    ) -> Result<usize, Error> {
        let value = (f.kind(), canonical_value(f.kind(), f.as_str(), f.term()));
        if let Some(&i) = self.by_value.get(&value) {
            return Ok(i);
        }
        if self.entries.len() >= self.max_entries {
            return Err(Error::vault_full(self.max_entries));
        }
        let surrogate = draw.and_then(|d| self.draw(f, &value.1, d));
        let pseudonym = match surrogate {
            Some(s) => Pseudonym::Surrogate(s.into()),
            None => {
                let label: Box<str> = f.label().into();
                let mut number = self.last.get(&label).copied().unwrap_or(0);
                loop {
                    number += 1;
                    if taken.is_empty() || !taken.contains(&format!("{label}_{number}")) {
                        break;
                    }
                }
                Pseudonym::Placeholder { label, number }
            }
        };
        self.index(
            Entry {
                kind: f.kind(),
                original: f.as_str().into(),
                pseudonym,
            },
            value.1,
        );
        Ok(self.entries.len() - 1)
    }

    /// A surrogate for finding `f` (canonical value `canonical`) that
    /// `check` accepts at `spot` and that is no value of the text or the
    /// vault.
    fn draw(
        &mut self,
        f: &Finding<'_>,
        canonical: &str,
        Draw {
            check,
            spot,
            in_text,
        }: Draw<'_>,
    ) -> Option<String> {
        let seed = *self.seed.get_or_insert_with(new_seed);
        for attempt in 0..SURROGATE_ATTEMPTS {
            let candidate = surrogate::candidate(
                &seed,
                f.kind(),
                f.category(),
                f.as_str(),
                canonical,
                attempt,
            )?;
            if !surrogate::keeps_shape(f.kind(), f.as_str(), &candidate) {
                continue;
            }
            let value = (f.kind(), canonical_value(f.kind(), &candidate, None));
            let in_use = value.1 == canonical
                || in_text.contains(&value)
                || self.by_value.contains_key(&value)
                || self.by_surrogate.contains_key(&value);
            if !in_use && check(spot, &candidate, f.kind(), f.category()) {
                return Some(candidate);
            }
        }
        None
    }

    /// Adds an entry and indexes it.
    pub(super) fn push(&mut self, e: Entry) {
        let canonical = canonical_value(e.kind, &e.original, None);
        self.index(e, canonical);
    }

    /// Adds an entry whose original has canonical value `canonical`.
    fn index(&mut self, e: Entry, canonical: String) {
        let i = self.entries.len();
        self.by_value.insert((e.kind, canonical), i);
        if let Some(key) = e.key() {
            self.by_key.insert(key, i);
        }
        match &e.pseudonym {
            Pseudonym::Placeholder { label, number } => {
                let last = self.last.entry(label.clone()).or_insert(0);
                *last = (*last).max(*number);
            }
            Pseudonym::Surrogate(s) => {
                self.by_surrogate
                    .insert((e.kind, canonical_value(e.kind, s, None)), i);
            }
        }
        self.entries.push(e);
    }

    /// Drops the entries from `len` on, with their indexes.
    fn truncate(&mut self, len: usize) {
        if self.entries.len() <= len {
            return;
        }
        let kept: Vec<Entry> = self.entries.drain(..len).collect();
        let seed = self.seed;
        *self = Vault::new().with_max_entries(self.max_entries);
        self.seed = seed;
        for e in kept {
            self.push(e);
        }
    }

    /// The entries, for sealing.
    pub(super) fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The surrogate seed, for sealing.
    pub(super) fn seed(&self) -> Option<&[u8; SEED_LEN]> {
        self.seed.as_ref()
    }

    /// Sets the surrogate seed, when opening.
    pub(super) fn set_seed(&mut self, seed: [u8; SEED_LEN]) {
        self.seed = Some(seed);
    }
}

/// A fresh random seed for a vault's surrogates.
fn new_seed() -> [u8; SEED_LEN] {
    use chacha20poly1305::aead::rand_core::RngCore;
    let mut seed = [0; SEED_LEN];
    chacha20poly1305::aead::OsRng.fill_bytes(&mut seed);
    seed
}
