//! Surrogates: fake values of the same kind and shape as the originals,
//! passing the same validation, drawn deterministically per vault.
//!
//! A draft starts from the original's significant characters (its ASCII
//! letters and digits, full width folded), keeps what carries no person
//! (a mobile segment, a region code, a card's issuer, a key's provider
//! prefix), draws the rest from a keyed pseudo-random function of the
//! vault's seed and the value, and recomputes check characters. The
//! result is written back into the original's formatting: its separators,
//! its prefix, its full-width characters and its letter case stay.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::finding::Kind;
use crate::pii::{bank_card, id_card, uscc};
use crate::redact::{canonical_value, fold_full_width};

/// The bytes of a vault's surrogate seed.
pub(crate) const SEED_LEN: usize = 32;

/// A stream of pseudo-random bytes: HMAC-SHA256 under the vault's seed of
/// the kind, the value, the attempt and a block counter. Without the seed
/// a surrogate says nothing of the original it stands for.
struct Prf {
    mac: Hmac<Sha256>,
    block: u32,
    buf: [u8; 32],
    used: usize,
}

impl Prf {
    fn new(seed: &[u8; SEED_LEN], kind: Kind, canonical: &str, attempt: u32) -> Prf {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(seed).expect("HMAC takes any key");
        mac.update(kind.as_str().as_bytes());
        mac.update(&[0]);
        mac.update(canonical.as_bytes());
        mac.update(&[0]);
        mac.update(&attempt.to_le_bytes());
        Prf {
            mac,
            block: 0,
            buf: [0; 32],
            used: 32,
        }
    }

    fn byte(&mut self) -> u8 {
        if self.used == self.buf.len() {
            let mut mac = self.mac.clone();
            mac.update(&self.block.to_le_bytes());
            self.buf.copy_from_slice(&mac.finalize().into_bytes());
            self.block += 1;
            self.used = 0;
        }
        self.used += 1;
        self.buf[self.used - 1]
    }

    /// A number below `n` (at most 256), without modulo bias.
    fn below(&mut self, n: u32) -> u32 {
        let limit = 256 - 256 % n;
        loop {
            let b = u32::from(self.byte());
            if b < limit {
                return b % n;
            }
        }
    }
}

/// A surrogate being drawn for one value.
pub(crate) struct Draft<'a> {
    /// The original's letters and digits, ASCII, in order.
    sig: Vec<u8>,
    category: &'a str,
    canonical: &'a str,
    rng: Prf,
    /// A whole new text, for kinds whose formatting is not kept character
    /// by character (email addresses, IP addresses).
    whole: Option<String>,
}

/// Upper-case letters a draft may put where the original has one, per
/// kind: codes that leave out look-alike letters draw only from the rest.
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const VIN_LETTERS: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ";
const USCC_LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRTUWXY";
const PLATE_LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";

impl<'a> Draft<'a> {
    fn digit(&mut self) -> u8 {
        b'0' + self.rng.below(10) as u8
    }

    /// Redraws the characters at `range`, each within its class: a digit
    /// by a digit, a letter by a letter of `upper` in its case.
    fn redraw(&mut self, range: std::ops::Range<usize>, upper: &[u8]) {
        for i in range {
            let c = self.sig[i];
            self.sig[i] = if c.is_ascii_digit() {
                self.digit()
            } else if c.is_ascii_uppercase() {
                upper[self.rng.below(upper.len() as u32) as usize]
            } else if c.is_ascii_lowercase() {
                upper[self.rng.below(upper.len() as u32) as usize].to_ascii_lowercase()
            } else {
                c
            };
        }
    }

    /// Writes `n` (zero-padded to `width` digits) at `at`.
    fn put_number(&mut self, at: usize, width: usize, mut n: u32) {
        for i in (at..at + width).rev() {
            self.sig[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    }

    /// The digit values of `range`, for check computations.
    fn digits(&self, range: std::ops::Range<usize>) -> Vec<u8> {
        self.sig[range]
            .iter()
            .map(|c| c.wrapping_sub(b'0'))
            .collect()
    }

    /// Sets the check character at `at` to the first of `candidates` that
    /// makes `valid` hold.
    fn solve(&mut self, at: usize, candidates: &[u8], valid: impl Fn(&[u8]) -> bool) -> bool {
        for &c in candidates {
            self.sig[at] = c;
            if valid(&self.sig) {
                return true;
            }
        }
        false
    }
}

/// The letters and digits of `text`, full width folded, in order.
fn significant(text: &str) -> Vec<u8> {
    text.chars()
        .map(fold_full_width)
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c as u8)
        .collect()
}

/// `original` with its letters and digits replaced, in order, by `sig`;
/// a full-width character stays full width.
fn write_back(original: &str, sig: &[u8]) -> String {
    let mut out = String::with_capacity(original.len());
    let mut next = sig.iter();
    for c in original.chars() {
        let folded = fold_full_width(c);
        if !folded.is_ascii_alphanumeric() {
            out.push(c);
            continue;
        }
        let Some(&s) = next.next() else {
            out.push(c);
            continue;
        };
        if folded != c {
            out.push(char::from_u32(u32::from(s) + 0xFEE0).unwrap_or(s as char));
        } else {
            out.push(s as char);
        }
    }
    out
}

/// `surrogate` written in the formatting of `occurrence`, another form of
/// the value it stands for (`+86 138 0013 8000` where the surrogate was
/// drawn for `13800138000`): the surrogate's canonical characters go into
/// the occurrence's letters and digits, aligned at the end. Addresses and
/// keys, and any form the alignment does not fit, get the surrogate as
/// drawn.
pub(crate) fn reformat(kind: Kind, occurrence: &str, surrogate: &str) -> String {
    if matches!(kind, Kind::Email | Kind::IpAddress | Kind::Secret) {
        return surrogate.to_string();
    }
    let target = canonical_value(kind, surrogate, None);
    let mut sig = significant(occurrence);
    for (s, &c) in sig.iter_mut().rev().zip(target.as_bytes().iter().rev()) {
        *s = if s.is_ascii_lowercase() {
            c.to_ascii_lowercase()
        } else {
            c
        };
    }
    let out = write_back(occurrence, &sig);
    if canonical_value(kind, &out, None) == target {
        out
    } else {
        surrogate.to_string()
    }
}

/// Whether `candidate` has `original`'s shape: a digit where it has a
/// digit, a letter of the same case where it has one, every other
/// character the same. A value ending in `X` that became a digit would
/// join the digits after it and be found no more. Email and IP addresses
/// take a reserved domain or block, so their shape is not kept.
pub(crate) fn keeps_shape(kind: Kind, original: &str, candidate: &str) -> bool {
    if matches!(kind, Kind::Email | Kind::IpAddress) {
        return true;
    }
    let class = |c: char| match fold_full_width(c) {
        '0'..='9' => ('0', c.is_ascii()),
        'a'..='z' => ('a', c.is_ascii()),
        'A'..='Z' => ('A', c.is_ascii()),
        c => (c, true),
    };
    original.chars().map(class).eq(candidate.chars().map(class))
}

/// A candidate surrogate for `original` (found as `kind`, `category`, with
/// canonical value `canonical`), attempt number `attempt`; `None` when the
/// kind has no surrogates or the draft could not be completed. The caller
/// checks it against the detectors and the values already in use.
pub(crate) fn candidate(
    seed: &[u8; SEED_LEN],
    kind: Kind,
    category: &str,
    original: &str,
    canonical: &str,
    attempt: u32,
) -> Option<String> {
    let mut d = Draft {
        sig: significant(original),
        category,
        canonical,
        rng: Prf::new(seed, kind, canonical, attempt),
        whole: None,
    };
    let done = match kind {
        Kind::IdCard => id_card_draft(&mut d),
        Kind::Uscc => uscc_draft(&mut d),
        Kind::Secret => secret_draft(&mut d, original),
        Kind::Email => email_draft(&mut d, original),
        Kind::Vin => vin_draft(&mut d),
        Kind::Passport => {
            let letters = d.sig.iter().take_while(|c| c.is_ascii_alphabetic()).count();
            d.redraw(letters..d.sig.len(), UPPER);
            true
        }
        Kind::Phone => phone_draft(&mut d),
        Kind::IpAddress => ip_draft(&mut d),
        Kind::LicensePlate => {
            // The province character is not ASCII; the city letter stays.
            d.redraw(1..d.sig.len(), PLATE_LETTERS);
            true
        }
        Kind::BankCard => card_draft(&mut d),
        Kind::Custom => {
            d.redraw(0..d.sig.len(), UPPER);
            true
        }
        Kind::SensitiveWord => false,
    };
    if !done {
        return None;
    }
    Some(match d.whole {
        Some(w) => w,
        None => write_back(original, &d.sig),
    })
}

/// Mainland numbers keep their region code and the parity of the
/// sequence (which says the holder's sex) and get a birth date from 1950
/// to 2005; Hong Kong and Taiwan numbers keep their letters and get a new
/// check character; Macau numbers keep their first digit.
fn id_card_draft(d: &mut Draft<'_>) -> bool {
    let n = d.sig.len();
    match (d.category, n) {
        ("cn", 18) => {
            let year = 1950 + d.rng.below(56);
            d.put_number(6, 4, year);
            date_and_sequence(d, 10, 14);
            let check = id_card::check_value(&d.digits(0..17));
            d.sig[17] = match check {
                10 if d.sig[17] == b'x' => b'x',
                10 => b'X',
                v => b'0' + v,
            };
            true
        }
        ("cn", 15) => {
            let year = 50 + d.rng.below(50);
            d.put_number(6, 2, year);
            date_and_sequence(d, 8, 12);
            true
        }
        ("hk", 8 | 9) => {
            let letters = n - 7;
            d.redraw(letters..letters + 6, UPPER);
            let Some(check) = id_card::hk_check(&d.sig[..letters], &d.sig[letters..letters + 6])
            else {
                return false;
            };
            d.sig[n - 1] = check;
            true
        }
        ("mo", 8) => {
            d.redraw(1..8, UPPER);
            true
        }
        ("tw", 10) => {
            d.redraw(2..9, UPPER);
            d.solve(9, b"0123456789", id_card::tw_valid)
        }
        _ => false,
    }
}

/// Month and day at `at` (a day every month has), and the three-digit
/// sequence at `seq`, whose last digit keeps its parity.
fn date_and_sequence(d: &mut Draft<'_>, at: usize, seq: usize) {
    let month = 1 + d.rng.below(12);
    let day = 1 + d.rng.below(28);
    d.put_number(at, 2, month);
    d.put_number(at + 2, 2, day);
    let parity = d.sig[seq + 2].wrapping_sub(b'0') % 2;
    d.redraw(seq..seq + 2, UPPER);
    d.sig[seq + 2] = b'0' + 2 * d.rng.below(5) as u8 + parity;
}

/// The registration authority, type and region stay; a new organization
/// code with its GB 11714 check, and the MOD 31 check.
fn uscc_draft(d: &mut Draft<'_>) -> bool {
    if d.sig.len() != 18 {
        return false;
    }
    d.redraw(8..16, USCC_LETTERS);
    let Some(org) = uscc::org_check(&d.sig[8..16]) else {
        return false;
    };
    d.sig[16] = org;
    let Some(check) = uscc::check_char(&d.sig[..17]) else {
        return false;
    };
    d.sig[17] = check;
    true
}

/// The provider's prefix stays (`sk-proj-`, `sk-ant-api03-`, `AKIA`,
/// `LTAI`); the key's body is redrawn in its classes.
fn secret_draft(d: &mut Draft<'_>, original: &str) -> bool {
    let head = &original[..original.len().min(16)];
    let prefix = match head.rfind('-') {
        Some(i) => &original[..i],
        None => &original[..original.len().min(4)],
    };
    let keep = significant(prefix).len();
    d.redraw(keep..d.sig.len(), UPPER);
    true
}

/// The local part redrawn in its classes, at `example.com`, a domain
/// reserved for examples (RFC 2606) that no one receives mail at.
fn email_draft(d: &mut Draft<'_>, original: &str) -> bool {
    let Some((local, _)) = original.rsplit_once('@') else {
        return false;
    };
    let n = significant(local).len();
    d.redraw(0..n, UPPER);
    d.whole = Some(format!("{}@example.com", write_back(local, &d.sig[..n])));
    true
}

/// The manufacturer code stays; the rest is redrawn without I, O, Q and
/// the check digit recomputed.
fn vin_draft(d: &mut Draft<'_>) -> bool {
    if d.sig.len() != 17 {
        return false;
    }
    d.sig.make_ascii_uppercase();
    d.redraw(3..8, VIN_LETTERS);
    d.redraw(9..17, VIN_LETTERS);
    d.solve(8, b"0123456789X", crate::pii::vin::is_valid)
}

/// A mobile number keeps its four-digit segment, a landline its area code
/// and the first digit of the local number; any `+86`/`0086` stays.
fn phone_draft(d: &mut Draft<'_>) -> bool {
    let national = d.canonical.as_bytes();
    let local = match d.category {
        "mobile" => 7,
        _ => {
            let digits: Vec<u8> = national.iter().map(|c| c.wrapping_sub(b'0')).collect();
            let Some(area) = crate::pii::phone::area_code_len(&digits) else {
                return false;
            };
            national.len() - area - 1
        }
    };
    let n = d.sig.len();
    if local >= n {
        return false;
    }
    d.redraw(n - local..n, UPPER);
    true
}

/// An address from the blocks reserved for documentation: 192.0.2.0/24,
/// 198.51.100.0/24 and 203.0.113.0/24 (RFC 5737), 2001:db8::/32 (RFC 3849).
fn ip_draft(d: &mut Draft<'_>) -> bool {
    d.whole = Some(if d.category == "v6" {
        let a = d.rng.below(256) << 8 | d.rng.below(256);
        let b = d.rng.below(256) << 8 | d.rng.below(256);
        format!("2001:db8::{a:x}:{b:x}")
    } else {
        let net = ["192.0.2", "198.51.100", "203.0.113"][d.rng.below(3) as usize];
        format!("{net}.{}", 1 + d.rng.below(254))
    });
    true
}

/// The issuer (the first six digits, which fix the network) stays; the
/// account is redrawn and the Luhn digit recomputed.
fn card_draft(d: &mut Draft<'_>) -> bool {
    let n = d.sig.len();
    if n < 13 {
        return false;
    }
    d.redraw(6..n - 1, UPPER);
    d.solve(n - 1, b"0123456789", |s| {
        let digits: Vec<u8> = s.iter().map(|c| c - b'0').collect();
        bank_card::luhn(&digits)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_is_kept() {
        assert_eq!(write_back("+86 138-0013", b"861390014"), "+86 139-0014");
        assert_eq!(write_back("１３８a", b"249B"), "２４９B");
    }

    #[test]
    fn draws_are_unbiased_and_deterministic() {
        let seed = [7; SEED_LEN];
        let mut counts = [0u32; 10];
        let mut rng = Prf::new(&seed, Kind::Phone, "13800138000", 0);
        for _ in 0..10_000 {
            counts[rng.below(10) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (900..1100).contains(&c)),
            "{counts:?}"
        );
        let a = candidate(
            &seed,
            Kind::Phone,
            "mobile",
            "13800138000",
            "13800138000",
            0,
        );
        let b = candidate(
            &seed,
            Kind::Phone,
            "mobile",
            "13800138000",
            "13800138000",
            0,
        );
        let c = candidate(
            &seed,
            Kind::Phone,
            "mobile",
            "13800138000",
            "13800138000",
            1,
        );
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.unwrap().starts_with("1380"));
    }
}
