//! Counters for Prometheus (`--metrics-listen`): requests by endpoint and
//! status, prompts blocked, answers stopped, personal data replaced by
//! kind, upstream failures and failovers. Counts only, never text.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

/// The proxy's counters.
#[derive(Default)]
pub(crate) struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    pseudonymized: Mutex<BTreeMap<&'static str, u64>>,
    blocked_prompts: AtomicU64,
    stopped_answers: AtomicU64,
    upstream_failures: [AtomicU64; 2],
    failovers: AtomicU64,
}

impl Metrics {
    pub(crate) fn request(&self, endpoint: &'static str, status: u16) {
        let mut m = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        *m.entry((endpoint, status)).or_default() += 1;
    }

    pub(crate) fn pseudonymized(&self, kind: &'static str, n: u64) {
        let mut m = self.pseudonymized.lock().unwrap_or_else(|e| e.into_inner());
        *m.entry(kind).or_default() += n;
    }

    pub(crate) fn blocked_prompt(&self) {
        self.blocked_prompts.fetch_add(1, Relaxed);
    }

    pub(crate) fn stopped_answer(&self) {
        self.stopped_answers.fetch_add(1, Relaxed);
    }

    pub(crate) fn upstream_failure(&self, upstream: usize) {
        if let Some(c) = self.upstream_failures.get(upstream) {
            c.fetch_add(1, Relaxed);
        }
    }

    pub(crate) fn failover(&self) {
        self.failovers.fetch_add(1, Relaxed);
    }

    /// The Prometheus text format.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# TYPE filter_proxy_requests_total counter");
        for ((endpoint, status), n) in self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "filter_proxy_requests_total{{endpoint=\"{endpoint}\",status=\"{status}\"}} {n}"
            );
        }
        let _ = writeln!(out, "# TYPE filter_proxy_pseudonymized_total counter");
        for (kind, n) in self
            .pseudonymized
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "filter_proxy_pseudonymized_total{{kind=\"{kind}\"}} {n}"
            );
        }
        let counters = [
            ("filter_proxy_blocked_prompts_total", &self.blocked_prompts),
            ("filter_proxy_stopped_answers_total", &self.stopped_answers),
            ("filter_proxy_failovers_total", &self.failovers),
        ];
        for (name, c) in counters {
            let _ = writeln!(out, "# TYPE {name} counter\n{name} {}", c.load(Relaxed));
        }
        let _ = writeln!(out, "# TYPE filter_proxy_upstream_failures_total counter");
        for (i, name) in ["primary", "backup"].iter().enumerate() {
            let _ = writeln!(
                out,
                "filter_proxy_upstream_failures_total{{upstream=\"{name}\"}} {}",
                self.upstream_failures[i].load(Relaxed)
            );
        }
        out
    }
}
