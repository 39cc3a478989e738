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

/// Counts code points and 4-byte (surrogate pair) code points in whole UTF-8.
fn count(bytes: &[u8]) -> (usize, usize) {
    // Branch-free counts so the loops vectorize: a char starts at every byte
    // that is not a continuation byte, and needs two UTF-16 units when its
    // lead byte is 0xF0 or above.
    let chars = bytes.iter().filter(|&&b| (b as i8) >= -0x40).count();
    let wide = bytes.iter().filter(|&&b| b >= 0xF0).count();
    (chars, wide)
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
