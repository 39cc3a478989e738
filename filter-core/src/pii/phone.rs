//! Mainland China phone numbers: mobile numbers (category `mobile`) and
//! landlines (`landline`), both read by the number pass.

use crate::kind::{Canonical, ContextDefaults, KindSpec, Redaction};

pub(crate) const SPEC: KindSpec = KindSpec {
    name: "phone",
    label: "PHONE",
    summary: "mainland phone number: mobile (MIIT segments, +86) or landline (area code)",
    canonical: Canonical::Phone,
    redaction: Redaction::Label,
    context: ContextDefaults {
        base: 0.9,
        raise: &[
            "电话",
            "手机",
            "手机号",
            "联系电话",
            "座机",
            "tel",
            "phone",
            "mobile",
        ],
        lower: &[],
        bases: &[("landline", LANDLINE_BASE)],
    },
    tokens: &[],
};

/// A landline's base confidence: an area code and a local number are a
/// looser shape than a mobile segment.
pub(crate) const LANDLINE_BASE: f32 = 0.7;

/// The length of the area code (with its 0) that starts the digits `d`
/// of a domestic number: 3 for 010 and 020-029, 4 for 03xx-09xx.
pub(crate) fn area_code_len(d: &[u8]) -> Option<usize> {
    match d {
        [0, 1, 0, ..] | [0, 2, ..] => Some(3),
        [0, 3..=9, ..] => Some(4),
        _ => None,
    }
}

/// Whether `d` is a local number after an area code of `area` digits
/// (with its 0): 8 digits after 010 and 02x, 7 or 8 after the others,
/// never starting with 0 or 1.
pub(crate) fn is_local(area: usize, d: &[u8]) -> bool {
    let len_ok = if area == 3 {
        d.len() == 8
    } else {
        matches!(d.len(), 7 | 8)
    };
    len_ok && d[0] >= 2
}

/// Whether 11 digits are a mobile number in an assigned segment.
///
/// The segments follow libphonenumber's CN mobile pattern (metadata of
/// phonenumbers 9.0.43, which the oracle test in `tests/oracles.rs`
/// checks against):
/// `1(?:610\d|740[0-5])\d{6}|1(?:[38]\d|4[57]|[59][0-35-9]|6[25-7]|7[0-35-8])\d{8}`.
/// `1610` is China Broadnet's.
pub(crate) fn is_mobile(d: &[u8]) -> bool {
    if d.len() != 11 || d[0] != 1 {
        return false;
    }
    match (d[1], d[2]) {
        (3 | 8, _) => true,
        (4, 5 | 7) => true,
        (5 | 9, x) => x != 4,
        (6, 1) => d[3] == 0,
        (6, x) => matches!(x, 2 | 5 | 6 | 7),
        (7, 4) => d[3] == 0 && d[4] <= 5,
        (7, x) => x != 9,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> bool {
        is_mobile(&s.bytes().map(|b| b - b'0').collect::<Vec<_>>())
    }

    #[test]
    fn landline_shapes() {
        assert_eq!(area_code_len(&[0, 1, 0]), Some(3));
        assert_eq!(area_code_len(&[0, 1, 1]), None);
        assert_eq!(area_code_len(&[0, 2, 1]), Some(3));
        assert_eq!(area_code_len(&[0, 5, 7, 1]), Some(4));
        assert_eq!(area_code_len(&[4, 0, 0]), None, "service numbers");
        assert!(is_local(3, &[6, 2, 3, 4, 5, 6, 7, 8]));
        assert!(!is_local(3, &[6, 2, 3, 4, 5, 6, 7]));
        assert!(is_local(4, &[8, 7, 6, 5, 4, 3, 2]));
        assert!(!is_local(4, &[1, 7, 6, 5, 4, 3, 2, 1]));
    }

    #[test]
    fn segments() {
        for good in [
            "13800138000",
            "14512345678",
            "14712345678",
            "15012345678",
            "15912345678",
            "16105792262",
            "16212345678",
            "16612345678",
            "17012345678",
            "17400012345",
            "17405123456",
            "17812345678",
            "18012345678",
            "19012345678",
            "19912345678",
        ] {
            assert!(ok(good), "{good}");
        }
        for bad in [
            "12012345678",
            "11012345678",
            "14012345678",
            "14612345678",
            "15412345678",
            "16012345678",
            "16112345678",
            "16312345678",
            "17406123456",
            "17412345678",
            "17912345678",
            "19412345678",
            "23800138000",
            "1380013800",
        ] {
            assert!(!ok(bad), "{bad}");
        }
    }
}
