//! Converting UTF-8 byte offsets to code-point and UTF-16 offsets.

use std::ops::Range;

/// Converts byte offsets of one text into code-point and UTF-16 offsets.
///
/// Offsets asked for in increasing order cost O(text) in total, because the
/// mapper walks forward from the last offset; an offset before the last one
/// restarts the walk from the beginning of the text.
///
/// ```
/// use filter_core::OffsetMapper;
///
/// let text = "手机😀13800138000";
/// let mut m = OffsetMapper::new(text);
/// let (cp, u16) = m.map(text.find('1').unwrap());
/// assert_eq!((cp, u16), (3, 4));
/// ```
#[derive(Clone, Debug)]
pub struct OffsetMapper<'h> {
    text: &'h str,
    byte: usize,
    chars: usize,
    utf16: usize,
}

impl<'h> OffsetMapper<'h> {
    /// A mapper positioned at the start of `text`.
    pub fn new(text: &'h str) -> OffsetMapper<'h> {
        OffsetMapper {
            text,
            byte: 0,
            chars: 0,
            utf16: 0,
        }
    }

    /// The (code point, UTF-16) offsets of the byte offset `byte`.
    ///
    /// # Panics
    ///
    /// Panics if `byte` is past the end of the text or not on a char boundary.
    pub fn map(&mut self, byte: usize) -> (usize, usize) {
        assert!(
            self.text.is_char_boundary(byte),
            "byte offset {byte} is not a char boundary"
        );
        // Asked for an earlier offset: walk again from the start.
        if let std::cmp::Ordering::Less = byte.cmp(&self.byte) {
            self.byte = 0;
            self.chars = 0;
            self.utf16 = 0;
        }
        let (chars, wide) = count(&self.text.as_bytes()[self.byte..byte]);
        self.chars += chars;
        self.utf16 += chars + wide;
        self.byte = byte;
        (self.chars, self.utf16)
    }

    /// `range` in code points.
    pub fn char_range(&mut self, range: Range<usize>) -> Range<usize> {
        let start = self.map(range.start).0;
        start..self.map(range.end).0
    }

    /// `range` in UTF-16 code units.
    pub fn utf16_range(&mut self, range: Range<usize>) -> Range<usize> {
        let start = self.map(range.start).1;
        start..self.map(range.end).1
    }
}

/// The largest char boundary of `text` at or before `i`.
pub(crate) fn floor_char(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The first char boundary of `text` at or after byte `i` (at most its
/// length).
pub(crate) fn ceil_char(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Counts code points and 4-byte (surrogate pair) code points in whole UTF-8.
fn count(bytes: &[u8]) -> (usize, usize) {
    // A char starts at every byte that is not a continuation byte (10xxxxxx)
    // and needs two UTF-16 units when its lead byte is 0xF0 or above
    // (1111xxxx). Eight bytes at a time: shifting a word left by n brings
    // bit 7 - n of each byte to its bit 7, so one mask tests the top bits
    // of all eight. The flags add up in byte lanes (at most 255 words per
    // round, so no lane overflows) and are summed once a round.
    const HI: u64 = 0x8080_8080_8080_8080;
    const ROUND: usize = 8 * 255;
    let scalar = |bytes: &[u8]| {
        bytes.iter().fold((0, 0), |(c, w), &b| {
            (
                c + usize::from((b as i8) >= -0x40),
                w + usize::from(b >= 0xF0),
            )
        })
    };
    let (mut chars, mut wide) = (0, 0);
    for round in bytes.chunks(ROUND) {
        let (mut lead_lanes, mut wide_lanes) = (0u64, 0u64);
        let mut words = round.chunks_exact(8);
        for w in &mut words {
            let x = u64::from_le_bytes(w.try_into().expect("eight bytes"));
            lead_lanes += (!(x & !(x << 1)) & HI) >> 7;
            wide_lanes += (x & (x << 1) & (x << 2) & (x << 3) & HI) >> 7;
        }
        chars += sum_lanes(lead_lanes);
        wide += sum_lanes(wide_lanes);
        let (c, w) = scalar(words.remainder());
        chars += c;
        wide += w;
    }
    (chars, wide)
}

/// The sum of the eight byte lanes of `x`.
fn sum_lanes(x: u64) -> usize {
    // Pairs of lanes into 16-bit lanes (at most 510 each), then a multiply
    // adds the four into the top 16 bits.
    const EVEN: u64 = 0x00FF_00FF_00FF_00FF;
    let pairs = (x & EVEN) + ((x >> 8) & EVEN);
    (pairs.wrapping_mul(0x0001_0001_0001_0001) >> 48) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_against_std_counts() {
        let text = "a中😀b\u{301}ｘ";
        let mut m = OffsetMapper::new(text);
        for (i, _) in text.char_indices().chain([(text.len(), ' ')]) {
            let want_cp = text[..i].chars().count();
            let want_16 = text[..i].encode_utf16().count();
            assert_eq!(m.map(i), (want_cp, want_16), "at byte {i}");
        }
        // Going backwards restarts the walk.
        assert_eq!(m.map(1), (1, 1));
    }

    proptest::proptest! {
        /// Any text, any offset: the counts of the standard library.
        #[test]
        fn any_text_counts_like_std(text in "(\\PC|[😀中a]){0,3000}", cut in 0usize..=3000) {
            let cut = floor_char(&text, cut.min(text.len()));
            let mut m = OffsetMapper::new(&text);
            let want = (text[..cut].chars().count(), text[..cut].encode_utf16().count());
            proptest::prop_assert_eq!(m.map(cut), want);
        }
    }

    /// Texts longer than one round of byte counters (255 words of 8),
    /// with the counters' remainder, against the standard library.
    #[test]
    fn long_texts_count_like_std() {
        for n in [0, 1, 15, 16, 17, 4079, 4080, 4081, 10_000] {
            let text: String = "a中😀ｘ\u{301}".chars().cycle().take(n).collect();
            let mut m = OffsetMapper::new(&text);
            let want = (text.chars().count(), text.encode_utf16().count());
            assert_eq!(m.map(text.len()), want, "{n} chars");
        }
    }

    #[test]
    fn floor_char_rounds_down_to_a_boundary() {
        let text = "a中😀";
        assert_eq!(floor_char(text, 0), 0);
        assert_eq!(floor_char(text, 1), 1);
        assert_eq!(floor_char(text, 2), 1);
        assert_eq!(floor_char(text, 3), 1);
        assert_eq!(floor_char(text, 4), 4);
        assert_eq!(floor_char(text, 7), 4);
        assert_eq!(floor_char(text, 8), 8);
    }
}
