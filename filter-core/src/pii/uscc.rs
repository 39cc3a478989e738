//! Unified Social Credit Codes, GB 32100-2015: the 18-character code of
//! every registered organization in mainland China.
//!
//! Layout: a registration-authority code, an organization-type code, the
//! six-digit administrative region, the nine-character organization code
//! of GB 11714 (eight characters and its MOD 11 check) and a MOD 31 check
//! character over the 17 before it. The alphabet has 31 characters: the
//! digits and the capitals without I, O, S, V and Z.

use super::token::{base36, Read, Token, TokenRule};
use crate::finding::Kind;
use crate::kind::{Canonical, ContextDefaults, KindSpec, Redaction};

pub(crate) const SPEC: KindSpec = KindSpec {
    name: "uscc",
    label: "USCC",
    summary: "Unified Social Credit Code (GB 32100-2015, both check characters)",
    canonical: Canonical::Alphanumeric,
    redaction: Redaction::Label,
    context: ContextDefaults::strong(0.95),
    tokens: &[&UsccRule],
};

/// The 31 characters, in value order.
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weights of the 17 characters before the check character (3^i mod 31).
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// GB 11714 weights of the organization code's eight characters.
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// Registration authorities: 1-9, A (military), N (agriculture), Y (other).
const AUTHORITIES: &[u8] = b"123456789ANY";

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|v| v as u32)
}

/// The MOD 31 check character of the first 17 characters.
pub(crate) fn check_char(body: &[u8]) -> Option<u8> {
    let mut sum = 0;
    for (&c, w) in body.iter().zip(WEIGHTS) {
        sum += value(c)? * w;
    }
    Some(ALPHABET[((31 - sum % 31) % 31) as usize])
}

/// The GB 11714 check character of an organization code's eight
/// characters: `0`-`9` or `X` (for 10).
pub(crate) fn org_check(body: &[u8]) -> Option<u8> {
    let mut sum = 0;
    for (&c, w) in body.iter().zip(ORG_WEIGHTS) {
        sum += base36(c)? * w;
    }
    Some(match 11 - sum % 11 {
        10 => b'X',
        11 => b'0',
        v => b'0' + v as u8,
    })
}

/// Whether 18 characters are a valid code.
pub(crate) fn is_valid(c: &[u8]) -> bool {
    c.len() == 18
        && AUTHORITIES.contains(&c[0])
        && c[1] != b'0'
        && value(c[1]).is_some()
        && c[2..8].iter().all(u8::is_ascii_digit)
        && org_check(&c[8..16]) == Some(c[16])
        && check_char(&c[..17]) == Some(c[17])
}

#[derive(Debug)]
struct UsccRule;

impl TokenRule for UsccRule {
    fn kind(&self) -> Kind {
        Kind::Uscc
    }

    fn digit_lengths(&self) -> &'static [usize] {
        &[18]
    }

    fn read(&self, t: &Token<'_>) -> Option<Read> {
        let c = t.chars().get(..18)?;
        is_valid(c).then_some(Read {
            chars: 18,
            back: 0,
            category: "",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_checked_with_python_stdnum() {
        // Valid per stdnum.cn.uscc 2.2 (which checks the MOD 31 character
        // only); the GB 11714 check of each embedded organization code
        // worked by hand. The first two are stdnum's own examples.
        for good in [
            "91350100M000100Y43",
            "91110000600037341L",
            "914403001922038216",
            "91310000MA1FL4B24G",
            "12100000H000002237",
            "92440300MA5F3QX82U",
        ] {
            assert!(is_valid(good.as_bytes()), "{good}");
        }
        for bad in [
            "91350100M000100Y44", // MOD 31 check
            "91350100M000101Y43", // organization check
            "01350100M000100Y43", // no authority 0
            "9135010OM000100Y43", // O is not in the alphabet
            "91350100M000100Y4",  // 17 characters
        ] {
            assert!(!is_valid(bad.as_bytes()), "{bad}");
        }
    }
}
