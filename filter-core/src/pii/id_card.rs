//! Resident identity numbers, GB 11643-1999.

use super::date::{is_birth_date, Ymd};

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

#[cfg(test)]
mod tests {
    use super::*;

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
