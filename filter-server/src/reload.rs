//! Reloading the word lists: lexicons are built off the request path, on
//! one long-lived thread, and put in service only when the build succeeds.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use filter_core::{Lexicon, SharedLexicon};
use tokio::sync::{oneshot, Mutex};

use crate::metrics::Metrics;
use crate::wordlists::Wordlists;

/// Why a reload did not put new lists in service.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ReloadError {
    /// The lists cannot be used; the message names the file and line.
    #[error("{0}")]
    Lists(#[from] filter_core::Error),
    /// The build took longer than the reload timeout.
    #[error("the reload took longer than {0:?}; the old lists stay in service")]
    TimedOut(Duration),
    /// The build thread is gone.
    #[error("the reload thread is gone")]
    Gone,
}

impl ReloadError {
    /// The file the error names, when there is one.
    pub fn file(&self) -> Option<&Path> {
        match self {
            ReloadError::Lists(e) => e.file(),
            _ => None,
        }
    }

    /// The line the error names, when there is one.
    pub fn line(&self) -> Option<usize> {
        match self {
            ReloadError::Lists(e) => e.line(),
            _ => None,
        }
    }
}

type Job = (
    Wordlists,
    oneshot::Sender<Result<Lexicon, filter_core::Error>>,
);

/// Builds lexicons on one long-lived thread, one at a time: builds never
/// compete with scans for the blocking pool, and the allocator sees one
/// thread reuse one build's memory for the next. A build that outlives
/// the reload timeout (a file on a stalled network mount) is abandoned to
/// its thread, and the next reload starts a new thread, so one stuck
/// build never wedges the reloads after it.
pub struct Reloader {
    lexicon: SharedLexicon,
    lists: Wordlists,
    timeout: Duration,
    metrics: Arc<Metrics>,
    /// The thread's queue; replaced when a build is abandoned.
    jobs: Mutex<std::sync::mpsc::Sender<Job>>,
}

/// The lexicon in service after a successful reload.
pub struct Reloaded {
    /// The lexicon now in service.
    pub lexicon: Arc<Lexicon>,
    /// How long the build took.
    pub elapsed: Duration,
}

fn start_thread() -> std::sync::mpsc::Sender<Job> {
    let (jobs, queue) = std::sync::mpsc::channel::<Job>();
    let spawned = std::thread::Builder::new()
        .name("lexicon-reload".into())
        .spawn(move || {
            for (lists, reply) in queue {
                let _ = reply.send(lists.load());
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the reload thread");
    }
    jobs
}

impl Reloader {
    /// A reloader of `lists` into `lexicon`.
    pub fn new(
        lexicon: SharedLexicon,
        lists: Wordlists,
        timeout: Duration,
        metrics: Arc<Metrics>,
    ) -> Reloader {
        Reloader {
            lexicon,
            lists,
            timeout,
            metrics,
            jobs: Mutex::new(start_thread()),
        }
    }

    /// Builds the lists and puts them in service, or says
    /// why not; the old lists stay in service on error. One at a time.
    pub async fn reload(&self) -> Result<Reloaded, ReloadError> {
        let mut jobs = self.jobs.lock().await;
        let started = Instant::now();
        let (reply, built) = oneshot::channel();
        jobs.send((self.lists.clone(), reply))
            .map_err(|_| ReloadError::Gone)?;
        let result = match tokio::time::timeout(self.timeout, built).await {
            Ok(Ok(Ok(lexicon))) => {
                let lexicon = Arc::new(lexicon);
                self.lexicon.store_arc(lexicon.clone());
                Ok(Reloaded {
                    lexicon,
                    elapsed: started.elapsed(),
                })
            }
            Ok(Ok(Err(e))) => Err(ReloadError::Lists(e)),
            Ok(Err(_)) => Err(ReloadError::Gone),
            Err(_) => {
                *jobs = start_thread();
                Err(ReloadError::TimedOut(self.timeout))
            }
        };
        self.report(&result);
        result
    }

    fn report(&self, result: &Result<Reloaded, ReloadError>) {
        self.metrics.reload(result.is_ok());
        match result {
            Ok(r) => {
                self.metrics
                    .lexicon(r.lexicon.term_count(), r.lexicon.categories().count());
                tracing::info!(
                    terms = r.lexicon.term_count(),
                    categories = r.lexicon.categories().count(),
                    warnings = r.lexicon.warnings().len(),
                    elapsed_ms = r.elapsed.as_millis() as u64,
                    "word lists reloaded"
                );
            }
            // The error names a file and line of the operator's lists, not
            // scanned text.
            Err(e) => {
                tracing::warn!(error = %e, "word-list reload failed; the old lists stay in service")
            }
        }
    }
}
