//! Vehicle identification numbers, ISO 3779 and GB 16735-2019: 17
//! characters without I, O and Q, the ninth a check digit (MOD 11 over
//! transliterated values, 10 written `X`), which GB 16735 makes
//! mandatory for vehicles sold in mainland China.

use super::token::{Read, Token, TokenRule};
use crate::finding::Kind;
use crate::kind::{Canonical, ContextDefaults, KindSpec, Redaction};

pub(crate) const SPEC: KindSpec = KindSpec {
    name: "vin",
    label: "VIN",
    summary: "vehicle identification number (ISO 3779, GB 16735 check digit)",
    canonical: Canonical::Alphanumeric,
    redaction: Redaction::Label,
    context: ContextDefaults {
        base: 0.7,
        raise: &[
            "车架号",
            "车辆识别代号",
            "车辆识别码",
            "VIN",
            "vin码",
            "chassis",
        ],
        lower: &["订单号", "序列号", "serial"],
        bases: &[],
    },
    tokens: &[&VinRule],
};

/// ISO 3779 position weights; the check digit's own position weighs 0.
const WEIGHTS: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];

/// The transliterated value of a VIN character.
fn value(c: u8) -> Option<u32> {
    Some(match c {
        b'0'..=b'9' => u32::from(c - b'0'),
        b'A' | b'J' => 1,
        b'B' | b'K' | b'S' => 2,
        b'C' | b'L' | b'T' => 3,
        b'D' | b'M' | b'U' => 4,
        b'E' | b'N' | b'V' => 5,
        b'F' | b'W' => 6,
        b'G' | b'P' | b'X' => 7,
        b'H' | b'Y' => 8,
        b'R' | b'Z' => 9,
        _ => return None, // I, O, Q and anything else
    })
}

/// Whether 17 characters are a VIN with a valid check digit and at least
/// one letter (every manufacturer code in use holds one; seventeen digits
/// are some other number).
pub(crate) fn is_valid(c: &[u8]) -> bool {
    if c.len() != 17 || c.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut sum = 0;
    for (&ch, w) in c.iter().zip(WEIGHTS) {
        sum += match value(ch) {
            Some(v) => v * w,
            None => return false,
        };
    }
    let check = match sum % 11 {
        10 => b'X',
        v => b'0' + v as u8,
    };
    c[8] == check
}

#[derive(Debug)]
struct VinRule;

impl TokenRule for VinRule {
    fn kind(&self) -> Kind {
        Kind::Vin
    }

    fn digit_lengths(&self) -> &'static [usize] {
        &[17]
    }

    fn read(&self, t: &Token<'_>) -> Option<Read> {
        is_valid(t.chars().get(..17)?).then_some(Read {
            chars: 17,
            back: 0,
            category: "",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits() {
        // 1M8GDM9AXKP042788 is ISO 3779's worked example (Wikipedia,
        // "Vehicle identification number", check digit X); the others
        // were worked by hand.
        for good in [
            "1M8GDM9AXKP042788",
            "LSVAM4187C2184847",
            "1HGCM82633A004352",
            "LFV2A21K6C3054321",
        ] {
            assert!(is_valid(good.as_bytes()), "{good}");
        }
        for bad in [
            "1M8GDM9A1KP042788", // check digit
            "1M8GDM9AXKP04278",  // 16 characters
            "1M8GDM9AXKPO42788", // O
            "11111111111111111", // no letter
        ] {
            assert!(!is_valid(bad.as_bytes()), "{bad}");
        }
    }
}
