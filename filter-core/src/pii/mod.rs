//! The personal-data detectors and the single pass that drives them.
//!
//! Numbers, email addresses and token forms are found in one pass over the
//! bytes. The pass skips 32 bytes at a time (with vector instructions
//! where the CPU has them, see `blocks`) until a block holds a byte that
//! may start something: an ASCII digit or capital, an `@` or `:`, or a
//! full-width digit or capital (`０`-`９` are `EF BC 90`-`99`), so Chinese
//! text without numbers costs little more than reading it.
//! Secrets are found from their literal prefixes by an Aho-Corasick
//! automaton with a SIMD prefilter.

pub(crate) mod bank_card;
pub(crate) mod custom;
pub(crate) mod date;
pub(crate) mod email;
pub(crate) mod id_card;
pub(crate) mod ip;
mod number;
pub(crate) mod passport;
pub(crate) mod phone;
pub(crate) mod plate;
pub(crate) mod secret;
mod stops;
mod token;
pub(crate) mod uscc;
pub(crate) mod vin;

use crate::finding::{Finding, Kind, MatchType};
use crate::limits::Interrupt;
use crate::offsets::floor_char;

pub(crate) use self::date::Ymd;
use self::number::NumberFinder;
use self::secret::SecretFinder;
use self::stops::{Block, Stops};
pub(crate) use self::token::TokenRule;
use self::token::{starts_token, Token};

/// Which personal-data detectors of the pass run (custom detectors and
/// sensitive words run apart: their bits are never read here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PiiKinds {
    bits: u32,
}

/// The kinds the number pass reads, as bits.
const NUMBER_BITS: u32 =
    1 << Kind::IdCard as u32 | 1 << Kind::Phone as u32 | 1 << Kind::BankCard as u32;

/// The kinds with token forms, as bits (asked at every stop of the pass).
const TOKEN_BITS: u32 = {
    let mut bits = 0;
    let mut i = 0;
    while i < Kind::ALL.len() {
        if !Kind::ALL[i].spec().tokens.is_empty() {
            bits |= 1 << Kind::ALL[i] as u32;
        }
        i += 1;
    }
    bits
};

impl PiiKinds {
    pub(crate) fn none() -> PiiKinds {
        PiiKinds { bits: 0 }
    }

    pub(crate) fn set(&mut self, kind: Kind, on: bool) {
        if kind.is_pii() && kind != Kind::Custom {
            let bit = 1 << kind.index();
            if on {
                self.bits |= bit;
            } else {
                self.bits &= !bit;
            }
        }
    }

    pub(crate) fn get(&self, kind: Kind) -> bool {
        self.bits & (1 << kind.index()) != 0
    }

    pub(crate) fn numbers(&self) -> bool {
        self.bits & NUMBER_BITS != 0
    }

    /// Whether any kind with token forms is on.
    pub(crate) fn tokens(&self) -> bool {
        self.bits & TOKEN_BITS != 0
    }

    pub(crate) fn any(&self) -> bool {
        self.bits != 0
    }

    /// Bit `n` set when a token form of an enabled kind may be `n` digits
    /// alone (see [`TokenRule::digit_lengths`]).
    fn digit_forms(&self) -> u64 {
        let mut bits = 0;
        for kind in Kind::ALL.iter().copied().filter(|&k| self.get(k)) {
            for rule in kind.spec().tokens {
                for &n in rule.digit_lengths() {
                    bits |= 1u64.checked_shl(n as u32).unwrap_or(0);
                }
            }
        }
        bits
    }
}

/// The personal-data detectors, built once and shared.
#[derive(Clone, Debug)]
pub(crate) struct PiiDetectors {
    secrets: SecretFinder,
}

impl PiiDetectors {
    pub(crate) fn new() -> PiiDetectors {
        PiiDetectors {
            secrets: SecretFinder::new(),
        }
    }
}

/// Bytes after the end of a digit chain that classifying it may read (an
/// `X` check character, a separator and a further group).
const CHAIN_LOOKAHEAD: usize = 24;

/// How far back a finding may start from the position a pass is at: an
/// email's local part (64 bytes and the byte before it).
pub(crate) const PII_LOOKBACK: usize = 65;

/// The most a stream holds back for personal data: an undecided digit
/// chain (six groups of up to 19 full-width digits and separators, 347
/// bytes) with its look-ahead, or an email domain (253) or a key (256),
/// plus the look-back of an email's local part.
pub(crate) const PII_HOLD_BACK: usize = 347 + CHAIN_LOOKAHEAD + PII_LOOKBACK + 25;

/// Where the personal-data passes are in a text that may still grow, in
/// absolute byte offsets. A whole text is one run from the default cursor;
/// a stream runs the same code over successive windows.
#[derive(Clone, Debug, Default)]
pub(crate) struct PiiCursor {
    /// The next byte the number and email pass looks at.
    next: usize,
    /// Inside a digit run too long to be any number: skip its digits.
    skipping_run: bool,
    last_email_end: usize,
    last_number_end: Option<usize>,
    /// The next byte the secret pass looks at.
    secret_next: usize,
}

impl PiiDetectors {
    /// Runs the passes over `text`, which starts at absolute offset
    /// `origin`, from where `cursor` is; pushes findings (offsets relative
    /// to `text`) to `out` and returns the frontier: an absolute offset
    /// before which no finding is still to come. Unless `finished`, a pass
    /// stops before anything that text still to come could change.
    ///
    /// `text` must hold at least [`PII_LOOKBACK`] bytes before the cursor
    /// (or start at the beginning of the stream). When `interrupt` says
    /// stop, the passes stop where they are and the frontier means nothing.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn advance<'h>(
        &self,
        cursor: &mut PiiCursor,
        text: &'h str,
        origin: usize,
        finished: bool,
        kinds: PiiKinds,
        today: Ymd,
        interrupt: &Interrupt<'_>,
        out: &mut Vec<Finding<'h>>,
    ) -> usize {
        let end = origin + text.len();
        let mut frontier = end;
        if kinds.numbers() || kinds.tokens() || kinds.get(Kind::Email) {
            let pass = Pass {
                text,
                origin,
                finished,
                interrupt,
                digit_forms: kinds.digit_forms(),
            };
            frontier = numbers_and_emails(cursor, &pass, kinds, today, out);
        } else {
            cursor.next = end;
        }
        if kinds.get(Kind::Secret) {
            frontier =
                frontier.min(self.secrets_pass(cursor, text, origin, finished, interrupt, out));
        } else {
            cursor.secret_next = end;
        }
        frontier
    }

    /// The secret pass from `cursor`; returns its frontier.
    fn secrets_pass<'h>(
        &self,
        cursor: &mut PiiCursor,
        text: &'h str,
        origin: usize,
        finished: bool,
        interrupt: &Interrupt<'_>,
        out: &mut Vec<Finding<'h>>,
    ) -> usize {
        let mut frontier = origin + text.len();
        let mut at = cursor.secret_next - origin;
        while !interrupt.stop(out.len()) {
            match self.secrets.next(text, at, finished) {
                secret::Next::Found(range, provider) => {
                    at = range.end;
                    out.push(Finding::pii(
                        text,
                        range,
                        Kind::Secret,
                        MatchType::Exact,
                        provider,
                    ));
                }
                secret::Next::Rejected(next) => at = next,
                secret::Next::NeedMore(start) => {
                    at = start;
                    frontier = frontier.min(origin + start);
                    break;
                }
                secret::Next::Done => {
                    // A prefix may straddle the end of the text.
                    if finished {
                        at = text.len();
                    } else {
                        at = at.max(floor_char(text, text.len().saturating_sub(3)));
                        frontier = frontier.min(origin + at);
                    }
                    break;
                }
            }
        }
        cursor.secret_next = origin + at;
        frontier
    }

    /// Appends every personal-data finding in `text` to `out`, unsorted
    /// across detectors (numbers and emails may overlap).
    pub(crate) fn scan<'h>(
        &self,
        text: &'h str,
        kinds: PiiKinds,
        today: Ymd,
        interrupt: &Interrupt<'_>,
        out: &mut Vec<Finding<'h>>,
    ) {
        let mut cursor = PiiCursor::default();
        self.advance(&mut cursor, text, 0, true, kinds, today, interrupt, out);
    }
}

/// The text one run of a pass sees.
struct Pass<'h, 'i> {
    text: &'h str,
    /// The absolute offset of `text`.
    origin: usize,
    /// No more text will come.
    finished: bool,
    interrupt: &'i Interrupt<'i>,
    /// Bit `n`: some enabled token form may be `n` digits alone.
    digit_forms: u64,
}

/// What the pass decided at one stop.
enum Step {
    /// Go on from this byte.
    Next(usize),
    /// Undecided until more text comes: stop here.
    Blocked(usize),
    /// A digit run too long to be a number reaches the end: skip it.
    SkipRun,
}

fn numbers_and_emails<'h>(
    cursor: &mut PiiCursor,
    pass: &Pass<'h, '_>,
    kinds: PiiKinds,
    today: Ymd,
    out: &mut Vec<Finding<'h>>,
) -> usize {
    let bytes = pass.text.as_bytes();
    let tokens = kinds.tokens();
    let stops = Stops::new(
        kinds.numbers() || tokens,
        kinds.get(Kind::Email),
        tokens,
        kinds.get(Kind::IpAddress),
    );
    let numbers = NumberFinder { kinds, today };
    let mut i = cursor.next - pass.origin;
    if cursor.skipping_run {
        while let Some((_, w)) = number::digit_at(bytes, i) {
            i += w;
        }
        cursor.skipping_run = i == bytes.len() && !pass.finished;
    }
    let mut blocked = None;
    let mut block = Block::default();
    while !cursor.skipping_run && !pass.interrupt.stop(out.len()) {
        let Some(j) = stops.next(&mut block, bytes, i) else {
            i = bytes.len();
            break;
        };
        let step = match bytes[j] {
            b'@' => email_step(cursor, pass, j, out),
            b':' => ipv6_step(pass, kinds, j, out),
            b'0'..=b'9' => digit_step(cursor, pass, &numbers, kinds, j, out),
            0xEF if number::digit_at(bytes, j).is_some() => {
                digit_step(cursor, pass, &numbers, kinds, j, out)
            }
            _ => token_step(pass, kinds, j, out),
        };
        match step {
            Step::Next(next) => i = next,
            Step::Blocked(at) => {
                blocked = Some(at);
                break;
            }
            Step::SkipRun => {
                i = bytes.len();
                cursor.skipping_run = true;
                break;
            }
        }
    }
    let at = pass.origin + blocked.unwrap_or(i);
    cursor.next = at;
    if pass.finished {
        return at;
    }
    undecided_from(
        cursor,
        bytes,
        pass.origin,
        at,
        kinds.get(Kind::LicensePlate),
    )
}

/// The address around the `@` at `j`, if it can be judged yet.
fn email_step<'h>(
    cursor: &mut PiiCursor,
    pass: &Pass<'h, '_>,
    j: usize,
    out: &mut Vec<Finding<'h>>,
) -> Step {
    let bytes = pass.text.as_bytes();
    if !pass.finished && !email::decidable(bytes, j) {
        return Step::Blocked(j);
    }
    let floor = cursor.last_email_end.saturating_sub(pass.origin);
    match email::email_at(bytes, floor, j) {
        Some(r) => {
            let end = r.end;
            cursor.last_email_end = pass.origin + end;
            out.push(Finding::pii(
                pass.text,
                r,
                Kind::Email,
                MatchType::Exact,
                "",
            ));
            Step::Next(end)
        }
        None => Step::Next(j + 1),
    }
}

/// The numbers and token forms that start with the digit at `j`.
fn digit_step<'h>(
    cursor: &mut PiiCursor,
    pass: &Pass<'h, '_>,
    numbers: &NumberFinder,
    kinds: PiiKinds,
    j: usize,
    out: &mut Vec<Finding<'h>>,
) -> Step {
    // Both readings are judged only once both can be: neither pushes a
    // finding that a later retry from `j` would push again.
    let bytes = pass.text.as_bytes();
    if !pass.finished
        && kinds.tokens()
        && starts_token(bytes, j)
        && Token::read(bytes, j).reaches_end()
    {
        return Step::Blocked(j);
    }
    let number = if kinds.numbers() {
        number_step(cursor, pass, numbers, j, out)
    } else {
        Step::Next(j + 1)
    };
    let Step::Next(after_number) = number else {
        return number;
    };
    match token_step(pass, kinds, j, out) {
        Step::Next(after_token) => Step::Next(after_number.max(after_token)),
        blocked => blocked,
    }
}

/// The token forms that start at `j` (a digit or a capital), if they can
/// be judged yet. Where no token starts, the letters of the run are
/// skipped (its digits are still numbers' stops).
fn token_step<'h>(
    pass: &Pass<'h, '_>,
    kinds: PiiKinds,
    j: usize,
    out: &mut Vec<Finding<'h>>,
) -> Step {
    let bytes = pass.text.as_bytes();
    let skip_letters = || {
        let mut i = j + 1;
        while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
            i += 1;
        }
        // A full-width capital is three bytes: go past its first.
        Step::Next(if bytes[j] >= 0x80 { j + 3 } else { i })
    };
    if !kinds.tokens() || !starts_token(bytes, j) || no_digit_form(pass, j) {
        return skip_letters();
    }
    let t = Token::read(bytes, j);
    if !pass.finished && t.reaches_end() {
        return Step::Blocked(j);
    }
    match read_token(pass.text, &t, kinds, |_| true, out) {
        Some(end) => Step::Next(end),
        None => skip_letters(),
    }
}

/// Whether the run at `j` is digits alone, ended, and of a length no
/// enabled rule takes digits alone at (most runs: years, amounts, phone
/// and card numbers): then no token form starts there, and the run need
/// not be read as a token.
fn no_digit_form(pass: &Pass<'_, '_>, j: usize) -> bool {
    let bytes = pass.text.as_bytes();
    let run = bytes[j..].iter().take_while(|b| b.is_ascii_digit()).count();
    if run == 0 {
        return false;
    }
    let ended = match bytes.get(j + run) {
        None => pass.finished,
        Some(_) => token::token_char(bytes, j + run).is_none(),
    };
    ended && (run >= 64 || pass.digit_forms & (1 << run) == 0)
}

/// Offers `t` to the token rules of the enabled kinds that `rule_ok`
/// admits; pushes what they read and returns where the longest ends.
fn read_token<'h>(
    text: &'h str,
    t: &Token<'_>,
    kinds: PiiKinds,
    rule_ok: impl Fn(Kind) -> bool,
    out: &mut Vec<Finding<'h>>,
) -> Option<usize> {
    // The shortest form is a plate's serial: a letter and five characters.
    if t.chars().len() < 6 {
        return None;
    }
    let mut end = None;
    for &kind in Kind::ALL {
        if !kinds.get(kind) || !rule_ok(kind) {
            continue;
        }
        for &rule in kind.spec().tokens {
            if !t.may_hold(rule) {
                continue;
            }
            let Some(r) = rule.read(t).filter(|r| t.whole(r.chars)) else {
                continue;
            };
            let (start, stop) = (t.start - r.back, t.end_of(r.chars));
            let exact = t.bytes[t.start..stop].is_ascii();
            let match_type = if exact {
                MatchType::Exact
            } else {
                MatchType::Normalized
            };
            out.push(Finding::pii(
                text,
                start..stop,
                rule.kind(),
                match_type,
                r.category,
            ));
            end = end.max(Some(stop));
        }
    }
    end
}

/// An IPv6 address that starts with a small letter or `::`, met at the
/// `:` at `j` (those that start with a digit or a capital were read from
/// their first character). Goes on after the address, or at the next byte
/// when there is none (digits after the colon may be a number).
fn ipv6_step<'h>(
    pass: &Pass<'h, '_>,
    kinds: PiiKinds,
    j: usize,
    out: &mut Vec<Finding<'h>>,
) -> Step {
    let bytes = pass.text.as_bytes();
    let Some(start) = ip::v6_start(bytes, j).filter(|&s| starts_token(bytes, s)) else {
        return Step::Next(j + 1);
    };
    let t = Token::read(bytes, start);
    if !pass.finished && t.reaches_end() {
        return Step::Blocked(start);
    }
    // Nothing found: go on at the next byte, whose digits may be numbers.
    let end = read_token(pass.text, &t, kinds, |k| k == Kind::IpAddress, out);
    Step::Next(end.unwrap_or(j + 1).max(j + 1))
}

/// The number that starts with the digit at `j`, if it can be judged yet.
fn number_step<'h>(
    cursor: &mut PiiCursor,
    pass: &Pass<'h, '_>,
    numbers: &NumberFinder,
    j: usize,
    out: &mut Vec<Finding<'h>>,
) -> Step {
    let bytes = pass.text.as_bytes();
    if !pass.finished {
        match number::chain_extent(bytes, j) {
            number::Extent::Ends(e) if e + CHAIN_LOOKAHEAD <= bytes.len() => {}
            // Too long to be a number, still growing.
            number::Extent::LongRunToEnd => return Step::SkipRun,
            _ => return Step::Blocked(j),
        }
    }
    let origin = pass.origin;
    let after_number = cursor.last_number_end.is_some_and(|e| origin + j == e + 1);
    let (next, found) = numbers.at(pass.text, j, after_number, out);
    if found {
        cursor.last_number_end = Some(origin + next);
    }
    Step::Next(next)
}

/// The frontier of a pass stopped at absolute `at` in text that may
/// still grow: an email found later starts in the run of local-part
/// characters before `at` (and after the last email); a phone, at most at
/// the run of country-prefix characters before it. Chinese text before
/// `at` is final, but for a plate's province character or a landline's
/// full-width parenthesis right before that run.
fn undecided_from(
    cursor: &PiiCursor,
    bytes: &[u8],
    origin: usize,
    at: usize,
    plates: bool,
) -> usize {
    let tail = |ok: fn(&u8) -> bool, cap: usize| {
        bytes[..at - origin]
            .iter()
            .rev()
            .take(cap)
            .take_while(|b| ok(b))
            .count()
    };
    let local = tail(
        |b| b.is_ascii_alphanumeric() || b"._%+-".contains(b),
        PII_LOOKBACK,
    );
    let mut prefix = tail(|b| b.is_ascii_digit() || b"+() -".contains(b), 8);
    let before = &bytes[..at - origin - prefix];
    // A landline's full-width opening parenthesis, a plate's province.
    if before.ends_with("（".as_bytes())
        || (plates && plate::province_before(before, before.len()).is_some())
    {
        prefix += 3;
    }
    let email = cursor.last_email_end.max(at - local);
    email.min(at - prefix)
}
