//! Resident identity numbers: mainland China (GB 11643-1999, category
//! `cn`, found by the number pass), and as token forms the identity cards
//! of Hong Kong (`hk`), Macau (`mo`) and Taiwan (`tw`).

use super::date::{is_birth_date, Ymd};
use super::token::{all_digits, base36, Read, Token, TokenRule};
use crate::finding::Kind;
use crate::kind::{Canonical, ContextDefaults, KindSpec, Redaction};

pub(crate) const SPEC: KindSpec = KindSpec {
    name: "id_card",
    label: "ID_CARD",
    summary: "resident identity number: mainland (GB 11643-1999), Hong Kong, Macau, Taiwan",
    canonical: Canonical::Alphanumeric,
    redaction: Redaction::Label,
    context: ContextDefaults {
        base: 0.95,
        raise: &[
            "身份证",
            "身份证号",
            "身份证号码",
            "证件号",
            "证件号码",
            "居民身份证",
            "澳门身份证",
            "澳門身份證",
            "香港身份证",
            "香港身份證",
            "HKID",
            "BIR",
            "ID card",
            "identity card",
        ],
        lower: &[],
        bases: CATEGORY_BASE,
    },
    tokens: &[&HongKongRule, &TaiwanRule, &MacauRule],
};

/// Base confidence of the token forms: Hong Kong's and Taiwan's check
/// digits catch one typo in eleven or ten; Macau's number has no public
/// check, so it needs a context word.
pub(crate) const CATEGORY_BASE: &[(&str, f32)] = &[("hk", 0.8), ("tw", 0.8), ("mo", 0.2)];

/// Province-level codes of GB/T 2260 (the first two digits of the region
/// code), plus 71 (Taiwan), 81 (Hong Kong), 82 (Macau) and 83, which
/// residence permits for Taiwan residents use.
const PROVINCES: [u8; 35] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
];

/// ISO 7064 MOD 11-2 weights for the 17 body digits.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

fn province_ok(d: &[u8]) -> bool {
    PROVINCES.contains(&(d[0] * 10 + d[1]))
}

fn num(d: &[u8]) -> u32 {
    d.iter().fold(0, |acc, &x| acc * 10 + u32::from(x))
}

/// The check value (0-10, 10 written `X`) of 17 body digits.
pub(crate) fn check_value(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .zip(WEIGHTS)
        .map(|(&d, w)| u32::from(d) * w)
        .sum();
    // (12 - sum mod 11) mod 11 is the value that makes the weighted sum of
    // all 18 characters (the check character weighing 1) 1 mod 11.
    ((12 - sum % 11) % 11) as u8
}

/// Whether 17 body digits and a check value (10 for `X`) form a valid
/// 18-character number.
pub(crate) fn is_valid_18(body: &[u8], check: u8, today: Ymd) -> bool {
    body.len() == 17
        && province_ok(body)
        && is_birth_date(
            num(&body[6..10]),
            num(&body[10..12]),
            num(&body[12..14]),
            today,
        )
        && check_value(body) == check
}

/// Whether 17 body digits have a real region and birth date, whatever the
/// check character: such a number is a mistyped ID, not a card number.
pub(crate) fn looks_like_18(body: &[u8], today: Ymd) -> bool {
    body.len() >= 17
        && province_ok(body)
        && is_birth_date(
            num(&body[6..10]),
            num(&body[10..12]),
            num(&body[12..14]),
            today,
        )
}

/// Whether 15 digits form a valid legacy (first-generation) number: region,
/// birth date `YYMMDD` in the 1900s, 3-digit sequence, no check character.
pub(crate) fn is_valid_15(d: &[u8], today: Ymd) -> bool {
    d.len() == 15
        && province_ok(d)
        && is_birth_date(1900 + num(&d[6..8]), num(&d[8..10]), num(&d[10..12]), today)
}

/// The Hong Kong identity card: one or two letters, six digits and a
/// check character (`0`-`9` or `A`), in parentheses or not. The check
/// makes the weighted sum (9 for a missing first letter, which counts as
/// 36, then 8, 7, ..., 2, and 1 for the check) a multiple of 11.
#[derive(Debug)]
struct HongKongRule;

/// The check character of a Hong Kong number's letters and six digits.
pub(crate) fn hk_check(letters: &[u8], digits: &[u8]) -> Option<u8> {
    let first = if letters.len() == 2 {
        base36(letters[0])?
    } else {
        36
    };
    let mut sum = first * 9 + base36(*letters.last()?)? * 8;
    for (&d, w) in digits.iter().zip((2..=7).rev()) {
        sum += base36(d)? * w;
    }
    Some(match (11 - sum % 11) % 11 {
        10 => b'A',
        v => b'0' + v as u8,
    })
}

impl TokenRule for HongKongRule {
    fn kind(&self) -> Kind {
        Kind::IdCard
    }

    fn read(&self, t: &Token<'_>) -> Option<Read> {
        let c = t.chars();
        let letters = c
            .iter()
            .take(3)
            .take_while(|b| b.is_ascii_uppercase())
            .count();
        if !(1..=2).contains(&letters) {
            return None;
        }
        let digits = c.get(letters..letters + 6)?;
        let rest = &c[letters + 6..];
        let (check, len) = match rest {
            [b'(', x, b')', ..] => (*x, 3),
            [x, ..] => (*x, 1),
            [] => return None,
        };
        (all_digits(digits) && hk_check(&c[..letters], digits) == Some(check)).then_some(Read {
            chars: letters + 6 + len,
            back: 0,
            category: "hk",
        })
    }
}

/// The Taiwan national identification card: a letter, `1` or `2` (or `8`
/// or `9` on the resident certificates issued since 2021), seven digits
/// and a check digit. The letter stands for a two-digit number; the
/// weighted sum (1 and 9 for its digits, then 8 to 1, and 1) is a
/// multiple of 10.
#[derive(Debug)]
struct TaiwanRule;

/// The two-digit number of a Taiwan card's letter.
fn tw_letter(c: u8) -> Option<u32> {
    // A-H 10-17, I 34, J-N 18-22, O 35, P-V 23-29, W 32, X 30, Y 31, Z 33.
    const CODES: [u8; 26] = [
        10, 11, 12, 13, 14, 15, 16, 17, 34, 18, 19, 20, 21, 22, 35, 23, 24, 25, 26, 27, 28, 29, 32,
        30, 31, 33,
    ];
    c.is_ascii_uppercase()
        .then(|| u32::from(CODES[usize::from(c - b'A')]))
}

/// Whether ten characters are a valid Taiwan number.
pub(crate) fn tw_valid(c: &[u8]) -> bool {
    let Some(code) = c.first().copied().and_then(tw_letter) else {
        return false;
    };
    if c.len() != 10 || !all_digits(&c[1..]) || !matches!(c[1], b'1' | b'2' | b'8' | b'9') {
        return false;
    }
    let weights = [8, 7, 6, 5, 4, 3, 2, 1, 1];
    // The letter's code: tens digit weight 1, units digit weight 9; the
    // sum is taken mod 10, where `code * 9` is `(code % 10) * 9`.
    let sum = code / 10
        + code * 9
        + c[1..]
            .iter()
            .zip(weights)
            .map(|(&d, w)| u32::from(d - b'0') * w)
            .sum::<u32>();
    sum.is_multiple_of(10)
}

impl TokenRule for TaiwanRule {
    fn kind(&self) -> Kind {
        Kind::IdCard
    }

    fn read(&self, t: &Token<'_>) -> Option<Read> {
        tw_valid(t.chars().get(..10)?).then_some(Read {
            chars: 10,
            back: 0,
            category: "tw",
        })
    }
}

/// The Macau identity card: `1`, `5` or `7`, six digits and a digit in
/// parentheses. No check algorithm is public, so [`CATEGORY_BASE`] keeps
/// it below the threshold unless a context word is near.
#[derive(Debug)]
struct MacauRule;

impl TokenRule for MacauRule {
    fn kind(&self) -> Kind {
        Kind::IdCard
    }

    fn read(&self, t: &Token<'_>) -> Option<Read> {
        let c = t.chars().get(..10)?;
        let ok = matches!(c[0], b'1' | b'5' | b'7')
            && all_digits(&c[1..7])
            && c[7] == b'('
            && c[8].is_ascii_digit()
            && c[9] == b')';
        ok.then_some(Read {
            chars: 10,
            back: 0,
            category: "mo",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hong_kong_check_characters() {
        // A123456(3) is the worked example of the check; the others were
        // worked by hand with the same weights.
        assert_eq!(hk_check(b"A", b"123456"), Some(b'3'));
        assert_eq!(hk_check(b"G", b"123456"), Some(b'A'));
        assert_eq!(hk_check(b"AB", b"987654"), Some(b'3'));
    }

    #[test]
    fn taiwan_numbers() {
        // A123456789 is the number used to illustrate the check.
        assert!(tw_valid(b"A123456789"));
        assert!(!tw_valid(b"A123456788"));
        assert!(!tw_valid(b"A323456789"), "second digit 1, 2, 8 or 9");
        assert!(tw_valid(b"F131104093"));
    }

    fn digits(s: &str) -> Vec<u8> {
        s.bytes().map(|b| b - b'0').collect()
    }

    #[test]
    fn check_characters_from_the_standard() {
        // 11010519491231002X is the worked example of GB 11643-1999.
        assert_eq!(check_value(&digits("11010519491231002")), 10);
        assert_eq!(check_value(&digits("11010119900307123")), 3);
        assert_eq!(check_value(&digits("44030419900101001")), 1);
    }

    #[test]
    fn validity() {
        let today = 20261126;
        assert!(is_valid_18(&digits("11010519491231002"), 10, today));
        assert!(!is_valid_18(&digits("11010519491231002"), 1, today));
        assert!(!is_valid_18(
            &digits("99010519491231002"),
            check_value(&digits("99010519491231002")),
            today
        ));
        assert!(is_valid_15(&digits("110105491231002"), today));
        assert!(!is_valid_15(&digits("110105491331002"), today));
    }
}
