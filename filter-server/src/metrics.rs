//! Prometheus metrics: counts, kinds, lengths and timings, never text.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The RPCs measured, in the order of their counters.
pub const RPCS: [&str; 4] = ["Scan", "Redact", "ScanStream", "ReloadWordlists"];

/// gRPC status code names, indexed by code.
const CODES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

/// Latency bucket bounds, in seconds.
const BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];

#[derive(Default)]
struct Histogram {
    counts: [AtomicU64; BUCKETS.len() + 1],
    sum_micros: AtomicU64,
}

/// The server's metrics, shared by every request.
#[derive(Default)]
pub struct Metrics {
    requests: [[AtomicU64; 17]; RPCS.len()],
    latency: [Histogram; RPCS.len()],
    findings: Mutex<BTreeMap<(&'static str, String), u64>>,
    bytes_scanned: AtomicU64,
    lexicon_terms: AtomicU64,
    lexicon_categories: AtomicU64,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
    last_reload_ok: AtomicI64,
    last_reload_time: AtomicU64,
    streams_open: AtomicI64,
}

fn rpc_index(rpc: &str) -> usize {
    RPCS.iter().position(|r| *r == rpc).unwrap_or(0)
}

impl Metrics {
    /// Counts a finished request.
    pub fn request(&self, rpc: &str, code: tonic::Code, elapsed: Duration) {
        let i = rpc_index(rpc);
        self.requests[i][(code as usize).min(16)].fetch_add(1, Relaxed);
        let secs = elapsed.as_secs_f64();
        let h = &self.latency[i];
        let b = BUCKETS
            .iter()
            .position(|&le| secs <= le)
            .unwrap_or(BUCKETS.len());
        h.counts[b].fetch_add(1, Relaxed);
        h.sum_micros.fetch_add(elapsed.as_micros() as u64, Relaxed);
    }

    /// Counts scanned bytes.
    pub fn scanned(&self, bytes: usize) {
        self.bytes_scanned.fetch_add(bytes as u64, Relaxed);
    }

    /// Counts findings by kind and category.
    pub fn findings<'a>(&self, found: impl Iterator<Item = (&'static str, &'a str)>) {
        let mut map = self.findings.lock().expect("metrics lock");
        for (kind, category) in found {
            match map.get_mut(&(kind, category.to_string())) {
                Some(n) => *n += 1,
                None => {
                    map.insert((kind, category.to_string()), 1);
                }
            }
        }
    }

    /// Records the lexicon now in service.
    pub fn lexicon(&self, terms: usize, categories: usize) {
        self.lexicon_terms.store(terms as u64, Relaxed);
        self.lexicon_categories.store(categories as u64, Relaxed);
    }

    /// Records a reload attempt.
    pub fn reload(&self, ok: bool) {
        if ok {
            self.reloads_ok.fetch_add(1, Relaxed);
        } else {
            self.reloads_failed.fetch_add(1, Relaxed);
        }
        self.last_reload_ok.store(i64::from(ok), Relaxed);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.last_reload_time.store(now, Relaxed);
    }

    /// A stream opened (+1) or closed (-1).
    pub fn stream(&self, delta: i64) {
        self.streams_open.fetch_add(delta, Relaxed);
    }

    /// Streams open now.
    pub fn streams_open(&self) -> i64 {
        self.streams_open.load(Relaxed)
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "# HELP contentfilter_requests_total Finished requests by RPC and status."
        );
        let _ = writeln!(s, "# TYPE contentfilter_requests_total counter");
        for (i, rpc) in RPCS.iter().enumerate() {
            for (c, code) in CODES.iter().enumerate() {
                let n = self.requests[i][c].load(Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        s,
                        "contentfilter_requests_total{{rpc=\"{rpc}\",code=\"{code}\"}} {n}"
                    );
                }
            }
        }
        let _ = writeln!(
            s,
            "# HELP contentfilter_request_duration_seconds Request latency by RPC."
        );
        let _ = writeln!(s, "# TYPE contentfilter_request_duration_seconds histogram");
        for (i, rpc) in RPCS.iter().enumerate() {
            let h = &self.latency[i];
            let mut cumulative = 0;
            for (b, le) in BUCKETS.iter().enumerate() {
                cumulative += h.counts[b].load(Relaxed);
                let _ = writeln!(
                    s,
                    "contentfilter_request_duration_seconds_bucket{{rpc=\"{rpc}\",le=\"{le}\"}} {cumulative}"
                );
            }
            cumulative += h.counts[BUCKETS.len()].load(Relaxed);
            let _ = writeln!(s, "contentfilter_request_duration_seconds_bucket{{rpc=\"{rpc}\",le=\"+Inf\"}} {cumulative}");
            let sum = h.sum_micros.load(Relaxed) as f64 / 1e6;
            let _ = writeln!(
                s,
                "contentfilter_request_duration_seconds_sum{{rpc=\"{rpc}\"}} {sum}"
            );
            let _ = writeln!(
                s,
                "contentfilter_request_duration_seconds_count{{rpc=\"{rpc}\"}} {cumulative}"
            );
        }
        let _ = writeln!(
            s,
            "# HELP contentfilter_findings_total Findings by kind and category."
        );
        let _ = writeln!(s, "# TYPE contentfilter_findings_total counter");
        for ((kind, category), n) in self.findings.lock().expect("metrics lock").iter() {
            let category = category.replace('\\', "\\\\").replace('"', "\\\"");
            let _ = writeln!(
                s,
                "contentfilter_findings_total{{kind=\"{kind}\",category=\"{category}\"}} {n}"
            );
        }
        let gauges: [(&str, &str, &str, String); 8] = [
            (
                "contentfilter_scanned_bytes_total",
                "counter",
                "Bytes of text scanned.",
                self.bytes_scanned.load(Relaxed).to_string(),
            ),
            (
                "contentfilter_lexicon_terms",
                "gauge",
                "Terms in the lexicon in service.",
                self.lexicon_terms.load(Relaxed).to_string(),
            ),
            (
                "contentfilter_lexicon_categories",
                "gauge",
                "Categories in the lexicon in service.",
                self.lexicon_categories.load(Relaxed).to_string(),
            ),
            (
                "contentfilter_reloads_ok_total",
                "counter",
                "Word-list reloads that succeeded.",
                self.reloads_ok.load(Relaxed).to_string(),
            ),
            (
                "contentfilter_reloads_failed_total",
                "counter",
                "Word-list reloads that failed (old lists kept).",
                self.reloads_failed.load(Relaxed).to_string(),
            ),
            (
                "contentfilter_last_reload_success",
                "gauge",
                "1 if the last reload succeeded, else 0.",
                self.last_reload_ok.load(Relaxed).to_string(),
            ),
            (
                "contentfilter_last_reload_timestamp_seconds",
                "gauge",
                "Time of the last reload attempt.",
                self.last_reload_time.load(Relaxed).to_string(),
            ),
            (
                "contentfilter_streams_open",
                "gauge",
                "ScanStream calls open now.",
                self.streams_open.load(Relaxed).to_string(),
            ),
        ];
        for (name, kind, help, value) in gauges {
            let _ = writeln!(
                s,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
        s
    }
}

/// Serves `GET /metrics` on `addr` until the process ends.
pub async fn serve(listener: TcpListener, metrics: Arc<Metrics>) {
    loop {
        let Ok((mut conn, _)) = listener.accept().await else {
            continue;
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            let mut len = 0;
            // Read the request head, bounded in size and time.
            let head = tokio::time::timeout(Duration::from_secs(5), async {
                while len < buf.len() {
                    let n = conn.read(&mut buf[len..]).await.ok()?;
                    if n == 0 {
                        return None;
                    }
                    len += n;
                    if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                        return Some(());
                    }
                }
                None
            })
            .await;
            if !matches!(head, Ok(Some(()))) {
                return;
            }
            let response = if buf.starts_with(b"GET /metrics ") || buf.starts_with(b"GET /metrics?")
            {
                let body = metrics.render();
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            } else {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_string()
            };
            let _ = conn.write_all(response.as_bytes()).await;
            let _ = conn.shutdown().await;
        });
    }
}

/// Binds the metrics listener.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}
