//! Custom detectors: kinds an operator defines at run time (a regex, an
//! optional validator, context words), loaded from `detectors.toml`
//! beside the word lists. Their findings are of kind `custom`, with the
//! detector's name as category.

use crate::kind::{Canonical, ContextDefaults, KindSpec, Redaction};

pub(crate) const SPEC: KindSpec = KindSpec {
    name: "custom",
    label: "CUSTOM",
    summary: "a custom detector's match (the category names the detector)",
    canonical: Canonical::AsIs,
    redaction: Redaction::Label,
    context: ContextDefaults::strong(0.9),
    tokens: &[],
};

use std::ops::Range;
use std::sync::Arc;

use regex::Regex;

use crate::finding::{CustomInfo, Finding};
use crate::limits::Interrupt;
use crate::offsets::floor_char;

/// The check a custom detector's matches must pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Validator {
    None,
    /// Luhn over the digits (cards, IMEIs).
    Luhn,
    /// ISO 7064 MOD 11-2 over the digits, the last one `0`-`9` or `X`.
    Mod11_2,
    /// ISO 7064 MOD 97-10 as IBANs use it: the first four characters moved
    /// to the end, letters as 10-35, the number mod 97 is 1.
    Mod97,
    /// The MOD 31 check character of GB 32100 (as in a USCC).
    Iso7064Mod31,
    /// The ISO 3779 check digit of a VIN.
    Vin,
}

impl Validator {
    pub(crate) const NAMES: &'static str = "none, luhn, mod11_2, mod97, iso7064_mod31, vin";

    pub(crate) fn parse(name: &str) -> Option<Validator> {
        Some(match name {
            "none" => Validator::None,
            "luhn" => Validator::Luhn,
            "mod11_2" => Validator::Mod11_2,
            "mod97" => Validator::Mod97,
            "iso7064_mod31" => Validator::Iso7064Mod31,
            "vin" => Validator::Vin,
            _ => return None,
        })
    }

    /// Whether `text` passes: Luhn over its digits, the others over its
    /// letters and digits (separators dropped, full width folded, upper
    /// case).
    pub(crate) fn check(self, text: &str) -> bool {
        let c: Vec<u8> = text
            .chars()
            .map(crate::redact::fold_full_width)
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase() as u8)
            .collect();
        match self {
            Validator::None => true,
            Validator::Luhn => {
                let d: Vec<u8> = c
                    .iter()
                    .filter(|b| b.is_ascii_digit())
                    .map(|b| b - b'0')
                    .collect();
                d.len() >= 2 && super::bank_card::luhn(&d)
            }
            Validator::Mod11_2 => mod11_2(&c),
            Validator::Mod97 => mod97(&c),
            Validator::Iso7064Mod31 => {
                c.len() >= 2 && super::uscc::check_char(&c[..c.len() - 1]) == c.last().copied()
            }
            Validator::Vin => super::vin::is_valid(&c),
        }
    }
}

/// ISO 7064 MOD 11-2: the weighted sum of all characters (the check
/// character weighing 1, `X` for 10) is 1 mod 11.
fn mod11_2(c: &[u8]) -> bool {
    let Some((&check, body)) = c.split_last() else {
        return false;
    };
    if body.is_empty() || !body.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let check = match check {
        b'0'..=b'9' => u32::from(check - b'0'),
        b'X' => 10,
        _ => return false,
    };
    let sum = body
        .iter()
        .fold(0u32, |acc, &d| (acc + u32::from(d - b'0')) * 2 % 11);
    (12 - sum % 11) % 11 == check
}

/// ISO 7064 MOD 97-10, IBAN style.
fn mod97(c: &[u8]) -> bool {
    if c.len() < 5 {
        return false;
    }
    let mut rem = 0u32;
    for &ch in c[4..].iter().chain(&c[..4]) {
        let Some(v) = super::token::base36(ch) else {
            return false;
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// One custom detector.
#[derive(Clone, Debug)]
pub(crate) struct CustomDetector {
    pub(crate) info: Arc<CustomInfo>,
    pub(crate) pattern: Regex,
    pub(crate) validator: Validator,
    /// The longest match in bytes; longer ones are not findings (and a
    /// stream holds back this much).
    pub(crate) max_bytes: usize,
}

/// Where a stream's custom detectors are: the next byte each looks at.
#[derive(Clone, Debug, Default)]
pub(crate) struct CustomCursor {
    next: Vec<usize>,
}

impl CustomDetector {
    /// The findings of this detector in `text` (starting at absolute
    /// `origin`) from absolute `from`; returns the frontier. Unless
    /// `finished`, a match that text still to come could change (one
    /// within `max_bytes` of the end) is left for later.
    fn advance<'h>(
        &self,
        text: &'h str,
        origin: usize,
        from: usize,
        finished: bool,
        interrupt: &Interrupt<'_>,
        out: &mut Vec<Finding<'h>>,
    ) -> usize {
        let end = text.len();
        let settled = if finished {
            end
        } else {
            floor_char(text, end.saturating_sub(self.max_bytes))
        };
        let mut at = from - origin;
        while at <= end && !interrupt.stop(out.len()) {
            let Some(m) = self.pattern.find_at(text, at) else {
                return origin + settled.max(at);
            };
            if m.end() > settled && !finished {
                return origin + m.start();
            }
            let range: Range<usize> = m.range();
            if range.is_empty() {
                at = next_char(text, range.end);
                continue;
            }
            if range.len() <= self.max_bytes && self.validator.check(self.checked(text, m)) {
                out.push(Finding::custom(text, range.clone(), self.info.clone()));
                at = range.end;
            } else {
                at = next_char(text, range.start);
            }
        }
        origin + at.min(end)
    }
}

impl CustomDetector {
    /// The part of a match the validator checks: the first capture group
    /// when the pattern has one (`ORG:([0-9A-Z]{18})`), else the match.
    fn checked<'h>(&self, text: &'h str, m: regex::Match<'h>) -> &'h str {
        if self.validator == Validator::None || self.pattern.captures_len() < 2 {
            return m.as_str();
        }
        self.pattern
            .captures_at(text, m.start())
            .and_then(|c| c.get(1))
            .map_or(m.as_str(), |g| g.as_str())
    }
}

fn next_char(text: &str, i: usize) -> usize {
    text[i..].chars().next().map_or(i + 1, |c| i + c.len_utf8())
}

/// Runs every detector from its cursor; returns the frontier.
pub(crate) fn advance_all<'h>(
    detectors: &[CustomDetector],
    cursor: &mut CustomCursor,
    text: &'h str,
    origin: usize,
    finished: bool,
    interrupt: &Interrupt<'_>,
    out: &mut Vec<Finding<'h>>,
) -> usize {
    cursor.next.resize(detectors.len(), origin);
    let mut frontier = origin + text.len();
    for (d, next) in detectors.iter().zip(&mut cursor.next) {
        let from = (*next).max(origin);
        let f = d.advance(text, origin, from, finished, interrupt, out);
        *next = f;
        frontier = frontier.min(f);
    }
    frontier
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validators() {
        assert!(Validator::Luhn.check("4111 1111 1111 1111"));
        assert!(!Validator::Luhn.check("4111 1111 1111 1112"));
        assert!(Validator::Mod11_2.check("11010519491231002X"));
        assert!(!Validator::Mod11_2.check("110105194912310021"));
        // The IBAN of ISO 13616's example.
        assert!(Validator::Mod97.check("GB82 WEST 1234 5698 7654 32"));
        assert!(!Validator::Mod97.check("GB82 WEST 1234 5698 7654 33"));
        assert!(Validator::Iso7064Mod31.check("91350100M000100Y43"));
        assert!(!Validator::Iso7064Mod31.check("91350100M000100Y44"));
        assert!(Validator::Vin.check("1M8GDM9AXKP042788"));
        assert!(!Validator::Vin.check("1M8GDM9A1KP042788"));
        assert!(Validator::None.check(""));
    }
}
