//! Token forms: identifiers written as one run of letters, digits and a
//! little punctuation (`91350100M000100Y43`, `A123456(3)`, `10.0.0.1`).
//!
//! The personal-data pass stops at digits and upper-case letters; where a
//! run starts (no letter or digit joins it from before) it reads the run
//! once into a [`Token`], ASCII whatever the width it was typed in, and
//! offers it to the [`TokenRule`] of each enabled kind. A rule says how
//! many characters of the token its form takes; the form counts only when
//! the token does not go on with a letter or digit after it.

use crate::finding::Kind;

/// The most characters of a run a rule can use (an IPv6 address is 45).
pub(crate) const MAX_TOKEN: usize = 48;

/// A run of token characters read from one start, folded to ASCII.
pub(crate) struct Token<'b> {
    /// The text the token was read from.
    pub(crate) bytes: &'b [u8],
    /// Byte offset of the first character.
    pub(crate) start: usize,
    chars: [u8; MAX_TOKEN],
    len: usize,
    /// Byte offset where the characters read end.
    end: usize,
    /// Some character read is wider than one byte (full width, `·`).
    wide: bool,
    /// The run goes on past the characters stored.
    more: bool,
}

/// What a rule read at the start of a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Read {
    /// Characters of the token the form takes.
    pub(crate) chars: usize,
    /// Bytes before the token that belong to the form (a plate's province).
    pub(crate) back: usize,
    /// The finding's category.
    pub(crate) category: &'static str,
}

/// One token form of a kind.
pub(crate) trait TokenRule: Sync + std::fmt::Debug {
    /// The kind a form read by this rule is.
    fn kind(&self) -> Kind;
    /// The form at the start of `t`, if there is one. The caller checks
    /// that the token does not go on after it.
    fn read(&self, t: &Token<'_>) -> Option<Read>;

    /// The lengths at which a token of digits alone can be this form (a
    /// USCC may be 18 digits); none when the form always holds a letter or
    /// a mark. Most runs the pass meets are digits: a run of a length no
    /// enabled rule lists is never read as a token.
    fn digit_lengths(&self) -> &'static [usize] {
        &[]
    }

    /// Whether the form may hold small letters (IPv6's hex digits). Forms
    /// that may not are not tried on a token whose second character is
    /// one (`Apple`, `Beijing`).
    fn small_letters(&self) -> bool {
        false
    }
}

impl Token<'_> {
    /// Whether `rule` can read a form from this token at all, by the
    /// shape the rule declares.
    pub(crate) fn may_hold(&self, rule: &dyn TokenRule) -> bool {
        !self.chars().get(1).is_some_and(u8::is_ascii_lowercase) || rule.small_letters()
    }
}

/// The ASCII a character at `i` stands for in a token, and its width:
/// letters, digits, `.`, `:`, `(`, `)` (full-width letters, digits and
/// parentheses folded), and `·` (as `*`).
#[inline]
pub(crate) fn token_char(bytes: &[u8], i: usize) -> Option<(u8, usize)> {
    match *bytes.get(i)? {
        b if b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'(' | b')') => Some((b, 1)),
        0xEF => match (bytes.get(i + 1)?, bytes.get(i + 2)?) {
            (0xBC, &b @ 0x90..=0x99) => Some((b - 0x90 + b'0', 3)),
            (0xBC, &b @ 0xA1..=0xBA) => Some((b - 0xA1 + b'A', 3)),
            (0xBD, &b @ 0x81..=0x9A) => Some((b - 0x81 + b'a', 3)),
            (0xBC, 0x88) => Some((b'(', 3)),
            (0xBC, 0x89) => Some((b')', 3)),
            _ => None,
        },
        0xC2 if bytes.get(i + 1) == Some(&0xB7) => Some((b'*', 2)),
        _ => None,
    }
}

/// Whether the character ending right before `i` is a letter or a digit,
/// ASCII or full-width: then `i` is inside a run, not at its start.
pub(crate) fn alnum_before(bytes: &[u8], i: usize) -> bool {
    if i >= 1 && bytes[i - 1].is_ascii_alphanumeric() {
        return true;
    }
    i >= 3
        && bytes[i - 3] == 0xEF
        && matches!(
            (bytes[i - 2], bytes[i - 1]),
            (0xBC, 0x90..=0x99) | (0xBC, 0xA1..=0xBA) | (0xBD, 0x81..=0x9A)
        )
}

/// Whether a token may start at `i`: no letter or digit before it, and no
/// `.`/`:`/`-` that joins it to one (`v1.2.3.4`'s `2` starts nothing).
pub(crate) fn starts_token(bytes: &[u8], i: usize) -> bool {
    if alnum_before(bytes, i) {
        return false;
    }
    !(i >= 1
        && matches!(bytes[i - 1], b'.' | b':' | b'-' | b'_' | b'/')
        && alnum_before(bytes, i - 1))
}

impl<'b> Token<'b> {
    /// Reads the run of token characters at `start`.
    pub(crate) fn read(bytes: &'b [u8], start: usize) -> Token<'b> {
        let mut t = Token {
            bytes,
            start,
            chars: [0; MAX_TOKEN],
            len: 0,
            end: start,
            wide: false,
            more: false,
        };
        while let Some((c, w)) = token_char(bytes, t.end) {
            if t.len == MAX_TOKEN {
                t.more = true;
                break;
            }
            t.end += w;
            t.wide |= w > 1;
            t.chars[t.len] = c;
            t.len += 1;
        }
        t
    }

    /// The characters read, folded to ASCII.
    pub(crate) fn chars(&self) -> &[u8] {
        &self.chars[..self.len]
    }

    /// Byte offset just after the first `n` characters.
    pub(crate) fn end_of(&self, n: usize) -> usize {
        debug_assert!(n <= self.len);
        if !self.wide {
            return self.start + n;
        }
        // Rare (full-width forms): walk the characters again rather than
        // keep an offset per character for every token read.
        (0..n).fold(self.start, |i, _| {
            i + token_char(self.bytes, i).map_or(0, |(_, w)| w)
        })
    }

    /// Byte offset where the run ends.
    pub(crate) fn run_end(&self) -> usize {
        self.end
    }

    /// Whether a form at the token's start may still change with more
    /// text: the run reaches the end of the text read so far. A run longer
    /// than [`MAX_TOKEN`] decides every form already (none is that long,
    /// and [`Token::whole`] looks at most two characters past one).
    pub(crate) fn reaches_end(&self) -> bool {
        !self.more && self.run_end() == self.bytes.len()
    }

    /// Whether a form of the first `n` characters is whole: the run does
    /// not go on with a letter or digit, nor with a `.` or `:` and one
    /// (a version `1.2.3.4.5` holds no address).
    pub(crate) fn whole(&self, n: usize) -> bool {
        let c = self.chars();
        match c.get(n) {
            None => !self.more,
            Some(b) if b.is_ascii_alphanumeric() => false,
            Some(b'.' | b':') => !c.get(n + 1).is_some_and(u8::is_ascii_alphanumeric),
            Some(_) => true,
        }
    }
}

/// The value of an upper-case letter or digit in base 36 (`A` is 10).
pub(crate) fn base36(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'A'..=b'Z' => Some(u32::from(c - b'A') + 10),
        _ => None,
    }
}

/// Whether every character is an ASCII digit.
pub(crate) fn all_digits(c: &[u8]) -> bool {
    c.iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_folds_to_ascii() {
        let s = "Ａ１２３（４）·x";
        let t = Token::read(s.as_bytes(), 0);
        assert_eq!(t.chars(), b"A123(4)*x");
        assert_eq!(t.run_end(), s.len());
        assert!(t.reaches_end());
        let long = "A".repeat(MAX_TOKEN + 1);
        let t = Token::read(long.as_bytes(), 0);
        assert!(!t.reaches_end(), "a run too long for any form is decided");
        assert!(!t.whole(MAX_TOKEN));
    }

    #[test]
    fn starts_and_wholes() {
        let b = "v1.2 A1 ，B2".as_bytes();
        assert!(!starts_token(b, 1), "after a letter");
        assert!(!starts_token(b, 3), "joined by a dot");
        assert!(starts_token(b, 5));
        let t = Token::read(b, 5);
        assert!(t.whole(2) && !t.whole(1));
        let t = Token::read(b"1.2.3.4.5", 0);
        assert!(!t.whole(7), "a longer dotted run");
        let t = Token::read(b"1.2.3.4.", 0);
        assert!(t.whole(7), "a sentence's full stop");
    }
}
