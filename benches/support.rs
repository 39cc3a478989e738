//! Shared helpers for the benches: the bench data and the baselines.

#![forbid(unsafe_code)]

use std::path::PathBuf;

/// The contents of `benches/data/NAME`.
pub fn data(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Resident memory of this process in MB, from `/proc/self/status`. A
/// memory figure that cannot be read is not reported as zero: this fails.
pub fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .expect("VmRSS in /proc/self/status")
}

/// An environment variable as a number, or `default`.
pub fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The `p` quantile of sorted microseconds, in milliseconds.
pub fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

/// The personal-data scan as a first attempt writes it: three separate
/// `regex` passes, Luhn on the card candidates. The baseline the PII scan
/// is compared with in the same run.
pub struct NaivePii {
    id: regex::Regex,
    phone: regex::Regex,
    card: regex::Regex,
}

impl Default for NaivePii {
    fn default() -> Self {
        NaivePii {
            id: regex::Regex::new(r"\d{17}[\dXx]").unwrap(),
            phone: regex::Regex::new(r"(?:\+86[- ]?)?1[3-9]\d{9}").unwrap(),
            card: regex::Regex::new(r"\d{13,19}").unwrap(),
        }
    }
}

impl NaivePii {
    /// The number of matches of the three passes.
    pub fn count(&self, text: &str) -> usize {
        let ids = self.id.find_iter(text).count();
        let phones = self.phone.find_iter(text).count();
        let cards = self
            .card
            .find_iter(text)
            .filter(|m| luhn(m.as_str().as_bytes()))
            .count();
        ids + phones + cards
    }
}

fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0;
    for (i, &b) in digits.iter().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

/// The real service running in this process on its own two-thread
/// runtime, for the load and soak benchmarks.
pub struct InProcessServer {
    /// The gRPC address.
    pub addr: std::net::SocketAddr,
    /// The metrics address, when configured.
    pub metrics: Option<std::net::SocketAddr>,
    /// The HTTP/JSON address, when configured.
    pub http: Option<std::net::SocketAddr>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), filter_server::ServeError>>,
    runtime: tokio::runtime::Runtime,
}

impl InProcessServer {
    /// Starts the service with `args` and waits for it to listen.
    pub fn start(settings: filter_server::Settings) -> InProcessServer {
        let config = settings.resolve().expect("bench configuration");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = runtime.spawn(filter_server::run_until(
            config,
            async move {
                let _ = stopped.await;
                "bench over"
            },
            move |bound: filter_server::Bound| {
                let _ = ready_tx.send(bound);
            },
        ));
        let bound = ready_rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the server starts");
        InProcessServer {
            addr: bound.grpc,
            metrics: bound.metrics,
            http: bound.http,
            stop,
            task,
            runtime,
        }
    }

    /// Stops the service and waits for it to drain.
    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.runtime.block_on(self.task);
    }
}
