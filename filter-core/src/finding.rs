//! What a scan reports: [`Finding`], its [`Kind`] and [`MatchType`].

use std::fmt;
use std::ops::Range;
use std::str::FromStr;
use std::sync::Arc;

/// The kind of thing a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Kind {
    /// A mainland China resident identity number (GB 11643-1999), 18 or 15 characters.
    IdCard,
    /// A mainland China mobile number, optionally with a +86 prefix.
    Phone,
    /// A payment card number that passes the Luhn check.
    BankCard,
    /// An email address.
    Email,
    /// A credential such as an OpenAI, Anthropic, AWS or Alibaba Cloud key.
    Secret,
    /// A term from a sensitive-word list.
    SensitiveWord,
}

impl Kind {
    /// Every kind, in a stable order.
    pub const ALL: [Kind; 6] = [
        Kind::IdCard,
        Kind::Phone,
        Kind::BankCard,
        Kind::Email,
        Kind::Secret,
        Kind::SensitiveWord,
    ];

    /// The snake-case name used in JSON output and configuration (`id_card`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::IdCard => "id_card",
            Kind::Phone => "phone",
            Kind::BankCard => "bank_card",
            Kind::Email => "email",
            Kind::Secret => "secret",
            Kind::SensitiveWord => "sensitive_word",
        }
    }

    /// The upper-case label used by the default redaction (`ID_CARD`).
    pub fn label(self) -> &'static str {
        match self {
            Kind::IdCard => "ID_CARD",
            Kind::Phone => "PHONE",
            Kind::BankCard => "BANK_CARD",
            Kind::Email => "EMAIL",
            Kind::Secret => "SECRET",
            Kind::SensitiveWord => "SENSITIVE_WORD",
        }
    }

    /// Whether this kind is personal data (everything but sensitive words).
    pub fn is_pii(self) -> bool {
        !matches!(self, Kind::SensitiveWord)
    }

    /// A small index, `0..Kind::ALL.len()`, for per-kind tables.
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
        write!(
            f,
            "unknown kind `{}` (expected one of id_card, phone, bank_card, email, secret, sensitive_word)",
            self.0
        )
    }
}

impl std::error::Error for UnknownKind {}

impl FromStr for Kind {
    type Err = UnknownKind;

    /// Parses `id_card` or `ID_CARD` (and so on for every kind).
    fn from_str(s: &str) -> Result<Kind, UnknownKind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownKind(s.to_string()))
    }
}

/// How the matched text relates to what the detector looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatchType {
    /// The text is literally the term or number.
    Exact,
    /// The text matches after normalization (full-width digits, case,
    /// traditional script, noise between characters, ...).
    Normalized,
    /// The text matches within the allowed edit distance.
    Fuzzy,
}

impl MatchType {
    /// `exact`, `normalized` or `fuzzy`.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchType::Exact => "exact",
            MatchType::Normalized => "normalized",
            MatchType::Fuzzy => "fuzzy",
        }
    }
}

/// What a matched word-list term asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Action {
    /// Mask the text and let the rest through.
    Mask,
    /// Let the text through but flag the message for review.
    Review,
    /// Stop the message.
    #[default]
    Block,
}

impl Action {
    /// `mask`, `review` or `block`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Mask => "mask",
            Action::Review => "review",
            Action::Block => "block",
        }
    }
}

/// Facts about one word-list term, shared by every finding of it.
#[derive(Debug)]
pub(crate) struct TermInfo {
    pub(crate) category: Arc<str>,
    pub(crate) term: Box<str>,
    pub(crate) action: Action,
}

#[derive(Clone, Debug)]
enum Detail {
    /// A detector's sub-type, such as the provider of a secret.
    Static(&'static str),
    /// The list term a sensitive word matched.
    Term(Arc<TermInfo>),
}

/// One thing found in a text, borrowing the text it was found in.
///
/// Offsets are UTF-8 byte offsets into the scanned text, always on char
/// boundaries. [`Finding::char_range`] and [`Finding::utf16_range`] convert
/// them for callers that count code points (Python) or UTF-16 units (Java,
/// JavaScript); to convert many findings in one pass use
/// [`OffsetMapper`](crate::OffsetMapper).
#[derive(Clone, Debug)]
pub struct Finding<'h> {
    haystack: &'h str,
    start: usize,
    end: usize,
    kind: Kind,
    match_type: MatchType,
    edit_distance: u32,
    detail: Detail,
}

impl<'h> Finding<'h> {
    pub(crate) fn pii(
        haystack: &'h str,
        range: Range<usize>,
        kind: Kind,
        match_type: MatchType,
        detail: &'static str,
    ) -> Finding<'h> {
        debug_assert!(haystack.is_char_boundary(range.start));
        debug_assert!(haystack.is_char_boundary(range.end));
        Finding {
            haystack,
            start: range.start,
            end: range.end,
            kind,
            match_type,
            edit_distance: 0,
            detail: Detail::Static(detail),
        }
    }

    pub(crate) fn word(
        haystack: &'h str,
        range: Range<usize>,
        info: Arc<TermInfo>,
        match_type: MatchType,
        edit_distance: u32,
    ) -> Finding<'h> {
        debug_assert!(haystack.is_char_boundary(range.start));
        debug_assert!(haystack.is_char_boundary(range.end));
        Finding {
            haystack,
            start: range.start,
            end: range.end,
            kind: Kind::SensitiveWord,
            match_type,
            edit_distance,
            detail: Detail::Term(info),
        }
    }

    /// This finding apart from its haystack, at absolute offsets (the
    /// haystack starting at `origin`), for a stream that outlives windows.
    pub(crate) fn detach(&self, origin: usize) -> Detached {
        Detached {
            start: origin + self.start,
            end: origin + self.end,
            kind: self.kind,
            match_type: self.match_type,
            edit_distance: self.edit_distance,
            detail: self.detail.clone(),
        }
    }

    /// What was found.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Byte offset of the start, inclusive.
    pub fn start(&self) -> usize {
        self.start
    }

    /// Byte offset of the end, exclusive.
    pub fn end(&self) -> usize {
        self.end
    }

    /// `start()..end()`.
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }

    /// Whether the finding covers no text (never true for findings of this crate).
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// The matched text, borrowed from the haystack.
    pub fn as_str(&self) -> &'h str {
        &self.haystack[self.start..self.end]
    }

    /// How the text matched.
    pub fn match_type(&self) -> MatchType {
        self.match_type
    }

    /// Edits between the text and the term, for fuzzy word matches; else 0.
    pub fn edit_distance(&self) -> u32 {
        self.edit_distance
    }

    /// The word-list category for sensitive words (the list file stem); for
    /// secrets, the provider (`openai`, `anthropic`, `aws`, `alibaba`); for
    /// mobile numbers `mobile`; empty otherwise.
    pub fn category(&self) -> &str {
        match &self.detail {
            Detail::Static(s) => s,
            Detail::Term(t) => &t.category,
        }
    }

    /// The list term a sensitive word matched, as written in the list.
    pub fn term(&self) -> Option<&str> {
        match &self.detail {
            Detail::Static(_) => None,
            Detail::Term(t) => Some(&t.term),
        }
    }

    /// The action of the term's category, for sensitive words.
    pub fn action(&self) -> Option<Action> {
        match &self.detail {
            Detail::Static(_) => None,
            Detail::Term(t) => Some(t.action),
        }
    }

    /// The span in Unicode code points (Python string indexing).
    ///
    /// This walks the haystack up to the finding, so it costs O(start). For
    /// many findings use [`OffsetMapper`](crate::OffsetMapper).
    pub fn char_range(&self) -> Range<usize> {
        let mut m = crate::OffsetMapper::new(self.haystack);
        m.char_range(self.range())
    }

    /// The span in UTF-16 code units (Java, JavaScript string indexing).
    pub fn utf16_range(&self) -> Range<usize> {
        let mut m = crate::OffsetMapper::new(self.haystack);
        m.utf16_range(self.range())
    }
}

/// A finding apart from its haystack, at absolute stream offsets.
#[derive(Clone, Debug)]
pub(crate) struct Detached {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) kind: Kind,
    match_type: MatchType,
    edit_distance: u32,
    detail: Detail,
}

impl Detached {
    /// The finding on `haystack`, which starts at absolute offset `origin`.
    pub(crate) fn attach<'h>(&self, haystack: &'h str, origin: usize) -> Finding<'h> {
        Finding {
            haystack,
            start: self.start - origin,
            end: self.end - origin,
            kind: self.kind,
            match_type: self.match_type,
            edit_distance: self.edit_distance,
            detail: self.detail.clone(),
        }
    }

    pub(crate) fn match_type(&self) -> MatchType {
        self.match_type
    }

    pub(crate) fn edit_distance(&self) -> u32 {
        self.edit_distance
    }

    pub(crate) fn category(&self) -> &str {
        match &self.detail {
            Detail::Static(s) => s,
            Detail::Term(t) => &t.category,
        }
    }

    pub(crate) fn term(&self) -> Option<&str> {
        match &self.detail {
            Detail::Static(_) => None,
            Detail::Term(t) => Some(&t.term),
        }
    }

    pub(crate) fn action(&self) -> Option<Action> {
        match &self.detail {
            Detail::Static(_) => None,
            Detail::Term(t) => Some(t.action),
        }
    }
}
