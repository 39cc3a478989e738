//! The HTTP listener (`--http-listen`): the JSON API (`/v1/scan`,
//! `/v1/redact`, `/v1/restore`), LiteLLM's Generic Guardrail API
//! (`/beta/litellm_basic_guardrail_api`) and the `/healthz` and `/readyz`
//! probes, over HTTP/1.1 and h2c (or TLS, as the gRPC listener), with the
//! gRPC service's lexicon, tokens, limits, drain and metrics: every call is
//! transcoded to the gRPC service behind its guard.

mod litellm;
mod transcode;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::sync::watch;
use tokio_stream::StreamExt;
use tonic::Code;

use crate::config::GuardrailPolicy;
use crate::guard::Guard;
use crate::listener::Incoming;
use crate::metrics::Rpc;
use crate::proto::content_filter_service_server::ContentFilterServiceServer;
use crate::proto::{
    RedactRequest, RedactResponse, RestoreRequest, RestoreResponse, ScanRequest, ScanResponse,
};
use crate::request_id::RequestId;
use crate::service::{self, FilterService};

pub(crate) use transcode::ApiError;

/// The gRPC service behind its guard, as the network reaches it.
pub(crate) type GrpcService = Guard<ContentFilterServiceServer<FilterService>>;

/// The time a client gets to send a request's headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// What the HTTP handlers share.
pub(crate) struct Gateway {
    pub(crate) grpc: GrpcService,
    /// The largest body: the gRPC message limit.
    pub(crate) max_body: usize,
    /// True once the server drains.
    pub(crate) draining: watch::Receiver<bool>,
    pub(crate) guardrail: GuardrailPolicy,
    /// The scanner in service, for the actions of word-list categories.
    pub(crate) state: Arc<service::State>,
}

/// The routes of the HTTP listener.
pub(crate) fn routes(gateway: Arc<Gateway>) -> Router {
    Router::new()
        .route("/v1/scan", post(scan))
        .route("/v1/redact", post(redact))
        .route("/v1/restore", post(restore))
        .route(
            "/beta/litellm_basic_guardrail_api",
            post(litellm::guardrail),
        )
        .merge(probes(gateway.draining.clone()))
        .fallback(not_found)
        .with_state(gateway)
}

/// `GET /healthz` (the process answers) and `GET /readyz` (the lists are
/// loaded, which they are once the server listens, and it is not
/// draining), without a token.
pub(crate) fn probes<S: Clone + Send + Sync + 'static>(
    draining: watch::Receiver<bool>,
) -> Router<S> {
    Router::new()
        .route("/healthz", get(|| async { (StatusCode::OK, "ok\n") }))
        .route(
            "/readyz",
            get(move || {
                let draining = *draining.borrow();
                async move {
                    if draining {
                        (StatusCode::SERVICE_UNAVAILABLE, "draining\n")
                    } else {
                        (StatusCode::OK, "ready\n")
                    }
                }
            }),
        )
}

async fn scan(State(g): State<Arc<Gateway>>, request: Request) -> Response {
    transcode::unary::<ScanRequest, ScanResponse>(&g.grpc, Rpc::Scan, g.max_body, request).await
}

async fn redact(State(g): State<Arc<Gateway>>, request: Request) -> Response {
    transcode::unary::<RedactRequest, RedactResponse>(&g.grpc, Rpc::Redact, g.max_body, request)
        .await
}

async fn restore(State(g): State<Arc<Gateway>>, request: Request) -> Response {
    transcode::unary::<RestoreRequest, RestoreResponse>(&g.grpc, Rpc::Restore, g.max_body, request)
        .await
}

/// Any other path: 404 in the error format.
async fn not_found(request: Request) -> Response {
    let id = RequestId::from_headers(request.headers());
    ApiError::new(
        Code::NotFound,
        format!(
            "no endpoint {} {} (POST /v1/scan, /v1/redact, /v1/restore, \
             /beta/litellm_basic_guardrail_api; GET /healthz, /readyz)",
            request.method(),
            request.uri().path()
        ),
    )
    .into_response(&id)
}

/// Serves `routes` on the connections of `incoming` (HTTP/1.1 and h2c)
/// until the server drains; then stops accepting and gives the requests
/// in flight `grace` to finish.
pub(crate) async fn serve(
    mut incoming: Incoming,
    routes: Router,
    mut draining: watch::Receiver<bool>,
    grace: Duration,
) {
    let service = TowerToHyperService::new(routes);
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder.http2().timer(TokioTimer::new());
    loop {
        tokio::select! {
            conn = incoming.next() => {
                let Some(Ok(conn)) = conn else { break };
                let connection = builder
                    .serve_connection(TokioIo::new(conn), service.clone())
                    .into_owned();
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::debug!(error = %e, "http connection");
                    }
                });
            }
            changed = draining.changed() => {
                if changed.is_err() || *draining.borrow() {
                    break;
                }
            }
        }
    }
    drop(incoming);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("grace period over with HTTP requests in flight; stopping");
    }
}
