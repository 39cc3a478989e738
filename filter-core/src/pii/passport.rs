//! Mainland passports and travel permits. Their formats are short and
//! collide with product and part codes, so without a context word near
//! (护照, passport, 通行证…) their confidence stays below the default
//! threshold: they are reported beside such words, never on the pattern.
//!
//! Forms: ordinary passports `E` + 8 digits or `E` + a letter + 7 digits,
//! older ones `G` + 8 digits (category `passport`); permits to Hong Kong
//! and Macau `C` + 8 digits or `C` + a letter + 7 digits (`hk_mo_permit`);
//! home-return permits of Hong Kong and Macau residents `H` or `M` + 8
//! digits (`home_return_permit`); permits to Taiwan `L` + 8 digits
//! (`tw_permit`).

use super::token::{all_digits, Read, Token, TokenRule};
use crate::finding::Kind;
use crate::kind::{Canonical, ContextDefaults, KindSpec, Redaction};

pub(crate) const SPEC: KindSpec = KindSpec {
    name: "passport",
    label: "PASSPORT",
    summary: "mainland passport or travel permit number (beside a context word)",
    canonical: Canonical::Alphanumeric,
    redaction: Redaction::Label,
    context: ContextDefaults {
        base: 0.2,
        raise: &[
            "护照",
            "护照号",
            "护照号码",
            "passport",
            "通行证",
            "港澳通行证",
            "台湾通行证",
            "回乡证",
            "旅行证件",
            "证件号",
        ],
        lower: &["型号", "订单号", "编号", "货号", "model", "part"],
        bases: &[],
    },
    tokens: &[&PassportRule],
};

/// The category of a 9-character form, if it is one.
fn category(c: &[u8]) -> Option<&'static str> {
    let (head, rest) = c.split_first()?;
    let letter_then_7 =
        rest[0].is_ascii_uppercase() && !matches!(rest[0], b'I' | b'O') && all_digits(&rest[1..]);
    let digits = all_digits(rest);
    match head {
        b'E' if digits || letter_then_7 => Some("passport"),
        b'G' if digits => Some("passport"),
        b'C' if digits || letter_then_7 => Some("hk_mo_permit"),
        b'H' | b'M' if digits => Some("home_return_permit"),
        b'L' if digits => Some("tw_permit"),
        _ => None,
    }
}

#[derive(Debug)]
struct PassportRule;

impl TokenRule for PassportRule {
    fn kind(&self) -> Kind {
        Kind::Passport
    }

    fn read(&self, t: &Token<'_>) -> Option<Read> {
        let category = category(t.chars().get(..9)?)?;
        Some(Read {
            chars: 9,
            back: 0,
            category,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        for (s, want) in [
            ("E12345678", Some("passport")),
            ("EA1234567", Some("passport")),
            ("G12345678", Some("passport")),
            ("C12345678", Some("hk_mo_permit")),
            ("CA1234567", Some("hk_mo_permit")),
            ("H12345678", Some("home_return_permit")),
            ("L12345678", Some("tw_permit")),
            ("EI1234567", None),
            ("K12345678", None),
            ("E1234567A", None),
        ] {
            assert_eq!(category(s.as_bytes()), want, "{s}");
        }
    }
}
