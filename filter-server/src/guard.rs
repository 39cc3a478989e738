//! A tower layer in front of every service. In this order it:
//!
//! 1. authenticates: a bearer token on every call but health (when one is
//!    configured), the admin token on ReloadWordlists (disabled without one);
//! 2. admits: Scan and Redact wait for one of `--max-concurrent` places
//!    before their bodies are read; ScanStream, health watches and
//!    reflection streams take a place or are refused at once. A place
//!    travels with the request ([`Admission`]) so that it is held until the
//!    work really ends, not only until the caller stops waiting;
//! 3. sets the deadline ([`Deadline`]): the client's `grpc-timeout` or the
//!    server's, whichever is sooner, answered with DEADLINE_EXCEEDED;
//! 4. answers a message over the decoding limit with RESOURCE_EXHAUSTED
//!    (tonic says OUT_OF_RANGE).

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http_body::{Body as HttpBody, Frame, SizeHint};
use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::body::Body;
use tonic::codegen::http::{HeaderMap, HeaderValue, Request, Response};
use tonic::codegen::{BoxFuture, Bytes, Service};
use tonic::{Code, Status};
use tower::Layer;

use crate::config::{Limits, Token};
use crate::metrics::{Metrics, Refusal, Rpc};
use crate::request_id::{self, RequestId};

/// Paths that need no token: load balancers probe health without one.
const HEALTH_PREFIX: &str = "/grpc.health.v1.Health/";
const HEALTH_WATCH: &str = "/grpc.health.v1.Health/Watch";
const REFLECTION_PREFIX: &str = "/grpc.reflection.";

/// Time kept back from a client's deadline, so that the server answers
/// DEADLINE_EXCEEDED itself before tonic's own timer cancels the call.
const DEADLINE_MARGIN: Duration = Duration::from_millis(2);

/// The places a request holds under its limits, in the request's
/// extensions. A handler takes them and keeps them until its work is done.
#[derive(Clone)]
pub struct Admission {
    _held: Arc<Held>,
}

/// The places, and the count of requests in flight while they are held.
struct Held {
    _places: Vec<OwnedSemaphorePermit>,
    metrics: Arc<Metrics>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.metrics.in_flight(-1);
    }
}

impl Admission {
    fn new(places: Vec<OwnedSemaphorePermit>, metrics: &Arc<Metrics>) -> Admission {
        metrics.in_flight(1);
        Admission {
            _held: Arc::new(Held {
                _places: places,
                metrics: metrics.clone(),
            }),
        }
    }
}

/// The unit of the in-flight bytes budget: a request weighs its message
/// length in KiB, at least one.
const BUDGET_UNIT: usize = 1024;

/// When the call must be over, in the request's extensions.
#[derive(Clone, Copy, Debug)]
pub struct Deadline(pub Instant);

/// Set when the client reset a stream with CANCEL, in the request's
/// extensions. tonic reads such a reset as the end of the client's
/// messages; this says it was not.
#[derive(Clone, Debug, Default)]
pub struct ClientCancel(Arc<AtomicBool>);

impl ClientCancel {
    /// Whether the client cancelled.
    pub fn cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// The guard's settings and the places it hands out.
#[derive(Clone)]
pub struct GuardLayer {
    state: Arc<GuardState>,
}

struct GuardState {
    token: Option<[u8; 32]>,
    admin_token: Option<[u8; 32]>,
    max_request_bytes: usize,
    request_timeout: Duration,
    stream_timeout: Duration,
    unary: Arc<Semaphore>,
    /// The in-flight bytes budget, in [`BUDGET_UNIT`]s.
    bytes: Arc<Semaphore>,
    budget_units: usize,
    admission_wait: Duration,
    /// Becomes true when the server starts draining.
    draining: tokio::sync::watch::Receiver<bool>,
    streams: Arc<Semaphore>,
    aux: Arc<Semaphore>,
    metrics: Arc<Metrics>,
}

/// What the guard decided to do with a request.
enum Pass {
    /// A unary call of ours: wait for a place, hand it on, time the call.
    Unary(Option<Rpc>),
    /// A ScanStream: take a place now or refuse; the handler keeps time.
    Stream,
    /// A health watch or reflection stream: take a place now or refuse,
    /// hold it while the response lasts.
    Aux,
    /// Anything else (a health check): timed, no place.
    Plain,
}

impl GuardLayer {
    /// A guard for the given tokens and limits.
    pub fn new(
        token: Option<&Token>,
        admin_token: Option<&Token>,
        limits: &Limits,
        metrics: Arc<Metrics>,
        draining: tokio::sync::watch::Receiver<bool>,
    ) -> GuardLayer {
        GuardLayer {
            state: Arc::new(GuardState {
                token: token.map(|t| digest(t.as_str().as_bytes())),
                admin_token: admin_token.map(|t| digest(t.as_str().as_bytes())),
                max_request_bytes: limits.max_request_bytes,
                request_timeout: limits.request_timeout,
                stream_timeout: limits.stream_timeout,
                unary: Arc::new(Semaphore::new(limits.max_concurrent)),
                bytes: Arc::new(Semaphore::new(
                    limits.max_inflight_bytes.div_ceil(BUDGET_UNIT),
                )),
                budget_units: limits.max_inflight_bytes.div_ceil(BUDGET_UNIT),
                admission_wait: limits.admission_wait,
                draining,
                streams: Arc::new(Semaphore::new(limits.max_streams)),
                aux: Arc::new(Semaphore::new(limits.max_aux_streams)),
                metrics,
            }),
        }
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Compares two digests in time independent of where they differ; the
/// digests hide the tokens' lengths.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl GuardState {
    /// The bearer token presented, if any; more than one Authorization
    /// header is refused (proxies disagree on which one counts).
    fn presented(headers: &HeaderMap) -> Result<Option<[u8; 32]>, Status> {
        let mut values = headers.get_all("authorization").iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(Status::unauthenticated(
                "more than one authorization header",
            ));
        }
        let value = value.to_str().unwrap_or_default();
        // The scheme is case-insensitive (RFC 9110, section 11.1).
        match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                Ok(Some(digest(token.trim().as_bytes())))
            }
            _ => Err(Status::unauthenticated(
                "the authorization header must be `Bearer TOKEN`",
            )),
        }
    }

    fn authenticate(&self, path: &str, headers: &HeaderMap) -> Result<(), Status> {
        if path.starts_with(HEALTH_PREFIX) {
            return Ok(());
        }
        let presented = Self::presented(headers)?;
        let matches = |want: &Option<[u8; 32]>| match (want, &presented) {
            (Some(w), Some(p)) => same(w, p),
            _ => false,
        };
        if path == Rpc::ReloadWordlists.path() {
            if self.admin_token.is_none() {
                return Err(Status::permission_denied(
                    "ReloadWordlists is disabled: start the server with --admin-token-file \
                     (FILTER_ADMIN_TOKEN_FILE) to allow it; SIGHUP and --watch reload without it",
                ));
            }
            if matches(&self.admin_token) {
                return Ok(());
            }
            if presented.is_some() {
                return Err(Status::permission_denied(
                    "ReloadWordlists needs the admin token",
                ));
            }
            return Err(Status::unauthenticated("missing admin token"));
        }
        if self.token.is_some() && !matches(&self.token) {
            return Err(Status::unauthenticated(if presented.is_none() {
                "missing bearer token (authorization: Bearer TOKEN)"
            } else {
                "wrong bearer token"
            }));
        }
        Ok(())
    }

    fn pass(path: &str) -> Pass {
        match Rpc::from_path(path) {
            Some(Rpc::ScanStream) => Pass::Stream,
            Some(rpc @ (Rpc::Scan | Rpc::Redact | Rpc::Restore)) => Pass::Unary(Some(rpc)),
            Some(Rpc::ReloadWordlists) => Pass::Plain,
            None if path == HEALTH_WATCH || path.starts_with(REFLECTION_PREFIX) => Pass::Aux,
            None => Pass::Plain,
        }
    }

    /// The deadline of a call: the server's limit, or the client's
    /// `grpc-timeout` when sooner.
    fn deadline(&self, headers: &HeaderMap, limit: Duration) -> Instant {
        let now = Instant::now();
        let server = now + limit;
        match headers
            .get("grpc-timeout")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_grpc_timeout)
        {
            Some(client) => server.min(now + client.saturating_sub(DEADLINE_MARGIN)),
            None => server,
        }
    }

    fn try_place(
        &self,
        semaphore: &Arc<Semaphore>,
        why: Refusal,
    ) -> Result<OwnedSemaphorePermit, Status> {
        semaphore.clone().try_acquire_owned().map_err(|_| {
            self.metrics.refused(why);
            Status::resource_exhausted(match why {
                Refusal::Streams => "too many ScanStream calls open; try again later",
                _ => "too many health watches or reflection streams open; try again later",
            })
        })
    }
}

/// `grpc-timeout`: up to 8 digits and a unit (H, M, S, m, u, n).
fn parse_grpc_timeout(v: &str) -> Option<Duration> {
    let (digits, unit) = v.split_at(v.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

impl<S> Layer<S> for GuardLayer {
    type Service = Guard<S>;

    fn layer(&self, inner: S) -> Guard<S> {
        Guard {
            inner,
            state: self.state.clone(),
        }
    }
}

/// What the guard wraps: the router.
trait Inner: Service<Request<Body>, Response = Response<Body>> + Send + 'static {}

impl<S> Inner for S where S: Service<Request<Body>, Response = Response<Body>> + Send + 'static {}

/// The future of a guarded call.
type GuardFuture<S> = BoxFuture<Response<Body>, <S as Service<Request<Body>>>::Error>;

/// The service the [`GuardLayer`] makes.
#[derive(Clone)]
pub struct Guard<S> {
    inner: S,
    state: Arc<GuardState>,
}

impl<S> Service<Request<Body>> for Guard<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<Body>) -> Self::Future {
        let started = Instant::now();
        let path = req.uri().path().to_string();
        let rpc = Rpc::from_path(&path);
        let id = RequestId::from_headers(req.headers());
        req.extensions_mut().insert(id.clone());
        let response = if let Err(status) = self.state.authenticate(&path, req.headers()) {
            self.state.refuse(rpc, started, status)
        } else {
            // The ready service handles this call; a clone waits for the next.
            let clone = self.inner.clone();
            let inner = std::mem::replace(&mut self.inner, clone);
            let state = self.state.clone();
            match GuardState::pass(&path) {
                Pass::Stream => state.call_stream(inner, req, started),
                Pass::Aux => state.call_aux(inner, req, started),
                Pass::Unary(rpc) => state.call_unary(inner, req, rpc, started),
                Pass::Plain => state.call_plain(inner, req, started),
            }
        };
        Box::pin(async move {
            let mut response = response.await?;
            response
                .headers_mut()
                .insert(request_id::HEADER, id.header_value());
            Ok(response)
        })
    }
}

impl GuardState {
    /// Answers `status` at once, counted for `rpc`.
    fn refuse<E: 'static>(
        &self,
        rpc: Option<Rpc>,
        started: Instant,
        status: Status,
    ) -> BoxFuture<Response<Body>, E> {
        if let Some(rpc) = rpc {
            self.metrics.request(rpc, status.code(), started.elapsed());
        }
        Box::pin(async move { Ok(status.into_http()) })
    }

    /// ScanStream: a place now or RESOURCE_EXHAUSTED; the handler keeps
    /// time, and learns of a client's cancel through [`ClientCancel`].
    fn call_stream<S>(
        self: Arc<Self>,
        mut inner: S,
        req: Request<Body>,
        started: Instant,
    ) -> GuardFuture<S>
    where
        S: Inner,
        S::Future: Send + 'static,
    {
        let place = match self.try_place(&self.streams, Refusal::Streams) {
            Ok(p) => p,
            Err(status) => return self.refuse(Some(Rpc::ScanStream), started, status),
        };
        let deadline = self.deadline(req.headers(), self.stream_timeout);
        let cancel = ClientCancel::default();
        let mut req = req.map(|body| {
            Body::new(WatchCancel {
                body,
                cancel: cancel.clone(),
            })
        });
        req.extensions_mut()
            .insert(Admission::new(vec![place], &self.metrics));
        req.extensions_mut().insert(Deadline(deadline));
        req.extensions_mut().insert(cancel);
        Box::pin(inner.call(req))
    }

    /// A health watch or reflection stream: a place now or
    /// RESOURCE_EXHAUSTED, held while the response lasts.
    fn call_aux<S>(
        self: Arc<Self>,
        mut inner: S,
        req: Request<Body>,
        started: Instant,
    ) -> GuardFuture<S>
    where
        S: Inner,
        S::Future: Send + 'static,
    {
        let place = match self.try_place(&self.aux, Refusal::AuxStreams) {
            Ok(p) => p,
            Err(status) => return self.refuse(None, started, status),
        };
        let draining = self.draining.clone();
        Box::pin(async move {
            let response = inner.call(req).await?;
            Ok(response.map(|body| {
                Body::new(HoldPlace {
                    body,
                    _place: place,
                    drain: DrainState::Waiting(Box::pin(wait_for_drain(draining))),
                })
            }))
        })
    }

    /// Scan and Redact: admitted by size, timed, answered
    /// DEADLINE_EXCEEDED when the time runs out.
    fn call_unary<S>(
        self: Arc<Self>,
        mut inner: S,
        req: Request<Body>,
        rpc: Option<Rpc>,
        started: Instant,
    ) -> GuardFuture<S>
    where
        S: Inner,
        S::Future: Send + 'static,
    {
        let deadline = self.deadline(req.headers(), self.request_timeout);
        Box::pin(async move {
            let work = async {
                let mut req = match self.admit(req).await {
                    Ok(req) => req,
                    Err(status) => {
                        if let Some(rpc) = rpc {
                            self.metrics.request(rpc, status.code(), started.elapsed());
                        }
                        return Ok(status.into_http());
                    }
                };
                req.extensions_mut().insert(Deadline(deadline));
                inner.call(req).await
            };
            let response = tokio::time::timeout_at(deadline.into(), work).await;
            self.finish(rpc, started, response)
        })
    }

    /// Everything else (a health check, ReloadWordlists): timed only.
    fn call_plain<S>(
        self: Arc<Self>,
        mut inner: S,
        mut req: Request<Body>,
        started: Instant,
    ) -> GuardFuture<S>
    where
        S: Inner,
        S::Future: Send + 'static,
    {
        let deadline = self.deadline(req.headers(), self.request_timeout);
        let rpc = Rpc::from_path(req.uri().path());
        Box::pin(async move {
            req.extensions_mut().insert(Deadline(deadline));
            let response = tokio::time::timeout_at(deadline.into(), inner.call(req)).await;
            self.finish(rpc, started, response)
        })
    }
    /// Waits for a place among the requests admitted at once and for the
    /// request's weight in the in-flight bytes budget: its message length,
    /// read from the gRPC prefix before the message itself is read, so a
    /// small prompt never waits behind the memory of large ones.
    async fn admit(&self, req: Request<Body>) -> Result<Request<Body>, Status> {
        let (parts, mut body) = req.into_parts();
        let mut read = Vec::new();
        let len = message_len(&mut body, &mut read).await?;
        // Past the request limit tonic refuses the message when it reads
        // the prefix; weigh it no more than the whole budget.
        let units = len.div_ceil(BUDGET_UNIT).clamp(1, self.budget_units);
        // A waiting request leaves its first bytes unread, and unread bytes
        // hold the connection's HTTP/2 window, which the admitted requests
        // on the same connection need: waiting long would stall them.
        let places = tokio::time::timeout(self.admission_wait, async {
            let place = self.unary.clone().acquire_owned().await;
            let weight = self
                .bytes
                .clone()
                .acquire_many_owned(u32::try_from(units).unwrap_or(u32::MAX))
                .await;
            place.and_then(|p| weight.map(|w| vec![p, w]))
        })
        .await;
        let places = match places {
            Ok(Ok(places)) => places,
            Ok(Err(_)) => return Err(Status::unavailable("the server is shutting down")),
            Err(_) => {
                self.metrics.refused(Refusal::Busy);
                return Err(Status::resource_exhausted(format!(
                    "the server is at its limit of requests in flight (--max-concurrent, \
                     --max-inflight-bytes); retry after a short wait ({len} bytes asked)"
                )));
            }
        };
        let body = Body::new(Replay {
            read: read.into(),
            rest: body,
        });
        let mut req = Request::from_parts(parts, body);
        req.extensions_mut()
            .insert(Admission::new(places, &self.metrics));
        Ok(req)
    }

    /// The response of a timed call: DEADLINE_EXCEEDED when the time ran
    /// out, RESOURCE_EXHAUSTED for an oversized message.
    fn finish<E>(
        &self,
        rpc: Option<Rpc>,
        started: Instant,
        response: Result<Result<Response<Body>, E>, tokio::time::error::Elapsed>,
    ) -> Result<Response<Body>, E> {
        match response {
            Ok(Ok(mut response)) => {
                if too_large_is_resource_exhausted(response.headers_mut(), self.max_request_bytes) {
                    if let Some(rpc) = rpc {
                        self.metrics
                            .request(rpc, Code::ResourceExhausted, started.elapsed());
                    }
                }
                Ok(response)
            }
            Ok(Err(e)) => Err(e),
            Err(_) => {
                if let Some(rpc) = rpc {
                    self.metrics
                        .request(rpc, Code::DeadlineExceeded, started.elapsed());
                }
                Ok(Status::deadline_exceeded("the call ran past its deadline").into_http())
            }
        }
    }
}

/// tonic rejects a message over the decoding limit with OUT_OF_RANGE before
/// the handler runs; gRPC convention (and our contract) is
/// RESOURCE_EXHAUSTED. Returns whether it rewrote the status.
fn too_large_is_resource_exhausted(headers: &mut HeaderMap, limit: usize) -> bool {
    let Ok(status) = Status::from_header_map(headers).ok_or(()) else {
        return false;
    };
    if status.code() != Code::OutOfRange || !status.message().contains("too large") {
        return false;
    }
    let replacement =
        Status::resource_exhausted(format!("request larger than the limit of {limit} bytes"));
    headers.remove("grpc-status");
    headers.remove("grpc-message");
    if replacement.add_header(headers).is_err() {
        headers.insert(
            "grpc-status",
            HeaderValue::from(Code::ResourceExhausted as i32),
        );
    }
    true
}

/// The length of the first gRPC message of a request body (from its
/// 5-byte prefix: a flag, then the length, big-endian), reading frames
/// into `read` until the prefix is in. An empty body weighs nothing.
async fn message_len(body: &mut Body, read: &mut Vec<Frame<Bytes>>) -> Result<usize, Status> {
    use http_body_util::BodyExt;
    let mut prefix = Vec::with_capacity(5);
    while prefix.len() < 5 {
        let Some(frame) = body.frame().await else {
            return Ok(0);
        };
        let frame = frame?;
        if let Some(data) = frame.data_ref() {
            let want = 5 - prefix.len();
            prefix.extend_from_slice(&data[..want.min(data.len())]);
        }
        read.push(frame);
    }
    Ok(u32::from_be_bytes([prefix[1], prefix[2], prefix[3], prefix[4]]) as usize)
}

/// A request body whose first frames were read to learn the message
/// length: they come again first.
struct Replay {
    read: std::collections::VecDeque<Frame<Bytes>>,
    rest: Body,
}

impl HttpBody for Replay {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        match self.read.pop_front() {
            Some(frame) => Poll::Ready(Some(Ok(frame))),
            None => Pin::new(&mut self.rest).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.read.is_empty() && self.rest.is_end_stream()
    }
}

/// A request body that notes a reset with CANCEL in a [`ClientCancel`].
struct WatchCancel {
    body: Body,
    cancel: ClientCancel,
}

impl HttpBody for WatchCancel {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let frame = Pin::new(&mut self.body).poll_frame(cx);
        if let Poll::Ready(Some(Err(status))) = &frame {
            if status.code() == Code::Cancelled {
                self.cancel.0.store(true, Ordering::Relaxed);
            }
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Resolves when the server starts draining.
async fn wait_for_drain(mut draining: tokio::sync::watch::Receiver<bool>) {
    while !*draining.borrow_and_update() {
        if draining.changed().await.is_err() {
            return;
        }
    }
}

/// A response body that holds a place under a limit until it is dropped,
/// and ends with UNAVAILABLE when the server starts draining: a health
/// watch or a reflection stream never ends by itself, and would hold the
/// drain for the whole grace period.
struct HoldPlace {
    body: Body,
    _place: OwnedSemaphorePermit,
    drain: DrainState,
}

enum DrainState {
    /// Serving; resolves when the server starts draining.
    Waiting(Pin<Box<dyn std::future::Future<Output = ()> + Send>>),
    /// Draining: what the stream has ready still goes out first (the
    /// NOT_SERVING that draining sends before it ends the watches).
    Draining,
    /// Ended with UNAVAILABLE.
    Ended,
}

impl HttpBody for HoldPlace {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if let DrainState::Waiting(drain) = &mut self.drain {
            if drain.as_mut().poll(cx).is_pending() {
                return Pin::new(&mut self.body).poll_frame(cx);
            }
            self.drain = DrainState::Draining;
        }
        if let DrainState::Ended = self.drain {
            return Poll::Ready(None);
        }
        if let Poll::Ready(frame) = Pin::new(&mut self.body).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        self.drain = DrainState::Ended;
        let mut trailers = HeaderMap::new();
        let status = Status::unavailable("the server is shutting down");
        if status.add_header(&mut trailers).is_ok() {
            return Poll::Ready(Some(Ok(Frame::trailers(trailers))));
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.drain, DrainState::Ended) || self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts() {
        assert_eq!(parse_grpc_timeout("300m"), Some(Duration::from_millis(300)));
        assert_eq!(parse_grpc_timeout("2S"), Some(Duration::from_secs(2)));
        assert_eq!(parse_grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_grpc_timeout("5"), None);
        assert_eq!(parse_grpc_timeout("123456789S"), None, "at most 8 digits");
        assert_eq!(parse_grpc_timeout("m"), None);
        assert_eq!(parse_grpc_timeout(""), None);
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("authorization", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn bearer_tokens() {
        let want = Some(digest(b"abc"));
        for ok in ["Bearer abc", "bearer abc", "BEARER  abc"] {
            assert_eq!(
                GuardState::presented(&headers(&[ok])).unwrap(),
                want,
                "{ok}"
            );
        }
        assert!(GuardState::presented(&headers(&["Basic abc"])).is_err());
        assert!(GuardState::presented(&headers(&["Bearer abc", "Bearer abc"])).is_err());
        assert_eq!(GuardState::presented(&headers(&[])).unwrap(), None);
        assert!(!same(&digest(b"abc"), &digest(b"abd")));
    }
}
