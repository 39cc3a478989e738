//! Reading placeholders as models write them back: `[PHONE_1]`,
//! `［PHONE_1］`, `【phone_1】`, full-width letters and digits.

use std::ops::Range;

use memchr::memchr3_iter;

use crate::redact::fold_full_width;

/// The longest label read (a custom detector's label is at most 64).
const MAX_LABEL: usize = 64;
/// The most digits of a placeholder's number.
const MAX_NUMBER_DIGITS: usize = 9;

/// One placeholder-shaped token in a text.
pub(crate) struct Placeholder {
    /// Its span, brackets included.
    pub(crate) range: Range<usize>,
    /// `PHONE_1`: label upper case, ASCII, no brackets.
    pub(crate) key: String,
}

/// Whether `c` opens a placeholder.
fn is_open(c: char) -> bool {
    matches!(c, '[' | '［' | '【')
}

/// Whether `c` closes one.
pub(crate) fn is_close(c: char) -> bool {
    matches!(c, ']' | '］' | '】')
}

/// Every placeholder-shaped token of `text`, left to right, not
/// overlapping: an opening bracket, a label of letters, digits, `_` or
/// `-`, `_`, a number, a closing bracket.
pub(crate) fn find_all(text: &str) -> impl Iterator<Item = Placeholder> + '_ {
    // `[`, and the lead bytes of `［` (EF BC BB) and `【` (E3 80 90).
    let mut next = 0;
    memchr3_iter(b'[', 0xEF, 0xE3, text.as_bytes()).filter_map(move |i| {
        if i < next || !text.is_char_boundary(i) {
            return None;
        }
        let p = read_at(text, i)?;
        next = p.range.end;
        Some(p)
    })
}

/// The longest placeholder in bytes: an opening bracket, the longest key
/// in full-width characters, a closing bracket.
pub(crate) const MAX_PLACEHOLDER_BYTES: usize = 3 + (MAX_LABEL + 1 + MAX_NUMBER_DIGITS) * 3 + 3;

/// What the text at an opening bracket is.
enum Scan {
    /// A whole placeholder.
    Found(Placeholder),
    /// The start of one, cut by the end of the text.
    Partial,
    /// Not a placeholder.
    Not,
}

/// Reads the text at byte `i` as a placeholder.
fn scan_at(text: &str, i: usize) -> Scan {
    let mut chars = text[i..].char_indices();
    match chars.next() {
        Some((_, open)) if is_open(open) => {}
        _ => return Scan::Not,
    }
    let mut key = String::new();
    for (at, c) in chars {
        if is_close(c) {
            return if well_formed(&key) {
                Scan::Found(Placeholder {
                    range: i..i + at + c.len_utf8(),
                    key,
                })
            } else {
                Scan::Not
            };
        }
        let c = fold_full_width(c);
        let c = if c == '＿' { '_' } else { c };
        if !(c.is_ascii_alphanumeric() || c == '_' || c == '-')
            || key.len() > MAX_LABEL + 1 + MAX_NUMBER_DIGITS
        {
            return Scan::Not;
        }
        key.push(c.to_ascii_uppercase());
    }
    Scan::Partial
}

/// The placeholder that starts at byte `i`, if one does.
pub(crate) fn read_at(text: &str, i: usize) -> Option<Placeholder> {
    match scan_at(text, i) {
        Scan::Found(p) => Some(p),
        Scan::Partial | Scan::Not => None,
    }
}

/// Where a placeholder starts that text still to come may complete
/// (`…请致电[PHO`): the last opening bracket, when all after it may still
/// become a placeholder. No earlier bracket can be one: a key holds no
/// bracket.
pub(crate) fn partial_tail(text: &str) -> Option<usize> {
    let from = crate::offsets::floor_char(text, text.len().saturating_sub(MAX_PLACEHOLDER_BYTES));
    let (i, _) = text[from..]
        .char_indices()
        .rev()
        .find(|&(_, c)| is_open(c))?;
    matches!(scan_at(text, from + i), Scan::Partial).then_some(from + i)
}

/// `LABEL_N`: a label, `_`, a number without leading zero.
fn well_formed(key: &str) -> bool {
    let Some((label, number)) = key.rsplit_once('_') else {
        return false;
    };
    !label.is_empty()
        && label.len() <= MAX_LABEL
        && !number.is_empty()
        && number.len() <= MAX_NUMBER_DIGITS
        && !number.starts_with('0')
        && number.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_models_write() {
        fn keys(t: &str) -> Vec<(String, &str)> {
            find_all(t).map(|p| (p.key, &t[p.range])).collect()
        }
        assert_eq!(
            keys("a[PHONE_1]b［ID_CARD_12］【phone_1】[Phone_1】[ＰＨＯＮＥ＿２]"),
            vec![
                ("PHONE_1".into(), "[PHONE_1]"),
                ("ID_CARD_12".into(), "［ID_CARD_12］"),
                ("PHONE_1".into(), "【phone_1】"),
                ("PHONE_1".into(), "[Phone_1】"),
                ("PHONE_2".into(), "[ＰＨＯＮＥ＿２]"),
            ]
        );
        for not in [
            "[PHONE]",
            "[PHONE_]",
            "[_1]",
            "[PHONE_01]",
            "[PHONE 1]",
            "[PHONE_1",
            "PHONE_1]",
            "[PHONE_1x]",
        ] {
            assert!(keys(not).is_empty(), "{not}");
        }
        // A bracket inside a broken token does not hide the next one.
        assert_eq!(keys("[[PHONE_3]").len(), 1);
    }

    #[test]
    fn partial_tails() {
        for (text, tail) in [
            ("请致电[PHO", Some("[PHO")),
            ("请致电【phone_1", Some("【phone_1")),
            ("请致电[", Some("[")),
            ("请致电[PHONE_1]", None),
            ("请致电[PHONE 1", None),
            ("[PHONE_1][EM", Some("[EM")),
            ("[[PHONE_1", Some("[PHONE_1")),
            ("无括号", None),
        ] {
            assert_eq!(partial_tail(text).map(|i| &text[i..]), tail, "{text}");
        }
    }
}
