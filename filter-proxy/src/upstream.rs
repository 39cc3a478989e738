//! The upstreams: pooled keep-alive connections (HTTP/1.1, or HTTP/2 where
//! the server offers it over TLS), and failover from the primary to the
//! backup after consecutive failures, back to the primary after a
//! cool-down once it answers again. A request is retried on the other
//! upstream only before anything was sent to the client.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, Uri};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::config::Config;

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// Headers that describe one connection, not the request (RFC 9110,
/// section 7.6.1), and those the proxy sets itself.
const NOT_FORWARDED: [&str; 10] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

/// Why no upstream answered.
#[derive(Debug, thiserror::Error)]
#[error("no upstream answered: {0}")]
pub(crate) struct UpstreamError(String);

/// Failures of the primary, and since when the backup serves.
#[derive(Default)]
struct Health {
    failures: u32,
    backup_since: Option<Instant>,
}

/// The upstreams and the client that reaches them.
pub(crate) struct Upstreams {
    targets: Vec<Uri>,
    client: Client<Connector, Full<Bytes>>,
    health: Mutex<Health>,
    threshold: u32,
    cooldown: Duration,
    timeout: Duration,
    api_key: Option<HeaderValue>,
}

impl Upstreams {
    pub(crate) fn new(config: &Config) -> Upstreams {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .build();
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(https);
        Upstreams {
            targets: config.upstreams.clone(),
            client,
            health: Mutex::new(Health::default()),
            threshold: config.failure_threshold,
            cooldown: config.cooldown,
            timeout: config.first_byte_timeout,
            api_key: config
                .upstream_api_key
                .as_deref()
                .and_then(|k| HeaderValue::from_str(k).ok()),
        }
    }

    /// The upstreams to try, in order: the backup first while it serves,
    /// the primary first otherwise (after the cool-down: a probe).
    fn order(&self) -> Vec<usize> {
        if self.targets.len() < 2 {
            return vec![0];
        }
        let health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        match health.backup_since {
            Some(since) if since.elapsed() < self.cooldown => vec![1, 0],
            _ => vec![0, 1],
        }
    }

    fn record(&self, target: usize, ok: bool) {
        if target != 0 || self.targets.len() < 2 {
            return;
        }
        let mut health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        if ok {
            if health.backup_since.is_some() {
                tracing::info!("the primary upstream answers again; switching back");
            }
            *health = Health::default();
        } else {
            health.failures += 1;
            if health.failures >= self.threshold {
                if health.backup_since.is_none() {
                    tracing::warn!(
                        failures = health.failures,
                        "the primary upstream keeps failing; switching to the backup"
                    );
                }
                health.backup_since = Some(Instant::now());
            }
        }
    }

    /// Sends a request (`path` is the API path after `/v1`), trying the
    /// other upstream when one fails to connect, times out or answers 5xx.
    /// Returns which upstream answered and its answer.
    pub(crate) async fn send(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
        client_ip: &str,
        body: Bytes,
    ) -> Result<(usize, Response<Incoming>), UpstreamError> {
        let mut last_error = String::from("none configured");
        let mut last_answer = None;
        for target in self.order() {
            let request = self.request(target, method, path, headers, client_ip, body.clone())?;
            match tokio::time::timeout(self.timeout, self.client.request(request)).await {
                Ok(Ok(answer)) if !answer.status().is_server_error() => {
                    self.record(target, true);
                    return Ok((target, answer));
                }
                Ok(Ok(answer)) => {
                    self.record(target, false);
                    tracing::warn!(
                        upstream = target,
                        status = answer.status().as_u16(),
                        "upstream error"
                    );
                    last_answer = Some((target, answer));
                }
                Ok(Err(e)) => {
                    self.record(target, false);
                    tracing::warn!(upstream = target, error = %e, "upstream unreachable");
                    last_error = e.to_string();
                }
                Err(_) => {
                    self.record(target, false);
                    tracing::warn!(upstream = target, "upstream timed out");
                    last_error = "timed out".into();
                }
            }
        }
        last_answer.ok_or(UpstreamError(last_error))
    }

    /// The request to upstream `target`.
    fn request(
        &self,
        target: usize,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
        client_ip: &str,
        body: Bytes,
    ) -> Result<Request<Full<Bytes>>, UpstreamError> {
        let base = &self.targets[target];
        let uri = format!(
            "{}://{}{}{path}",
            base.scheme_str().unwrap_or("http"),
            base.authority().map_or("", |a| a.as_str()),
            base.path().trim_end_matches('/'),
        );
        let mut request = Request::builder().method(method.clone()).uri(uri);
        for (name, value) in headers {
            let skip = NOT_FORWARDED.contains(&name.as_str())
                || *name == header::ACCEPT_ENCODING
                || (self.api_key.is_some() && *name == header::AUTHORIZATION);
            if !skip {
                request = request.header(name, value);
            }
        }
        if let Some(key) = &self.api_key {
            request = request.header(header::AUTHORIZATION, key);
        }
        // The answer is read and rewritten: it must come uncompressed.
        request = request.header(header::ACCEPT_ENCODING, "identity");
        let forwarded = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
            Some(earlier) => format!("{earlier}, {client_ip}"),
            None => client_ip.to_string(),
        };
        request = request.header(HeaderName::from_static("x-forwarded-for"), forwarded);
        request
            .body(Full::new(body))
            .map_err(|e| UpstreamError(e.to_string()))
    }
}
