//! [`Kind`] and the registry of kinds: one table names every kind with the
//! [`KindSpec`] its detector file defines. `Kind::ALL`, the names, labels,
//! help texts, canonical forms, default context and the overlap order all
//! derive from it, so a kind cannot be half registered.
//!
//! Adding a kind is one file under `pii/` defining a `SPEC` (and, for a
//! token form, a [`TokenRule`](crate::pii::TokenRule) listed in it) plus
//! one line in the table below; see `CONTRIBUTING.md`.

use std::fmt;
use std::str::FromStr;

/// How the value a finding stands for is written canonically, so that
/// `138 0013 8000`, `+86 13800138000` and `１３８００１３８０００` are one value
/// for hashing, pseudonyms and the allow list.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Canonical {
    /// The digits and check letters, ASCII, upper case.
    Digits,
    /// The national number's digits: no country prefix, a landline's
    /// area code with its 0.
    Phone,
    /// Letters and digits only, ASCII, upper case (codes, plates, VINs).
    Alphanumeric,
    /// The text in ASCII lower case (email addresses, IPv6).
    Lowercase,
    /// The text as written.
    AsIs,
    /// The list term a sensitive word matched, lower case.
    Term,
}

/// What the default [`RedactionPolicy`](crate::RedactionPolicy) does with
/// a kind's findings.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Redaction {
    /// `[LABEL]`: personal data, whose kind a model still needs to read.
    Label,
    /// One `*` per character: sensitive words, whose length may show.
    MaskAll,
}

/// Context words a kind's confidence reacts to, and its confidence
/// without them. The built-in defaults of a kind; a detectors file may
/// replace them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ContextDefaults {
    /// Confidence with no context word near.
    pub(crate) base: f32,
    /// Words that say the value is of this kind (卡号, passport).
    pub(crate) raise: &'static [&'static str],
    /// Words that say the value is something else (订单号).
    pub(crate) lower: &'static [&'static str],
    /// Categories whose confidence without context differs from `base`.
    pub(crate) bases: &'static [(&'static str, f32)],
}

impl ContextDefaults {
    /// A strong format: confident without context, no words.
    pub(crate) const fn strong(base: f32) -> ContextDefaults {
        ContextDefaults {
            base,
            raise: &[],
            lower: &[],
            bases: &[],
        }
    }
}

/// What the registry knows of one kind.
#[derive(Debug)]
pub(crate) struct KindSpec {
    /// The snake-case name (`id_card`).
    pub(crate) name: &'static str,
    /// The upper-case label of the default redaction (`ID_CARD`).
    pub(crate) label: &'static str,
    /// One line for help texts.
    pub(crate) summary: &'static str,
    pub(crate) canonical: Canonical,
    /// The default operator.
    pub(crate) redaction: Redaction,
    pub(crate) context: ContextDefaults,
    /// The token forms of this kind that the personal-data pass tries.
    pub(crate) tokens: &'static [&'static dyn crate::pii::TokenRule],
}

/// Declares `Kind` from the table: the variants in overlap order (where
/// two findings claim the same text and neither contains the other, the
/// earlier kind wins), and `Kind::spec`.
macro_rules! kinds {
    ($( $(#[doc = $doc:literal])* $variant:ident => $spec:path, )*) => {
        /// The kind of thing a finding is.
        ///
        /// Kinds are listed most specific first: where two findings claim
        /// the same text and neither contains the other, the earlier wins.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Kind {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Kind {
            /// Every kind, most specific first.
            pub const ALL: &'static [Kind] = &[$(Kind::$variant),*];

            /// The registry entry of this kind.
            pub(crate) const fn spec(self) -> &'static KindSpec {
                match self {
                    $( Kind::$variant => &$spec, )*
                }
            }
        }
    };
}

kinds! {
    /// A resident identity number: mainland (GB 11643-1999, category `cn`),
    /// Hong Kong (`hk`), Macau (`mo`) or Taiwan (`tw`).
    IdCard => crate::pii::id_card::SPEC,
    /// A Unified Social Credit Code of an organization (GB 32100-2015).
    Uscc => crate::pii::uscc::SPEC,
    /// A credential such as an OpenAI, Anthropic, AWS or Alibaba Cloud key.
    Secret => crate::pii::secret::SPEC,
    /// An email address.
    Email => crate::pii::email::SPEC,
    /// A vehicle identification number (ISO 3779, GB 16735).
    Vin => crate::pii::vin::SPEC,
    /// A mainland passport or travel permit number, reported beside a
    /// context word.
    Passport => crate::pii::passport::SPEC,
    /// A mainland phone number: `mobile` (optionally with +86) or
    /// `landline` (area code and local number).
    Phone => crate::pii::phone::SPEC,
    /// An IPv4 or IPv6 address.
    IpAddress => crate::pii::ip::SPEC,
    /// A mainland licence plate.
    LicensePlate => crate::pii::plate::SPEC,
    /// A payment card number in a network's ranges, passing Luhn; the
    /// category names the network.
    BankCard => crate::pii::bank_card::SPEC,
    /// A value matched by an operator's custom detector; the category
    /// names the detector.
    Custom => crate::pii::custom::SPEC,
    /// A term from a sensitive-word list.
    SensitiveWord => crate::lexicon::SPEC,
}

impl Kind {
    /// The snake-case name used in JSON output and configuration (`id_card`).
    pub fn as_str(self) -> &'static str {
        self.spec().name
    }

    /// The upper-case label used by the default redaction (`ID_CARD`).
    pub fn label(self) -> &'static str {
        self.spec().label
    }

    /// One line saying what the kind is, for help texts.
    pub fn summary(self) -> &'static str {
        self.spec().summary
    }

    /// Whether this kind is personal data (everything but sensitive words).
    pub fn is_pii(self) -> bool {
        !matches!(self, Kind::SensitiveWord)
    }

    /// A small index, `0..Kind::ALL.len()`, for per-kind tables; also the
    /// overlap order.
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error returned when parsing an unknown kind name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKind(String);

impl fmt::Display for UnknownKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown kind `{}` (expected one of ", self.0)?;
        for (i, k) in Kind::ALL.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(k.as_str())?;
        }
        f.write_str(")")
    }
}

impl std::error::Error for UnknownKind {}

impl FromStr for Kind {
    type Err = UnknownKind;

    /// Parses `id_card` or `ID_CARD` (and so on for every kind).
    fn from_str(s: &str) -> Result<Kind, UnknownKind> {
        Kind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownKind(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_labels_are_unique_and_round_trip() {
        for (i, k) in Kind::ALL.iter().copied().enumerate() {
            assert_eq!(k.index(), i);
            assert_eq!(k.as_str().parse::<Kind>(), Ok(k));
            assert_eq!(k.label().parse::<Kind>(), Ok(k));
            assert_eq!(k.label(), k.as_str().to_ascii_uppercase());
            assert!(!k.summary().is_empty());
        }
        for &k in Kind::ALL {
            for rule in k.spec().tokens {
                assert_eq!(rule.kind(), k, "{rule:?} is listed under {k}");
            }
        }
        let mut names: Vec<_> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Kind::ALL.len());
    }
}
