//! The upstreams: pooled keep-alive connections (HTTP/1.1, or HTTP/2 where
//! the server offers it over TLS), and failover from the primary to the
//! backup after consecutive failures, back to the primary after a
//! cool-down once it answers again. A request is retried on the other
//! upstream only before anything was sent to the client.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, Uri};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::config::{Config, Failover};
use crate::metrics::Metrics;

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

/// The fewest answers in the window before its rate and latency count.
const MIN_SAMPLES: usize = 20;

/// The primary's recent record, and since when the backup serves.
#[derive(Default)]
struct Health {
    failures: u32,
    backup_since: Option<Instant>,
    /// (when, succeeded, time to the answer's headers), oldest first.
    window: VecDeque<(Instant, bool, Duration)>,
}

impl Health {
    /// Records one answer of the primary; returns why the backup should
    /// take over, if it should.
    fn record(&mut self, ok: bool, latency: Duration, rules: &Failover) -> Option<String> {
        let now = Instant::now();
        self.window.push_back((now, ok, latency));
        while self
            .window
            .front()
            .is_some_and(|(t, _, _)| now.duration_since(*t) > rules.window)
        {
            self.window.pop_front();
        }
        self.failures = if ok { 0 } else { self.failures + 1 };
        if self.failures >= rules.threshold {
            return Some(format!("{} consecutive failures", self.failures));
        }
        if self.window.len() < MIN_SAMPLES {
            return None;
        }
        let n = self.window.len() as f64;
        let rate = self.window.iter().filter(|(_, ok, _)| *ok).count() as f64 / n;
        if rate < rules.min_success_rate {
            return Some(format!("success rate {rate:.3} over the window"));
        }
        let mean = self
            .window
            .iter()
            .map(|(_, _, l)| l.as_secs_f64())
            .sum::<f64>()
            / n;
        if mean > rules.max_mean_latency.as_secs_f64() {
            return Some(format!(
                "mean latency {:.0} ms over the window",
                mean * 1000.0
            ));
        }
        None
    }
}

/// The upstreams and the client that reaches them.
pub(crate) struct Upstreams {
    targets: Vec<Uri>,
    client: Client<Connector, Full<Bytes>>,
    health: Mutex<Health>,
    rules: Failover,
    timeout: Duration,
    metrics: Arc<Metrics>,
    api_key: Option<HeaderValue>,
}

impl Upstreams {
    pub(crate) fn new(config: &Config, metrics: Arc<Metrics>) -> Upstreams {
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
            rules: config.failover.clone(),
            timeout: config.first_byte_timeout,
            metrics,
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
            Some(since) if since.elapsed() < self.rules.cooldown => vec![1, 0],
            _ => vec![0, 1],
        }
    }

    fn record(&self, target: usize, ok: bool, latency: Duration) {
        if !ok {
            self.metrics.upstream_failure(target);
        }
        if target != 0 || self.targets.len() < 2 {
            return;
        }
        let mut health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        if health.backup_since.is_some() {
            // A probe after the cool-down (or a last resort while the
            // backup failed too): back to the primary, or another
            // cool-down.
            if ok {
                tracing::info!("the primary upstream answers again; switching back");
                *health = Health::default();
            } else {
                health.backup_since = Some(Instant::now());
            }
            return;
        }
        if let Some(why) = health.record(ok, latency, &self.rules) {
            tracing::warn!(reason = %why, "leaving the primary upstream for the backup");
            self.metrics.failover();
            health.backup_since = Some(Instant::now());
            health.window.clear();
            health.failures = 0;
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
            let started = Instant::now();
            let answer = tokio::time::timeout(self.timeout, self.client.request(request)).await;
            let latency = started.elapsed();
            match answer {
                Ok(Ok(answer)) if !answer.status().is_server_error() => {
                    self.record(target, true, latency);
                    return Ok((target, answer));
                }
                Ok(Ok(answer)) => {
                    self.record(target, false, latency);
                    tracing::warn!(
                        upstream = target,
                        status = answer.status().as_u16(),
                        "upstream error"
                    );
                    last_answer = Some((target, answer));
                }
                Ok(Err(e)) => {
                    self.record(target, false, latency);
                    tracing::warn!(upstream = target, error = %e, "upstream unreachable");
                    last_error = e.to_string();
                }
                Err(_) => {
                    self.record(target, false, latency);
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
