//! Fuzzy matching: terms found with a few edits, without O(text x terms).
//!
//! A term allowed `k` edits, cut into `k + 1` pieces, keeps at least one
//! piece intact in any text within `k` edits of it (each edit touches at
//! most one piece). One automaton finds every piece of every fuzzy term;
//! only the windows around piece hits are compared with their term, by
//! Levenshtein distance over normalized characters.

use std::collections::HashMap;

use daachorse::{CharwiseDoubleArrayAhoCorasick, CharwiseDoubleArrayAhoCorasickBuilder};

use crate::error::Error;

/// One piece of a fuzzy term.
#[derive(Clone, Debug)]
struct Piece {
    pattern: usize,
    /// Offset of the piece in the term, in characters.
    offset: usize,
}

/// The pieces of every fuzzy term.
#[derive(Clone)]
pub(crate) struct FuzzyIndex {
    /// Distinct piece texts; the value indexes `owners`.
    pieces: CharwiseDoubleArrayAhoCorasick<u32>,
    /// For each distinct piece text, the terms it is a piece of.
    owners: Vec<Vec<Piece>>,
}

impl std::fmt::Debug for FuzzyIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FuzzyIndex")
            .field("pieces", &self.owners.len())
            .finish()
    }
}

/// A window within `edits` of a term: char range in the normalized text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Candidate {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) distance: u32,
    pub(crate) pattern: usize,
}

impl FuzzyIndex {
    /// `terms` are (pattern index, normalized chars, allowed edits >= 1).
    pub(crate) fn build(terms: &[(usize, Vec<char>, usize)]) -> Result<Option<FuzzyIndex>, Error> {
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut texts: Vec<String> = Vec::new();
        let mut owners: Vec<Vec<Piece>> = Vec::new();
        for (pattern, chars, k) in terms {
            let n = chars.len();
            let parts = k + 1;
            for p in 0..parts {
                let (a, b) = (p * n / parts, (p + 1) * n / parts);
                let text: String = chars[a..b].iter().collect();
                let i = *index.entry(text.clone()).or_insert_with(|| {
                    texts.push(text);
                    owners.push(Vec::new());
                    owners.len() - 1
                });
                owners[i].push(Piece {
                    pattern: *pattern,
                    offset: a,
                });
            }
        }
        if texts.is_empty() {
            return Ok(None);
        }
        let pieces = CharwiseDoubleArrayAhoCorasickBuilder::new()
            .build(&texts)
            .map_err(|e| Error::invalid_option("fuzzy terms", e.to_string()))?;
        Ok(Some(FuzzyIndex { pieces, owners }))
    }

    /// Every window of `chars` within the allowed edits of a fuzzy term, at
    /// most one per (term, start): the closest, then the longest.
    ///
    /// `text` is the normalized text and `starts` the byte offset of each
    /// of its characters; `exact` are the sorted byte spans of the exact
    /// matches (a window holding a piece inside one would overlap it, so it
    /// is not compared); `term` gives a pattern's normalized text, its
    /// length in characters and its allowed edits.
    pub(crate) fn candidates<'a>(
        &self,
        text: &str,
        starts: &[usize],
        exact: &[(usize, usize)],
        term: impl Fn(usize) -> (&'a str, usize, usize),
    ) -> Vec<Candidate> {
        let chars = starts.len();
        let byte_of = |c: usize| starts.get(c).copied().unwrap_or(text.len());
        let mut out: Vec<Candidate> = Vec::new();
        let mut tried: Vec<(usize, usize)> = Vec::new();
        for m in self.pieces.find_overlapping_iter(text) {
            let i = exact.partition_point(|&(_, e)| e <= m.start());
            if exact.get(i).is_some_and(|&(s, _)| s < m.end()) {
                continue;
            }
            let hit = starts.partition_point(|&s| s < m.start());
            for piece in &self.owners[m.value() as usize] {
                let (want, want_len, k) = term(piece.pattern);
                let base = hit.saturating_sub(piece.offset);
                if tried.contains(&(piece.pattern, base)) {
                    continue;
                }
                if tried.len() == 64 {
                    tried.clear();
                }
                tried.push((piece.pattern, base));
                let lo = base.saturating_sub(k);
                let hi = (base + k).min(chars);
                let mut best: Option<Candidate> = None;
                for start in lo..=hi {
                    for len in want_len.saturating_sub(k)..=want_len + k {
                        let end = start + len;
                        if len == 0 || end > chars {
                            continue;
                        }
                        let d = strsim::levenshtein(&text[byte_of(start)..byte_of(end)], want);
                        if d == 0 || d > k {
                            continue;
                        }
                        let c = Candidate {
                            start,
                            end,
                            distance: d as u32,
                            pattern: piece.pattern,
                        };
                        let better = best.is_none_or(|b| {
                            (c.distance, std::cmp::Reverse(c.end - c.start), c.start)
                                < (b.distance, std::cmp::Reverse(b.end - b.start), b.start)
                        });
                        if better {
                            best = Some(c);
                        }
                    }
                }
                out.extend(best);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}
