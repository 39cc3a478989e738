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
use tonic::codegen::{BoxFuture, Service};
use tonic::{Code, Status};
use tower::Layer;

use crate::config::{Limits, Token};
use crate::metrics::{Metrics, Refusal, Rpc};

/// Paths that need no token: load balancers probe health without one.
const HEALTH_PREFIX: &str = "/grpc.health.v1.Health/";
const HEALTH_WATCH: &str = "/grpc.health.v1.Health/Watch";
const REFLECTION_PREFIX: &str = "/grpc.reflection.";

/// Time kept back from a client's deadline, so that the server answers
/// DEADLINE_EXCEEDED itself before tonic's own timer cancels the call.
const DEADLINE_MARGIN: Duration = Duration::from_millis(2);

/// The place a request holds under its limit, in the request's extensions.
/// A handler takes it and keeps it until its work is done.
#[derive(Clone)]
pub struct Admission {
    _place: Arc<OwnedSemaphorePermit>,
}

impl Admission {
    fn new(place: OwnedSemaphorePermit) -> Admission {
        Admission {
            _place: Arc::new(place),
        }
    }
}

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
    ) -> GuardLayer {
        GuardLayer {
            state: Arc::new(GuardState {
                token: token.map(|t| digest(t.as_str().as_bytes())),
                admin_token: admin_token.map(|t| digest(t.as_str().as_bytes())),
                max_request_bytes: limits.max_request_bytes,
                request_timeout: limits.request_timeout,
                stream_timeout: limits.stream_timeout,
                unary: Arc::new(Semaphore::new(limits.max_concurrent)),
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
            Some(rpc @ (Rpc::Scan | Rpc::Redact)) => Pass::Unary(Some(rpc)),
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
        let state = self.state.clone();
        let started = Instant::now();
        let path = req.uri().path().to_string();
        let rpc = Rpc::from_path(&path);
        let refuse = move |status: Status| {
            if let Some(rpc) = rpc {
                state.metrics.request(rpc, status.code(), started.elapsed());
            }
            Box::pin(async move { Ok(status.into_http()) }) as Self::Future
        };
        if let Err(status) = self.state.authenticate(&path, req.headers()) {
            return refuse(status);
        }
        // The ready service handles this call; a clone waits for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let state = self.state.clone();
        match GuardState::pass(&path) {
            Pass::Stream => {
                let place = match state.try_place(&state.streams, Refusal::Streams) {
                    Ok(p) => p,
                    Err(status) => return refuse(status),
                };
                let deadline = state.deadline(req.headers(), state.stream_timeout);
                let cancel = ClientCancel::default();
                let req = req.map(|body| {
                    Body::new(WatchCancel {
                        body,
                        cancel: cancel.clone(),
                    })
                });
                let mut req = req;
                req.extensions_mut().insert(Admission::new(place));
                req.extensions_mut().insert(Deadline(deadline));
                req.extensions_mut().insert(cancel);
                Box::pin(inner.call(req))
            }
            Pass::Aux => {
                let place = match state.try_place(&state.aux, Refusal::AuxStreams) {
                    Ok(p) => p,
                    Err(status) => return refuse(status),
                };
                Box::pin(async move {
                    let response = inner.call(req).await?;
                    Ok(response.map(|body| {
                        Body::new(HoldPlace {
                            body,
                            _place: place,
                        })
                    }))
                })
            }
            Pass::Unary(rpc) => {
                let deadline = state.deadline(req.headers(), state.request_timeout);
                Box::pin(async move {
                    let work = async {
                        let place = state.unary.clone().acquire_owned().await.ok();
                        if let Some(place) = place {
                            req.extensions_mut().insert(Admission::new(place));
                        }
                        req.extensions_mut().insert(Deadline(deadline));
                        inner.call(req).await
                    };
                    state.finish(
                        rpc,
                        started,
                        tokio::time::timeout_at(deadline.into(), work).await,
                    )
                })
            }
            Pass::Plain => {
                let deadline = state.deadline(req.headers(), state.request_timeout);
                Box::pin(async move {
                    req.extensions_mut().insert(Deadline(deadline));
                    let response = tokio::time::timeout_at(deadline.into(), inner.call(req)).await;
                    state.finish(None, started, response)
                })
            }
        }
    }
}

impl GuardState {
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

/// A request body that notes a reset with CANCEL in a [`ClientCancel`].
struct WatchCancel {
    body: Body,
    cancel: ClientCancel,
}

impl HttpBody for WatchCancel {
    type Data = tonic::codegen::Bytes;
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

/// A response body that holds a place under a limit until it is dropped.
struct HoldPlace {
    body: Body,
    _place: OwnedSemaphorePermit,
}

impl HttpBody for HoldPlace {
    type Data = tonic::codegen::Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
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
