//! Numbers: resident ID numbers, mobile numbers and card numbers.
//!
//! A number is read as a chain of digit groups joined by single spaces or
//! dashes (`138 0013 8000`), digits ASCII or full-width. The chain is then
//! classified from its shape, most specific reading first: ID number, mobile
//! number, card number. Each run of digits is a whole: a number counts only
//! when no digit touches it, so an ID inside a 22-digit order number is not
//! one, while an ID glued to Chinese text (`证号110101199003071233号`) is.

use super::bank_card::card_network;
use super::date::Ymd;
use super::id_card;
use super::phone::{area_code_len, is_local, is_mobile};
use super::PiiKinds;
use crate::finding::{Finding, Kind, MatchType};

/// Longest digit run any detector uses (a 19-digit card number).
const MAX_RUN: usize = 19;
/// Enough digit storage for the longest chain any detector uses.
const MAX_DIGITS: usize = 24;
/// Enough groups for `4-4-4-4-3` and a country prefix.
const MAX_GROUPS: usize = 6;

/// The value and width in bytes of the digit at `i`, ASCII or full-width.
#[inline]
pub(crate) fn digit_at(bytes: &[u8], i: usize) -> Option<(u8, usize)> {
    match *bytes.get(i)? {
        b @ b'0'..=b'9' => Some((b - b'0', 1)),
        0xEF if bytes.get(i + 1) == Some(&0xBC) => match bytes.get(i + 2) {
            Some(&b @ 0x90..=0x99) => Some((b - 0x90, 3)),
            _ => None,
        },
        _ => None,
    }
}

/// Whether a digit ends right before `i`.
fn digit_before(bytes: &[u8], i: usize) -> bool {
    (i >= 1 && bytes[i - 1].is_ascii_digit())
        || (i >= 3
            && bytes[i - 3] == 0xEF
            && bytes[i - 2] == 0xBC
            && (0x90..=0x99).contains(&bytes[i - 1]))
}

/// The width of an `X` check character at `i` (`X`, `x`, `Ｘ`, `ｘ`).
fn check_x_at(bytes: &[u8], i: usize) -> Option<usize> {
    match bytes.get(i..) {
        Some([b'X' | b'x', ..]) => Some(1),
        Some([0xEF, 0xBC, 0xB8, ..]) | Some([0xEF, 0xBD, 0x98, ..]) => Some(3),
        _ => None,
    }
}

fn is_sep(b: u8) -> bool {
    b == b' ' || b == b'-'
}

/// Whether `sep` then a group of at most four digits follow at `i`: the
/// chain goes on. A longer run after the separator is a number of its own
/// (`4111 1111 1111 1111 13800138000` is a card, then a phone).
fn continues(bytes: &[u8], i: usize, sep: u8) -> bool {
    if bytes.get(i) != Some(&sep) {
        return false;
    }
    let mut at = i + 1;
    let mut len = 0;
    while let Some((_, w)) = digit_at(bytes, at) {
        len += 1;
        at += w;
        if len > 4 {
            return false;
        }
    }
    len > 0 && !dotted_at(bytes, at)
}

/// Whether a `.` or `:` and a digit follow at `i`: the digits before are
/// the start of a dotted code (`10.0.0.1`, `12:30`), never a group of a
/// number before them.
fn dotted_at(bytes: &[u8], i: usize) -> bool {
    matches!(bytes.get(i), Some(b'.' | b':')) && digit_at(bytes, i + 1).is_some()
}

#[derive(Clone, Copy, Default, Debug)]
struct Group {
    start: usize,
    end: usize,
    /// Index of the group's first digit in `Chain::digits`.
    first: usize,
    /// Number of digits, even past what `Chain::digits` stores.
    len: usize,
    /// The separator before the group (0 for the first).
    sep: u8,
}

/// Digit groups read from one starting digit.
struct Chain {
    digits: [u8; MAX_DIGITS],
    stored: usize,
    groups: [Group; MAX_GROUPS],
    count: usize,
}

impl Chain {
    fn read(bytes: &[u8], start: usize) -> Chain {
        let mut c = Chain {
            digits: [0; MAX_DIGITS],
            stored: 0,
            groups: [Group::default(); MAX_GROUPS],
            count: 0,
        };
        let mut i = start;
        let mut sep = 0;
        loop {
            let g = Group {
                start: i,
                first: c.stored,
                sep,
                ..Group::default()
            };
            let mut len = 0;
            while let Some((v, w)) = digit_at(bytes, i) {
                if c.stored < MAX_DIGITS {
                    c.digits[c.stored] = v;
                    c.stored += 1;
                }
                len += 1;
                i += w;
            }
            if c.count > 0 && dotted_at(bytes, i) {
                // A dotted code after the separator: the chain ends before it.
                c.stored = g.first;
                break;
            }
            c.groups[c.count] = Group { end: i, len, ..g };
            c.count += 1;
            if len > MAX_RUN || c.count == MAX_GROUPS || c.stored == MAX_DIGITS {
                break;
            }
            match bytes.get(i) {
                Some(&s) if is_sep(s) && digit_at(bytes, i + 1).is_some() => {
                    sep = s;
                    i += 1;
                }
                _ => break,
            }
        }
        c
    }

    /// The digits of groups `from..to`, if all were stored.
    fn digits(&self, from: usize, to: usize) -> Option<&[u8]> {
        let a = self.groups[from].first;
        let last = self.groups[to - 1];
        let b = last.first + last.len;
        (b <= self.stored).then(|| &self.digits[a..b])
    }

    /// Whether groups `1..n` exist, have the given lengths, and are joined
    /// by the same separator, which must be one of `seps`.
    fn shape(&self, lens: &[usize], seps: &[u8]) -> Option<u8> {
        if self.count < lens.len() {
            return None;
        }
        let sep = self.groups.get(1).map_or(0, |g| g.sep);
        let ok = lens
            .iter()
            .zip(&self.groups)
            .enumerate()
            .all(|(i, (&l, g))| g.len == l && (i == 0 || (g.sep == sep && seps.contains(&sep))));
        ok.then_some(sep)
    }
}

/// How far a digit chain reaches in a text that may still grow.
pub(crate) enum Extent {
    /// The chain ends at this byte, before the end of the text.
    Ends(usize),
    /// Its first run is already too long to be any number and reaches the
    /// end of the text.
    LongRunToEnd,
    /// It reaches the end of the text: more digits may follow.
    Open,
}

/// The extent of the chain that starts with the digit at `start`.
pub(crate) fn chain_extent(bytes: &[u8], start: usize) -> Extent {
    let c = Chain::read(bytes, start);
    let g0 = c.groups[0];
    if g0.end == bytes.len() {
        return if g0.len > MAX_RUN {
            Extent::LongRunToEnd
        } else {
            Extent::Open
        };
    }
    let last = c.groups[c.count - 1];
    if last.end == bytes.len() {
        Extent::Open
    } else {
        Extent::Ends(last.end)
    }
}

/// A number found: its span and what it is.
struct Hit {
    start: usize,
    end: usize,
    kind: Kind,
    category: &'static str,
}

impl Hit {
    fn id(start: usize, end: usize) -> Hit {
        Hit {
            start,
            end,
            kind: Kind::IdCard,
            category: "cn",
        }
    }

    fn mobile(start: usize, end: usize) -> Hit {
        Hit {
            start,
            end,
            kind: Kind::Phone,
            category: "mobile",
        }
    }
}

/// Classifies the numbers that start at each stop of the scanning pass.
pub(crate) struct NumberFinder {
    pub(crate) kinds: PiiKinds,
    pub(crate) today: Ymd,
}

impl NumberFinder {
    /// Reads the number starting at the digit at `start`, pushes it to `out`
    /// if it is one of the enabled kinds, and returns where scanning goes on
    /// and whether a number ended there. `after_number` says the previous
    /// number found ends right before the separator before `start`: a
    /// number next to a whole number is not a piece of a longer one.
    pub(crate) fn at<'h>(
        &self,
        text: &'h str,
        start: usize,
        after_number: bool,
        out: &mut Vec<Finding<'h>>,
    ) -> (usize, bool) {
        let bytes = text.as_bytes();
        // Most digit runs in prose are short (dates, amounts, ids in URLs):
        // reject them before reading a chain. A run shorter than 11 digits
        // can only start a grouped form, then a separator: 3 digits (a
        // mobile), 4 (a card) or 6 (an ID). Country prefixes are found
        // backwards from the mobile number, never from here.
        let (mut len, mut end) = (0, start);
        while let Some((_, w)) = digit_at(bytes, end) {
            len += 1;
            end += w;
        }
        if self.kinds.get(Kind::Phone) && len <= 4 {
            if let Some(hit) = landline(bytes, start, len, end, after_number) {
                return self.push(text, hit, out);
            }
        }
        // 5 and 7 digits: a country prefix glued to a grouped mobile.
        if len < 11 && !(matches!(len, 3..=7) && bytes.get(end).is_some_and(|&b| is_sep(b))) {
            return (end, false);
        }
        let chain = Chain::read(bytes, start);
        match self.classify(bytes, &chain, after_number) {
            Some(hit) => self.push(text, hit, out),
            None => (chain.groups[0].end, false),
        }
    }

    /// Pushes `hit` if its kind is enabled; returns where scanning goes on.
    fn push<'h>(&self, text: &'h str, hit: Hit, out: &mut Vec<Finding<'h>>) -> (usize, bool) {
        if self.kinds.get(hit.kind) {
            let span = &text.as_bytes()[hit.start..hit.end];
            let match_type = if span.iter().any(|&b| b >= 0x80) {
                MatchType::Normalized
            } else {
                MatchType::Exact
            };
            out.push(Finding::pii(
                text,
                hit.start..hit.end,
                hit.kind,
                match_type,
                hit.category,
            ));
        }
        (hit.end, true)
    }

    fn classify(&self, bytes: &[u8], c: &Chain, after_number: bool) -> Option<Hit> {
        let g0 = c.groups[0];
        if g0.len > MAX_RUN {
            return None;
        }
        match self.one_run(bytes, g0, c.digits(0, 1)?) {
            OneRun::Is(hit) => return Some(hit),
            OneRun::MistypedId => return None,
            OneRun::Nothing if c.count < 2 => return None,
            OneRun::Nothing => {}
        }
        // Grouped forms. A chain that goes on with the same separator after
        // the groups a form uses, or that an earlier group joins, is a longer
        // number (`1234 5678 9012 3456 7890 1234`) and not this form.
        let form = Grouped {
            bytes,
            c,
            prefix: prefix_start(bytes, g0.start),
            joined_before: !after_number && joined_before(bytes, g0.start),
        };
        self.grouped_id(&form)
            .or_else(|| form.mobile())
            .or_else(|| form.card())
    }

    /// The first run of digits alone, classified by its length.
    fn one_run(&self, bytes: &[u8], g0: Group, d0: &[u8]) -> OneRun {
        let id = |start, end| OneRun::Is(Hit::id(start, end));
        match g0.len {
            // X ends the digit run: whatever follows it, even a letter
            // (`…002Xdata` in glued text), the check character decides.
            17 => match check_x_at(bytes, g0.end) {
                Some(w) if id_card::is_valid_18(d0, 10, self.today) => {
                    return id(g0.start, g0.end + w)
                }
                _ => {}
            },
            18 if id_card::is_valid_18(&d0[..17], d0[17], self.today) => {
                return id(g0.start, g0.end)
            }
            // A real region and birth date with a wrong check character:
            // a mistyped ID, not a card number.
            18 if id_card::looks_like_18(d0, self.today) => return OneRun::MistypedId,
            15 if id_card::is_valid_15(d0, self.today) => return id(g0.start, g0.end),
            _ => {}
        }
        let national = match g0.len {
            11 => Some(d0),
            13 if d0.starts_with(&[8, 6]) => Some(&d0[2..]),
            15 if d0.starts_with(&[0, 0, 8, 6]) => Some(&d0[4..]),
            _ => None,
        };
        if national.is_some_and(is_mobile) {
            let start = if g0.len == 11 {
                prefix_start(bytes, g0.start).unwrap_or(g0.start)
            } else if g0.len == 13 && g0.start > 0 && bytes[g0.start - 1] == b'+' {
                g0.start - 1
            } else {
                g0.start
            };
            return OneRun::Is(Hit::mobile(start, g0.end));
        }
        // A domestic landline written without separators (`02162345678`).
        if area_code_len(d0).is_some_and(|a| a <= d0.len() && is_local(a, &d0[a..])) {
            return OneRun::Is(Hit {
                start: g0.start,
                end: g0.end,
                kind: Kind::Phone,
                category: "landline",
            });
        }
        if let Some(network) = card_network(d0) {
            return OneRun::Is(Hit {
                start: g0.start,
                end: g0.end,
                kind: Kind::BankCard,
                category: network,
            });
        }
        OneRun::Nothing
    }

    /// The 6-8-4 resident ID with single spaces, or 6-8-3 and the check
    /// character X.
    fn grouped_id(&self, form: &Grouped<'_>) -> Option<Hit> {
        let (bytes, c) = (form.bytes, form.c);
        if form.joined_before {
            return None;
        }
        let start = c.groups[0].start;
        if let Some(sep) = c.shape(&[6, 8, 4], b" ") {
            let d = c.digits(0, 3)?;
            let end = form.end_of(3);
            if !continues(bytes, end, sep) && id_card::is_valid_18(&d[..17], d[17], self.today) {
                return Some(Hit::id(start, end));
            }
        }
        // The check character X ends the number, whatever follows it (as
        // for the ungrouped form): a group after it is another number.
        c.shape(&[6, 8, 3], b" ")?;
        let end = form.end_of(3);
        let w = check_x_at(bytes, end)?;
        let d = c.digits(0, 3)?;
        id_card::is_valid_18(d, 10, self.today).then_some(Hit::id(start, end + w))
    }
}

/// What the first run of digits is, read alone.
enum OneRun {
    /// A number.
    Is(Hit),
    /// A mistyped ID: nothing, and no grouped reading either.
    MistypedId,
    /// Nothing alone; a grouped form may still start here.
    Nothing,
}

/// A chain of at least two groups, read as the grouped forms.
struct Grouped<'a> {
    bytes: &'a [u8],
    c: &'a Chain,
    /// Where a country prefix before the first group starts.
    prefix: Option<usize>,
    /// An earlier group joins the first with a separator.
    joined_before: bool,
}

impl Grouped<'_> {
    fn end_of(&self, n: usize) -> usize {
        self.c.groups[n - 1].end
    }

    /// The 3-4-4 mobile number, possibly after a +86 prefix, which may be
    /// glued to the first group (`+86193 3096 5634`, `0086190-8783-1012`).
    fn mobile(&self) -> Option<Hit> {
        let c = self.c;
        let g0 = c.groups[0];
        let glued = match g0.len {
            5 => 2,
            7 => 4,
            _ => 0,
        };
        let d = c.digits(0, 3)?;
        let prefix_ok = match glued {
            2 => d.starts_with(&[8, 6]),
            4 => d.starts_with(&[0, 0, 8, 6]),
            _ => true,
        };
        if !prefix_ok || (self.joined_before && self.prefix.is_none()) {
            return None;
        }
        let sep = c.shape(&[g0.len, 4, 4], b" -")?;
        let end = self.end_of(3);
        let start = match glued {
            0 => self.prefix.unwrap_or(g0.start),
            2 if g0.start > 0 && self.bytes[g0.start - 1] == b'+' => g0.start - 1,
            _ => g0.start,
        };
        let glued_to_digits = glued > 0 && digit_before(self.bytes, start);
        (matches!(g0.len, 3 | 5 | 7)
            && !glued_to_digits
            && !continues(self.bytes, end, sep)
            && is_mobile(&d[glued..]))
        .then(|| Hit::mobile(start, end))
    }

    /// Card numbers grouped by four (the last group shorter), or the 4-6-5
    /// and 4-6-4 groupings of Amex and Diners.
    fn card(&self) -> Option<Hit> {
        let c = self.c;
        if self.joined_before || c.groups[0].len != 4 {
            return None;
        }
        let sep = c.groups[1].sep;
        let n = (1..c.count)
            .take_while(|&i| c.groups[i].sep == sep && c.groups[i].len <= 6)
            .count()
            + 1;
        if continues(self.bytes, self.end_of(n), sep) {
            return None;
        }
        let lens = c.groups[..n].iter().map(|g| g.len);
        let by_four = n >= 4
            && lens.clone().take(n - 1).all(|l| l == 4)
            && (1..=4).contains(&c.groups[n - 1].len);
        let amex = n == 3 && c.groups[1].len == 6 && matches!(c.groups[2].len, 4 | 5);
        let network = card_network(c.digits(0, n)?).filter(|_| by_four || amex)?;
        Some(Hit {
            start: c.groups[0].start,
            end: self.end_of(n),
            kind: Kind::BankCard,
            category: network,
        })
    }
}

/// Where a country prefix (`+86`, `0086`, `86`, `(+86)`, `(86)`, `(0086)`,
/// then an optional space or dash) starts, if one ends right before the
/// national number at `national`.
fn prefix_start(bytes: &[u8], national: usize) -> Option<usize> {
    let head = &bytes[..national];
    let head = match head.last() {
        Some(&s) if is_sep(s) => &head[..head.len() - 1],
        _ => head,
    };
    let free = |at: usize| at == 0 || !digit_before(bytes, at);
    if let Some(h) = head.strip_suffix(b")") {
        for p in [&b"(+86"[..], b"(86", b"(0086"] {
            if h.ends_with(p) {
                return Some(h.len() - p.len());
            }
        }
        return None;
    }
    if head.ends_with(b"+86") {
        return Some(head.len() - 3);
    }
    for p in [&b"0086"[..], b"86"] {
        if head.ends_with(p) && free(head.len() - p.len()) {
            return Some(head.len() - p.len());
        }
    }
    None
}

/// The landline whose first digits are the run of `len` digits at
/// `start` (ending at `end`): a domestic number with its area code (`010
/// 6234 5678`, `0571-87654321`, `(0571)87654321`), or after a country
/// prefix the area code without its 0 (`+86 10 6234 5678`). National
/// service numbers (400, 800, 95xxx) have no area code and are not
/// personal data: never landlines.
fn landline(bytes: &[u8], start: usize, len: usize, end: usize, after_number: bool) -> Option<Hit> {
    // The area code with its 0, and where the number's span starts.
    let mut area = [0u8; 5];
    let (span_start, digits) = if bytes[start] == b'0' {
        (open_paren(bytes, start).unwrap_or(start), &mut area[..len])
    } else {
        (prefix_start(bytes, start)?, &mut area[..=len])
    };
    let skip = digits.len() - len;
    let mut at = start;
    for d in &mut digits[skip..] {
        let (v, w) = digit_at(bytes, at)?;
        *d = v;
        at += w;
    }
    // A parenthesis or a country prefix starts a number of its own; a
    // bare area code may be a group of a longer number (`12-010-…`).
    let joined = span_start == start && !after_number && joined_before(bytes, start);
    if area_code_len(digits)? != digits.len() || joined {
        return None;
    }
    let local_start = after_area_code(bytes, end, span_start < start && skip == 0)?;
    let (local, local_end) = local_number(bytes, local_start)?;
    is_local(digits.len(), &local.0[..local.1]).then_some(Hit {
        start: span_start,
        end: local_end,
        kind: Kind::Phone,
        category: "landline",
    })
}

/// Where an opening parenthesis (`(` or `（`) right before `i` starts.
fn open_paren(bytes: &[u8], i: usize) -> Option<usize> {
    if i >= 1 && bytes[i - 1] == b'(' {
        Some(i - 1)
    } else if i >= 3 && bytes[i - 3..i] == [0xEF, 0xBC, 0x88] {
        Some(i - 3)
    } else {
        None
    }
}

/// Where the local number starts after an area code ending at `i`: past
/// a space or a dash, or past the closing parenthesis of an opening one
/// (and a space after it).
fn after_area_code(bytes: &[u8], i: usize, in_parens: bool) -> Option<usize> {
    if !in_parens {
        return bytes.get(i).is_some_and(|&b| is_sep(b)).then_some(i + 1);
    }
    let i = match bytes.get(i..)? {
        [b')', ..] => i + 1,
        [0xEF, 0xBC, 0x89, ..] => i + 3,
        _ => return None,
    };
    Some(if bytes.get(i) == Some(&b' ') {
        i + 1
    } else {
        i
    })
}

/// The local number at `i`: one run of digits (which ends where the run
/// does: a group after it is another number, as a card grouped by four),
/// or two groups (3-4 or 4-4) joined by one separator that does not go on. Its digits (stored, and
/// how many) and where it ends.
fn local_number(bytes: &[u8], i: usize) -> Option<(([u8; MAX_DIGITS], usize), usize)> {
    let c = Chain::read(bytes, i);
    let g = &c.groups;
    let groups = if c.count == 1 || matches!((g[0].len, g[1].len), (3 | 4, 4)) {
        c.count.min(2)
    } else {
        1
    };
    if groups == 2 && continues(bytes, g[1].end, g[1].sep) {
        return None;
    }
    let d = c.digits(0, groups)?;
    let mut stored = [0u8; MAX_DIGITS];
    stored[..d.len()].copy_from_slice(d);
    Some(((stored, d.len()), g[groups - 1].end))
}

/// Whether a digit group joins the number starting at `i` from before
/// (`12-010-62345678` is no landline): a separator, then digits that are
/// not the end of a code of letters and digits (`…Y43 110105 …` is a code,
/// then a number).
fn joined_before(bytes: &[u8], i: usize) -> bool {
    if !(i >= 2 && is_sep(bytes[i - 1]) && digit_before(bytes, i - 1)) {
        return false;
    }
    let mut j = i - 1;
    while j > 0 && bytes[j - 1].is_ascii_digit() {
        j -= 1;
    }
    !(super::token::alnum_before(bytes, j)
        || (j > 0 && matches!(bytes[j - 1], b'.' | b':' | b'(' | b')'))
        || bytes[..j].ends_with("·".as_bytes()))
}
