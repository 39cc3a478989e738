//! Limits on one scan: how many findings it may report, and when it must
//! stop. A service sets them so that no request can take unbounded memory
//! or keep a core busy after its caller has gone.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::error::{Error, Interruption};

/// A flag that stops the scans it is given to, from any thread.
///
/// ```
/// use filter_core::{CancelToken, ScanLimits, ScanOptions, Scanner};
///
/// let token = CancelToken::new();
/// let limits = ScanLimits::new().cancel_token(&token);
/// token.cancel(); // a client went away, a deadline fired...
/// let err = Scanner::new()
///     .try_scan_with("13800138000", &ScanOptions::new(), &limits)
///     .unwrap_err();
/// assert!(err.is_cancelled());
/// ```
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token not yet cancelled.
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// Stops every scan holding this token, at its next check (a scan
    /// checks between matches, so within microseconds).
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// What a scan may cost, for [`Scanner::try_scan_with`](crate::Scanner::try_scan_with)
/// and [`StreamScanner::try_push`](crate::StreamScanner::try_push).
///
/// ```
/// use filter_core::{ScanLimits, ScanOptions, Scanner};
///
/// let limits = ScanLimits::new().max_findings(2);
/// let scanner = Scanner::new();
/// let three = "13800138000 13900139000 13700137000";
/// let err = scanner.try_scan_with(three, &ScanOptions::new(), &limits).unwrap_err();
/// assert!(err.is_too_many_findings());
/// ```
#[derive(Clone, Debug, Default)]
pub struct ScanLimits {
    max_findings: Option<usize>,
    cancel: Option<CancelToken>,
    deadline: Option<Instant>,
}

impl ScanLimits {
    /// No limits.
    pub fn new() -> ScanLimits {
        ScanLimits::default()
    }

    /// Fail when the text holds more than `n` findings. The passes stop
    /// early, so a text dense with matches never takes memory in
    /// proportion to its matches: they stop once they hold more than
    /// `8 * n + 64` candidate matches (overlapping candidates, such as a
    /// phone number inside an email address, are weighed before the
    /// overlap rule keeps one), so a text may also fail with fewer than
    /// `n` findings when most of its candidates overlap.
    pub fn max_findings(mut self, n: usize) -> ScanLimits {
        self.max_findings = Some(n);
        self
    }

    /// Stop when `token` is cancelled.
    pub fn cancel_token(mut self, token: &CancelToken) -> ScanLimits {
        self.cancel = Some(token.clone());
        self
    }

    /// Stop at `deadline`.
    pub fn deadline(mut self, deadline: Instant) -> ScanLimits {
        self.deadline = Some(deadline);
        self
    }

    /// The findings limit, when set.
    pub fn get_max_findings(&self) -> Option<usize> {
        self.max_findings
    }
}

/// How often (in steps of a pass) the clock and the token are read.
const CHECK_EVERY: u32 = 256;

/// What the passes consult between steps: whether to stop, and why.
#[derive(Debug)]
pub(crate) struct Interrupt<'a> {
    limits: Option<&'a ScanLimits>,
    max_raw: usize,
    steps: Cell<u32>,
    stopped: Cell<Option<Interruption>>,
}

impl<'a> Interrupt<'a> {
    /// Never stops.
    pub(crate) fn none() -> Interrupt<'static> {
        Interrupt {
            limits: None,
            max_raw: usize::MAX,
            steps: Cell::new(0),
            stopped: Cell::new(None),
        }
    }

    /// Stops as `limits` say.
    pub(crate) fn new(limits: &'a ScanLimits) -> Interrupt<'a> {
        Interrupt {
            limits: Some(limits),
            max_raw: limits
                .max_findings
                .map_or(usize::MAX, |n| n.saturating_mul(8).saturating_add(64)),
            steps: Cell::new(0),
            stopped: Cell::new(None),
        }
    }

    /// Whether a pass holding `held` candidate findings must stop now.
    #[inline]
    pub(crate) fn stop(&self, held: usize) -> bool {
        if self.stopped.get().is_some() {
            return true;
        }
        let Some(limits) = self.limits else {
            return false;
        };
        if held > self.max_raw {
            self.stopped.set(Some(Interruption::Findings(
                limits.max_findings.unwrap_or(0),
            )));
            return true;
        }
        let steps = self.steps.get().wrapping_add(1);
        self.steps.set(steps);
        if !steps.is_multiple_of(CHECK_EVERY) {
            return false;
        }
        self.check_clock(limits)
    }

    #[cold]
    fn check_clock(&self, limits: &ScanLimits) -> bool {
        let why = if limits
            .cancel
            .as_ref()
            .is_some_and(CancelToken::is_cancelled)
        {
            Interruption::Cancelled
        } else if limits.deadline.is_some_and(|d| Instant::now() >= d) {
            Interruption::Deadline
        } else {
            return false;
        };
        self.stopped.set(Some(why));
        true
    }

    /// Checks the clock and the token now (at the end of a scan, so that a
    /// short scan still reports a cancellation).
    pub(crate) fn check_now(&self) {
        if let Some(limits) = self.limits {
            if self.stopped.get().is_none() {
                self.check_clock(limits);
            }
        }
    }

    /// Why the scan stopped, as an error, or `Ok` if it did not.
    pub(crate) fn result(&self) -> Result<(), Error> {
        match self.stopped.get() {
            Some(why) => Err(Error::interrupted(why)),
            None => Ok(()),
        }
    }

    /// Fails when `found` findings exceed the limit.
    pub(crate) fn check_count(&self, found: usize) -> Result<(), Error> {
        match self.limits.and_then(|l| l.max_findings) {
            Some(n) if found > n => Err(Error::interrupted(Interruption::Findings(n))),
            _ => Ok(()),
        }
    }
}
