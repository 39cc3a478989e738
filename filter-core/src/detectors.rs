//! [`Detectors`]: the run-time configuration of the personal-data
//! detectors: context words and confidence per kind, the minimum
//! confidence reported, custom detectors and the allow list of values
//! never reported. Read from `detectors.toml` beside the word lists (and
//! reloaded with them), or built in.
//!
//! ```toml
//! min_confidence = 0.4            # findings below are not reported
//!
//! [context.bank_card]             # any kind: its built-in rules, changed
//! before = 16                     # characters searched before a value
//! after = 8                       # and after it
//! base = 0.5                      # confidence with no context word
//! raise_to = 0.9                  # with a raising word nearest
//! lower_to = 0.2                  # with a lowering word nearest
//! add_raise = ["开户行"]           # added to the built-in words
//! add_lower = ["会员号"]
//! # raise = [...], lower = [...]  # replace the built-in words
//!
//! [[custom]]                      # findings of kind `custom`
//! name = "employee_id"            # the category of its findings
//! pattern = '\bEMP-\d{6}\b'       # the regex crate's syntax
//! validator = "none"              # luhn, mod11_2, mod97, iso7064_mod31, vin:
//!                                 # checks the first group, else the match
//! confidence = 0.9
//! raise = ["工号"]
//! max_chars = 64                  # longest match (streams hold this back)
//! label = "EMPLOYEE_ID"           # `[EMPLOYEE_ID]` (default: the name)
//! operator = "mask:0:2"           # its default operator (label, mask,
//!                                 # mask:S:E, remove, label:TEXT)
//!
//! [allow]                         # exact values never reported
//! phone = ["400-810-8888", "13800138000"]
//! bank_card = ["4111 1111 1111 1111"]
//! ```

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::{Arc, LazyLock};

use serde::Deserialize;

use crate::error::Error;
use crate::finding::{CustomInfo, Finding, Kind};
use crate::lexicon::normalize::NormText;
use crate::lexicon::{Lexicon, LexiconBuilder};
use crate::offsets::floor_char;
use crate::pii::custom::{CustomDetector, Validator};
use crate::redact::{canonical_value, Operator};

/// The file of a word-list directory that configures the detectors.
pub(crate) const DETECTORS_FILE: &str = "detectors.toml";

/// The minimum confidence reported by default: card numbers beside an
/// order word (0.2) and passports with no context word (0.2) fall below
/// it, bare card numbers (0.5) and everything checked stay above.
pub const DEFAULT_MIN_CONFIDENCE: f32 = 0.4;

/// The most characters a context window or a custom match may span.
const MAX_WINDOW_CHARS: usize = 64;
/// The most custom detectors one configuration holds.
const MAX_CUSTOM: usize = 64;

/// The context rules of one kind or custom detector.
#[derive(Clone, Debug)]
struct ContextRule {
    base: f32,
    /// Categories with another base (`landline`, `mo`).
    bases: Vec<(String, f32)>,
    raise_to: f32,
    lower_to: f32,
    before: usize,
    after: usize,
    /// The words, in categories `raise` and `lower` (a word may raise one
    /// kind and lower another: each rule has its own lexicon).
    words: Option<Lexicon>,
    has_raise: bool,
    has_lower: bool,
}

impl ContextRule {
    fn base_of(&self, category: &str) -> f32 {
        self.bases
            .iter()
            .find(|(c, _)| c == category)
            .map_or(self.base, |&(_, b)| b)
    }

    /// The words to search for a value whose confidence without context
    /// is `base`; none when no word could change it (a mobile number at
    /// 0.9 with only raising words to 0.9), which spares the search and,
    /// in streams, the wait for the text after the value.
    fn words_for(&self, base: f32) -> Option<&Lexicon> {
        let raise_changes = self.has_raise && base < self.raise_to;
        let lower_changes = self.has_lower && base > self.lower_to;
        if raise_changes || lower_changes {
            self.words.as_ref()
        } else {
            None
        }
    }
}

#[derive(Debug)]
struct Inner {
    min_confidence: f32,
    /// Per kind, by `Kind::index`.
    kinds: Vec<ContextRule>,
    /// Per custom detector.
    custom_rules: Vec<ContextRule>,
    custom: Vec<CustomDetector>,
    /// Canonical values never reported, per kind.
    allow: Vec<HashSet<String>>,
}

/// The run-time configuration of the personal-data detectors: context
/// words and confidence, the minimum confidence, custom detectors and
/// the allow list. Cheap to clone (shared).
///
/// ```
/// use filter_core::{Detectors, Kind, LexiconBuilder, Scanner};
///
/// let detectors = Detectors::from_toml(r#"
/// [[custom]]
/// name = "employee_id"
/// pattern = 'EMP-\d{6}'
///
/// [allow]
/// phone = ["13800138000"]
/// "#)?;
/// let lexicon = LexiconBuilder::new().detectors(detectors).build()?;
/// let scanner = Scanner::builder().words(lexicon).build()?;
/// let found = scanner.scan("工号EMP-001234，电话13800138000，卡号4111111111111111");
/// assert_eq!(found.len(), 2);
/// assert_eq!((found[0].kind(), found[0].category()), (Kind::Custom, "employee_id"));
/// assert_eq!(found[1].category(), "visa");
/// # Ok::<(), filter_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Detectors {
    inner: Arc<Inner>,
}

impl Default for Detectors {
    fn default() -> Detectors {
        Detectors::builtin()
    }
}

static BUILTIN: LazyLock<Detectors> = LazyLock::new(|| {
    Detectors::parse(std::path::Path::new("(built in)"), "")
        .expect("the built-in context words build")
});

impl Detectors {
    /// The built-in rules: context words in Chinese and English for each
    /// kind, the default minimum confidence, no custom detector, nothing
    /// allowed.
    pub fn builtin() -> Detectors {
        BUILTIN.clone()
    }

    /// The built-in rules, shared.
    pub(crate) fn builtin_ref() -> &'static Detectors {
        &BUILTIN
    }

    /// Reads a `detectors.toml` (see the module documentation of the
    /// repository's `wordlists/README.md`). Fails naming the line on bad
    /// TOML, an unknown kind or field, a bad regex or validator, or a
    /// number out of range.
    pub fn from_toml(text: &str) -> Result<Detectors, Error> {
        Detectors::parse(Path::new(DETECTORS_FILE), text)
    }

    pub(crate) fn parse(path: &Path, text: &str) -> Result<Detectors, Error> {
        let file: File = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map_or(1, |s| 1 + text[..s.start].matches('\n').count());
            Error::word_list(path, line, e.message().to_string())
        })?;
        file.build(path, text)
    }

    /// Findings below this confidence are not reported, unless a scan
    /// asks for another minimum.
    pub fn min_confidence(&self) -> f32 {
        self.inner.min_confidence
    }

    /// The names of the custom detectors.
    pub fn custom_names(&self) -> impl Iterator<Item = &str> {
        self.inner.custom.iter().map(|d| &*d.info.name)
    }

    pub(crate) fn custom(&self) -> &[CustomDetector] {
        &self.inner.custom
    }

    /// Bytes before a finding its context rules read.
    pub(crate) fn context_bytes(&self) -> usize {
        self.rules().map(|r| r.before).max().unwrap_or(0) * 4
    }

    /// Bytes after a finding its context rules wait for, plus the longest
    /// custom match: what a stream holds back for them.
    pub(crate) fn hold_back_bytes(&self) -> usize {
        let after = self.rules().map(|r| r.after).max().unwrap_or(0) * 4;
        let custom = self.inner.custom.iter().map(|d| d.max_bytes).max();
        after + custom.unwrap_or(0)
    }

    fn rules(&self) -> impl Iterator<Item = &ContextRule> {
        self.inner
            .kinds
            .iter()
            .chain(&self.inner.custom_rules)
            .filter(|r| r.words.is_some())
    }

    fn rule(&self, f: &Finding<'_>) -> &ContextRule {
        match f.custom_index() {
            Some(i) => &self.inner.custom_rules[i],
            None => &self.inner.kinds[f.kind().index()],
        }
    }

    /// Whether the text of `f` (more may come unless `finished`) holds all
    /// the characters after it that its rule reads.
    pub(crate) fn has_context_after(&self, f: &Finding<'_>, finished: bool) -> bool {
        let rule = self.rule(f);
        if finished || rule.words_for(rule.base_of(f.category())).is_none() {
            return true;
        }
        f.haystack()[f.end()..].chars().nth(rule.after).is_some()
    }

    /// Gives each personal-data finding its confidence from its context,
    /// then drops those below `min` and those the allow list names.
    pub(crate) fn judge(&self, findings: &mut Vec<Finding<'_>>, min: f32) {
        crate::scratch::with(&JUDGE_SCRATCH, |scratch| {
            findings.retain_mut(|f| self.judge_one(f, min, scratch))
        });
    }

    /// Gives `f` its confidence; whether it is reported.
    pub(crate) fn judge_one<'h>(
        &self,
        f: &mut Finding<'h>,
        min: f32,
        scratch: &mut JudgeScratch,
    ) -> bool {
        if f.kind() == Kind::SensitiveWord {
            return true;
        }
        let confidence = self.confidence(f, scratch);
        f.set_confidence(confidence);
        confidence >= min && !self.allowed(f)
    }

    fn allowed(&self, f: &Finding<'_>) -> bool {
        let allow = &self.inner.allow[f.kind().index()];
        !allow.is_empty() && allow.contains(&canonical_value(f.kind(), f.as_str(), None))
    }

    /// The confidence of `f`: its base, or the nearest context word's.
    fn confidence<'h>(&self, f: &Finding<'h>, scratch: &mut JudgeScratch) -> f32 {
        let rule = self.rule(f);
        let base = rule.base_of(f.category());
        let Some(words) = rule.words_for(base) else {
            return base;
        };
        let text = f.haystack();
        let from = text[..f.start()]
            .char_indices()
            .rev()
            .nth(rule.before.saturating_sub(1))
            .map_or(0, |(i, _)| i);
        let to = text[f.end()..]
            .char_indices()
            .nth(rule.after)
            .map_or(text.len(), |(i, _)| f.end() + i);
        // The text before the value and the text after it are searched
        // apart: a word overlapping the value does not count, so the value
        // itself (often half the window) is not normalized, and a word
        // written against it (`card number4111…`) ends at a boundary.
        let before = &text[floor_char(text, from)..f.start()];
        let after = &text[f.end()..to];
        // (distance, raises) of the nearest word: nearest wins; at the same
        // distance, raising wins.
        let mut nearest: Option<(usize, bool)> = None;
        let near = |nearest: &mut Option<(usize, bool)>, distance: usize, category: &str| {
            let raise = category == "raise";
            if nearest.is_none_or(|(d, r)| distance < d || (distance == d && raise && !r)) {
                *nearest = Some((distance, raise));
            }
        };
        words.for_each_exact_in(before, &mut scratch.norm, |w, category| {
            near(&mut nearest, before.len() - w.end, category)
        });
        // A raising word against the value wins outright: nothing after it
        // can be nearer.
        if nearest != Some((0, true)) {
            words.for_each_exact_in(after, &mut scratch.norm, |w, category| {
                near(&mut nearest, w.start, category)
            });
        }
        match nearest {
            Some((_, true)) => base.max(rule.raise_to),
            Some((_, false)) => base.min(rule.lower_to),
            None => base,
        }
    }
}

/// What judging reuses from one finding to the next: the normalized
/// window.
#[derive(Default)]
pub(crate) struct JudgeScratch {
    norm: NormText,
}

impl crate::scratch::Scratch for JudgeScratch {}

thread_local! {
    /// Judging allocates nothing once a thread has judged a window of the
    /// largest size (at most 64 characters each side of a value, so what
    /// it keeps is small).
    pub(crate) static JUDGE_SCRATCH: RefCell<JudgeScratch> = RefCell::default();
}

/// `detectors.toml`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct File {
    min_confidence: Option<f32>,
    #[serde(default)]
    context: BTreeMap<String, ContextFile>,
    #[serde(default)]
    custom: Vec<CustomFile>,
    #[serde(default)]
    allow: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct ContextFile {
    before: Option<usize>,
    after: Option<usize>,
    base: Option<f32>,
    raise_to: Option<f32>,
    lower_to: Option<f32>,
    raise: Option<Vec<String>>,
    lower: Option<Vec<String>>,
    #[serde(default)]
    add_raise: Vec<String>,
    #[serde(default)]
    add_lower: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomFile {
    name: String,
    pattern: String,
    #[serde(default)]
    validator: Option<String>,
    confidence: Option<f32>,
    #[serde(default)]
    raise: Vec<String>,
    #[serde(default)]
    lower: Vec<String>,
    before: Option<usize>,
    after: Option<usize>,
    max_chars: Option<usize>,
    label: Option<String>,
    operator: Option<String>,
}

/// The line of the first occurrence of `needle` in `text` (1 if absent).
fn line_of(text: &str, needle: &str) -> usize {
    text.find(needle)
        .map_or(1, |i| 1 + text[..i].matches('\n').count())
}

fn check_unit(path: &Path, text: &str, key: &str, v: Option<f32>) -> Result<(), Error> {
    match v {
        Some(x) if !(0.0..=1.0).contains(&x) => Err(Error::word_list(
            path,
            line_of(text, key),
            format!("`{key}` must be between 0 and 1, not {x}"),
        )),
        _ => Ok(()),
    }
}

fn check_window(path: &Path, text: &str, key: &str, v: Option<usize>) -> Result<(), Error> {
    match v {
        Some(n) if n > MAX_WINDOW_CHARS => Err(Error::word_list(
            path,
            line_of(text, key),
            format!("`{key}` may be at most {MAX_WINDOW_CHARS} characters, not {n}"),
        )),
        _ => Ok(()),
    }
}

impl File {
    fn build(self, path: &Path, text: &str) -> Result<Detectors, Error> {
        check_unit(path, text, "min_confidence", self.min_confidence)?;
        let mut kinds = Vec::new();
        for &kind in Kind::ALL {
            let spec = &kind.spec().context;
            let file = self.context.get(kind.as_str()).cloned().unwrap_or_default();
            let raise = file
                .raise
                .clone()
                .unwrap_or_else(|| spec.raise.iter().map(|s| s.to_string()).collect());
            let lower = file
                .lower
                .clone()
                .unwrap_or_else(|| spec.lower.iter().map(|s| s.to_string()).collect());
            let rule = RuleParts {
                name: kind.as_str(),
                base: file.base.unwrap_or(spec.base),
                bases: spec
                    .bases
                    .iter()
                    .map(|&(c, b)| (c.to_string(), b))
                    .collect(),
                raise: raise.into_iter().chain(file.add_raise.clone()).collect(),
                lower: lower.into_iter().chain(file.add_lower.clone()).collect(),
                file: &file,
            };
            kinds.push(rule.build(path, text)?);
        }
        for name in self.context.keys() {
            if name.parse::<Kind>().is_err() || name == "sensitive_word" {
                return Err(Error::word_list(
                    path,
                    line_of(text, &format!("[context.{name}]")),
                    format!("unknown kind `{name}` in [context.{name}]"),
                ));
            }
        }
        let (custom, custom_rules) = build_custom(&self.custom, path, text)?;
        let allow = build_allow(&self.allow, path, text)?;
        Ok(Detectors {
            inner: Arc::new(Inner {
                min_confidence: self.min_confidence.unwrap_or(DEFAULT_MIN_CONFIDENCE),
                kinds,
                custom_rules,
                custom,
                allow,
            }),
        })
    }
}

/// One rule's settings, merged from the registry and the file.
struct RuleParts<'a> {
    name: &'a str,
    base: f32,
    bases: Vec<(String, f32)>,
    raise: Vec<String>,
    lower: Vec<String>,
    file: &'a ContextFile,
}

impl RuleParts<'_> {
    fn build(self, path: &Path, text: &str) -> Result<ContextRule, Error> {
        let f = self.file;
        check_unit(path, text, "base", f.base)?;
        check_unit(path, text, "raise_to", f.raise_to)?;
        check_unit(path, text, "lower_to", f.lower_to)?;
        check_window(path, text, "before", f.before)?;
        check_window(path, text, "after", f.after)?;
        let has_words = !(self.raise.is_empty() && self.lower.is_empty());
        let mut words = LexiconBuilder::new();
        // Normalized (traditional script, full width, noise) but exact: a
        // misspelt context word is no evidence, and fuzzy candidates would
        // cost more than the rest of the judgement.
        let exact = crate::lexicon::CategoryOptions::default().fuzzy(false);
        words.category("raise", exact.clone());
        words.category("lower", exact);
        for w in &self.raise {
            words.term("raise", w);
        }
        for w in &self.lower {
            words.term("lower", w);
        }
        let words = if has_words {
            let built = words.build().map_err(|e| {
                Error::word_list(path, 1, format!("context words of {}: {e}", self.name))
            })?;
            Some(built)
        } else {
            None
        };
        Ok(ContextRule {
            base: self.base,
            bases: self.bases,
            raise_to: f.raise_to.unwrap_or(0.9),
            lower_to: f.lower_to.unwrap_or(0.2),
            before: f.before.unwrap_or(16),
            after: f.after.unwrap_or(8),
            words,
            has_raise: !self.raise.is_empty(),
            has_lower: !self.lower.is_empty(),
        })
    }
}

fn build_custom(
    files: &[CustomFile],
    path: &Path,
    text: &str,
) -> Result<(Vec<CustomDetector>, Vec<ContextRule>), Error> {
    if files.len() > MAX_CUSTOM {
        return Err(Error::word_list(
            path,
            1,
            format!("at most {MAX_CUSTOM} custom detectors"),
        ));
    }
    let mut detectors = Vec::new();
    let mut rules = Vec::new();
    for (index, c) in files.iter().enumerate() {
        let line = line_of(text, &format!("name = \"{}\"", c.name))
            .max(line_of(text, &format!("name = '{}'", c.name)));
        let err = |reason: String| Error::word_list(path, line, reason);
        if !is_custom_name(&c.name) {
            return Err(err(format!(
                "custom detector name {:?}: 1 to 64 letters, digits, `_` or `-`",
                c.name
            )));
        }
        if files[..index].iter().any(|o| o.name == c.name) {
            return Err(err(format!("custom detector `{}` defined twice", c.name)));
        }
        let pattern = regex::RegexBuilder::new(&c.pattern)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| err(format!("custom detector `{}`: bad pattern: {e}", c.name)))?;
        let validator = match c.validator.as_deref() {
            None => Validator::None,
            Some(v) => Validator::parse(v).ok_or_else(|| {
                err(format!(
                    "custom detector `{}`: unknown validator `{v}` (one of {})",
                    c.name,
                    Validator::NAMES
                ))
            })?,
        };
        let label = match &c.label {
            Some(l) if is_custom_name(l) => l.clone(),
            Some(l) => {
                return Err(err(format!(
                    "custom detector `{}`: label {l:?}: 1 to 64 letters, digits, `_` or `-`",
                    c.name
                )))
            }
            None => c.name.to_ascii_uppercase().replace('-', "_"),
        };
        // The hash operator needs the service's key, which this file must
        // not hold: a policy sets hashing for every kind instead.
        let operator = c
            .operator
            .as_deref()
            .map(|spec| Operator::parse(spec, None))
            .transpose()
            .map_err(|e| err(format!("custom detector `{}`: {e}", c.name)))?;
        let max_chars = c.max_chars.unwrap_or(MAX_WINDOW_CHARS);
        check_window(path, text, "max_chars", Some(max_chars))?;
        let file = ContextFile {
            before: c.before,
            after: c.after,
            ..ContextFile::default()
        };
        let parts = RuleParts {
            name: &format!("custom-{index}"),
            base: c.confidence.unwrap_or(0.9),
            bases: Vec::new(),
            raise: c.raise.clone(),
            lower: c.lower.clone(),
            file: &file,
        };
        check_unit(path, text, "confidence", c.confidence)?;
        rules.push(parts.build(path, text)?);
        detectors.push(CustomDetector {
            info: Arc::new(CustomInfo {
                name: c.name.clone().into(),
                index,
                label: label.into(),
                operator,
            }),
            pattern,
            validator,
            max_bytes: max_chars * 4,
        });
    }
    Ok((detectors, rules))
}

/// A custom detector's name or label: 1 to 64 ASCII letters, digits, `_`
/// or `-`, so that it reads well as a category and inside `[LABEL]`.
fn is_custom_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn build_allow(
    allow: &BTreeMap<String, Vec<String>>,
    path: &Path,
    text: &str,
) -> Result<Vec<HashSet<String>>, Error> {
    let mut sets = vec![HashSet::new(); Kind::ALL.len()];
    for (name, values) in allow {
        let kind = name
            .parse::<Kind>()
            .ok()
            .filter(|k| k.is_pii())
            .ok_or_else(|| {
                Error::word_list(
                    path,
                    line_of(text, name),
                    format!("unknown kind `{name}` in [allow]"),
                )
            })?;
        for v in values {
            sets[kind.index()].insert(canonical_value(kind, v, None));
        }
    }
    Ok(sets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_line() {
        for (text, line, says) in [
            ("min_confidence = 2.0\n", 1, "between 0 and 1"),
            ("\n[context.nope]\nbase = 0.5\n", 2, "unknown kind"),
            (
                "[[custom]]\nname = \"a\"\npattern = \"(\"\n",
                2,
                "bad pattern",
            ),
            (
                "[[custom]]\nname = \"a\"\npattern = \"x\"\nvalidator = \"crc\"\n",
                2,
                "unknown validator",
            ),
            ("[allow]\nfax = [\"1\"]\n", 2, "unknown kind"),
            (
                "\n[[custom]]\nname = \"a\"\npattern = \"x\"\noperator = \"hash\"\n",
                3,
                "needs a key",
            ),
            (
                "[[custom]]\nname = \"a\"\npattern = \"x\"\nlabel = \"A]\"\n",
                2,
                "label",
            ),
            ("\n\nbogus = 1\n", 3, "unknown field"),
        ] {
            let e = Detectors::from_toml(text).unwrap_err();
            assert_eq!(e.line(), Some(line), "{text:?}: {e}");
            assert!(e.to_string().contains(says), "{text:?}: {e}");
        }
    }
}
