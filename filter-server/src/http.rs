//! The metrics endpoint, served by hyper over the same limited listener as
//! the gRPC service: `GET /metrics` in the Prometheus text format, and the
//! `/healthz` and `/readyz` probes.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio_stream::StreamExt;

use crate::listener::Incoming;
use crate::metrics::Metrics;

/// The time a client gets to send a request's headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The routes of the metrics listener.
fn routes(metrics: Arc<Metrics>, draining: tokio::sync::watch::Receiver<bool>) -> Router {
    crate::gateway::probes(draining).route(
        "/metrics",
        get(move || {
            let body = metrics.render();
            async move {
                (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                    body,
                )
                    .into_response()
            }
        }),
    )
}

/// Serves the metrics on the connections of `incoming` until it ends.
pub async fn serve_metrics(
    mut incoming: Incoming,
    metrics: Arc<Metrics>,
    draining: tokio::sync::watch::Receiver<bool>,
) {
    let service = TowerToHyperService::new(routes(metrics, draining));
    while let Some(Ok(conn)) = incoming.next().await {
        let service = service.clone();
        tokio::spawn(async move {
            let served = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .keep_alive(false)
                .serve_connection(TokioIo::new(conn), service)
                .await;
            if let Err(e) = served {
                tracing::debug!(error = %e, "metrics connection");
            }
        });
    }
}
