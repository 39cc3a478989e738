//! The word automaton, behind one interface so both engines can be measured.

use aho_corasick::{AhoCorasick, Input, MatchKind};
use daachorse::{CharwiseDoubleArrayAhoCorasick, CharwiseDoubleArrayAhoCorasickBuilder};

use crate::error::Error;

/// Which automaton matches words.
///
/// Both are leftmost-longest and give the same findings; they differ in
/// speed. [`Engine::DoubleArray`], the default, is daachorse's charwise
/// double-array automaton, which takes one transition per character rather
/// than per byte and measured two to three times faster on Chinese text
/// (see the README's lexicon table).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Engine {
    /// daachorse's charwise double-array Aho-Corasick automaton.
    #[default]
    DoubleArray,
    /// The `aho-corasick` crate's automaton.
    AhoCorasick,
}

#[derive(Clone)]
pub(crate) enum Matcher {
    DoubleArray(CharwiseDoubleArrayAhoCorasick<u32>),
    AhoCorasick(AhoCorasick),
    Empty,
}

impl std::fmt::Debug for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Matcher::DoubleArray(_) => "Matcher::DoubleArray",
            Matcher::AhoCorasick(_) => "Matcher::AhoCorasick",
            Matcher::Empty => "Matcher::Empty",
        })
    }
}

impl Matcher {
    /// A leftmost-longest automaton over distinct, non-empty patterns
    /// ([`Matcher::find_from`]).
    pub(crate) fn build(engine: Engine, patterns: &[&str]) -> Result<Matcher, Error> {
        Matcher::build_as(engine, patterns, false)
    }

    /// An automaton that reports every occurrence of distinct, non-empty
    /// patterns, overlapping ones included
    /// ([`Matcher::for_each_overlapping`]).
    pub(crate) fn build_overlapping(engine: Engine, patterns: &[&str]) -> Result<Matcher, Error> {
        Matcher::build_as(engine, patterns, true)
    }

    fn build_as(engine: Engine, patterns: &[&str], overlapping: bool) -> Result<Matcher, Error> {
        if patterns.is_empty() {
            return Ok(Matcher::Empty);
        }
        Ok(match engine {
            Engine::DoubleArray => Matcher::DoubleArray(
                CharwiseDoubleArrayAhoCorasickBuilder::new()
                    .match_kind(if overlapping {
                        daachorse::MatchKind::Standard
                    } else {
                        daachorse::MatchKind::LeftmostLongest
                    })
                    .build(patterns)
                    .map_err(|e| Error::invalid_option("word list", e.to_string()))?,
            ),
            Engine::AhoCorasick => Matcher::AhoCorasick(
                AhoCorasick::builder()
                    .match_kind(if overlapping {
                        MatchKind::Standard
                    } else {
                        MatchKind::LeftmostLongest
                    })
                    .build(patterns)
                    .map_err(|e| Error::invalid_option("word list", e.to_string()))?,
            ),
        })
    }

    /// Heap bytes held by the automaton.
    pub(crate) fn memory_usage(&self) -> usize {
        match self {
            Matcher::DoubleArray(m) => m.heap_bytes(),
            Matcher::AhoCorasick(m) => m.memory_usage(),
            Matcher::Empty => 0,
        }
    }

    /// The leftmost-longest match starting at or after byte `from`, as
    /// (start, end, pattern index).
    #[inline]
    pub(crate) fn find_from(&self, hay: &str, from: usize) -> Option<(usize, usize, usize)> {
        match self {
            Matcher::DoubleArray(m) => m
                .leftmost_find_iter(&hay[from..])
                .next()
                .map(|x| (from + x.start(), from + x.end(), x.value() as usize)),
            Matcher::AhoCorasick(m) => m
                .find(Input::new(hay).range(from..))
                .map(|x| (x.start(), x.end(), x.pattern().as_usize())),
            Matcher::Empty => None,
        }
    }

    /// Calls `f` with (start, end, pattern index) of every occurrence of
    /// every pattern that starts at or after byte `from`, in the order
    /// their ends are reached. Only for an automaton built by
    /// [`Matcher::build_overlapping`].
    pub(crate) fn for_each_overlapping(
        &self,
        hay: &str,
        from: usize,
        mut f: impl FnMut(usize, usize, usize),
    ) {
        match self {
            Matcher::DoubleArray(m) => {
                for x in m.find_overlapping_iter(&hay[from..]) {
                    f(from + x.start(), from + x.end(), x.value() as usize);
                }
            }
            Matcher::AhoCorasick(m) => {
                for x in m.find_overlapping_iter(Input::new(hay).range(from..)) {
                    f(x.start(), x.end(), x.pattern().as_usize());
                }
            }
            Matcher::Empty => {}
        }
    }
}
