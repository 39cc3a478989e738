//! The sensitive-word lexicon: Aho-Corasick over normalized text, allow
//! lists, fuzzy matching and the word-list directory format.

mod builder;
mod category;
mod confusables_table;
mod fuzzy;
mod matcher;
pub(crate) mod normalize;
mod pass;
mod pinyin;
// Generated (tests/bin/gen_pinyin.rs) and checked byte for byte against
// the generator's output: not formatted.
#[rustfmt::skip]
mod pinyin_table;
mod shared;
mod t2s_table;
mod wordlist;

#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::Arc;

use aho_corasick::AhoCorasick;

use self::fuzzy::FuzzyIndex;
use self::matcher::Matcher;
use crate::detectors::Detectors;
use crate::error::Error;
use crate::finding::{Action, Finding, TermInfo};
use crate::limits::Interrupt;

pub use self::builder::LexiconBuilder;
pub use self::category::CategoryOptions;
pub use self::matcher::Engine;
pub(crate) use self::pass::LexCursor;
pub use self::shared::SharedLexicon;
pub use self::wordlist::{Warning, MAX_LIST_DIR_BYTES, MAX_LIST_FILE_BYTES};

/// The longest term accepted, in normalized characters.
pub const MAX_TERM_CHARS: usize = 256;

pub(crate) const SPEC: crate::kind::KindSpec = crate::kind::KindSpec {
    name: "sensitive_word",
    label: "SENSITIVE_WORD",
    summary: "a term of a sensitive-word list (normalized, fuzzy)",
    canonical: crate::kind::Canonical::Term,
    redaction: crate::kind::Redaction::MaskAll,
    context: crate::kind::ContextDefaults::strong(1.0),
    tokens: &[],
};

/// What deciding an exact match reads, 16 bytes a term: a scan touches
/// one random entry per match, and a 100k-term list's entries should stay
/// in cache (the spellings fuzzy matching needs live apart).
#[derive(Clone, Debug)]
struct Pattern {
    info: Arc<TermInfo>,
    category: u32,
    ascii_start: bool,
    ascii_end: bool,
    /// The list's term is its own normal form, so a match whose text is
    /// unchanged by normalization is exact without reading the term.
    term_is_normal: bool,
    /// A pinyin spelling of the term, not the term.
    pinyin: bool,
}

/// The automaton of a lexicon with a category that matches by sound: it
/// runs over the sound channel of the text (each ideograph as its common
/// syllable) and finds both kinds of match in one pass. Every pattern is
/// there as it sounds, so its exact matches are the occurrences whose
/// normalized text is the pattern; the terms that match by sound are also
/// there in each reading of their polyphonic characters, and any
/// occurrence of those is a same-sound match.
#[derive(Clone, Debug)]
struct SoundIndex {
    /// Every occurrence of every spelling, overlapping ones included.
    matcher: Matcher,
    /// Parallel to the automaton's patterns.
    spellings: Vec<SoundSpelling>,
    /// The patterns that sound like each spelling, grouped by spelling.
    exact_pids: Vec<u32>,
}

/// What an occurrence of one sound spelling can be.
#[derive(Clone, Copy, Debug)]
struct SoundSpelling {
    /// `exact_pids[exact.0..exact.1]`: the patterns that sound so; the
    /// occurrence is an exact match of the one whose normal form it is.
    exact: (u32, u32),
    /// The term a same-sound match reports ([`NO_TERM`]: none; two terms
    /// that sound the same share a spelling, and the first keeps it).
    homophone: u32,
}

/// No term (of a [`SoundSpelling`]).
const NO_TERM: u32 = u32::MAX;

/// A term's normalized form, for fuzzy matching and the look-ahead bounds.
#[derive(Clone, Debug)]
struct Spelling {
    norm: Box<str>,
    /// The characters of `norm` when fuzzy matching reads them (`edits`
    /// above 0), else none.
    chars: Box<[char]>,
    char_count: usize,
    edits: usize,
}

/// A compiled set of sensitive-word lists.
///
/// Matching runs one leftmost-longest automaton over the normalized text
/// (see the crate docs for what normalization covers; when a category
/// matches by sound, one automaton over the text's sound channel finds the
/// exact and the same-sound matches together) and reports spans in
/// the original text, covering any noise inside the match, so masking is
/// exact. Terms whose ends are ASCII letters or digits match only at ASCII
/// word boundaries (`av` is not found in `java`); CJK terms match anywhere.
/// A match inside an occurrence of an allowed term is dropped. Fuzzy terms
/// also match within their allowed edits.
#[derive(Clone, Debug)]
pub struct Lexicon {
    patterns: Vec<Pattern>,
    /// Parallel to `patterns`.
    spellings: Vec<Spelling>,
    categories: Vec<(Arc<str>, CategoryOptions)>,
    /// The exact automaton over the normalized text; empty when `sounds`
    /// is there, which finds the exact matches too.
    matcher: Matcher,
    allow: Option<AhoCorasick>,
    allow_terms: usize,
    allow_max_bytes: usize,
    fuzzy: Option<FuzzyIndex>,
    /// The automaton over the sound channel, when a category matches by
    /// sound.
    sounds: Option<SoundIndex>,
    longest_term_chars: usize,
    /// The longest spelling's normalized form, in bytes (read by every
    /// window of a scan: kept, not computed from 100k spellings each time).
    longest_norm_bytes: usize,
    warnings: Vec<Warning>,
    /// None: the built-in rules (the context words' own lexicon has none).
    detectors: Option<Detectors>,
}

impl Default for Lexicon {
    fn default() -> Lexicon {
        LexiconBuilder::new()
            .build()
            .expect("an empty lexicon builds")
    }
}

impl Lexicon {
    /// A builder.
    pub fn builder() -> LexiconBuilder {
        LexiconBuilder::new()
    }

    /// Loads a word-list directory with the default engine.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Lexicon, Error> {
        LexiconBuilder::new().add_dir(dir)?.build()
    }

    /// The number of distinct terms (not counting the allow list).
    pub fn term_count(&self) -> usize {
        self.patterns.iter().filter(|p| !p.pinyin).count()
    }

    /// The number of pinyin spellings made for the terms of categories
    /// with pinyin on (each is one more pattern of the automaton).
    pub fn pinyin_spelling_count(&self) -> usize {
        self.patterns.iter().filter(|p| p.pinyin).count()
    }

    /// The number of allow-list terms.
    pub fn allow_count(&self) -> usize {
        self.allow_terms
    }

    /// The category names, in the order they were defined.
    pub fn categories(&self) -> impl Iterator<Item = &str> {
        self.categories.iter().map(|(n, _)| &**n)
    }

    /// The action of a category.
    pub fn category_action(&self, name: &str) -> Option<Action> {
        self.categories
            .iter()
            .find(|(n, _)| &**n == name)
            .map(|(_, o)| o.action)
    }

    /// The detector configuration read with the lists (`detectors.toml`),
    /// or the built-in one.
    pub fn detectors(&self) -> &Detectors {
        self.detectors
            .as_ref()
            .unwrap_or_else(|| Detectors::builtin_ref())
    }

    /// The number of terms in each category.
    pub fn category_counts(&self) -> Vec<(&str, usize)> {
        let mut counts = vec![0; self.categories.len()];
        for p in self.patterns.iter().filter(|p| !p.pinyin) {
            counts[p.category as usize] += 1;
        }
        self.categories().zip(counts).collect()
    }

    /// Duplicate terms and other problems that did not stop the build.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Approximate heap bytes held by the lexicon: automata, fuzzy index,
    /// allow list and the terms themselves.
    pub fn memory_usage(&self) -> usize {
        let terms: usize = self
            .patterns
            .iter()
            .zip(&self.spellings)
            .map(|(p, sp)| {
                std::mem::size_of::<Pattern>()
                    + std::mem::size_of::<Spelling>()
                    + std::mem::size_of::<TermInfo>()
                    + 2 * std::mem::size_of::<usize>() // the Arc's counts
                    + p.info.term.len()
                    + sp.norm.len()
                    + sp.chars.len() * std::mem::size_of::<char>()
            })
            .sum();
        terms
            + self.matcher.memory_usage()
            + self.fuzzy.as_ref().map_or(0, FuzzyIndex::memory_usage)
            + self.allow.as_ref().map_or(0, AhoCorasick::memory_usage)
            + self.sounds.as_ref().map_or(0, |s| {
                s.matcher.memory_usage()
                    + s.spellings.capacity() * std::mem::size_of::<SoundSpelling>()
                    + s.exact_pids.capacity() * std::mem::size_of::<u32>()
            })
    }

    /// The longest term, in normalized characters.
    pub fn longest_term_chars(&self) -> usize {
        self.longest_term_chars
    }

    /// Bytes of text before a stream's undecided part that matching
    /// looks at: the character before a match (for word boundaries) and
    /// allowed terms that start before it.
    pub(crate) fn context_bytes(&self) -> usize {
        4 * (self.allow_max_bytes + 4 * (self.max_noise() + 1) + 4)
    }

    /// The most original bytes a stream holds back for words: the
    /// look-ahead in normalized bytes, each worth up to four original bytes
    /// and the noise allowed after it.
    pub(crate) fn hold_back_bytes(&self) -> usize {
        let ahead = if self.fuzzy.is_some() {
            self.fuzzy_lookahead()
        } else {
            self.lookahead()
        };
        ahead * 4 * (self.max_noise() + 1) + self.context_bytes()
    }

    /// The largest noise limit of any category.
    pub fn max_noise(&self) -> usize {
        self.categories
            .iter()
            .map(|(_, o)| o.max_noise)
            .max()
            .unwrap_or(0)
    }

    /// The most edits any term is allowed.
    pub fn max_edits(&self) -> usize {
        self.spellings.iter().map(|p| p.edits).max().unwrap_or(0)
    }

    /// Every sensitive word in `text`, sorted by start, non-overlapping.
    pub fn find<'h>(&self, text: &'h str) -> Vec<Finding<'h>> {
        let mut out = Vec::new();
        self.find_into(text, None, &Interrupt::none(), &mut out);
        out
    }

    /// Normalized bytes past a match that deciding it may read: a longer
    /// term at the same start, an allowed term around it, the next
    /// character for the word boundary.
    fn lookahead(&self) -> usize {
        self.longest_norm_bytes + self.allow_max_bytes + 4
    }

    /// Normalized bytes past a fuzzy window's start that deciding it may
    /// read: the window (term and edits on both sides), then as for exact
    /// matches.
    fn fuzzy_lookahead(&self) -> usize {
        self.lookahead() + 4 * (self.longest_term_chars + 3 * self.max_edits())
    }
}
