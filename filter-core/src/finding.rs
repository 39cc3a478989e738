//! What a scan reports: [`Finding`] and its [`MatchType`].

use std::ops::Range;
use std::sync::Arc;

pub use crate::kind::Kind;

/// How the matched text relates to what the detector looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MatchType {
    /// The text is literally the term or number.
    Exact,
    /// The text matches after normalization (full-width digits, case,
    /// traditional script, noise between characters, ...).
    Normalized,
    /// The text matches within the allowed edit distance.
    Fuzzy,
    /// The text is the term written in pinyin, wholly or in part
    /// (`wangluodubo`, `网络du博`), in a category with pinyin on.
    Pinyin,
    /// The text is the term written with other characters of the same
    /// sound (`网络堵博`), in a category with homophones on.
    Homophone,
}

impl MatchType {
    /// `exact`, `normalized`, `fuzzy`, `pinyin` or `homophone`.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchType::Exact => "exact",
            MatchType::Normalized => "normalized",
            MatchType::Fuzzy => "fuzzy",
            MatchType::Pinyin => "pinyin",
            MatchType::Homophone => "homophone",
        }
    }
}

/// What a matched word-list term asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[non_exhaustive]
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

/// Facts about one custom detector, shared by every finding of it.
#[derive(Debug)]
pub(crate) struct CustomInfo {
    /// The detector's name: the category of its findings.
    pub(crate) name: Box<str>,
    /// Its index among the custom detectors of its configuration.
    pub(crate) index: usize,
    /// What `[LABEL]` a redaction writes for it (default: the name in
    /// upper case, `-` as `_`).
    pub(crate) label: Box<str>,
    /// Its own default operator, used unless a policy sets one for
    /// [`Kind::Custom`].
    pub(crate) operator: Option<crate::redact::Operator>,
}

#[derive(Clone, Debug)]
enum Detail {
    /// A detector's sub-type, such as the provider of a secret.
    Static(&'static str),
    /// The list term a sensitive word matched.
    Term(Arc<TermInfo>),
    /// The custom detector that matched.
    Custom(Arc<CustomInfo>),
}

impl Detail {
    fn category(&self) -> &str {
        match self {
            Detail::Static(s) => s,
            Detail::Term(t) => &t.category,
            Detail::Custom(c) => &c.name,
        }
    }

    fn term(&self) -> Option<&str> {
        match self {
            Detail::Term(t) => Some(&t.term),
            _ => None,
        }
    }

    fn action(&self) -> Option<Action> {
        match self {
            Detail::Term(t) => Some(t.action),
            _ => None,
        }
    }

    fn custom(&self) -> Option<&CustomInfo> {
        match self {
            Detail::Custom(c) => Some(c),
            _ => None,
        }
    }
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
    confidence: f32,
    detail: Detail,
}

impl<'h> Finding<'h> {
    /// A finding of `range` in `haystack`; confidence 1 until the context
    /// rules judge it.
    fn new(
        haystack: &'h str,
        range: Range<usize>,
        kind: Kind,
        match_type: MatchType,
        edit_distance: u32,
        detail: Detail,
    ) -> Finding<'h> {
        debug_assert!(haystack.is_char_boundary(range.start));
        debug_assert!(haystack.is_char_boundary(range.end));
        Finding {
            haystack,
            start: range.start,
            end: range.end,
            kind,
            match_type,
            edit_distance,
            confidence: 1.0,
            detail,
        }
    }

    pub(crate) fn pii(
        haystack: &'h str,
        range: Range<usize>,
        kind: Kind,
        match_type: MatchType,
        detail: &'static str,
    ) -> Finding<'h> {
        Finding::new(haystack, range, kind, match_type, 0, Detail::Static(detail))
    }

    pub(crate) fn custom(
        haystack: &'h str,
        range: Range<usize>,
        info: Arc<CustomInfo>,
    ) -> Finding<'h> {
        let detail = Detail::Custom(info);
        Finding::new(haystack, range, Kind::Custom, MatchType::Exact, 0, detail)
    }

    /// Sets the confidence the context rules gave.
    pub(crate) fn set_confidence(&mut self, confidence: f32) {
        self.confidence = confidence;
    }

    /// The index of the custom detector that found this, for its rules.
    pub(crate) fn custom_index(&self) -> Option<usize> {
        self.detail.custom().map(|c| c.index)
    }

    /// The custom detector that found this.
    pub(crate) fn custom_info(&self) -> Option<&CustomInfo> {
        self.detail.custom()
    }

    /// The haystack the finding borrows.
    pub(crate) fn haystack(&self) -> &'h str {
        self.haystack
    }

    pub(crate) fn word(
        haystack: &'h str,
        range: Range<usize>,
        info: Arc<TermInfo>,
        match_type: MatchType,
        edit_distance: u32,
    ) -> Finding<'h> {
        let detail = Detail::Term(info);
        Finding::new(
            haystack,
            range,
            Kind::SensitiveWord,
            match_type,
            edit_distance,
            detail,
        )
    }

    /// Moves a finding made in a window of `haystack` that starts at byte
    /// `origin` onto the whole of `haystack`.
    pub(crate) fn rebase(&mut self, haystack: &'h str, origin: usize) {
        self.haystack = haystack;
        self.start += origin;
        self.end += origin;
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
            confidence: self.confidence,
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

    /// What the finding is within its kind: the word-list category for
    /// sensitive words (the list file stem); the provider for secrets
    /// (`openai`, `anthropic`, `aws`, `alibaba`); `mobile` or `landline`
    /// for phones; the network for cards (`visa`, `unionpay`, ...); `cn`,
    /// `hk`, `mo` or `tw` for identity numbers; the form for passports
    /// (`passport`, `hk_mo_permit`, ...); `v4` or `v6` for IP addresses;
    /// the detector's name for custom detectors; empty otherwise.
    pub fn category(&self) -> &str {
        self.detail.category()
    }

    /// What a label redaction writes between brackets: the kind's label
    /// (`PHONE`, `ID_CARD`), or a custom detector's own (`EMPLOYEE_ID`).
    pub fn label(&self) -> &str {
        match self.detail.custom() {
            Some(c) => &c.label,
            None => self.kind.label(),
        }
    }

    /// The list term a sensitive word matched, as written in the list.
    pub fn term(&self) -> Option<&str> {
        self.detail.term()
    }

    /// The action of the term's category, for sensitive words.
    pub fn action(&self) -> Option<Action> {
        self.detail.action()
    }

    /// How sure the detector is, in `[0, 1]`: the kind's confidence
    /// without context (high for checked formats such as ID numbers, low
    /// for passports), raised or lowered by the nearest context word
    /// (卡号 raises a card number, 订单号 lowers it). Sensitive words are 1.
    pub fn confidence(&self) -> f32 {
        self.confidence
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
    confidence: f32,
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
            confidence: self.confidence,
            detail: self.detail.clone(),
        }
    }

    pub(crate) fn confidence(&self) -> f32 {
        self.confidence
    }

    pub(crate) fn match_type(&self) -> MatchType {
        self.match_type
    }

    pub(crate) fn edit_distance(&self) -> u32 {
        self.edit_distance
    }

    pub(crate) fn category(&self) -> &str {
        self.detail.category()
    }

    pub(crate) fn term(&self) -> Option<&str> {
        self.detail.term()
    }

    pub(crate) fn action(&self) -> Option<Action> {
        self.detail.action()
    }
}
