//! Prometheus metrics: counts, kinds, lengths and timings, never text.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tonic::Code;

/// The RPCs of `contentfilter.v1.ContentFilterService`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rpc {
    /// `Scan`.
    Scan,
    /// `Redact`.
    Redact,
    /// `ScanStream`.
    ScanStream,
    /// `ReloadWordlists`.
    ReloadWordlists,
    /// `Restore`.
    Restore,
}

impl Rpc {
    /// Every RPC, in the order of their counters.
    pub const ALL: [Rpc; 5] = [
        Rpc::Scan,
        Rpc::Redact,
        Rpc::ScanStream,
        Rpc::ReloadWordlists,
        Rpc::Restore,
    ];

    /// The method name.
    pub fn as_str(self) -> &'static str {
        match self {
            Rpc::Scan => "Scan",
            Rpc::Redact => "Redact",
            Rpc::ScanStream => "ScanStream",
            Rpc::ReloadWordlists => "ReloadWordlists",
            Rpc::Restore => "Restore",
        }
    }

    /// The HTTP/2 path of the RPC.
    pub fn path(self) -> &'static str {
        match self {
            Rpc::Scan => "/contentfilter.v1.ContentFilterService/Scan",
            Rpc::Redact => "/contentfilter.v1.ContentFilterService/Redact",
            Rpc::ScanStream => "/contentfilter.v1.ContentFilterService/ScanStream",
            Rpc::ReloadWordlists => "/contentfilter.v1.ContentFilterService/ReloadWordlists",
            Rpc::Restore => "/contentfilter.v1.ContentFilterService/Restore",
        }
    }

    /// The RPC of a request path, if it is one of ours.
    pub fn from_path(path: &str) -> Option<Rpc> {
        Rpc::ALL.into_iter().find(|r| r.path() == path)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The listeners of the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listener {
    /// The gRPC listener.
    Grpc,
    /// The metrics listener.
    Metrics,
    /// The HTTP/JSON listener.
    Http,
}

impl Listener {
    const ALL: [Listener; 3] = [Listener::Grpc, Listener::Metrics, Listener::Http];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Listener::Grpc => "grpc",
            Listener::Metrics => "metrics",
            Listener::Http => "http",
        }
    }
}

/// Why a request was refused before it was scanned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Too many requests or bytes in flight.
    Busy,
    /// Too many ScanStream calls open.
    Streams,
    /// Too many health watches or reflection streams open.
    AuxStreams,
    /// More findings than the limit.
    Findings,
    /// A response larger than the limit.
    ResponseSize,
}

impl Refusal {
    const ALL: [Refusal; 5] = [
        Refusal::Busy,
        Refusal::Streams,
        Refusal::AuxStreams,
        Refusal::Findings,
        Refusal::ResponseSize,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Refusal::Busy => "in_flight",
            Refusal::Streams => "streams",
            Refusal::AuxStreams => "aux_streams",
            Refusal::Findings => "findings",
            Refusal::ResponseSize => "response_size",
        }
    }
}

/// The name of a status code, as gRPC spells it (metrics labels, the
/// HTTP API's errors).
pub(crate) fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// The status codes, in numeric order.
const CODES: [Code; 17] = [
    Code::Ok,
    Code::Cancelled,
    Code::Unknown,
    Code::InvalidArgument,
    Code::DeadlineExceeded,
    Code::NotFound,
    Code::AlreadyExists,
    Code::PermissionDenied,
    Code::ResourceExhausted,
    Code::FailedPrecondition,
    Code::Aborted,
    Code::OutOfRange,
    Code::Unimplemented,
    Code::Internal,
    Code::Unavailable,
    Code::DataLoss,
    Code::Unauthenticated,
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

/// Findings by kind, then by category: a category is allocated once, when
/// first seen, not per finding.
type FindingCounts = BTreeMap<&'static str, BTreeMap<String, u64>>;

/// Adds `n` findings of `kind` and `category`: the category's name is
/// allocated when first seen, not per finding.
fn add(map: &mut FindingCounts, kind: &'static str, category: &str, n: u64) {
    let by_category = map.entry(kind).or_default();
    match by_category.get_mut(category) {
        Some(count) => *count += n,
        None => {
            by_category.insert(category.to_string(), n);
        }
    }
}

/// The shards of the counters every request writes: more than the cores
/// a server is likely to run on, so that no two threads share one.
const SHARDS: usize = 32;

/// What a request writes, one set per shard: a request writes its thread's
/// shard only, so requests on different cores never write one cache line
/// (or take one lock); a scrape sums the shards. Aligned to keep the
/// shards' lines apart (128 bytes: adjacent-line prefetching pairs lines).
#[derive(Default)]
#[repr(align(128))]
struct Shard {
    requests: [[AtomicU64; CODES.len()]; Rpc::ALL.len()],
    latency: [Histogram; Rpc::ALL.len()],
    /// Locked by this shard's thread and by scrapes only.
    findings: Mutex<FindingCounts>,
    bytes_scanned: AtomicU64,
    /// Gauges as sums: a request may start on one thread and end on
    /// another, so a shard's count alone can be negative.
    streams_open: AtomicI64,
    in_flight: AtomicI64,
}

/// This thread's shard: threads take the shards in turn as they first
/// count something.
fn shard_index() -> usize {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    thread_local! {
        static INDEX: usize = NEXT.fetch_add(1, Relaxed) as usize % SHARDS;
    }
    INDEX.with(|i| *i)
}

/// The server's metrics, shared by every request.
pub struct Metrics {
    shards: Box<[Shard]>,
    lexicon_terms: AtomicU64,
    lexicon_categories: AtomicU64,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
    last_reload_ok: AtomicI64,
    last_reload_time: AtomicU64,
    connections_open: [AtomicI64; Listener::ALL.len()],
    connections_refused: [AtomicU64; Listener::ALL.len()],
    handshake_timeouts: [AtomicU64; Listener::ALL.len()],
    refused: [AtomicU64; Refusal::ALL.len()],
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
            lexicon_terms: AtomicU64::default(),
            lexicon_categories: AtomicU64::default(),
            reloads_ok: AtomicU64::default(),
            reloads_failed: AtomicU64::default(),
            last_reload_ok: AtomicI64::default(),
            last_reload_time: AtomicU64::default(),
            connections_open: Default::default(),
            connections_refused: Default::default(),
            handshake_timeouts: Default::default(),
            refused: Default::default(),
        }
    }
}

impl Metrics {
    /// This thread's shard.
    fn shard(&self) -> &Shard {
        &self.shards[shard_index()]
    }

    /// The sum over the shards of one counter.
    fn sum(&self, counter: impl Fn(&Shard) -> &AtomicU64) -> u64 {
        self.shards.iter().map(|s| counter(s).load(Relaxed)).sum()
    }

    /// The sum over the shards of one gauge.
    fn sum_gauge(&self, gauge: impl Fn(&Shard) -> &AtomicI64) -> i64 {
        self.shards.iter().map(|s| gauge(s).load(Relaxed)).sum()
    }

    /// Counts a finished request.
    pub fn request(&self, rpc: Rpc, code: Code, elapsed: Duration) {
        let i = rpc.index();
        let shard = self.shard();
        shard.requests[i][code as usize].fetch_add(1, Relaxed);
        let secs = elapsed.as_secs_f64();
        let h = &shard.latency[i];
        let b = BUCKETS
            .iter()
            .position(|&le| secs <= le)
            .unwrap_or(BUCKETS.len());
        h.counts[b].fetch_add(1, Relaxed);
        h.sum_micros.fetch_add(elapsed.as_micros() as u64, Relaxed);
    }

    /// Counts scanned bytes.
    pub fn scanned(&self, bytes: usize) {
        self.shard().bytes_scanned.fetch_add(bytes as u64, Relaxed);
    }

    /// Counts findings by kind and category.
    pub fn findings<'a>(&self, found: impl Iterator<Item = (&'static str, &'a str)>) {
        let mut found = found.peekable();
        if found.peek().is_none() {
            return;
        }
        let mut map = self
            .shard()
            .findings
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for (kind, category) in found {
            add(&mut map, kind, category, 1);
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
        self.shard().streams_open.fetch_add(delta, Relaxed);
    }

    /// A request admitted (+1) or done (-1).
    pub fn in_flight(&self, delta: i64) {
        self.shard().in_flight.fetch_add(delta, Relaxed);
    }

    /// A connection opened (+1) or closed (-1).
    pub fn connection_opened(&self, listener: Listener, delta: i64) {
        self.connections_open[listener as usize].fetch_add(delta, Relaxed);
    }

    /// A connection closed at once because the listener was full.
    pub fn connection_refused(&self, listener: Listener) {
        self.connections_refused[listener as usize].fetch_add(1, Relaxed);
    }

    /// A connection closed because its handshake took too long.
    pub fn handshake_timeout(&self, listener: Listener) {
        self.handshake_timeouts[listener as usize].fetch_add(1, Relaxed);
    }

    /// A request refused by a limit.
    pub fn refused(&self, why: Refusal) {
        self.refused[why as usize].fetch_add(1, Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut s = String::new();
        self.render_requests(&mut s);
        self.render_latency(&mut s);
        self.render_findings(&mut s);
        self.render_connections(&mut s);
        self.render_gauges(&mut s);
        s
    }

    fn render_requests(&self, s: &mut String) {
        header(
            s,
            "contentfilter_requests_total",
            "counter",
            "Finished requests by RPC and status.",
        );
        for rpc in Rpc::ALL {
            for code in CODES {
                let n = self.sum(|s| &s.requests[rpc.index()][code as usize]);
                if n > 0 {
                    let _ = writeln!(
                        s,
                        "contentfilter_requests_total{{rpc=\"{}\",code=\"{}\"}} {n}",
                        rpc.as_str(),
                        code_name(code)
                    );
                }
            }
        }
    }

    fn render_latency(&self, s: &mut String) {
        let name = "contentfilter_request_duration_seconds";
        header(s, name, "histogram", "Request latency by RPC.");
        for rpc in Rpc::ALL {
            let (i, rpc) = (rpc.index(), rpc.as_str());
            let mut cumulative = 0;
            for (b, le) in BUCKETS.iter().enumerate() {
                cumulative += self.sum(|s| &s.latency[i].counts[b]);
                let _ = writeln!(s, "{name}_bucket{{rpc=\"{rpc}\",le=\"{le}\"}} {cumulative}");
            }
            cumulative += self.sum(|s| &s.latency[i].counts[BUCKETS.len()]);
            let sum = self.sum(|s| &s.latency[i].sum_micros) as f64 / 1e6;
            let _ = writeln!(
                s,
                "{name}_bucket{{rpc=\"{rpc}\",le=\"+Inf\"}} {cumulative}\n{name}_sum{{rpc=\"{rpc}\"}} {sum}\n{name}_count{{rpc=\"{rpc}\"}} {cumulative}"
            );
        }
    }

    fn render_findings(&self, s: &mut String) {
        header(
            s,
            "contentfilter_findings_total",
            "counter",
            "Findings by kind and category.",
        );
        let mut map = FindingCounts::new();
        for shard in self.shards.iter() {
            let counts = shard.findings.lock().unwrap_or_else(|e| e.into_inner());
            for (kind, by_category) in counts.iter() {
                for (category, &n) in by_category {
                    add(&mut map, kind, category, n);
                }
            }
        }
        for (kind, by_category) in map.iter() {
            for (category, n) in by_category {
                let _ = writeln!(
                    s,
                    "contentfilter_findings_total{{kind=\"{kind}\",category=\"{}\"}} {n}",
                    label_value(category)
                );
            }
        }
    }

    fn render_connections(&self, s: &mut String) {
        let families: [(&str, &str, &str, &[AtomicI64]); 1] = [(
            "contentfilter_connections_open",
            "gauge",
            "Connections open now, by listener.",
            &self.connections_open,
        )];
        for (name, kind, help, values) in families {
            header(s, name, kind, help);
            for l in Listener::ALL {
                let v = values[l as usize].load(Relaxed);
                let _ = writeln!(s, "{name}{{listener=\"{}\"}} {v}", l.as_str());
            }
        }
        let counters: [(&str, &str, &[AtomicU64]); 2] = [
            (
                "contentfilter_connections_refused_total",
                "Connections closed at once because the listener had its most open.",
                &self.connections_refused,
            ),
            (
                "contentfilter_handshake_timeouts_total",
                "Connections closed because the handshake or protocol preface took too long.",
                &self.handshake_timeouts,
            ),
        ];
        for (name, help, values) in counters {
            header(s, name, "counter", help);
            for l in Listener::ALL {
                let v = values[l as usize].load(Relaxed);
                let _ = writeln!(s, "{name}{{listener=\"{}\"}} {v}", l.as_str());
            }
        }
        let name = "contentfilter_refused_total";
        header(s, name, "counter", "Requests refused by a limit, by limit.");
        for r in Refusal::ALL {
            let v = self.refused[r as usize].load(Relaxed);
            let _ = writeln!(s, "{name}{{limit=\"{}\"}} {v}", r.as_str());
        }
    }

    fn render_gauges(&self, s: &mut String) {
        let load = |a: &AtomicU64| a.load(Relaxed).to_string();
        let gauges: [(&str, &str, &str, String); 9] = [
            (
                "contentfilter_scanned_bytes_total",
                "counter",
                "Bytes of text scanned.",
                self.sum(|s| &s.bytes_scanned).to_string(),
            ),
            (
                "contentfilter_lexicon_terms",
                "gauge",
                "Terms in the lexicon in service.",
                load(&self.lexicon_terms),
            ),
            (
                "contentfilter_lexicon_categories",
                "gauge",
                "Categories in the lexicon in service.",
                load(&self.lexicon_categories),
            ),
            (
                "contentfilter_reloads_ok_total",
                "counter",
                "Word-list reloads that succeeded.",
                load(&self.reloads_ok),
            ),
            (
                "contentfilter_reloads_failed_total",
                "counter",
                "Word-list reloads that failed (old lists kept).",
                load(&self.reloads_failed),
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
                load(&self.last_reload_time),
            ),
            (
                "contentfilter_streams_open",
                "gauge",
                "ScanStream calls open now.",
                self.sum_gauge(|s| &s.streams_open).to_string(),
            ),
            (
                "contentfilter_requests_in_flight",
                "gauge",
                "Scan and Redact requests admitted and not yet done.",
                self.sum_gauge(|s| &s.in_flight).to_string(),
            ),
        ];
        for (name, kind, help, value) in gauges {
            header(s, name, kind, help);
            let _ = writeln!(s, "{name} {value}");
        }
    }
}

fn header(s: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value escaped as the exposition format asks.
fn label_value(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rpc_has_its_own_counters() {
        let m = Metrics::default();
        for (i, rpc) in Rpc::ALL.into_iter().enumerate() {
            assert_eq!(Rpc::from_path(rpc.path()), Some(rpc));
            for _ in 0..=i {
                m.request(rpc, Code::ResourceExhausted, Duration::from_micros(50));
            }
        }
        let text = m.render();
        for (i, rpc) in Rpc::ALL.into_iter().enumerate() {
            let line = format!(
                "contentfilter_requests_total{{rpc=\"{}\",code=\"RESOURCE_EXHAUSTED\"}} {}",
                rpc.as_str(),
                i + 1
            );
            assert!(text.contains(&line), "{line}\n{text}");
        }
        assert_eq!(
            Rpc::from_path("/contentfilter.v1.ContentFilterService/Nope"),
            None
        );
    }

    #[test]
    fn code_names_follow_the_numbering() {
        for (i, code) in CODES.into_iter().enumerate() {
            assert_eq!(code as usize, i);
            assert_eq!(Code::from(i as i32), code, "{}", code_name(code));
        }
    }

    /// Counts from many threads (each writing its own shard) add up, and
    /// gauges moved up on one thread and down on another sum to zero.
    #[test]
    fn shards_sum_to_the_totals() {
        let m = Metrics::default();
        std::thread::scope(|scope| {
            for t in 0..(SHARDS + 3) {
                let m = &m;
                scope.spawn(move || {
                    for _ in 0..10 {
                        m.request(Rpc::Scan, Code::Ok, Duration::from_micros(200));
                        m.scanned(100);
                        m.findings([("phone", "mobile"), ("sensitive_word", "fraud")].into_iter());
                        m.in_flight(1);
                        m.stream(if t % 2 == 0 { 1 } else { -1 });
                    }
                });
            }
        });
        for _ in 0..(SHARDS + 3) * 10 {
            m.in_flight(-1);
        }
        let n = (SHARDS + 3) * 10;
        let text = m.render();
        for line in [
            format!("contentfilter_requests_total{{rpc=\"Scan\",code=\"OK\"}} {n}"),
            format!("contentfilter_request_duration_seconds_count{{rpc=\"Scan\"}} {n}"),
            format!(
                "contentfilter_request_duration_seconds_bucket{{rpc=\"Scan\",le=\"0.00025\"}} {n}"
            ),
            "contentfilter_request_duration_seconds_bucket{rpc=\"Scan\",le=\"0.0001\"} 0"
                .to_string(),
            format!("contentfilter_scanned_bytes_total {}", n * 100),
            format!("contentfilter_findings_total{{kind=\"phone\",category=\"mobile\"}} {n}"),
            format!(
                "contentfilter_findings_total{{kind=\"sensitive_word\",category=\"fraud\"}} {n}"
            ),
            "contentfilter_requests_in_flight 0".to_string(),
            format!(
                "contentfilter_streams_open {}",
                if (SHARDS + 3).is_multiple_of(2) {
                    0
                } else {
                    10
                }
            ),
        ] {
            assert!(text.lines().any(|l| l == line), "{line}\n{text}");
        }
    }

    #[test]
    fn label_values_cannot_break_a_line() {
        let m = Metrics::default();
        m.findings(std::iter::once(("sensitive_word", "a\"b\\c\nd")));
        let text = m.render();
        assert!(text.contains(r#"category="a\"b\\c\nd""#), "{text}");
    }
}
