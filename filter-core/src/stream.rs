//! [`StreamScanner`]: scanning a token stream without leaking, without
//! buffering the whole answer, in linear time.
//!
//! Every pass (numbers and emails, secrets, words) keeps a cursor and
//! resumes where it stopped; a pass decides nothing that text still to come
//! could change, and reports a frontier before which nothing more will be
//! found. Text before the lowest frontier, and before any finding not yet
//! final, is released redacted; the rest is held back. Only the held-back
//! tail and a little context before it are kept and scanned again.

use std::collections::BTreeSet;
use std::ops::Range;
use std::sync::Arc;

use crate::detectors::Detectors;
use crate::error::Error;
use crate::finding::{Action, Detached, Finding, Kind, MatchType};
use crate::lexicon::normalize::noise_run_after;
use crate::lexicon::{LexCursor, Lexicon};
use crate::limits::{Interrupt, ScanLimits};
use crate::offsets::floor_char;
use crate::overlap::{self, Overlaps};
use crate::pii::custom::{self, CustomCursor};
use crate::pii::{date, PiiCursor, PiiDetectors, PiiKinds, Ymd, PII_HOLD_BACK, PII_LOOKBACK};
use crate::pseudonym::placeholder::{self, MAX_PLACEHOLDER_BYTES};
use crate::pseudonym::{Fate, RestoreRule, Vault};
use crate::redact::RedactionPolicy;

/// The detector configuration a stream judges personal data with.
#[derive(Debug)]
pub(crate) struct StreamDetectors {
    pub(crate) detectors: Detectors,
    pub(crate) min_confidence: f32,
    /// Custom detectors run.
    pub(crate) custom: bool,
}

/// A finding of a stream, at offsets from the start of the stream.
#[derive(Clone, Debug)]
pub struct StreamFinding {
    inner: Detached,
    chars: Range<usize>,
    utf16: Range<usize>,
}

impl StreamFinding {
    /// What was found.
    pub fn kind(&self) -> Kind {
        self.inner.kind
    }

    /// UTF-8 byte offsets from the start of the stream.
    pub fn range(&self) -> Range<usize> {
        self.inner.start..self.inner.end
    }

    /// Code-point offsets from the start of the stream.
    pub fn char_range(&self) -> Range<usize> {
        self.chars.clone()
    }

    /// UTF-16 code-unit offsets from the start of the stream.
    pub fn utf16_range(&self) -> Range<usize> {
        self.utf16.clone()
    }

    /// As [`Finding::category`](crate::Finding::category).
    pub fn category(&self) -> &str {
        self.inner.category()
    }

    /// As [`Finding::term`](crate::Finding::term).
    pub fn term(&self) -> Option<&str> {
        self.inner.term()
    }

    /// As [`Finding::action`](crate::Finding::action).
    pub fn action(&self) -> Option<Action> {
        self.inner.action()
    }

    /// As [`Finding::confidence`](crate::Finding::confidence).
    pub fn confidence(&self) -> f32 {
        self.inner.confidence()
    }

    /// As [`Finding::match_type`](crate::Finding::match_type).
    pub fn match_type(&self) -> MatchType {
        self.inner.match_type()
    }

    /// As [`Finding::edit_distance`](crate::Finding::edit_distance).
    pub fn edit_distance(&self) -> u32 {
        self.inner.edit_distance()
    }
}

/// What one [`StreamScanner::push`] or [`StreamScanner::finish`] releases.
#[derive(Clone, Debug, Default)]
pub struct StreamOutput {
    /// Text now safe to pass on, already redacted; it continues the text
    /// released before.
    pub text: String,
    /// Findings completed since the last output, at stream offsets.
    pub findings: Vec<StreamFinding>,
}

/// Scans a stream of chunks as [`Scanner::scan`](crate::Scanner::scan) and
/// [`RedactionPolicy::apply`] would scan and redact the whole text.
///
/// Guarantees, for every way of cutting a text into chunks:
///
/// * the released texts, concatenated, equal `redact()` of the whole text,
///   and the findings equal `scan()` of the whole text;
/// * no released text holds a piece of a finding that completes later;
/// * the text held back never exceeds [`StreamScanner::hold_back_bound`];
/// * each byte is scanned a bounded number of times: the work is linear in
///   the length of the stream.
///
/// ```
/// use filter_core::{RedactionPolicy, Scanner};
///
/// let scanner = Scanner::new();
/// let mut stream = scanner.stream(&Default::default(), RedactionPolicy::new());
/// let mut out = String::new();
/// for chunk in ["我的手机是138", "0013", "8000，谢谢"] {
///     out += &stream.push(chunk).text;
/// }
/// out += &stream.finish().text;
/// assert_eq!(out, "我的手机是[PHONE]，谢谢");
/// ```
#[derive(Debug)]
pub struct StreamScanner {
    pii: PiiDetectors,
    kinds: PiiKinds,
    today: Ymd,
    lexicon: Option<Arc<Lexicon>>,
    categories: Option<BTreeSet<String>>,
    policy: RedactionPolicy,
    /// The stream from `origin` on: context, then the held-back text.
    buf: String,
    origin: usize,
    /// The run of noise characters just before `origin`.
    run_before: usize,
    released: usize,
    /// Code points and UTF-16 units released.
    released_units: (usize, usize),
    pii_cursor: PiiCursor,
    lex_cursor: LexCursor,
    judges: StreamDetectors,
    custom_cursor: CustomCursor,
    /// Personal data found whose context after it has not all arrived.
    awaiting: Vec<Detached>,
    /// Findings decided by their pass, not yet ordered against the others.
    pending: Vec<Detached>,
    /// The overlap rule, holding the last finding it kept while a later one
    /// may still replace it.
    overlaps: Overlaps<Detached>,
    /// A pass was stopped by its limits: the stream releases nothing more.
    broken: bool,
    /// The vault a restoring stream puts values back from, and the
    /// confidence a finding needs to be redacted (the passes then judge
    /// at confidence 0, since any value may be a surrogate).
    restore: Option<(Arc<Vault>, f32)>,
    context: usize,
    bound: usize,
    most_held: usize,
}

impl StreamScanner {
    pub(crate) fn new(
        pii: PiiDetectors,
        kinds: PiiKinds,
        lexicon: Option<Arc<Lexicon>>,
        categories: Option<BTreeSet<String>>,
        policy: RedactionPolicy,
        judges: StreamDetectors,
    ) -> StreamScanner {
        let lex_context = lexicon.as_ref().map_or(0, |l| l.context_bytes());
        let lex_bound = lexicon.as_ref().map_or(0, |l| l.hold_back_bytes());
        let pii_on = kinds.any() || judges.custom;
        let pii_bound = if pii_on {
            PII_HOLD_BACK + judges.detectors.hold_back_bytes()
        } else {
            0
        };
        let context = lex_context
            .max(PII_LOOKBACK + 16)
            .max(judges.detectors.context_bytes() + 4);
        StreamScanner {
            pii,
            kinds,
            today: date::today(),
            lexicon,
            categories,
            policy,
            buf: String::new(),
            origin: 0,
            run_before: 0,
            released: 0,
            released_units: (0, 0),
            pii_cursor: PiiCursor::default(),
            lex_cursor: LexCursor::default(),
            judges,
            custom_cursor: CustomCursor::default(),
            awaiting: Vec::new(),
            pending: Vec::new(),
            overlaps: Overlaps::default(),
            broken: false,
            restore: None,
            context,
            bound: pii_bound + lex_bound,
            most_held: 0,
        }
    }

    /// This stream restoring `vault`'s values as it filters, as
    /// [`Scanner::restore_and_redact`](crate::Scanner::restore_and_redact)
    /// does for a whole text: placeholders and surrogates come back (a
    /// placeholder cut between chunks is held until it completes), the
    /// vault's originals stay, and what else the stream finds is redacted
    /// and reported. Call it before the first chunk.
    ///
    /// ```
    /// use filter_core::{RedactionPolicy, Scanner, Vault};
    ///
    /// let scanner = Scanner::new();
    /// let mut vault = Vault::new();
    /// scanner.pseudonymize("电话13800138000", &mut vault, &RedactionPolicy::new())?;
    /// let mut stream = scanner
    ///     .stream(&Default::default(), RedactionPolicy::new())
    ///     .restoring(vault);
    /// let mut out = String::new();
    /// for chunk in ["请拨[PH", "ONE_", "1]或1390013", "9000"] {
    ///     out += &stream.push(chunk).text;
    /// }
    /// let last = stream.finish();
    /// out += &last.text;
    /// assert_eq!(out, "请拨13800138000或[PHONE]");
    /// # Ok::<(), filter_core::Error>(())
    /// ```
    pub fn restoring(mut self, vault: impl Into<Arc<Vault>>) -> StreamScanner {
        if self.restore.is_none() {
            self.bound += MAX_PLACEHOLDER_BYTES;
        }
        let min = match &self.restore {
            Some((_, min)) => *min,
            None => self.judges.min_confidence,
        };
        self.judges.min_confidence = 0.0;
        self.restore = Some((vault.into(), min));
        self
    }

    /// The most bytes this stream ever holds back: the longest personal-data
    /// form with the look-ahead deciding it needs (461 bytes) and the context
    /// after a value that its confidence waits for (8 characters, counted
    /// at 4 bytes: 493 bytes with the built-in rules), plus, with a
    /// lexicon, the longest term's normalized bytes, an allowed term's and
    /// the fuzzy window's look-ahead, each normalized byte counted at four
    /// original bytes plus its allowed noise.
    pub fn hold_back_bound(&self) -> usize {
        self.bound
    }

    /// The most bytes held back so far.
    pub fn most_held_back(&self) -> usize {
        self.most_held
    }

    /// Bytes of the stream kept in memory: the held-back text and the
    /// context before it.
    #[cfg(test)]
    pub(crate) fn buffered_bytes(&self) -> usize {
        self.buf.len()
    }

    /// Bytes of the stream released so far.
    pub fn released_bytes(&self) -> usize {
        self.released
    }

    /// Adds a chunk; returns what is now safe to release.
    pub fn push(&mut self, chunk: &str) -> StreamOutput {
        self.buf.push_str(chunk);
        self.step(false, &Interrupt::none())
            .expect("a scan without limits is never interrupted")
    }

    /// [`StreamScanner::push`] within `limits`: fails when the text now
    /// decided holds more findings than the limit, or when the token is
    /// cancelled or the deadline passes during the push. After an error
    /// the stream is broken: it releases nothing more, not even from
    /// [`StreamScanner::finish`], so no text it held leaves unscanned.
    ///
    /// ```
    /// use filter_core::{RedactionPolicy, ScanLimits, Scanner};
    ///
    /// let mut stream = Scanner::new().stream(&Default::default(), RedactionPolicy::new());
    /// let limits = ScanLimits::new().max_findings(1);
    /// assert!(stream.try_push("电话13800138000，", &limits).is_ok());
    /// let more = "13900139000，13700137000，13600136000，以上号码均已停用，请勿拨打。";
    /// assert!(stream.try_push(more, &limits).unwrap_err().is_too_many_findings());
    /// assert_eq!(stream.finish().text, "", "a broken stream releases nothing");
    /// ```
    pub fn try_push(&mut self, chunk: &str, limits: &ScanLimits) -> Result<StreamOutput, Error> {
        self.buf.push_str(chunk);
        let interrupt = Interrupt::new(limits);
        self.step(false, &interrupt)
    }

    /// Ends the stream; returns everything still held, decided.
    pub fn finish(mut self) -> StreamOutput {
        self.step(true, &Interrupt::none())
            .expect("a scan without limits is never interrupted")
    }

    /// Scans what arrived, releases what is decided, keeps the rest.
    fn step(&mut self, finished: bool, interrupt: &Interrupt<'_>) -> Result<StreamOutput, Error> {
        if self.broken {
            return Ok(StreamOutput::default());
        }
        let frontier = self.run_passes(finished, interrupt);
        if let Err(e) = interrupt.result() {
            self.broken = true;
            return Err(e);
        }
        let (finals, release) = self.decide(frontier);
        interrupt
            .check_count(finals.len())
            .inspect_err(|_| self.broken = true)?;
        let out = self.release(finals, release, finished);
        self.most_held = self
            .most_held
            .max(self.origin + self.buf.len() - self.released);
        self.forget_released();
        Ok(out)
    }

    /// Runs every pass from its cursor over the buffer, adds what they
    /// decided to `pending`, and returns the frontier before which nothing
    /// more will be found.
    fn run_passes(&mut self, finished: bool, interrupt: &Interrupt<'_>) -> usize {
        let end = self.origin + self.buf.len();
        let mut found = Vec::new();
        let mut frontier = end;
        if self.kinds.any() {
            frontier = self.pii.advance(
                &mut self.pii_cursor,
                &self.buf,
                self.origin,
                finished,
                self.kinds,
                self.today,
                interrupt,
                &mut found,
            );
        }
        if self.judges.custom {
            frontier = frontier.min(custom::advance_all(
                self.judges.detectors.custom(),
                &mut self.custom_cursor,
                &self.buf,
                self.origin,
                finished,
                interrupt,
                &mut found,
            ));
        }
        frontier = frontier.min(judge(
            &self.judges,
            &self.buf,
            self.origin,
            found,
            finished,
            &mut self.awaiting,
            &mut self.pending,
        ));
        let mut found = Vec::new();
        if let Some(lexicon) = &self.lexicon {
            frontier = frontier.min(lexicon.advance(
                &mut self.lex_cursor,
                &self.buf,
                self.origin,
                self.run_before,
                finished,
                self.categories.as_ref(),
                interrupt,
                &mut found,
            ));
        }
        self.pending
            .extend(found.iter().map(|f| f.detach(self.origin)));
        if finished {
            end
        } else {
            self.origin + floor_char(&self.buf, frontier.max(self.released) - self.origin)
        }
    }

    /// Feeds the overlap rule the pending findings that start before the
    /// frontier, in the order `scan()` feeds it. Returns the findings now
    /// final and how far text may be released.
    fn decide(&mut self, frontier: usize) -> (Vec<Detached>, usize) {
        overlap::sort(&mut self.pending);
        let ready = self.pending.partition_point(|f| f.start < frontier);
        let mut finals = Vec::new();
        for f in self.pending.drain(..ready) {
            finals.extend(self.overlaps.offer(f));
        }
        let mut release = frontier;
        match self.overlaps.pending() {
            Some(last) if last.end <= frontier => finals.extend(self.overlaps.take()),
            Some(last) => release = release.min(last.start),
            None => {}
        }
        (finals, release)
    }

    /// Releases the text from what was released before up to `release`,
    /// redacting (or, restoring, restoring) the final findings in it.
    fn release(&mut self, finals: Vec<Detached>, release: usize, finished: bool) -> StreamOutput {
        let mut out = StreamOutput::default();
        let mut at = self.released;
        for f in finals {
            self.write_text(at, f.start, &mut out.text);
            let (c0, u0) = self.released_units;
            self.count_units(f.start, f.end);
            let (c1, u1) = self.released_units;
            let found = f.attach(&self.buf, self.origin);
            let fate = match self.restore_rule() {
                Some(rule) => rule.write_finding(&found, &mut out.text),
                None => {
                    self.policy.replace_into(&found, &mut out.text);
                    Fate::Redacted
                }
            };
            at = f.end;
            if fate == Fate::Redacted {
                out.findings.push(StreamFinding {
                    inner: f,
                    chars: c0..c1,
                    utf16: u0..u1,
                });
            }
        }
        let mut release = release;
        if let Some(tail) = self
            .restore
            .as_ref()
            .filter(|_| !finished && release > at)
            .and_then(|_| {
                placeholder::partial_tail(&self.buf[at - self.origin..release - self.origin])
            })
        {
            // A placeholder the next chunk may complete waits for it.
            release = at + tail;
        }
        // (`>=` for `>` would append an empty slice: the same.)
        if release > at {
            self.write_text(at, release, &mut out.text);
            at = release;
        }
        self.released = at;
        out
    }

    /// Appends the stream's text `from..to`, which holds no finding (and,
    /// restoring, no placeholder cut at its end), and counts it released.
    fn write_text(&mut self, from: usize, to: usize, out: &mut String) {
        let piece = &self.buf[from - self.origin..to - self.origin];
        match self.restore_rule() {
            Some(rule) => rule.write_text(piece, out),
            None => out.push_str(piece),
        }
        self.count_units(from, to);
    }

    /// The rule a restoring stream releases text by.
    fn restore_rule(&self) -> Option<RestoreRule<'_>> {
        self.restore.as_ref().map(|(vault, min)| RestoreRule {
            vault,
            policy: Some(&self.policy),
            min_confidence: *min,
        })
    }

    /// Drops the released text but the context the passes look back at.
    fn forget_released(&mut self) {
        let keep = floor_char(
            &self.buf,
            self.released.saturating_sub(self.context).max(self.origin) - self.origin,
        );
        if keep > 0 {
            self.run_before = noise_run_after(&self.buf[..keep], self.run_before);
            self.buf.drain(..keep);
            self.origin += keep;
        }
    }

    /// Adds the code points and UTF-16 units of `from..to` to the
    /// released counts.
    fn count_units(&mut self, from: usize, to: usize) {
        let piece = &self.buf[from - self.origin..to - self.origin];
        let mut m = crate::OffsetMapper::new(piece);
        let (c, u) = m.map(piece.len());
        self.released_units.0 += c;
        self.released_units.1 += u;
    }
}

/// Judges the personal data `found` in `buf` (at absolute `origin`) and
/// that `awaiting` its context, as a whole-text scan does, once the
/// context after each has arrived: those reported go to `pending`, those
/// still waiting back to `awaiting`. Returns the frontier they leave.
fn judge(
    judges: &StreamDetectors,
    buf: &str,
    origin: usize,
    found: Vec<Finding<'_>>,
    finished: bool,
    awaiting: &mut Vec<Detached>,
    pending: &mut Vec<Detached>,
) -> usize {
    let before = std::mem::take(awaiting);
    let all = before.iter().map(|d| d.attach(buf, origin)).chain(found);
    crate::scratch::with(&crate::detectors::JUDGE_SCRATCH, |scratch| {
        for mut f in all {
            if !judges.detectors.has_context_after(&f, finished) {
                awaiting.push(f.detach(origin));
            } else if judges
                .detectors
                .judge_one(&mut f, judges.min_confidence, scratch)
            {
                pending.push(f.detach(origin));
            }
        }
    });
    awaiting
        .iter()
        .map(|d| d.start)
        .min()
        .unwrap_or(origin + buf.len())
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
