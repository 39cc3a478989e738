//! Options of one word-list category.

use crate::finding::Action;

/// Options of one word-list category.
///
/// ```
/// use filter_core::{Action, CategoryOptions};
///
/// let strict = CategoryOptions::new().action(Action::Review).fuzzy(false).max_noise(1);
/// assert_eq!(strict.get_action(), Action::Review);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategoryOptions {
    pub(super) action: Action,
    pub(super) fuzzy: bool,
    pub(super) one_edit_min_chars: usize,
    pub(super) two_edits_min_chars: usize,
    pub(super) max_noise: usize,
    pub(super) pinyin: bool,
    pub(super) pinyin_min_chars: usize,
    pub(super) homophones: bool,
    pub(super) homophone_min_chars: usize,
}

impl Default for CategoryOptions {
    fn default() -> CategoryOptions {
        CategoryOptions {
            action: Action::Block,
            fuzzy: true,
            one_edit_min_chars: 5,
            two_edits_min_chars: 10,
            max_noise: 3,
            pinyin: false,
            pinyin_min_chars: 3,
            homophones: false,
            homophone_min_chars: 3,
        }
    }
}

impl CategoryOptions {
    /// Block, fuzzy on (1 edit from 5 characters, 2 from 10), at most 3
    /// noise characters in a row between the characters of a term.
    pub fn new() -> CategoryOptions {
        CategoryOptions::default()
    }

    /// What a match asks for.
    pub fn action(mut self, action: Action) -> CategoryOptions {
        self.action = action;
        self
    }

    /// Whether terms match within a few edits.
    pub fn fuzzy(mut self, on: bool) -> CategoryOptions {
        self.fuzzy = on;
        self
    }

    /// The shortest terms (in normalized characters) allowed one and two
    /// edits. Shorter terms only match exactly: one edit on a 2-4 character
    /// Chinese term hits ordinary words.
    pub fn fuzzy_min_chars(mut self, one_edit: usize, two_edits: usize) -> CategoryOptions {
        self.one_edit_min_chars = one_edit;
        self.two_edits_min_chars = two_edits;
        self
    }

    /// The most noise characters (whitespace, punctuation, symbols) allowed
    /// in a row between two characters of a term; 0 turns skipping off.
    pub fn max_noise(mut self, n: usize) -> CategoryOptions {
        self.max_noise = n;
        self
    }

    /// Whether a term also matches written in pinyin, wholly or in part
    /// (`wangluodubo`, `Wang Luo Du Bo`, `网络du博` for `网络赌博`; tone
    /// marks or none; each reading of a polyphonic character). Off by
    /// default: it trades precision for recall.
    pub fn pinyin(mut self, on: bool) -> CategoryOptions {
        self.pinyin = on;
        self
    }

    /// The shortest terms (in normalized characters) that get pinyin
    /// spellings (default 3: two-character spellings such as `bingdu` are
    /// ordinary words too).
    pub fn pinyin_min_chars(mut self, n: usize) -> CategoryOptions {
        self.pinyin_min_chars = n;
        self
    }

    /// Whether a term also matches written with other characters of the
    /// same sound (`网络堵博`, `六合菜`, `代开发漂`; tones ignored, each
    /// reading of a polyphonic term character). Off by default: it trades
    /// precision for recall.
    pub fn homophones(mut self, on: bool) -> CategoryOptions {
        self.homophones = on;
        self
    }

    /// The shortest terms (in normalized characters) matched by sound
    /// (default 3: `喜钱` sounds like `洗钱`).
    pub fn homophone_min_chars(mut self, n: usize) -> CategoryOptions {
        self.homophone_min_chars = n;
        self
    }

    /// Whether terms of `chars` normalized characters match by sound.
    pub(super) fn matches_sound(&self, chars: usize) -> bool {
        self.homophones && chars >= self.homophone_min_chars.max(1)
    }

    /// Whether terms of `chars` normalized characters get pinyin spellings.
    pub(super) fn spells_pinyin(&self, chars: usize) -> bool {
        self.pinyin && chars >= self.pinyin_min_chars.max(1)
    }

    /// The action.
    pub fn get_action(&self) -> Action {
        self.action
    }

    /// The edits allowed for a term of `chars` normalized characters.
    pub(super) fn edits(&self, chars: usize) -> usize {
        if !self.fuzzy {
            0
        } else if chars >= self.two_edits_min_chars.max(self.one_edit_min_chars) {
            2
        } else if chars >= self.one_edit_min_chars {
            1
        } else {
            0
        }
    }
}
