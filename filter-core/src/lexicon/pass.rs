//! The matching passes: exact words, fuzzy windows and the checks every
//! match passes (categories, word boundaries, noise, the allow list), run
//! from a cursor over a whole text or over the successive windows of a
//! stream.

use std::collections::BTreeSet;
use std::ops::Range;

use super::fuzzy::{Candidate, FuzzyIndex};
use super::normalize::{classify, noise_run_after, Norm, NormText, NORM_SCRATCH};
use super::{Lexicon, SoundIndex, NO_TERM};
use crate::finding::{Finding, MatchType};
use crate::limits::Interrupt;
use crate::offsets::{ceil_char, floor_char};

/// The text a whole-text scan normalizes at a time: its scratch (the
/// normalized copy and its offset map, about five bytes per byte) stays
/// within what a thread keeps between scans, however long the text.
pub(crate) const WINDOW_BYTES: usize = 64 << 10;

/// A match in normalized bytes: (start, end, pattern index).
type Hit = (usize, usize, usize);

/// The occurrences the sound automaton found in a window, split into the
/// exact matches and the same-sound matches, each sorted by start and,
/// at one start, longest first: the leftmost-longest match from any byte
/// is then the first from there, as an automaton would report it.
#[derive(Debug, Default)]
struct SoundHits {
    exact: Vec<Hit>,
    homophone: Vec<Hit>,
}

impl crate::scratch::Scratch for SoundHits {
    fn trim(&mut self) {
        const KEPT: usize = 4 << 10;
        if self.exact.capacity() > KEPT || self.homophone.capacity() > KEPT {
            *self = SoundHits::default();
        }
    }
}

thread_local! {
    static SOUND_HITS: std::cell::RefCell<SoundHits> = std::cell::RefCell::default();
}

impl SoundHits {
    /// The occurrences in `norm` (its sound channel filled) that start at
    /// or after normalized byte `from`.
    fn collect(&mut self, lexicon: &Lexicon, sounds: &SoundIndex, norm: &NormText, from: usize) {
        self.exact.clear();
        self.homophone.clear();
        let sound = super::pinyin::sound_str(&norm.sound);
        sounds
            .matcher
            .for_each_overlapping(sound, from, |s, e, sp| {
                let spelling = sounds.spellings[sp];
                let (a, b) = spelling.exact;
                let text = &norm.text[s..e];
                if let Some(&pid) = sounds.exact_pids[a as usize..b as usize]
                    .iter()
                    .find(|&&pid| *lexicon.spellings[pid as usize].norm == *text)
                {
                    self.exact.push((s, e, pid as usize));
                }
                if spelling.homophone != NO_TERM {
                    self.homophone.push((s, e, spelling.homophone as usize));
                }
            });
        let order = |&(s, e, _): &Hit| (s, std::cmp::Reverse(e));
        self.exact.sort_unstable_by_key(order);
        self.homophone.sort_unstable_by_key(order);
    }
}

/// The leftmost-longest match of `hits` (sorted as [`SoundHits`] keeps
/// them) starting at or after `pos`.
fn first_from(hits: &[Hit], pos: usize) -> Option<Hit> {
    hits.get(hits.partition_point(|&(s, _, _)| s < pos))
        .copied()
}

/// Where the matcher is in a text that may still grow, in absolute byte
/// offsets. A whole text is one run from the default cursor; a stream runs
/// the same code over successive windows.
#[derive(Clone, Debug, Default)]
pub(crate) struct LexCursor {
    /// The exact search resumes at the normalized form of this character...
    next: usize,
    /// ...this many bytes into it (`⑩` is two normalized bytes).
    next_extra: usize,
    /// Where the sound pass resumes, the same way.
    sound_next: usize,
    sound_extra: usize,
    /// Exact matches a fuzzy window not yet decided may overlap.
    exact: Vec<(usize, usize)>,
    /// Fuzzy windows starting before this are decided.
    fuzzy_done: usize,
    /// The end of the last fuzzy match taken.
    last_fuzzy_end: usize,
    /// Scratch of the fuzzy pass, kept with the cursor so that a stream
    /// (and a thread's whole-text scans) allocates it once: the exact
    /// matches in the window's normalized bytes, and the candidates.
    window_exact: Vec<(usize, usize)>,
    candidates: Vec<Candidate>,
}

/// The cursor of a thread's whole-text scans, its vectors reused.
impl crate::scratch::Scratch for LexCursor {
    fn trim(&mut self) {
        const KEPT: usize = 1 << 10;
        let big = self.exact.capacity().max(self.window_exact.capacity()) > KEPT
            || self.candidates.capacity() > KEPT;
        if big {
            *self = LexCursor::default();
        }
    }
}

thread_local! {
    static CURSOR_SCRATCH: std::cell::RefCell<LexCursor> = std::cell::RefCell::default();
}

impl LexCursor {
    /// The cursor at the start of a text, its vectors' memory kept.
    fn reset(&mut self) {
        self.exact.clear();
        self.window_exact.clear();
        self.candidates.clear();
        *self = LexCursor {
            exact: std::mem::take(&mut self.exact),
            window_exact: std::mem::take(&mut self.window_exact),
            candidates: std::mem::take(&mut self.candidates),
            ..LexCursor::default()
        };
    }

    /// Whether absolute `start..end` overlaps an exact match.
    fn overlaps_exact(&self, start: usize, end: usize) -> bool {
        // Exact spans are disjoint and in order.
        let i = self.exact.partition_point(|&(_, e)| e <= start);
        self.exact.get(i).is_some_and(|&(s, _)| s < end)
    }

    /// Fuzzy windows starting before `done` are decided: forget the exact
    /// matches no undecided window can overlap. Returns the frontier.
    fn settle_fuzzy(&mut self, done: usize) -> usize {
        self.fuzzy_done = self.fuzzy_done.max(done);
        let keep_from = self.fuzzy_done.min(self.last_fuzzy_end);
        self.exact.retain(|&(_, e)| e > keep_from);
        self.fuzzy_done
    }
}

/// One run of the passes over a text (a whole text, or a stream's
/// window): the original text, its normalized form, and what the run may
/// decide.
struct Window<'h, 'a> {
    text: &'h str,
    norm: &'a NormText,
    /// The absolute offset of `text`.
    origin: usize,
    /// No more text will come: decide everything.
    finished: bool,
    categories: Option<&'a BTreeSet<String>>,
    interrupt: &'a Interrupt<'a>,
}

impl Window<'_, '_> {
    /// The absolute offset of the original character of normalized byte `n`.
    fn abs_of(&self, n: usize) -> usize {
        self.origin
            + if n < self.norm.text.len() {
                self.norm.orig_of(n)
            } else {
                self.text.len()
            }
    }

    /// The first normalized byte at or after absolute offset `abs`.
    fn to_norm(&self, abs: usize) -> usize {
        let rel = abs.saturating_sub(self.origin);
        self.norm.norm_of(rel)
    }

    /// The normalized byte a pass resumes at: the normalized form of the
    /// character at absolute `next`, `extra` bytes into it.
    fn resume(&self, next: usize, extra: usize) -> usize {
        (self.to_norm(next) + extra).min(self.norm.text.len())
    }

    /// Where a pass that reached normalized byte `pos` resumes, as
    /// [`Window::resume`] takes it.
    fn stopped_at(&self, pos: usize) -> (usize, usize) {
        let next = self.abs_of(pos);
        (next, pos - self.to_norm(next))
    }

    /// The first char boundary of the normalized text at or after `n`.
    fn ceil_char(&self, mut n: usize) -> usize {
        while n < self.norm.text.len() && !self.norm.text.is_char_boundary(n) {
            n += 1;
        }
        n
    }
}

impl Lexicon {
    /// Appends the words of the wanted categories (all when `None`) to `out`.
    pub(crate) fn find_into<'h>(
        &self,
        text: &'h str,
        categories: Option<&BTreeSet<String>>,
        interrupt: &Interrupt<'_>,
        out: &mut Vec<Finding<'h>>,
    ) {
        let least = WINDOW_BYTES.max(2 * self.hold_back_bytes());
        self.find_in_windows(text, categories, interrupt, least, out);
    }

    /// [`Lexicon::find_into`] over windows of `least` bytes or more past
    /// the context each needs, each resumed from the cursor the last left:
    /// the same words as one pass over the whole text, in bounded scratch.
    pub(crate) fn find_in_windows<'h>(
        &self,
        text: &'h str,
        categories: Option<&BTreeSet<String>>,
        interrupt: &Interrupt<'_>,
        least: usize,
        out: &mut Vec<Finding<'h>>,
    ) {
        crate::scratch::with(&CURSOR_SCRATCH, |cursor| {
            cursor.reset();
            self.find_from_cursor(cursor, text, categories, interrupt, least, out);
        });
    }

    /// [`Lexicon::find_in_windows`] from `cursor`, at the start of `text`.
    fn find_from_cursor<'h>(
        &self,
        cursor: &mut LexCursor,
        text: &'h str,
        categories: Option<&BTreeSet<String>>,
        interrupt: &Interrupt<'_>,
        least: usize,
        out: &mut Vec<Finding<'h>>,
    ) {
        let first = out.len();
        let context = self.context_bytes();
        let (mut start, mut end, mut run_before, mut size) = (0usize, 0usize, 0, least);
        loop {
            // Each window reaches past the last (the cursor may be anywhere
            // in the last), by at least `size`; a window that decides
            // nothing is followed by one twice as long.
            let want = start.saturating_add(context + size).max(end + 1);
            end = ceil_char(text, want.min(text.len()));
            let finished = end == text.len();
            let before = out.len();
            let frontier = self.advance(
                cursor,
                &text[start..end],
                start,
                run_before,
                finished,
                categories,
                interrupt,
                out,
            );
            for f in &mut out[before..] {
                f.rebase(text, start);
            }
            if finished || interrupt.stop(out.len()) {
                break;
            }
            let next = floor_char(text, frontier.saturating_sub(context)).max(start);
            if next == start {
                size = size.saturating_mul(2);
                continue;
            }
            run_before = noise_run_after(&text[start..next], run_before);
            (start, size) = (next, least);
        }
        // Words never overlap: their starts are distinct, and an unstable
        // sort (which needs no buffer) gives the one order.
        out[first..].sort_unstable_by_key(|f| f.start());
    }

    /// The words of `text` in one pass over all of it: the reference the
    /// windowed pass is held to.
    #[cfg(test)]
    pub(crate) fn find_in_one_pass<'h>(&self, text: &'h str) -> Vec<Finding<'h>> {
        let mut out = Vec::new();
        let mut cursor = LexCursor::default();
        let none = Interrupt::none();
        self.advance(&mut cursor, text, 0, 0, true, None, &none, &mut out);
        out.sort_by_key(|f| f.start());
        out
    }

    /// Calls `on_word` with the original span and the category of each
    /// word of a short whole text (a context window), left to right, with
    /// `norm` as scratch so that a caller judging many windows allocates
    /// once. Exact and normalized matches only: fuzzy matching is skipped,
    /// and no finding is made.
    pub(crate) fn for_each_exact_in(
        &self,
        text: &str,
        norm: &mut NormText,
        on_word: impl FnMut(Range<usize>, &str),
    ) {
        if self.patterns.is_empty() {
            return;
        }
        norm.fill_text(text, Some(self.max_noise()), 0);
        if let Some(sounds) = &self.sounds {
            super::pinyin::sound_text(&norm.text, &mut norm.sound);
            crate::scratch::with(&SOUND_HITS, |hits| {
                hits.collect(self, sounds, norm, 0);
                self.each_exact_in(text, norm, |pos| first_from(&hits.exact, pos), on_word);
            });
        } else {
            let matcher = &self.matcher;
            self.each_exact_in(
                text,
                norm,
                |pos| matcher.find_from(&norm.text, pos),
                on_word,
            );
        }
    }

    /// [`Lexicon::for_each_exact_in`] once `norm` holds the normalized
    /// text, with `find` its leftmost-longest match from a byte.
    fn each_exact_in(
        &self,
        text: &str,
        norm: &NormText,
        find: impl Fn(usize) -> Option<Hit>,
        mut on_word: impl FnMut(Range<usize>, &str),
    ) {
        let w = Window {
            text,
            norm,
            origin: 0,
            finished: true,
            categories: None,
            interrupt: &Interrupt::none(),
        };
        let mut pos = 0;
        while let Some((s, e, pid)) = find(pos) {
            match self.check(&w, s, e, pid) {
                Some(range) => {
                    let category = &self.categories[self.patterns[pid].category as usize].0;
                    on_word(range, category);
                    pos = e;
                }
                None => pos = s + norm.text[s..].chars().next().map_or(1, char::len_utf8),
            }
        }
    }

    /// Runs the matcher over `text`, which starts at absolute offset
    /// `origin`, from where `cursor` is; pushes words (offsets relative to
    /// `text`, unsorted between exact and fuzzy) and returns the frontier:
    /// an absolute offset before which no word is still to come. Unless
    /// `finished`, nothing that text still to come could change is decided.
    ///
    /// `run_before` is the run of noise and invisible characters just
    /// before `text`. `text` must start at least [`Lexicon::context_bytes`]
    /// before the cursor (or at the beginning of the stream) and reach at
    /// least as far as the text of the call before (the cursor may be
    /// anywhere in that). When `interrupt` says stop, the passes stop where
    /// they are.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn advance<'h>(
        &self,
        cursor: &mut LexCursor,
        text: &'h str,
        origin: usize,
        run_before: usize,
        finished: bool,
        categories: Option<&BTreeSet<String>>,
        interrupt: &Interrupt<'_>,
        out: &mut Vec<Finding<'h>>,
    ) -> usize {
        if self.patterns.is_empty() {
            cursor.next = origin + text.len();
            return cursor.next;
        }
        crate::scratch::with(&NORM_SCRATCH, |norm| {
            norm.fill_text(text, Some(self.max_noise()), run_before);
            if self.sounds.is_some() {
                super::pinyin::sound_text(&norm.text, &mut norm.sound);
            }
            let window = Window {
                text,
                norm,
                origin,
                finished,
                categories,
                interrupt,
            };
            let (decided, frontier) = match &self.sounds {
                Some(sounds) => crate::scratch::with(&SOUND_HITS, |hits| {
                    let from = window
                        .resume(cursor.next, cursor.next_extra)
                        .min(window.resume(cursor.sound_next, cursor.sound_extra));
                    hits.collect(self, sounds, window.norm, from);
                    let exact =
                        self.exact_pass(cursor, &window, |p| first_from(&hits.exact, p), out);
                    let sound = self.sound_pass(cursor, &window, exact, &hits.homophone, out);
                    (exact.min(sound), cursor.next.min(cursor.sound_next))
                }),
                None => {
                    let (matcher, hay) = (&self.matcher, &window.norm.text);
                    let exact =
                        self.exact_pass(cursor, &window, |p| matcher.find_from(hay, p), out);
                    (exact, cursor.next)
                }
            };
            match &self.fuzzy {
                Some(fuzzy) => frontier.min(self.fuzzy_pass(fuzzy, cursor, &window, decided, out)),
                None => frontier,
            }
        })
    }

    /// The leftmost-longest loop over the normalized text (`find` gives
    /// the leftmost-longest match from a byte), resumed where it stopped;
    /// returns the normalized byte it reached.
    fn exact_pass<'h>(
        &self,
        cursor: &mut LexCursor,
        w: &Window<'h, '_>,
        find: impl Fn(usize) -> Option<Hit>,
        out: &mut Vec<Finding<'h>>,
    ) -> usize {
        let from = w.resume(cursor.next, cursor.next_extra);
        let pos = self.leftmost(w, from, usize::MAX, out, find, |out, s, e, pid| {
            let Some(f) = self.accept(w, s, e, pid, 0) else {
                return false;
            };
            out.push(f);
            cursor.exact.push((w.abs_of(s), w.abs_of(e - 1) + 1));
            true
        });
        (cursor.next, cursor.next_extra) = w.stopped_at(pos);
        pos
    }

    /// The leftmost-longest loop over the same-sound matches (terms written
    /// with other characters of the same sound), resumed where it stopped.
    /// A match is taken when no exact match overlaps it, so it waits until
    /// the exact pass has passed its end (`exact_pos`). Returns the
    /// normalized byte it reached.
    fn sound_pass<'h>(
        &self,
        cursor: &mut LexCursor,
        w: &Window<'h, '_>,
        exact_pos: usize,
        hits: &[Hit],
        out: &mut Vec<Finding<'h>>,
    ) -> usize {
        let from = w.resume(cursor.sound_next, cursor.sound_extra);
        let find = |p| first_from(hits, p);
        let pos = self.leftmost(w, from, exact_pos, out, find, |out, s, e, pid| {
            let (start, end) = (w.abs_of(s), w.abs_of(e - 1) + 1);
            if cursor.overlaps_exact(start, end) {
                return false;
            }
            let Some(f) = self.accept_as(w, s, e, pid, MatchType::Homophone) else {
                return false;
            };
            out.push(f);
            let i = cursor.exact.partition_point(|&(x, _)| x < start);
            cursor.exact.insert(i, (start, end));
            true
        });
        (cursor.sound_next, cursor.sound_extra) = w.stopped_at(pos);
        pos
    }

    /// The resumable leftmost-longest loop of the exact and sound passes
    /// over the normalized text from byte `pos`, `find` giving the
    /// leftmost-longest match from a byte. Each match that starts before
    /// the horizon and ends by `settled` (where every match another pass
    /// decides first is known; the whole text when finished) is offered to
    /// `take`: taken, the search goes on after it; rejected, it does not
    /// shadow the text after its start. The loop stops at the first match
    /// not decidable yet; returns the byte it reached.
    fn leftmost<'h>(
        &self,
        w: &Window<'h, '_>,
        mut pos: usize,
        settled: usize,
        out: &mut Vec<Finding<'h>>,
        find: impl Fn(usize) -> Option<Hit>,
        mut take: impl FnMut(&mut Vec<Finding<'h>>, usize, usize, usize) -> bool,
    ) -> usize {
        let hay = &w.norm.text;
        let nlen = hay.len();
        let horizon = if w.finished {
            usize::MAX
        } else {
            nlen.saturating_sub(self.lookahead())
        };
        while !w.interrupt.stop(out.len()) {
            match find(pos) {
                Some((s, e, p)) if s < horizon && (w.finished || e <= settled) => {
                    pos = if take(out, s, e, p) {
                        e
                    } else {
                        s + hay[s..].chars().next().map_or(1, char::len_utf8)
                    };
                }
                Some((s, _, _)) => {
                    // Not decidable yet; nothing starts before it.
                    pos = pos.max(w.ceil_char(s.min(horizon)));
                    break;
                }
                None if w.finished => {
                    pos = nlen;
                    break;
                }
                None => {
                    pos = pos.max(w.ceil_char(horizon.min(settled)));
                    break;
                }
            }
        }
        pos
    }

    /// Fuzzy windows are decided left to right: a window is taken when it
    /// overlaps no exact match and no window taken before it. Returns the
    /// frontier of fuzzy matching.
    fn fuzzy_pass<'h>(
        &self,
        fuzzy: &FuzzyIndex,
        cursor: &mut LexCursor,
        w: &Window<'h, '_>,
        exact_pos: usize,
        out: &mut Vec<Finding<'h>>,
    ) -> usize {
        let mut window_exact = std::mem::take(&mut cursor.window_exact);
        let mut candidates = std::mem::take(&mut cursor.candidates);
        window_exact.clear();
        window_exact.extend(
            cursor
                .exact
                .iter()
                .filter(|&&(_, e)| e > w.origin)
                .map(|&(s, e)| (w.to_norm(s), w.to_norm(e))),
        );
        let term = |p: usize| {
            let p = &self.spellings[p];
            (&*p.chars, p.edits)
        };
        fuzzy.candidates(
            &w.norm.text,
            &window_exact,
            w.interrupt,
            term,
            &mut candidates,
        );
        candidates
            .sort_unstable_by_key(|c| (c.start, c.distance, std::cmp::Reverse(c.end), c.pattern));
        let limit = if w.finished {
            usize::MAX
        } else {
            w.norm.text.len().saturating_sub(self.fuzzy_lookahead())
        };
        let mut blocked = None;
        for &c in &candidates {
            if w.interrupt.stop(out.len()) {
                break;
            }
            let abs_start = w.abs_of(c.start);
            if abs_start < cursor.fuzzy_done {
                continue;
            }
            if !w.finished && (c.start >= limit || c.end > exact_pos) {
                blocked = Some(abs_start);
                break;
            }
            if abs_start < cursor.last_fuzzy_end
                || cursor.overlaps_exact(abs_start, w.abs_of(c.end - 1) + 1)
            {
                continue;
            }
            if let Some(f) = self.accept(w, c.start, c.end, c.pattern, c.distance) {
                cursor.last_fuzzy_end = w.origin + f.end();
                out.push(f);
            }
        }
        // Windows that text still to come completes may change their best
        // match and start earlier than any window seen so far: only what
        // starts before `limit` is settled.
        let done = match blocked {
            Some(b) => b.min(w.abs_of(limit)),
            None if w.finished => w.origin + w.text.len(),
            None => w.abs_of(limit.min(exact_pos)),
        };
        (cursor.window_exact, cursor.candidates) = (window_exact, candidates);
        cursor.settle_fuzzy(done)
    }

    /// Checks a match of pattern `pid` at normalized bytes `s..e` against
    /// the category filter, ASCII word boundaries, the noise limit and the
    /// allow list; its span in the original text if it passes.
    fn check(&self, w: &Window<'_, '_>, s: usize, e: usize, pid: usize) -> Option<Range<usize>> {
        let (text, norm) = (w.text, &w.norm);
        let p = &self.patterns[pid];
        let (category, options) = &self.categories[p.category as usize];
        if w.categories.is_some_and(|c| !c.contains(&**category)) {
            return None;
        }
        let start = norm.orig_of(s);
        let last = norm.orig_of(e - 1);
        let end = last + text[last..].chars().next().map_or(0, char::len_utf8);
        if p.ascii_start && !boundary_before(text, norm, s, start) {
            return None;
        }
        if p.ascii_end && !boundary_after(text, norm, e, end) {
            return None;
        }
        if longest_noise_run(&text[start..end]) > options.max_noise {
            return None;
        }
        if self.inside_allowed(&norm.text, s, e) {
            return None;
        }
        Some(start..end)
    }

    /// [`Lexicon::check`], and the finding of a match found in the sound
    /// channel (or another way that names its own match type).
    fn accept_as<'h>(
        &self,
        w: &Window<'h, '_>,
        s: usize,
        e: usize,
        pid: usize,
        match_type: MatchType,
    ) -> Option<Finding<'h>> {
        let range = self.check(w, s, e, pid)?;
        let info = self.patterns[pid].info.clone();
        Some(Finding::word(w.text, range, info, match_type, 0))
    }

    /// [`Lexicon::check`], and the finding of a match that passes.
    fn accept<'h>(
        &self,
        w: &Window<'h, '_>,
        s: usize,
        e: usize,
        pid: usize,
        distance: u32,
    ) -> Option<Finding<'h>> {
        let Range { start, end } = self.check(w, s, e, pid)?;
        let (text, norm) = (w.text, &w.norm);
        let p = &self.patterns[pid];
        let original = &text[start..end];
        let match_type = if distance > 0 {
            MatchType::Fuzzy
        } else if p.pinyin {
            MatchType::Pinyin
        } else if p.term_is_normal {
            // The automaton matched the term's normal form: the text is
            // the term exactly when normalization left it unchanged.
            if original == &norm.text[s..e] {
                MatchType::Exact
            } else {
                MatchType::Normalized
            }
        } else if original == &*p.info.term {
            MatchType::Exact
        } else {
            MatchType::Normalized
        };
        Some(Finding::word(
            text,
            start..end,
            p.info.clone(),
            match_type,
            distance,
        ))
    }

    /// Whether normalized bytes `s..e` lie inside an allowed term.
    fn inside_allowed(&self, norm: &str, s: usize, e: usize) -> bool {
        let Some(allow) = &self.allow else {
            return false;
        };
        let mut from = s.saturating_sub(self.allow_max_bytes);
        while !norm.is_char_boundary(from) {
            from += 1;
        }
        let mut to = (e + self.allow_max_bytes).min(norm.len());
        while !norm.is_char_boundary(to) {
            to -= 1;
        }
        allow
            .find_overlapping_iter(&norm[from..to])
            .any(|m| from + m.start() <= s && e <= from + m.end())
    }
}

/// Whether an ASCII word boundary is before the match starting at
/// normalized byte `s` (original byte `start`): the previous normalized
/// character is not an ASCII letter or digit, or noise separates them.
fn boundary_before(text: &str, norm: &NormText, s: usize, start: usize) -> bool {
    let Some(prev) = norm.text[..s].chars().next_back() else {
        return true;
    };
    if !prev.is_ascii_alphanumeric() {
        return true;
    }
    let prev_start = norm.orig_of(s - 1);
    if prev_start >= start {
        return false; // the same original character (`⑩` as `10`)
    }
    let prev_end = prev_start + text[prev_start..].chars().next().map_or(0, char::len_utf8);
    has_noise(&text[prev_end.min(start)..start])
}

/// Whether an ASCII word boundary is after the match ending at normalized
/// byte `e` (original byte `end`).
fn boundary_after(text: &str, norm: &NormText, e: usize, end: usize) -> bool {
    let Some(next) = norm.text[e..].chars().next() else {
        return true;
    };
    if !next.is_ascii_alphanumeric() {
        return true;
    }
    let next_start = norm.orig_of(e);
    if next_start < end {
        return false;
    }
    has_noise(&text[end..next_start])
}

fn has_noise(s: &str) -> bool {
    s.chars().any(|c| classify(c) == Norm::Noise)
}

/// The longest run of noise and invisible characters in `s`.
fn longest_noise_run(s: &str) -> usize {
    let (mut run, mut longest) = (0, 0);
    for c in s.chars() {
        match classify(c) {
            Norm::Noise | Norm::Drop => {
                run += 1;
                longest = longest.max(run);
            }
            _ => run = 0,
        }
    }
    longest
}
