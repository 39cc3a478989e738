//! Fuzzy matching: terms found with a few edits, without O(text x terms).
//!
//! Distance is optimal string alignment over normalized characters: a
//! substitution, an insertion, a deletion or a transposition of two
//! neighbouring characters (`iphoen`) is one edit.
//!
//! A term allowed `k` edits, cut into `k + 1` pieces, keeps at least one
//! piece intact in any text within `k` edits of it, but for transpositions
//! across a cut, which touch two pieces. So each set of cuts also gives
//! the term with the two characters at each of those cuts swapped, in
//! pieces joined across them: if the text's transpositions cross the cuts
//! `S`, the swapped term for `S` has `k + 1 - |S|` pieces and at most
//! `k - |S|` other edits, so one of its pieces is intact. One automaton
//! finds every piece; only the windows around piece hits are compared with
//! their term.
//!
//! The comparisons are bounded by a budget per byte of text, whatever the
//! list: a list whose terms share pieces by the hundred (`a`, `aa`, ...,
//! `a` x 256) would otherwise ask for a comparison with every one of them
//! at every byte. See [`CELLS_PER_BYTE`].

use std::collections::HashMap;

use daachorse::{CharwiseDoubleArrayAhoCorasick, CharwiseDoubleArrayAhoCorasickBuilder};

use super::normalize::BARRIER;
use crate::error::Error;
use crate::limits::Interrupt;

/// The comparison work a byte of text may cause, in alignment-table cells
/// (one cell is one character of a term against one of a window; a
/// comparison of a 10-character term costs about 150). Realistic lists use
/// a small part of it: the 100k-term bench list spends 1.8 cells per byte
/// of the Chinese corpus. Work not spent is saved, up to [`CELLS_SAVED`],
/// so a dense stretch of near-misses is still compared in full; a list
/// that asks for more everywhere has the rest of a piece hit's comparisons
/// skipped where the budget runs out (exact matches are never affected).
pub(crate) const CELLS_PER_BYTE: u64 = 256;

/// The most unspent work saved for later bytes.
pub(crate) const CELLS_SAVED: u64 = 1 << 22;

/// Comparison work allowed so far in one run over a text.
struct Budget {
    cells: u64,
    at: usize,
    /// Cells spent so far, for the test of the bound.
    #[cfg(test)]
    spent: u64,
}

impl Budget {
    fn new() -> Budget {
        Budget {
            cells: CELLS_SAVED,
            at: 0,
            #[cfg(test)]
            spent: 0,
        }
    }

    /// Earns the work of the bytes up to `pos`.
    fn advance(&mut self, pos: usize) {
        if pos > self.at {
            let earned = (pos - self.at) as u64 * CELLS_PER_BYTE;
            self.cells = (self.cells + earned).min(CELLS_SAVED);
            self.at = pos;
        }
    }

    /// Spends `cost` cells if there are that many.
    fn spend(&mut self, cost: u64) -> bool {
        if cost > self.cells {
            return false;
        }
        self.cells -= cost;
        #[cfg(test)]
        {
            self.spent += cost;
        }
        true
    }
}

/// One piece of a fuzzy term.
#[derive(Clone, Debug)]
struct Piece {
    pattern: usize,
    /// Offset of the piece in the term, in characters.
    offset: usize,
}

/// The most edits a term's pieces are made for: each set of cuts is a
/// swapped spelling (2^k - 1 of them), so the count stays small.
const MAX_SWAPPED_EDITS: usize = 4;

/// The pieces of a term allowed `k` edits, with their offsets in it (in
/// characters): the term cut into `k + 1`, and for each nonempty set of
/// cuts, the term with the characters on both sides of those cuts swapped,
/// cut the same way but joined across the swapped cuts (the pieces that
/// hold a swap; the others are the term's own).
fn pieces(chars: &[char], k: usize) -> Vec<(usize, String)> {
    let n = chars.len();
    let parts = k + 1;
    let cuts: Vec<usize> = (0..=parts).map(|p| p * n / parts).collect();
    let mut out: Vec<(usize, String)> = cuts
        .windows(2)
        .map(|w| (w[0], chars[w[0]..w[1]].iter().collect()))
        .collect();
    let inner = &cuts[1..parts];
    if k > MAX_SWAPPED_EDITS || inner.iter().any(|&c| c == 0 || c >= n) {
        return out;
    }
    for set in 1u32..(1 << inner.len()) {
        let swapped_at = |c: usize| {
            inner
                .iter()
                .position(|&x| x == c)
                .is_some_and(|i| set & (1 << i) != 0)
        };
        let mut spelling = chars.to_vec();
        for &c in inner.iter().filter(|&&c| swapped_at(c)) {
            spelling.swap(c - 1, c);
        }
        // Runs of pieces joined by swapped cuts; keep those holding one.
        let mut start = 0;
        for &end in &cuts[1..] {
            if end < n && swapped_at(end) {
                continue;
            }
            let joined = cuts.iter().any(|&c| c > start && c < end && swapped_at(c));
            if joined {
                out.push((start, spelling[start..end].iter().collect()));
            }
            start = end;
        }
    }
    out
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

/// A window within `edits` of a term: byte range in the normalized text.
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
            for (offset, text) in pieces(chars, *k) {
                let i = *index.entry(text.clone()).or_insert_with(|| {
                    texts.push(text);
                    owners.push(Vec::new());
                    owners.len() - 1
                });
                owners[i].push(Piece {
                    pattern: *pattern,
                    offset,
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

    /// Heap bytes held by the index.
    pub(crate) fn memory_usage(&self) -> usize {
        self.pieces.heap_bytes()
            + self.owners.capacity() * std::mem::size_of::<Vec<Piece>>()
            + self
                .owners
                .iter()
                .map(|o| o.capacity() * std::mem::size_of::<Piece>())
                .sum::<usize>()
    }

    /// Every window of the normalized `text` within the allowed edits of
    /// a fuzzy term, at most one per (term, piece hit): the closest, then
    /// the longest. Spans are byte offsets into `text`.
    ///
    /// `exact` are the sorted byte spans of the exact matches (a window
    /// holding a piece inside one would overlap it, so it is not compared);
    /// `term` gives a pattern's normalized characters and its allowed
    /// edits. The work is bounded by the budget of the text's bytes.
    ///
    /// The windows are written to `out` (cleared first), which a caller
    /// keeps from scan to scan.
    pub(crate) fn candidates<'a>(
        &self,
        text: &str,
        exact: &[(usize, usize)],
        interrupt: &Interrupt<'_>,
        term: impl Fn(usize) -> (&'a [char], usize),
        out: &mut Vec<Candidate>,
    ) {
        self.candidates_with(text, exact, interrupt, &mut Budget::new(), term, out);
    }

    /// [`FuzzyIndex::candidates`] spending `budget`.
    fn candidates_with<'a>(
        &self,
        text: &str,
        exact: &[(usize, usize)],
        interrupt: &Interrupt<'_>,
        budget: &mut Budget,
        term: impl Fn(usize) -> (&'a [char], usize),
        out: &mut Vec<Candidate>,
    ) {
        out.clear();
        crate::scratch::with(&FUZZY_SCRATCH, |scratch| {
            scratch.tried.clear();
            self.candidates_in(text, exact, interrupt, budget, term, scratch, out);
        });
        out.sort_unstable();
        out.dedup();
    }

    /// [`FuzzyIndex::candidates_with`] in a thread's scratch, unsorted.
    #[allow(clippy::too_many_arguments)]
    fn candidates_in<'a>(
        &self,
        text: &str,
        exact: &[(usize, usize)],
        interrupt: &Interrupt<'_>,
        budget: &mut Budget,
        term: impl Fn(usize) -> (&'a [char], usize),
        scratch: &mut FuzzyScratch,
        out: &mut Vec<Candidate>,
    ) {
        let FuzzyScratch { window, tried } = scratch;
        for m in self.pieces.find_overlapping_iter(text) {
            if interrupt.stop(0) {
                break;
            }
            let i = exact.partition_point(|&(_, e)| e <= m.start());
            if exact.get(i).is_some_and(|&(s, _)| s < m.end()) {
                continue;
            }
            budget.advance(m.end());
            for piece in &self.owners[m.value() as usize] {
                if !budget.spend(1) {
                    break;
                }
                let (want_chars, k) = term(piece.pattern);
                let wide = want_chars.len() + 2 * k;
                if !budget.spend((wide * (want_chars.len() + 1)) as u64) {
                    break;
                }
                // The term would start `piece.offset` characters before the
                // hit, give or take `k`.
                window.fill(text, m.start(), piece.offset + k, wide);
                let base = window.bytes[0];
                // Hits of the pieces of one window come close together: a
                // short memory of recent windows saves comparing them twice.
                if tried
                    .iter()
                    .rev()
                    .take(8)
                    .any(|&t| t == (piece.pattern, base))
                {
                    continue;
                }
                tried.push((piece.pattern, base));
                if !window.within(want_chars, k) {
                    continue;
                }
                let best_cost = (2 * k + 1) * want_chars.len() * (wide + 1);
                if !budget.spend(best_cost as u64) {
                    break;
                }
                out.extend(window.best(want_chars, k, piece.pattern));
            }
        }
    }
}

/// What candidate search reuses from call to call: a window is a term's
/// length and a few characters, so it stays small; the memory of tried
/// windows (one entry per window) is let go after a long text.
#[derive(Default)]
struct FuzzyScratch {
    window: Window,
    tried: Vec<(usize, usize)>,
}

impl crate::scratch::Scratch for FuzzyScratch {
    fn trim(&mut self) {
        if self.tried.capacity() > 1024 {
            self.tried = Vec::new();
        }
    }
}

thread_local! {
    static FUZZY_SCRATCH: std::cell::RefCell<FuzzyScratch> = std::cell::RefCell::default();
}

/// The characters around a piece hit, reused from hit to hit.
#[derive(Default)]
struct Window {
    chars: Vec<char>,
    /// Byte offset of each character, and one past the last.
    bytes: Vec<usize>,
    /// The rows of the alignment table being filled, and the two before
    /// it (a transposition reaches back two).
    row: Vec<usize>,
    prev: Vec<usize>,
    prev2: Vec<usize>,
}

impl Window {
    /// The `back` characters before byte `at` and up to `ahead` more from
    /// there, cut short at a [`BARRIER`] on either side.
    ///
    /// A barrier stands for a run of noise longer than any term may skip,
    /// so no match may cross it; nor may an edit turn it into a term's
    /// character, or a fuzzy match would start or end inside such a run
    /// depending on where the run's length put its barriers.
    fn fill(&mut self, text: &str, at: usize, back: usize, ahead: usize) {
        let (start, behind) = text[..at]
            .char_indices()
            .rev()
            .take(back)
            .take_while(|&(_, c)| c != BARRIER)
            .enumerate()
            .last()
            .map_or((at, 0), |(n, (i, _))| (i, n + 1));
        self.chars.clear();
        self.bytes.clear();
        let window = text[start..]
            .char_indices()
            .take(behind + ahead)
            .take_while(|&(_, c)| c != BARRIER);
        for (i, c) in window {
            self.chars.push(c);
            self.bytes.push(start + i);
        }
        let end = self.bytes.last().map_or(start, |&b| {
            b + self.chars.last().map_or(0, |c| c.len_utf8())
        });
        self.bytes.push(end);
    }

    /// Whether some substring of the window is within `k` edits of `term`
    /// (Sellers' approximate matching: one table, free start and end).
    fn within(&mut self, term: &[char], k: usize) -> bool {
        let w = self.chars.len();
        let (mut over, mut stopped) = (false, false);
        self.osa(term, 0, w, true, |row| {
            // A row's minimum is at least the last row's, or the one
            // before plus one (a transposition): past `k` in two rows in
            // a row, no substring can match.
            let now = row.iter().all(|&d| d > k);
            stopped = over && now;
            over = now;
            !stopped
        });
        !stopped && self.row.iter().any(|&d| d <= k)
    }

    /// The optimal-string-alignment table of `term` against the `len`
    /// window characters from `start`, row by row (row `i` is the first
    /// `i` characters of the term): row 0 is all zeros when a match may
    /// start anywhere (`free_start`), else `0..=len`. `after_row` sees
    /// each row; the last is left in `row`.
    fn osa(
        &mut self,
        term: &[char],
        start: usize,
        len: usize,
        free_start: bool,
        mut after_row: impl FnMut(&[usize]) -> bool,
    ) {
        let Window {
            chars,
            row,
            prev,
            prev2,
            ..
        } = self;
        let window = &chars[start..start + len];
        row.clear();
        if free_start {
            row.resize(len + 1, 0);
        } else {
            row.extend(0..=len);
        }
        prev.clear();
        prev2.clear();
        for (i, &t) in term.iter().enumerate() {
            std::mem::swap(prev2, prev);
            std::mem::swap(prev, row);
            row.clear();
            row.push(i + 1);
            for (j, &c) in window.iter().enumerate() {
                let mut cell = (prev[j] + usize::from(c != t))
                    .min(prev[j + 1] + 1)
                    .min(row[j] + 1);
                if i >= 1 && j >= 1 && c == term[i - 1] && window[j - 1] == t {
                    cell = cell.min(prev2[j - 1] + 1);
                }
                row.push(cell);
            }
            if !after_row(row) {
                return;
            }
        }
    }

    /// The closest, then longest, window substring within `k` edits of the
    /// term, if it is not the term itself. One alignment table per start
    /// gives the distance to every end at once.
    fn best(&mut self, term: &[char], k: usize, pattern: usize) -> Option<Candidate> {
        let n = self.chars.len();
        let len = term.len();
        let mut best: Option<Candidate> = None;
        for start in 0..=(2 * k).min(n) {
            let longest = (len + k).min(n - start);
            self.distances_from(start, longest, term);
            for l in len.saturating_sub(k).max(1)..=longest {
                let d = self.row[l];
                if d == 0 || d > k {
                    continue;
                }
                let (s, e) = (self.bytes[start], self.bytes[start + l]);
                let c = Candidate {
                    start: s,
                    end: e,
                    distance: d as u32,
                    pattern,
                };
                let key = |c: &Candidate| (c.distance, std::cmp::Reverse(c.end - c.start), c.start);
                if best.as_ref().is_none_or(|b| key(&c) < key(b)) {
                    best = Some(c);
                }
            }
        }
        best
    }

    /// Leaves in `row[l]`, for `l` in `0..=longest`, the distance between
    /// `term` and the `l` window characters from `start`.
    fn distances_from(&mut self, start: usize, longest: usize, term: &[char]) {
        self.osa(term, start, longest, false, |_| true);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// `best` with strsim's optimal string alignment on every substring:
    /// the oracle.
    fn best_by_strsim(window: &str, term: &str, k: usize) -> Option<(usize, usize, u32)> {
        let chars: Vec<(usize, char)> = window.char_indices().collect();
        let bytes: Vec<usize> = chars.iter().map(|c| c.0).chain([window.len()]).collect();
        let n = chars.len();
        let len = term.chars().count();
        let mut best: Option<(usize, usize, u32)> = None;
        for start in 0..=(2 * k).min(n) {
            for l in len.saturating_sub(k).max(1)..=len + k {
                if start + l > n {
                    break;
                }
                let (s, e) = (bytes[start], bytes[start + l]);
                let d = strsim::osa_distance(&window[s..e], term);
                if d == 0 || d > k {
                    continue;
                }
                let key = |c: (usize, usize, u32)| (c.2, std::cmp::Reverse(c.1 - c.0), c.0);
                let c = (s, e, d as u32);
                if best.is_none_or(|b| key(c) < key(b)) {
                    best = Some(c);
                }
            }
        }
        best
    }

    proptest! {
        #[test]
        fn alignment_tables_agree_with_strsim(
            window in "[赌博代开ab]{0,16}",
            term in "[赌博代开ab]{1,8}",
            k in 1..3usize,
        ) {
            let mut w = Window::default();
            w.fill(&window, 0, 0, 64);
            let term_chars: Vec<char> = term.chars().collect();
            let got = w.best(&term_chars, k, 0).map(|c| (c.start, c.end, c.distance));
            prop_assert_eq!(got, best_by_strsim(&window, &term, k));
        }
    }

    /// Up to `k` edits of `term`: substitutions, insertions, deletions and
    /// transpositions of neighbours, at positions the strategy picks, no
    /// two on the same characters (as optimal string alignment counts).
    fn edited(term: &[char], edits: &[(u8, usize)]) -> Vec<char> {
        let mut out = term.to_vec();
        // Applied right to left on disjoint positions, so each stays one edit.
        let mut last = usize::MAX;
        let mut positions: Vec<(u8, usize)> = edits
            .iter()
            .map(|&(op, at)| (op, at % term.len()))
            .collect();
        positions.sort_by_key(|p| std::cmp::Reverse(p.1));
        for (op, at) in positions {
            if at + 2 > last {
                continue;
            }
            match op % 4 {
                0 => out[at] = 'x',
                1 => out.insert(at, 'y'),
                2 => {
                    out.remove(at);
                }
                _ if at + 1 < out.len() && at + 1 < last => out.swap(at, at + 1),
                _ => continue,
            }
            last = at;
        }
        out
    }

    proptest! {
        /// Within `k` edits of a term, one of its pieces (plain or swapped)
        /// is in the text intact: candidates cannot miss it.
        #[test]
        fn some_piece_survives_every_k_edits(
            term in proptest::collection::vec(prop_oneof![Just('赌'), Just('博'), Just('代'), Just('开'), Just('发'), Just('票'), Just('a'), Just('b')], 5..14),
            edits in proptest::collection::vec((any::<u8>(), any::<usize>()), 0..3),
        ) {
            let k = if term.len() >= 10 { 2 } else { 1 };
            let edits = &edits[..edits.len().min(k)];
            let text: String = edited(&term, edits).into_iter().collect();
            let pieces = pieces(&term, k);
            prop_assert!(
                pieces.iter().any(|(_, p)| text.contains(p.as_str())),
                "{:?} edited to {:?}: none of {:?}", term, text, pieces
            );
        }

        /// `within` says what the oracle says: some substring of the
        /// window is within `k` edits of the term.
        #[test]
        fn within_agrees_with_strsim(
            window in "[赌博代开ab]{0,12}",
            term in "[赌博代开ab]{1,7}",
            k in 1..3usize,
        ) {
            let mut w = Window::default();
            w.fill(&window, 0, 0, 64);
            let term_chars: Vec<char> = term.chars().collect();
            let chars: Vec<(usize, char)> = window.char_indices().collect();
            let bytes: Vec<usize> = chars.iter().map(|c| c.0).chain([window.len()]).collect();
            let want = (0..bytes.len()).any(|a| (a..bytes.len()).any(|b| {
                strsim::osa_distance(&window[bytes[a]..bytes[b]], &term) <= k
            }));
            prop_assert_eq!(w.within(&term_chars, k), want);
        }
    }

    #[test]
    fn the_budget_bounds_the_work_whatever_the_list() {
        // `a` ... `a` x 64, every term fuzzy: a window of the text is
        // within reach of every term.
        let terms: Vec<(usize, Vec<char>, usize)> = (5..=64)
            .map(|n| (n, vec!['a'; n], if n >= 10 { 2 } else { 1 }))
            .collect();
        let index = FuzzyIndex::build(&terms).unwrap().unwrap();
        let text = format!("b{}b", "a".repeat(20_000));
        let mut budget = Budget::new();
        let interrupt = Interrupt::none();
        let mut candidates = Vec::new();
        let term = |p: usize| {
            let t = &terms[p - 5];
            (&t.1[..], t.2)
        };
        index.candidates_with(&text, &[], &interrupt, &mut budget, term, &mut candidates);
        assert!(!candidates.is_empty());
        let earned = CELLS_SAVED + CELLS_PER_BYTE * text.len() as u64;
        assert!(budget.spent <= earned, "spent {} of {earned}", budget.spent);
        assert!(
            budget.spent > earned / 2,
            "the list asks for more than the budget"
        );
    }
}
