//! Mainland China mobile numbers.

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
