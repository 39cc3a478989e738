//! A tower layer in front of every service: bearer-token authentication,
//! and oversized requests answered with RESOURCE_EXHAUSTED.

use std::sync::Arc;
use std::task::{Context, Poll};

use tonic::body::Body;
use tonic::codegen::http::{HeaderMap, HeaderValue, Request, Response};
use tonic::codegen::{BoxFuture, Service};
use tonic::Status;
use tower::Layer;

/// Paths that need no token: load balancers probe health without one.
const OPEN_PREFIX: &str = "/grpc.health.v1.Health/";
/// The path that may need the admin token.
pub const RELOAD_PATH: &str = "/contentfilter.v1.ContentFilter/ReloadWordlists";

/// Settings of the guard.
#[derive(Clone, Debug, Default)]
pub struct GuardLayer {
    token: Option<Arc<str>>,
    admin_token: Option<Arc<str>>,
    max_request_bytes: usize,
}

impl GuardLayer {
    /// A guard requiring `token` on every call (when set) and
    /// `admin_token` on ReloadWordlists (when set).
    pub fn new(
        token: Option<String>,
        admin_token: Option<String>,
        max_request_bytes: usize,
    ) -> GuardLayer {
        GuardLayer {
            token: token.map(Arc::from),
            admin_token: admin_token.map(Arc::from),
            max_request_bytes,
        }
    }

    fn check(&self, path: &str, headers: &HeaderMap) -> Result<(), Status> {
        if path.starts_with(OPEN_PREFIX) {
            return Ok(());
        }
        let presented = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let matches = |want: &Option<Arc<str>>| match (want, presented) {
            (Some(w), Some(p)) => constant_time_eq(w.as_bytes(), p.as_bytes()),
            _ => false,
        };
        if path == RELOAD_PATH && self.admin_token.is_some() {
            if matches(&self.admin_token) {
                return Ok(());
            }
            if matches(&self.token) || (self.token.is_none() && presented.is_some()) {
                return Err(Status::permission_denied(
                    "ReloadWordlists needs the admin token",
                ));
            }
            return Err(Status::unauthenticated("missing or wrong admin token"));
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
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl<S> Layer<S> for GuardLayer {
    type Service = Guard<S>;

    fn layer(&self, inner: S) -> Guard<S> {
        Guard {
            inner,
            settings: self.clone(),
        }
    }
}

/// The service the [`GuardLayer`] makes.
#[derive(Clone, Debug)]
pub struct Guard<S> {
    inner: S,
    settings: GuardLayer,
}

impl<S, B> Service<Request<B>> for Guard<S>
where
    S: Service<Request<B>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if let Err(status) = self.settings.check(req.uri().path(), req.headers()) {
            return Box::pin(async move { Ok(status.into_http()) });
        }
        // The ready service handles this call; a clone waits for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let limit = self.settings.max_request_bytes;
        Box::pin(async move {
            let mut response = inner.call(req).await?;
            too_large_is_resource_exhausted(response.headers_mut(), limit);
            Ok(response)
        })
    }
}

/// tonic rejects a message over the decoding limit with OUT_OF_RANGE before
/// our handler runs; gRPC convention (and our contract) is
/// RESOURCE_EXHAUSTED.
fn too_large_is_resource_exhausted(headers: &mut HeaderMap, limit: usize) {
    let out_of_range = headers.get("grpc-status").is_some_and(|v| v == "11");
    let too_large = headers
        .get("grpc-message")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|m| m.contains("too%20large") || m.contains("too large"));
    if out_of_range && too_large {
        headers.insert("grpc-status", HeaderValue::from_static("8"));
        let message = format!("request%20larger%20than%20the%20limit%20of%20{limit}%20bytes");
        if let Ok(v) = HeaderValue::from_str(&message) {
            headers.insert("grpc-message", v);
        }
    }
}
