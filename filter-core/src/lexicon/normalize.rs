//! Normalization: one function for terms and text alike.
//!
//! Each character of the text is, in this order: dropped if it is invisible
//! (zero-width characters, joiners, variation selectors, combining marks);
//! mapped from its full-width, circled, parenthesized or mathematical styled
//! form to plain ASCII; classified as noise (whitespace, punctuation,
//! symbols, emoji), which the matcher skips between the characters of a
//! term; folded from a Latin, Greek or Cyrillic look-alike to the ASCII
//! letter it imitates (Unicode's confusables); lower-cased; and mapped from
//! traditional to simplified Chinese.
//!
//! The result keeps, for every byte of normalized text, the byte offset in
//! the original text of the character it came from, so findings report
//! exact original spans.

use std::sync::OnceLock;

use super::confusables_table::CONFUSABLES;
use super::t2s_table::T2S;

/// What one original character becomes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Norm {
    /// Invisible: ignored entirely.
    Drop,
    /// Whitespace, punctuation or a symbol: skipped between term characters.
    Noise,
    /// One normalized character.
    One(char),
    /// Several normalized characters (`⑩` is `10`).
    Many(String),
}

fn is_invisible(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
        | 0xFEFF | 0xFFA0 | 0xFDD0..=0xFDEF | 0xFFFE | 0xFFFF | 0x1D173..=0x1D17A | 0xE0000..=0xE0FFF
        // Combining marks: `s\u{301}ex` reads as `sex`.
        | 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

fn is_noise(c: char) -> bool {
    if c.is_ascii() {
        return !c.is_ascii_alphanumeric();
    }
    c.is_whitespace()
        || matches!(c as u32,
            0x00A1..=0x00BF | 0x00D7 | 0x00F7 | 0x2000..=0x206F | 0x2190..=0x245F
            | 0x2500..=0x2775 | 0x2794..=0x2BFF | 0x2E00..=0x2E7F | 0x3000..=0x303F
            | 0x30FB | 0xFE10..=0xFE1F | 0xFE30..=0xFE6F | 0xFF61..=0xFF65 | 0xFFE0..=0xFFEE
            | 0x1F000..=0x1F12F | 0x1F16A..=0x1F16F | 0x1F18A..=0x1F1E5 | 0x1F200..=0x1FAFF)
}

/// Styled letters and digits to ASCII, `None` for everything else.
fn compat(c: char) -> Option<Norm> {
    let u = c as u32;
    let letter = |i: u32| Norm::One(char::from(b'a' + i as u8));
    let digit = |i: u32| Norm::One(char::from(b'0' + i as u8));
    let number = |n: u32| {
        if n < 10 {
            digit(n)
        } else {
            Norm::Many(n.to_string())
        }
    };
    Some(match u {
        0xFF01..=0xFF5E => normalize_char(char::from_u32(u - 0xFEE0)?),
        0x3000 => Norm::Noise,
        0x24B6..=0x24CF => letter(u - 0x24B6),
        0x24D0..=0x24E9 => letter(u - 0x24D0),
        0x249C..=0x24B5 => letter(u - 0x249C),
        0x1F130..=0x1F149 => letter(u - 0x1F130),
        0x1F150..=0x1F169 => letter(u - 0x1F150),
        0x1F170..=0x1F189 => letter(u - 0x1F170),
        0x1F1E6..=0x1F1FF => letter(u - 0x1F1E6),
        0x2460..=0x2473 => number(u - 0x2460 + 1),
        0x2474..=0x2487 => number(u - 0x2474 + 1),
        0x2488..=0x249B => number(u - 0x2488 + 1),
        0x24EA | 0x24FF => digit(0),
        0x24EB..=0x24F4 => number(u - 0x24EB + 11),
        0x24F5..=0x24FE => number(u - 0x24F5 + 1),
        0x2776..=0x277F => number(u - 0x2776 + 1),
        0x2780..=0x2789 => number(u - 0x2780 + 1),
        0x278A..=0x2793 => number(u - 0x278A + 1),
        0x2070 => digit(0),
        0x00B9 => digit(1),
        0x00B2 => digit(2),
        0x00B3 => digit(3),
        0x2074..=0x2079 => digit(u - 0x2070),
        0x2080..=0x2089 => digit(u - 0x2080),
        // Mathematical alphanumeric symbols: 13 styles of A-Z a-z, then
        // Greek, then 5 styles of 0-9.
        0x1D400..=0x1D6A3 => letter((u - 0x1D400) % 52 % 26),
        0x1D7CE..=0x1D7FF => digit((u - 0x1D7CE) % 10),
        // Letterlike symbols used as styled letters.
        0x2102 => letter(2),
        0x210A => letter(6),
        0x210B..=0x210D => letter(7),
        0x2110 | 0x2111 => letter(8),
        0x2112 | 0x2113 => letter(11),
        0x2115 => letter(13),
        0x2119 => letter(15),
        0x211A => letter(16),
        0x211B..=0x211D => letter(17),
        0x2124 | 0x2128 => letter(25),
        0x212C => letter(1),
        0x212D => letter(2),
        0x212F | 0x2130 => letter(4),
        0x2131 => letter(5),
        0x2133 => letter(12),
        0x2134 => letter(14),
        0x2139 => letter(8),
        _ => return None,
    })
}

fn t2s(c: char) -> char {
    match T2S.binary_search_by_key(&c, |&(t, _)| t) {
        Ok(i) => T2S[i].1,
        Err(_) => c,
    }
}

/// Normalizes one character (the slow path, also used to fill the table).
pub(crate) fn normalize_char(c: char) -> Norm {
    if is_invisible(c) {
        return Norm::Drop;
    }
    if let Some(n) = compat(c) {
        return n;
    }
    if is_noise(c) {
        return Norm::Noise;
    }
    // Pinyin's tone marks: `wǎng luò` is `wang luo`, `lǜ` is `lv`.
    if let Some(base) = pinyin_vowel(c) {
        return Norm::One(base);
    }
    // A Latin, Greek or Cyrillic look-alike of an ASCII letter: `viаgra`
    // with a Cyrillic `а` is `viagra` (never CJK: the table holds none).
    if let Ok(i) = CONFUSABLES.binary_search_by_key(&c, |&(l, _)| l) {
        return Norm::One(CONFUSABLES[i].1);
    }
    let mut lower = c.to_lowercase();
    let first = lower.next().unwrap_or(c);
    match lower.next() {
        None => Norm::One(t2s(first)),
        Some(second) => {
            let mut s = String::new();
            s.push(first);
            s.push(second);
            s.extend(lower);
            Norm::Many(s)
        }
    }
}

/// The letter a pinyin vowel with a tone mark (or `ü`) is typed as without
/// it: `ǎ` as `a`, `ü` and `ǜ` as `v` (as pinyin input methods type it).
fn pinyin_vowel(c: char) -> Option<char> {
    // A match, not a search of strings: the BMP table asks this of every
    // character when a process starts.
    Some(match c {
        'ā' | 'á' | 'ǎ' | 'à' | 'Ā' | 'Á' | 'Ǎ' | 'À' => 'a',
        'ē' | 'é' | 'ě' | 'è' | 'Ē' | 'É' | 'Ě' | 'È' => 'e',
        'ī' | 'í' | 'ǐ' | 'ì' | 'Ī' | 'Í' | 'Ǐ' | 'Ì' => 'i',
        'ō' | 'ó' | 'ǒ' | 'ò' | 'Ō' | 'Ó' | 'Ǒ' | 'Ò' => 'o',
        'ū' | 'ú' | 'ǔ' | 'ù' | 'Ū' | 'Ú' | 'Ǔ' | 'Ù' => 'u',
        'ü' | 'ǖ' | 'ǘ' | 'ǚ' | 'ǜ' | 'Ü' | 'Ǖ' | 'Ǘ' | 'Ǚ' | 'Ǜ' => 'v',
        'ń' | 'ň' | 'ǹ' | 'Ń' | 'Ň' | 'Ǹ' => 'n',
        _ => return None,
    })
}

/// Table entries that are not characters: the surrogate code points,
/// which no `char` holds, mark what is not one normalized BMP character.
const NOISE: u16 = 0xD800;
const DROP: u16 = 0xD801;
const SLOW: u16 = 0xD802;

/// The normalization of every BMP character, so that the common case is one
/// table look-up (128 KiB, built on first use in a few milliseconds): the
/// normalized character when it is one BMP character, else a mark.
fn bmp_table() -> &'static [u16] {
    static TABLE: OnceLock<Box<[u16]>> = OnceLock::new();
    TABLE.get_or_init(build_bmp_table)
}

/// The CJK Unified Ideographs block, where most of Chinese text is.
const IDEOGRAPHS: (u32, u32) = (0x4E00, 0x9FFF);

/// Whether `u` is an ideograph that normalizes to itself (all but the
/// traditional forms): a bit set of 2.6 KiB, which stays in the nearest
/// cache, where the table's entries for a text's thousands of different
/// characters would not.
#[inline(always)]
fn unchanged_ideograph(u: u32) -> bool {
    static SET: OnceLock<Box<[u64]>> = OnceLock::new();
    let Some(k) = u.checked_sub(IDEOGRAPHS.0).filter(|_| u <= IDEOGRAPHS.1) else {
        return false;
    };
    let set = SET.get_or_init(|| {
        let table = bmp_table();
        let mut set = vec![0u64; (IDEOGRAPHS.1 - IDEOGRAPHS.0) as usize / 64 + 1];
        for u in IDEOGRAPHS.0..=IDEOGRAPHS.1 {
            if u32::from(table[u as usize]) == u {
                let k = (u - IDEOGRAPHS.0) as usize;
                set[k / 64] |= 1 << (k % 64);
            }
        }
        set.into_boxed_slice()
    });
    set[k as usize / 64] & (1 << (k % 64)) != 0
}

/// Blocks of letters with no case, no compatibility form, no noise and no
/// invisible character: CJK Unified Ideographs and Extension A, Hangul
/// syllables. Their characters normalize to themselves or, through the
/// traditional-to-simplified table, to one character; most of the BMP's
/// assigned characters are here, so the table skips the general rule for
/// them (a fifth of the run time of a `scan` of a short file was building
/// the table character by character). `the_fast_blocks_agree_with_the_rule`
/// checks every one.
const PLAIN_BLOCKS: [(u16, u16); 3] = [(0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3)];

fn build_bmp_table() -> Box<[u16]> {
    let plain = |u: u32| {
        PLAIN_BLOCKS
            .iter()
            .any(|&(lo, hi)| (u32::from(lo)..=u32::from(hi)).contains(&u))
    };
    let mut table: Box<[u16]> = (0..=0xFFFFu32)
        .map(|u| match char::from_u32(u) {
            None => DROP, // surrogates never occur in a str
            Some(_) if plain(u) => u as u16,
            Some(c) => match normalize_char(c) {
                Norm::Drop => DROP,
                Norm::Noise => NOISE,
                Norm::One(n) => u16::try_from(n as u32).unwrap_or(SLOW),
                Norm::Many(_) => SLOW,
            },
        })
        .collect();
    for &(t, s) in T2S {
        let (t, s) = (t as u32, s as u32);
        if plain(t) {
            table[t as usize] = u16::try_from(s).unwrap_or(SLOW);
        }
    }
    table
}

/// Whether a table entry is one normalized character.
#[inline(always)]
fn is_char_entry(v: u16) -> bool {
    !(NOISE..=SLOW).contains(&v)
}

/// Normalizes `c` through the table.
#[inline]
pub(crate) fn classify(c: char) -> Norm {
    let u = c as u32;
    if u < 0x10000 {
        match bmp_table()[u as usize] {
            NOISE => return Norm::Noise,
            DROP => return Norm::Drop,
            SLOW => {}
            v => return Norm::One(char::from_u32(u32::from(v)).expect("the table holds chars")),
        }
    }
    normalize_char(c)
}

/// Normalized text: noise and invisible characters removed, every byte
/// mapped back to the start of its original character.
///
/// The map is kept as spans, not a number per byte: most characters keep
/// their length (unchanged Chinese, lower-case letters, digits, capitals,
/// traditional forms), so a run of them maps byte for byte and is one span;
/// only a character whose normalized form has another length (full width,
/// `⑩`) and the text after dropped noise start new ones. Building the text
/// then writes little more than the text itself.
#[derive(Debug, Default)]
pub(crate) struct NormText {
    pub(crate) text: String,
    /// The sound channel of `text`, for lexicons that match by sound
    /// (`pinyin::sound_text`).
    pub(crate) sound: Vec<u8>,
    spans: Vec<Span>,
    /// The span of the last look-up.
    hint: std::cell::Cell<usize>,
}

/// Where a piece of the normalized text came from: from normalized byte
/// `norm` (up to the next span) bytes map to the original text from byte
/// `orig`, byte for byte, or, when `whole`, all to the one original
/// character at `orig`.
#[derive(Clone, Copy, Debug)]
struct Span {
    norm: u32,
    orig: u32,
    whole: bool,
}

/// Marks, in normalized text, a run of noise longer than any category
/// skips: no term contains it, so no match crosses such a run, and a match
/// never depends on text past it. A noncharacter, which normalization
/// drops from the input, so only these marks carry it.
pub(crate) const BARRIER: char = '\u{FFFF}';

/// The most normalized text (in bytes) a thread keeps between scans: a
/// prompt's scratch is reused, a large request's is given back.
const SCRATCH_KEPT_BYTES: usize = 128 << 10;

/// A large text's copy is given back after its scan: at most
/// [`SCRATCH_KEPT_BYTES`] of text, and its spans, stay.
impl crate::scratch::Scratch for NormText {
    fn trim(&mut self) {
        if self.text.capacity() > SCRATCH_KEPT_BYTES {
            self.text.clear();
            self.spans.clear();
            self.sound = Vec::new();
            self.text.shrink_to(SCRATCH_KEPT_BYTES);
            self.spans.shrink_to(SCRATCH_KEPT_BYTES / 16);
        }
    }
}

thread_local! {
    /// The normalized text of the lexicon pass.
    pub(crate) static NORM_SCRATCH: std::cell::RefCell<NormText> = std::cell::RefCell::default();
}

impl NormText {
    /// Normalizes a term: noise removed.
    pub(crate) fn fill(&mut self, text: &str) {
        self.fill_text(text, None, 0);
    }

    /// Normalizes text to scan. With `barrier = Some(m)`, every (m + 1)-th
    /// noise or invisible character in a row adds a [`BARRIER`]; `run` is
    /// the length of the run of such characters just before `text` (for a
    /// window of a stream). Returns the run length at the end of `text`.
    pub(crate) fn fill_text(
        &mut self,
        text: &str,
        barrier: Option<usize>,
        mut run: usize,
    ) -> usize {
        self.text.clear();
        self.spans.clear();
        self.hint.set(0);
        self.text.reserve(text.len());
        let table = bmp_table();
        let bytes = text.as_bytes();
        // Characters written as they are (small letters, digits, unchanged
        // ideographs) are copied a run at a time, from `verbatim` to `i`.
        let mut verbatim = 0;
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b < 0x80 {
                if b.is_ascii_lowercase() || b.is_ascii_digit() {
                    i += 1;
                    run = 0;
                    continue;
                }
                self.copy(text, verbatim, i);
                if b.is_ascii_uppercase() {
                    self.push_char(char::from(b.to_ascii_lowercase()), i, 1);
                    run = 0;
                } else {
                    run = self.noise(run, barrier, i);
                }
                i += 1;
                verbatim = i;
                continue;
            }
            let (u, width) = decode(bytes, i);
            if unchanged_ideograph(u) {
                // Most of Chinese text: one bit in a small set, not a read
                // of the large table.
                i += 3;
                run = 0;
                continue;
            }
            self.copy(text, verbatim, i);
            let entry = if u < 0x10000 { table[u as usize] } else { SLOW };
            if is_char_entry(entry) {
                let n = char::from_u32(u32::from(entry)).expect("the table holds chars");
                self.push_char(n, i, width);
                run = 0;
            } else if entry != SLOW {
                // NOISE or DROP.
                run = self.noise(run, barrier, i);
            } else {
                let c = char::from_u32(u).expect("valid UTF-8");
                match normalize_char(c) {
                    Norm::Drop | Norm::Noise => run = self.noise(run, barrier, i),
                    Norm::One(n) => {
                        self.push_char(n, i, width);
                        run = 0;
                    }
                    Norm::Many(s) => {
                        self.map(i, s.len(), width);
                        self.text.push_str(&s);
                        run = 0;
                    }
                }
            }
            i += width;
            verbatim = i;
        }
        self.copy(text, verbatim, i);
        run
    }

    /// Appends the original `text[from..to]` as it is.
    #[inline(always)]
    fn copy(&mut self, text: &str, from: usize, to: usize) {
        if from < to {
            self.map(from, to - from, to - from);
            self.text.push_str(&text[from..to]);
        }
    }

    /// Appends `n`, the normal form of the `width`-byte character at
    /// original byte `at`.
    #[inline(always)]
    fn push_char(&mut self, n: char, at: usize, width: usize) {
        self.map(at, n.len_utf8(), width);
        self.text.push(n);
    }

    /// Maps the `len` normalized bytes about to be appended to the
    /// original bytes from `at`, `width` of them: byte for byte when the
    /// lengths agree (continuing the last span when it runs on into them),
    /// else all to the character at `at`.
    #[inline(always)]
    fn map(&mut self, at: usize, len: usize, width: usize) {
        let norm = self.text.len() as u32;
        let at = at as u32;
        let whole = len != width;
        if let Some(last) = self.spans.last() {
            if !whole && !last.whole && at - last.orig == norm - last.norm {
                return;
            }
        }
        self.spans.push(Span {
            norm,
            orig: at,
            whole,
        });
    }

    /// The original byte offset of the character normalized byte `n` came
    /// from; `n` must be inside the text.
    pub(crate) fn orig_of(&self, n: usize) -> usize {
        debug_assert!(n < self.text.len());
        let span = self.spans[self.span_at(n)];
        if span.whole {
            return span.orig as usize;
        }
        // Byte for byte: the characters' starts agree.
        let mut c = n;
        while !self.text.is_char_boundary(c) {
            c -= 1;
        }
        span.orig as usize + (c - span.norm as usize)
    }

    /// The span holding normalized byte `n`. Matches are looked up left
    /// to right, most in the span of the last look-up or the next: those
    /// two are tried before a binary search.
    #[inline]
    fn span_at(&self, n: usize) -> usize {
        let holds = |k: usize| {
            self.spans.get(k).is_some_and(|s| s.norm as usize <= n)
                && self.spans.get(k + 1).is_none_or(|s| s.norm as usize > n)
        };
        let hint = self.hint.get();
        let k = if holds(hint) {
            hint
        } else if holds(hint + 1) {
            hint + 1
        } else {
            self.spans.partition_point(|s| s.norm as usize <= n) - 1
        };
        self.hint.set(k);
        k
    }

    /// The first normalized byte whose original character starts at or
    /// after original byte `rel` (the text's length if none does).
    pub(crate) fn norm_of(&self, rel: usize) -> usize {
        let k = self.spans.partition_point(|s| (s.orig as usize) < rel);
        let next = self
            .spans
            .get(k)
            .map_or(self.text.len(), |s| s.norm as usize);
        let Some(span) = k.checked_sub(1).map(|j| self.spans[j]) else {
            return next;
        };
        if span.whole {
            return next;
        }
        // Inside a byte-for-byte span: the first character starting at
        // or after `rel`, if the span reaches it.
        let mut n = span.norm as usize + (rel - span.orig as usize);
        while n < next && !self.text.is_char_boundary(n) {
            n += 1;
        }
        n.min(next)
    }

    /// One more noise or invisible character at `at`, after a run of
    /// `run`: every (m + 1)-th in a row adds a [`BARRIER`] when `barrier`
    /// is `Some(m)`. Returns the run with it.
    #[inline(always)]
    fn noise(&mut self, run: usize, barrier: Option<usize>, at: usize) -> usize {
        let run = run + 1;
        if let Some(m) = barrier {
            if run.is_multiple_of(m + 1) {
                self.map(at, BARRIER.len_utf8(), 0);
                self.text.push(BARRIER);
            }
        }
        run
    }
}

/// The code point of the non-ASCII character at `i` of valid UTF-8, and
/// its width in bytes.
#[inline(always)]
fn decode(bytes: &[u8], i: usize) -> (u32, usize) {
    let cont = |k: usize| u32::from(bytes[i + k] & 0x3F);
    let b = u32::from(bytes[i]);
    match bytes[i] {
        0xC0..=0xDF => (((b & 0x1F) << 6) | cont(1), 2),
        0xE0..=0xEF => (((b & 0x0F) << 12) | (cont(1) << 6) | cont(2), 3),
        _ => (
            ((b & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3),
            4,
        ),
    }
}

/// The run of noise and invisible characters at the end of `text`, given
/// the run before it (see [`NormText::fill_text`]).
///
/// Read backwards: only the run at the end of `text` is looked at.
pub(crate) fn noise_run_after(text: &str, run: usize) -> usize {
    let mut tail = 0;
    for c in text.chars().rev() {
        if !matches!(classify(c), Norm::Drop | Norm::Noise) {
            return tail;
        }
        tail += 1;
    }
    tail + run
}

/// The normalized form of a term (or any short text).
pub(crate) fn normalize(text: &str) -> String {
    let mut n = NormText::default();
    n.fill(text);
    n.text
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The normalized text and a byte-by-byte offset map, built the plain
    /// way: the reference the spans are held to.
    fn byte_map(text: &str, barrier: Option<usize>) -> (String, Vec<usize>) {
        let (mut out, mut map, mut run) = (String::new(), Vec::new(), 0);
        for (at, c) in text.char_indices() {
            let piece = match classify(c) {
                Norm::Drop | Norm::Noise => {
                    run += 1;
                    match barrier {
                        Some(m) if run % (m + 1) == 0 => BARRIER.to_string(),
                        _ => continue,
                    }
                }
                Norm::One(n) => {
                    run = 0;
                    n.to_string()
                }
                Norm::Many(s) => {
                    run = 0;
                    s.to_string()
                }
            };
            out.push_str(&piece);
            map.extend(std::iter::repeat_n(at, piece.len()));
        }
        (out, map)
    }

    proptest! {
        /// Every normalized byte maps to its original character, and every
        /// original offset to the first normalized byte at or after it, as
        /// a map with one entry per byte says.
        #[test]
        fn spans_map_as_a_byte_map_does(
            text in "[a-zA-Z0-9 代开開Ｂ１⑩ß\u{200b}，*。中文ﬁ]{0,30}|\\PC{0,20}",
            barrier in proptest::option::of(0usize..3),
        ) {
            let mut n = NormText::default();
            n.fill_text(&text, barrier, 0);
            let (want_text, want) = byte_map(&text, barrier);
            prop_assert_eq!(&n.text, &want_text);
            for (k, &o) in want.iter().enumerate() {
                prop_assert_eq!(n.orig_of(k), o, "byte {} of {:?}", k, n.text);
            }
            for rel in 0..=text.len() {
                prop_assert_eq!(n.norm_of(rel), want.partition_point(|&o| o < rel), "offset {}", rel);
            }
        }
    }

    #[test]
    fn forms() {
        let cases = [
            ("ＶＩＡＧＲＡ", "viagra"),
            ("ⓥⓘⓐⓖⓡⓐ", "viagra"),
            ("🅥🅘🅐🅖🅡🅐", "viagra"),
            ("𝐯𝐢𝐚𝐠𝐫𝐚", "viagra"),
            ("𝕧𝕚𝕒𝕘𝕣𝕒", "viagra"),
            ("網絡賭博", "网络赌博"),
            ("代*开*发*票", "代开发票"),
            ("代 开\u{3000}发　票", "代开发票"),
            ("代\u{200b}开\u{200d}发\u{feff}票", "代开发票"),
            ("s\u{301}ex", "sex"),
            ("⑩号", "10号"),
            ("Ｈｅｌｌｏ，Ｗｏｒｌｄ！", "helloworld"),
            ("１３８", "138"),
            ("İ", "i\u{307}"),
        ];
        for (text, want) in cases {
            assert_eq!(normalize(text), want, "{text:?}");
        }
    }

    #[test]
    fn the_confusables_table_is_sorted_ascii_and_never_cjk() {
        for w in CONFUSABLES.windows(2) {
            assert!(w[0].0 < w[1].0, "{:?} before {:?}", w[0], w[1]);
        }
        for &(c, a) in CONFUSABLES {
            assert!(!c.is_ascii() && a.is_ascii_alphanumeric() && !a.is_ascii_uppercase());
            // Before the CJK blocks, or Cyrillic Extended-B after them.
            let u = c as u32;
            assert!(u < 0x2E80 || (0xA640..=0xA69F).contains(&u), "{c:?}");
        }
    }

    /// Look-alike letters spell the Latin word they imitate; Chinese and
    /// ordinary Latin text are unchanged.
    #[test]
    fn look_alike_letters_fold_to_ascii() {
        for (text, want) in [
            ("vi\u{0430}gra", "viagra"),         // Cyrillic а
            ("c\u{043E}caine", "cocaine"),       // Cyrillic о
            ("her\u{03BF}in", "heroin"),         // Greek ο
            ("\u{0421}\u{0410}\u{0422}", "cat"), // Cyrillic capitals
            ("代开发票", "代开发票"),
            ("Viagra", "viagra"),
        ] {
            assert_eq!(normalize(text), want, "{text}");
        }
    }

    #[test]
    fn the_fast_blocks_agree_with_the_rule() {
        let table = build_bmp_table();
        for &(lo, hi) in &PLAIN_BLOCKS {
            for u in u32::from(lo)..=u32::from(hi) {
                let c = char::from_u32(u).expect("a char");
                let want = match normalize_char(c) {
                    Norm::One(n) => u16::try_from(n as u32).unwrap_or(SLOW),
                    other => panic!("{c:?} normalizes to {other:?}"),
                };
                assert_eq!(table[u as usize], want, "{c:?}");
            }
        }
    }

    #[test]
    fn the_t2s_table_is_sorted_without_duplicates() {
        // `t2s` binary-searches it.
        for w in T2S.windows(2) {
            assert!(w[0].0 < w[1].0, "{:?} before {:?}", w[0], w[1]);
        }
        assert!(T2S.iter().all(|(t, s)| t != s));
        assert_eq!(t2s('網'), '网');
        assert_eq!(t2s('网'), '网');
    }

    #[test]
    fn table_agrees_with_the_slow_path() {
        for u in 0..0x11000u32 {
            if let Some(c) = char::from_u32(u) {
                assert_eq!(classify(c), normalize_char(c), "U+{u:04X}");
            }
        }
    }

    #[test]
    fn offsets_point_at_original_characters() {
        let text = "a代*開\u{200b}Ｂ";
        let mut n = NormText::default();
        n.fill(text);
        assert_eq!(n.text, "a代开b");
        let starts: Vec<usize> = n.text.char_indices().map(|(i, _)| n.orig_of(i)).collect();
        let want: Vec<usize> = ["a", "代", "開", "Ｂ"]
            .iter()
            .map(|s| text.find(s).unwrap())
            .collect();
        assert_eq!(starts, want);
    }
}
