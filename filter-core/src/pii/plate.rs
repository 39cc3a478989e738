//! Mainland licence plates (GA 36-2018): a province character, the letter
//! of the issuing city, an optional `·`, then five characters (letters
//! without I and O, and digits), or six for new-energy vehicles (`D` or
//! `F` first for small cars, last for large ones).

use super::token::{Read, Token, TokenRule};
use crate::finding::Kind;
use crate::kind::{Canonical, ContextDefaults, KindSpec, Redaction};

pub(crate) const SPEC: KindSpec = KindSpec {
    name: "license_plate",
    label: "LICENSE_PLATE",
    summary: "mainland licence plate (province, city letter, 5 or 6 characters)",
    canonical: Canonical::Alphanumeric,
    redaction: Redaction::Label,
    context: ContextDefaults {
        base: 0.5,
        raise: &["车牌", "车牌号", "牌照", "号牌", "plate", "车辆"],
        lower: &["型号", "编号", "model"],
        bases: &[],
    },
    tokens: &[&PlateRule],
};

/// The one-character abbreviations of the 31 provincial divisions.
const PROVINCES: [char; 31] = [
    '京', '津', '沪', '渝', '冀', '豫', '云', '辽', '黑', '湘', '皖', '鲁', '新', '苏', '浙', '赣',
    '鄂', '桂', '甘', '晋', '蒙', '陕', '吉', '闽', '贵', '粤', '青', '藏', '川', '宁', '琼',
];

/// The province character ending right before `i`, as its byte length.
pub(crate) fn province_before(bytes: &[u8], i: usize) -> Option<usize> {
    let head = bytes.get(i.checked_sub(3)?..i)?;
    let c = std::str::from_utf8(head).ok()?.chars().next()?;
    PROVINCES.contains(&c).then_some(3)
}

fn plate_char(c: u8) -> bool {
    c.is_ascii_digit() || (c.is_ascii_uppercase() && c != b'I' && c != b'O')
}

/// Characters of the serial after the city letter (and `·`), if the token
/// holds a plate's: five, or six with `D`/`F` first or last.
fn serial_len(c: &[u8]) -> Option<usize> {
    let n = c.iter().take_while(|&&b| plate_char(b)).count();
    match n {
        5 => Some(5),
        6 if matches!(c[0], b'D' | b'F') || matches!(c[5], b'D' | b'F') => Some(6),
        _ => None,
    }
}

#[derive(Debug)]
struct PlateRule;

impl TokenRule for PlateRule {
    fn kind(&self) -> Kind {
        Kind::LicensePlate
    }

    fn read(&self, t: &Token<'_>) -> Option<Read> {
        let c = t.chars();
        if !c.first()?.is_ascii_uppercase() {
            return None;
        }
        let back = province_before(t.bytes, t.start)?;
        let dot = usize::from(c.get(1) == Some(&b'*'));
        let serial = serial_len(&c[1 + dot..])?;
        // The serial of a plate holds a digit (a word in capitals is no plate).
        let digits = c[1 + dot..1 + dot + serial].iter().any(u8::is_ascii_digit);
        digits.then_some(Read {
            chars: 1 + dot + serial,
            back,
            category: if serial == 6 { "new_energy" } else { "" },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plate(s: &str, at: usize) -> Option<&str> {
        let t = Token::read(s.as_bytes(), at);
        let r = PlateRule.read(&t)?;
        t.whole(r.chars).then(|| &s[at - r.back..t.end_of(r.chars)])
    }

    #[test]
    fn plates() {
        assert_eq!(plate("车牌京A12345", 9), Some("京A12345"));
        assert_eq!(plate("粤B·D12345号", 3), Some("粤B·D12345"));
        assert_eq!(plate("沪AD12345", 3), Some("沪AD12345"));
        assert_eq!(plate("苏E12345D", 3), Some("苏E12345D"));
        assert_eq!(plate("京Ａ１２３４５", 3), Some("京Ａ１２３４５"));
        assert_eq!(plate("中A12345", 3), None, "not a province");
        assert_eq!(plate("京A1234", 3), None, "four characters");
        assert_eq!(plate("京A123456", 3), None, "six without D or F");
        assert_eq!(plate("京A12O45", 3), None, "O is not used");
        assert_eq!(plate("京ABCDEF", 3), None, "no digit");
    }
}
