//! The `contentfilter.v1.ContentFilter` service.

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use filter_core::{Engine, Finding, ScanOptions, Scanner};
use tokio::sync::{Mutex, Semaphore};
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use crate::convert;
use crate::metrics::Metrics;
use crate::proto;
use crate::proto::content_filter_server::ContentFilter;
use crate::proto::{
    RedactRequest, RedactResponse, ReloadWordlistsRequest, ReloadWordlistsResponse, ScanRequest,
    ScanResponse, ScanStreamRequest, ScanStreamResponse,
};

/// Texts longer than this are scanned on the blocking pool, so that a
/// 4 MiB request does not hold up the small ones on the same worker.
const INLINE_LIMIT: usize = 64 * 1024;

/// What every request shares.
pub struct State {
    /// PII detectors and the lexicon handle.
    pub scanner: Scanner,
    /// Where reloads read the word lists.
    pub wordlists: PathBuf,
    /// The key of the hash operator.
    pub hash_key: Option<Vec<u8>>,
    /// Largest request text.
    pub max_request_bytes: usize,
    /// Requests scanned at once.
    pub permits: Semaphore,
    /// One reload at a time.
    pub reload_lock: Mutex<()>,
    /// The thread that builds new lexicons.
    pub reloader: Reloader,
    /// Counters.
    pub metrics: Arc<Metrics>,
}

impl State {
    /// Rebuilds the lexicon from the word-list directory off the request
    /// path and swaps it in; on error the old one stays in service.
    pub async fn reload(self: &Arc<State>) -> ReloadWordlistsResponse {
        let _one_at_a_time = self.reload_lock.lock().await;
        let started = Instant::now();
        let result = self.reloader.reload(&self.wordlists).await;
        let current = self.scanner.lexicon().expect("a lexicon").load();
        let response = ReloadWordlistsResponse {
            ok: result.is_ok(),
            terms: current.term_count() as u32,
            categories: current.categories().count() as u32,
            error: result.as_ref().err().cloned().unwrap_or_default(),
            warnings: current.warnings().iter().map(ToString::to_string).collect(),
        };
        self.metrics.reload(response.ok);
        self.metrics
            .lexicon(current.term_count(), current.categories().count());
        match &result {
            Ok(_) => tracing::info!(
                terms = response.terms,
                categories = response.categories,
                warnings = response.warnings.len(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "word lists reloaded"
            ),
            // The error names a file and line of the operator's lists, not
            // scanned text.
            Err(e) => {
                tracing::warn!(error = %e, "word-list reload failed; the old lists stay in service")
            }
        }
        response
    }
}

/// Builds lexicons on one long-lived thread, off the request path, one at
/// a time: builds never compete with scans for the blocking pool, and the
/// allocator sees one thread reuse one build's memory for the next.
pub struct Reloader {
    jobs: std::sync::mpsc::Sender<(PathBuf, tokio::sync::oneshot::Sender<Result<(), String>>)>,
}

impl Reloader {
    /// Starts the thread; it builds into `lexicon` and stops with the server.
    pub fn start(lexicon: filter_core::SharedLexicon) -> Reloader {
        let (jobs, queue) = std::sync::mpsc::channel::<(
            PathBuf,
            tokio::sync::oneshot::Sender<Result<(), String>>,
        )>();
        std::thread::Builder::new()
            .name("lexicon-reload".into())
            .spawn(move || {
                for (dir, reply) in queue {
                    let result = lexicon
                        .reload_dir(&dir, Engine::default())
                        .map(|_| ())
                        .map_err(|e| e.to_string());
                    let _ = reply.send(result);
                }
            })
            .expect("the reload thread starts");
        Reloader { jobs }
    }

    /// Builds the lists of `dir` and puts them in service, or says why not.
    async fn reload(&self, dir: &std::path::Path) -> Result<(), String> {
        let (reply, result) = tokio::sync::oneshot::channel();
        self.jobs
            .send((dir.to_path_buf(), reply))
            .map_err(|_| "the reload thread is gone".to_string())?;
        result
            .await
            .unwrap_or_else(|_| Err("the reload thread is gone".into()))
    }
}

/// The service.
#[derive(Clone)]
pub struct FilterService {
    state: Arc<State>,
}

impl FilterService {
    /// A service over `state`.
    pub fn new(state: Arc<State>) -> FilterService {
        FilterService { state }
    }

    /// Runs `scan` on the text with a permit, inline or on the blocking
    /// pool, and returns what it made.
    async fn with_text<T: Send + 'static>(
        &self,
        text: String,
        scan: impl FnOnce(&Scanner, &str) -> T + Send + 'static,
    ) -> Result<(String, T), Status> {
        if text.len() > self.state.max_request_bytes {
            return Err(Status::resource_exhausted(format!(
                "text is {} bytes; the limit is {} bytes",
                text.len(),
                self.state.max_request_bytes
            )));
        }
        let _permit = self
            .state
            .permits
            .acquire()
            .await
            .map_err(|_| Status::unavailable("shutting down"))?;
        self.state.metrics.scanned(text.len());
        if text.len() <= INLINE_LIMIT {
            let out = scan(&self.state.scanner, &text);
            return Ok((text, out));
        }
        let state = self.state.clone();
        tokio::task::spawn_blocking(move || {
            let out = scan(&state.scanner, &text);
            (text, out)
        })
        .await
        .map_err(|_| Status::internal("scan task failed"))
    }

    /// Scan and Redact: check the selection and what `prepared` checked,
    /// scan the text with a permit, make the response from the findings,
    /// count and time it.
    async fn unary<P: Send + 'static, T: HasFindings + Send + 'static>(
        &self,
        rpc: &'static str,
        text: String,
        kinds: &[i32],
        categories: &[String],
        prepared: Result<P, Status>,
        respond: impl FnOnce(P, &str, &[Finding<'_>]) -> T + Send + 'static,
    ) -> Result<Response<T>, Status> {
        let started = Instant::now();
        let bytes = text.len();
        let metrics = self.state.metrics.clone();
        let result = async {
            let options = self.options(kinds, categories)?;
            let prepared = prepared?;
            let (_, response) = self
                .with_text(text, move |scanner, text| {
                    let found = scanner.scan_with(text, &options);
                    count_findings(&metrics, &found);
                    respond(prepared, text, &found)
                })
                .await?;
            Ok(response)
        }
        .await;
        let found = result.as_ref().map_or(0, HasFindings::findings);
        self.finish(rpc, started, bytes, &result, found);
        result.map(Response::new)
    }

    fn options(&self, kinds: &[i32], categories: &[String]) -> Result<ScanOptions, Status> {
        let kinds = convert::kinds(kinds)?;
        if let Some(lexicon) = self.state.scanner.lexicon() {
            convert::categories(categories, &lexicon.load())?;
        }
        Ok(ScanOptions::new().kinds(&kinds).categories(categories))
    }

    fn finish<T>(
        &self,
        rpc: &'static str,
        started: Instant,
        bytes: usize,
        r: &Result<T, Status>,
        found: usize,
    ) {
        let code = r.as_ref().map_or_else(Status::code, |_| tonic::Code::Ok);
        self.state.metrics.request(rpc, code, started.elapsed());
        tracing::debug!(
            rpc,
            code = ?code,
            bytes,
            findings = found,
            micros = started.elapsed().as_micros() as u64,
            "request"
        );
    }
}

/// A response that carries findings, for the request log.
trait HasFindings {
    fn findings(&self) -> usize;
}

impl HasFindings for ScanResponse {
    fn findings(&self) -> usize {
        self.findings.len()
    }
}

impl HasFindings for RedactResponse {
    fn findings(&self) -> usize {
        self.findings.len()
    }
}

/// Counts a stream open while it lives.
struct OpenStream<'a>(&'a Metrics);

impl<'a> OpenStream<'a> {
    fn new(metrics: &'a Metrics) -> OpenStream<'a> {
        metrics.stream(1);
        OpenStream(metrics)
    }
}

impl Drop for OpenStream<'_> {
    fn drop(&mut self) {
        self.0.stream(-1);
    }
}

impl FilterService {
    /// Runs one ScanStream call: options first, then chunks; each chunk
    /// answered with the text now safe and the findings completed. Returns
    /// the final status code and the bytes scanned.
    async fn run_stream(
        &self,
        inbound: &mut tonic::Streaming<ScanStreamRequest>,
        tx: &tokio::sync::mpsc::Sender<Result<ScanStreamResponse, Status>>,
    ) -> (tonic::Code, usize) {
        use crate::proto::scan_stream_request::Message;
        let mut stream: Option<filter_core::StreamScanner> = None;
        let mut bytes = 0;
        let mut verdict = proto::Verdict::Allow;
        let fail = |status: Status| async {
            let code = status.code();
            let _ = tx.send(Err(status)).await;
            code
        };
        loop {
            let message = match inbound.message().await {
                Ok(Some(m)) => m,
                Ok(None) => break,
                // The client went away or sent garbage: free everything now.
                Err(status) => return (status.code(), bytes),
            };
            let chunk = match message.message {
                Some(Message::Options(o)) => {
                    if stream.is_some() {
                        return (
                            fail(Status::invalid_argument(
                                "options: only the first message may carry options",
                            ))
                            .await,
                            bytes,
                        );
                    }
                    let built = self.options(&o.kinds, &o.categories).and_then(|opts| {
                        Ok((
                            opts,
                            convert::policy(&o.operators, self.state.hash_key.as_deref())?,
                        ))
                    });
                    match built {
                        Ok((opts, policy)) => {
                            stream = Some(self.state.scanner.stream(&opts, policy))
                        }
                        Err(status) => return (fail(status).await, bytes),
                    }
                    continue;
                }
                Some(Message::Chunk(chunk)) => chunk,
                None => {
                    return (
                        fail(Status::invalid_argument(
                            "message: neither options nor chunk",
                        ))
                        .await,
                        bytes,
                    )
                }
            };
            if chunk.len() > self.state.max_request_bytes {
                let status = Status::resource_exhausted(format!(
                    "chunk is {} bytes; the limit is {} bytes",
                    chunk.len(),
                    self.state.max_request_bytes
                ));
                return (fail(status).await, bytes);
            }
            bytes += chunk.len();
            self.state.metrics.scanned(chunk.len());
            let s = stream.get_or_insert_with(|| {
                self.state
                    .scanner
                    .stream(&ScanOptions::new(), filter_core::RedactionPolicy::new())
            });
            let out = s.push(&chunk);
            if !self.send_output(out, &mut verdict, tx).await {
                return (tonic::Code::Ok, bytes);
            }
        }
        if let Some(s) = stream {
            let out = s.finish();
            self.send_output(out, &mut verdict, tx).await;
        }
        (tonic::Code::Ok, bytes)
    }

    /// Sends one output; false when the stream must stop (blocked, or the
    /// client is gone).
    async fn send_output(
        &self,
        out: filter_core::StreamOutput,
        verdict: &mut proto::Verdict,
        tx: &tokio::sync::mpsc::Sender<Result<ScanStreamResponse, Status>>,
    ) -> bool {
        for f in &out.findings {
            self.state
                .metrics
                .findings(std::iter::once((f.kind().as_str(), f.category())));
            *verdict = (*verdict).max(match f.action() {
                Some(filter_core::Action::Block) => proto::Verdict::Block,
                Some(filter_core::Action::Review) => proto::Verdict::Review,
                _ => proto::Verdict::Allow,
            });
        }
        let blocked = *verdict == proto::Verdict::Block;
        if out.text.is_empty() && out.findings.is_empty() && !blocked {
            return true;
        }
        let response = ScanStreamResponse {
            // Once a block-category word is known, no more text leaves.
            text: if blocked { String::new() } else { out.text },
            findings: convert::stream_findings(&out.findings),
            verdict: *verdict as i32,
        };
        tx.send(Ok(response)).await.is_ok() && !blocked
    }
}

fn count_findings(metrics: &Metrics, found: &[Finding<'_>]) {
    if !found.is_empty() {
        metrics.findings(found.iter().map(|f| (f.kind().as_str(), f.category())));
    }
}

type ScanStreamStream = Pin<Box<dyn Stream<Item = Result<ScanStreamResponse, Status>> + Send>>;

#[tonic::async_trait]
impl ContentFilter for FilterService {
    async fn scan(&self, request: Request<ScanRequest>) -> Result<Response<ScanResponse>, Status> {
        let r = request.into_inner();
        self.unary(
            "Scan",
            r.text,
            &r.kinds,
            &r.categories,
            Ok(()),
            |(), text, found| ScanResponse {
                findings: convert::findings(text, found),
                verdict: convert::verdict(found) as i32,
            },
        )
        .await
    }

    async fn redact(
        &self,
        request: Request<RedactRequest>,
    ) -> Result<Response<RedactResponse>, Status> {
        let r = request.into_inner();
        let policy = convert::policy(&r.operators, self.state.hash_key.as_deref());
        self.unary(
            "Redact",
            r.text,
            &r.kinds,
            &r.categories,
            policy,
            |policy, text, found| RedactResponse {
                text: policy.apply(text, found).into_owned(),
                findings: convert::findings(text, found),
                verdict: convert::verdict(found) as i32,
            },
        )
        .await
    }

    type ScanStreamStream = ScanStreamStream;

    async fn scan_stream(
        &self,
        request: Request<tonic::Streaming<ScanStreamRequest>>,
    ) -> Result<Response<Self::ScanStreamStream>, Status> {
        let mut inbound = request.into_inner();
        // Bounded: a client that stops reading stops the stream (and the
        // reading of its chunks) instead of filling memory.
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<ScanStreamResponse, Status>>(16);
        let state = self.state.clone();
        let service = self.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let _open = OpenStream::new(&state.metrics);
            let (code, bytes) = service.run_stream(&mut inbound, &tx).await;
            state.metrics.request("ScanStream", code, started.elapsed());
            tracing::debug!(rpc = "ScanStream", code = ?code, bytes, "stream ended");
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }

    async fn reload_wordlists(
        &self,
        _request: Request<ReloadWordlistsRequest>,
    ) -> Result<Response<ReloadWordlistsResponse>, Status> {
        let started = Instant::now();
        let response = self.state.reload().await;
        let result = Ok(response);
        self.finish("ReloadWordlists", started, 0, &result, 0);
        result.map(Response::new)
    }
}
