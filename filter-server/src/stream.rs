//! The ScanStream RPC: options first, then chunks; text is released as
//! soon as it is safe.
//!
//! How a stream ends:
//!
//! * OK, after the client half-closed and everything held back was
//!   released (the last responses carry it);
//! * OK, right after a response whose verdict is BLOCK: no more text
//!   leaves once a block-category word is decided;
//! * an error status in every other case, and then nothing held back is
//!   released: INVALID_ARGUMENT for a message that cannot be decoded (bad
//!   UTF-8 included) or out of order, RESOURCE_EXHAUSTED for a chunk over
//!   the size limit, a chunk with more findings than the limit, a response
//!   over the size limit or a stream past 4 GiB, DEADLINE_EXCEEDED when no
//!   message came within the idle timeout or the stream outlived its
//!   deadline, CANCELLED when the client went away.

use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use filter_core::{
    Action, CancelToken, RedactionPolicy, ScanLimits, ScanOptions, StreamOutput, StreamScanner,
};
use tokio::sync::mpsc;
use tokio_stream::Stream;
use tonic::{Code, Request, Status};

use crate::convert;
use crate::guard::{Admission, ClientCancel, Deadline};
use crate::metrics::{Metrics, Rpc};
use crate::proto::scan_stream_request::Message;
use crate::proto::{self, ScanStreamRequest, ScanStreamResponse};
use crate::request_id::RequestId;
use crate::service::{
    check_response_size, open_vault, scan_status, CancelOnDrop, FilterService, INLINE_LIMIT,
};
use crate::status::invalid_argument;

type Responses = Pin<Box<dyn Stream<Item = Result<ScanStreamResponse, Status>> + Send>>;
type Sender = mpsc::Sender<Result<ScanStreamResponse, Status>>;

/// The most a stream may carry: its offsets travel as 32-bit numbers.
const MAX_STREAM_BYTES: u64 = u32::MAX as u64;

/// Starts serving one ScanStream call; returns its responses.
pub(crate) fn start(
    service: FilterService,
    request: Request<tonic::Streaming<ScanStreamRequest>>,
) -> Responses {
    let admission = request.extensions().get::<Admission>().cloned();
    let id = RequestId::of(&request);
    let client_cancel = request
        .extensions()
        .get::<ClientCancel>()
        .cloned()
        .unwrap_or_default();
    let deadline = request.extensions().get::<Deadline>().map_or_else(
        || Instant::now() + service.state.limits.stream_timeout,
        |d| d.0,
    );
    let mut inbound = request.into_inner();
    // Bounded: a client that stops reading stops the stream (and the
    // reading of its chunks) instead of filling memory.
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        let _admission = admission;
        let metrics = service.state.metrics.clone();
        let _open = OpenStream::new(&metrics);
        let started = Instant::now();
        let mut session = Session::new(service, client_cancel);
        let ended = tokio::select! {
            ended = tokio::time::timeout_at(deadline.into(), session.run(&mut inbound, &tx)) => {
                ended.unwrap_or_else(|_| Err(Status::deadline_exceeded(
                    "the stream ran past its deadline (the client's, or --stream-timeout-ms)",
                )))
            }
            () = tx.closed() => Err(Status::cancelled("the client went away")),
        };
        let code = ended.as_ref().map_or_else(Status::code, |()| Code::Ok);
        if let Err(status) = ended {
            let _ = tx.send(Err(status)).await;
        }
        metrics.request(Rpc::ScanStream, code, started.elapsed());
        tracing::debug!(
            rpc = "ScanStream",
            request_id = id.as_ref().map_or("-", RequestId::as_str),
            code = ?code,
            bytes = session.bytes,
            "stream ended"
        );
    });
    Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))
}

/// Counts a stream open while it lives.
struct OpenStream(Arc<Metrics>);

impl OpenStream {
    fn new(metrics: &Arc<Metrics>) -> OpenStream {
        metrics.stream(1);
        OpenStream(metrics.clone())
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.0.stream(-1);
    }
}

/// One ScanStream call.
struct Session {
    service: FilterService,
    scanner: Option<StreamScanner>,
    limits: ScanLimits,
    _cancel: CancelOnDrop,
    verdict: proto::Verdict,
    bytes: u64,
    client_cancel: ClientCancel,
}

impl Session {
    fn new(service: FilterService, client_cancel: ClientCancel) -> Session {
        let token = CancelToken::new();
        let limits = ScanLimits::new()
            .max_findings(service.state.limits.max_findings)
            .cancel_token(&token);
        Session {
            service,
            scanner: None,
            limits,
            _cancel: CancelOnDrop(token),
            verdict: proto::Verdict::Allow,
            bytes: 0,
            client_cancel,
        }
    }

    /// Reads messages until the client half-closes, answering as text
    /// becomes safe; `Err` is how the stream must end.
    async fn run(
        &mut self,
        inbound: &mut tonic::Streaming<ScanStreamRequest>,
        tx: &Sender,
    ) -> Result<(), Status> {
        let idle = self.service.state.limits.stream_idle_timeout;
        loop {
            let message = match tokio::time::timeout(idle, inbound.message()).await {
                Err(_) => return Err(idle_status(idle)),
                Ok(Ok(Some(m))) => m,
                Ok(Ok(None)) if self.client_cancel.cancelled() => {
                    return Err(Status::cancelled("the client cancelled the stream"))
                }
                Ok(Ok(None)) => break,
                Ok(Err(status)) => return Err(inbound_status(status, &self.service)),
            };
            match message.message {
                Some(Message::Options(o)) => self.set_options(&o)?,
                Some(Message::Chunk(chunk)) => {
                    let out = self.push(chunk).await?;
                    if !self.send(out, tx).await? {
                        return Ok(());
                    }
                }
                None => return Err(invalid_argument("message", "neither options nor chunk")),
            }
        }
        if let Some(scanner) = self.scanner.take() {
            let out = scanner.finish();
            self.send(out, tx).await?;
        }
        if tx.is_closed() {
            return Err(Status::cancelled("the client went away"));
        }
        Ok(())
    }

    fn set_options(&mut self, o: &proto::ScanStreamOptions) -> Result<(), Status> {
        if self.scanner.is_some() {
            return Err(invalid_argument(
                "options",
                "only the first message may carry options",
            ));
        }
        let options = self
            .service
            .options(&o.kinds, &o.categories, o.min_confidence)?;
        let policy = convert::policy(&o.operators, self.service.state.hash_key.as_ref())?;
        let stream = self.service.state.scanner.stream(&options, policy);
        self.scanner = Some(if o.vault.is_empty() {
            stream
        } else {
            let keys = self.service.vault_keys()?;
            stream.restoring(open_vault(&keys, &o.vault)?)
        });
        Ok(())
    }

    /// Scans one chunk, off the async workers when it is large.
    async fn push(&mut self, chunk: String) -> Result<StreamOutput, Status> {
        let state = &self.service.state;
        let max = state.limits.max_request_bytes;
        if chunk.len() > max {
            return Err(Status::resource_exhausted(format!(
                "chunk is {} bytes; the limit is {max} bytes",
                chunk.len()
            )));
        }
        self.bytes += chunk.len() as u64;
        if self.bytes > MAX_STREAM_BYTES {
            return Err(Status::resource_exhausted(
                "the stream passed 4 GiB, the most its 32-bit offsets can count; start a new stream",
            ));
        }
        state.metrics.scanned(chunk.len());
        let mut scanner = self.scanner.take().unwrap_or_else(|| {
            state
                .scanner
                .stream(&ScanOptions::new(), RedactionPolicy::new())
        });
        let limits = self.limits.clone();
        let (scanner, out) = if chunk.len() <= INLINE_LIMIT {
            let out = scanner.try_push(&chunk, &limits);
            (scanner, out)
        } else {
            tokio::task::spawn_blocking(move || {
                let out = scanner.try_push(&chunk, &limits);
                (scanner, out)
            })
            .await
            .map_err(|_| Status::internal("the scan task failed"))?
        };
        self.scanner = Some(scanner);
        out.map_err(|e| scan_status(&e, &state.metrics))
    }

    /// Sends what one push released; `Ok(false)` when the stream must end
    /// because it is blocked.
    async fn send(&mut self, out: StreamOutput, tx: &Sender) -> Result<bool, Status> {
        let metrics = &self.service.state.metrics;
        for f in &out.findings {
            metrics.findings(std::iter::once((f.kind().as_str(), f.category())));
            self.verdict = self.verdict.max(match f.action() {
                Some(Action::Block) => proto::Verdict::Block,
                Some(Action::Review) => proto::Verdict::Review,
                _ => proto::Verdict::Allow,
            });
        }
        let blocked = self.verdict == proto::Verdict::Block;
        if out.text.is_empty() && out.findings.is_empty() && !blocked {
            return Ok(true);
        }
        let response = ScanStreamResponse {
            // Once a block-category word is known, no more text leaves.
            text: if blocked { String::new() } else { out.text },
            findings: convert::stream_findings(&out.findings),
            verdict: self.verdict as i32,
        };
        check_response_size(&response, &self.service.state.limits, metrics)?;
        tx.send(Ok(response))
            .await
            .map_err(|_| Status::cancelled("the client went away"))?;
        Ok(!blocked)
    }
}

fn idle_status(idle: Duration) -> Status {
    Status::deadline_exceeded(format!(
        "no message for {} ms (--stream-idle-timeout-ms)",
        idle.as_millis()
    ))
}

/// The status a stream ends with when reading its next message failed.
fn inbound_status(status: Status, service: &FilterService) -> Status {
    let message = status.message();
    match status.code() {
        Code::OutOfRange if message.contains("too large") => Status::resource_exhausted(format!(
            "a message is larger than the limit of {} bytes",
            service.state.limits.max_request_bytes
        )),
        // The codec's errors (bad UTF-8 in a string, a truncated message);
        // transport errors keep their codes.
        Code::Internal if message.contains("decod") => {
            Status::invalid_argument(format!("a message could not be decoded: {message}"))
        }
        _ => status,
    }
}
