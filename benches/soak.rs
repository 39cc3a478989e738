//! Soak under faults: Scan at a steady rate while the 100k-term list is
//! reloaded every `SOAK_RELOAD_SECONDS` and a ScanStream client
//! disconnects mid-stream every second. Bounded in time and count,
//! loopback only. Exits non-zero when a request failed, a stream stayed
//! open, or resident memory grew past the bound.
//!
//! `cargo bench -p contentfilter-benches --bench soak` (10 minutes by
//! default; `SOAK_SECONDS=30` is the CI version). Knobs: `SOAK_SECONDS`,
//! `SOAK_RATE` (default: half the maximum measured in a 3 s closed loop),
//! `SOAK_RELOAD_SECONDS` (default 10), `SOAK_RSS_GROWTH_MB` (default 128:
//! the bound on resident memory growth after the first reload; a leaked
//! 100k-term lexicon would add 20 MB or more per reload).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use contentfilter_benches::{data, env_u64, rss_mb, InProcessServer};
use contentfilter_tests::http_get;
use filter_server::proto::content_filter_service_client::ContentFilterServiceClient;
use filter_server::proto::scan_stream_request::Message;
use filter_server::proto::{ReloadWordlistsRequest, ScanRequest, ScanStreamRequest};
use filter_server::Settings;
use tonic::transport::{Channel, Endpoint};

/// Latencies in 10 µs buckets up to 1 s (and one bucket above): fixed
/// memory, so the soak measures the server's memory, not its own.
struct Histogram(Vec<u64>);

impl Histogram {
    fn new() -> Histogram {
        Histogram(vec![0; 100_001])
    }

    fn add(&mut self, micros: u32) {
        let b = (micros as usize / 10).min(100_000);
        self.0[b] += 1;
    }

    fn count(&self) -> u64 {
        self.0.iter().sum()
    }

    /// The `p` quantile in milliseconds.
    fn pct(&self, p: f64) -> f64 {
        let total = self.count();
        if total == 0 {
            return f64::NAN;
        }
        let want = ((total - 1) as f64 * p) as u64;
        let mut seen = 0;
        for (b, n) in self.0.iter().enumerate() {
            seen += n;
            if seen > want {
                return b as f64 * 10.0 / 1000.0;
            }
        }
        f64::NAN
    }
}

/// The soak's knobs.
struct Plan {
    seconds: u64,
    reload_every: u64,
    growth_bound: f64,
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let plan = Plan {
        seconds: env_u64("SOAK_SECONDS", 600),
        reload_every: env_u64("SOAK_RELOAD_SECONDS", 10),
        growth_bound: env_u64("SOAK_RSS_GROWTH_MB", 128) as f64,
    };
    let dir = word_lists();
    // ReloadWordlists needs the admin token.
    let admin_token = dir.with_extension("admin-token");
    std::fs::write(&admin_token, "soak-admin\n").unwrap();
    let server = InProcessServer::start(Settings {
        listen: Some("127.0.0.1:0".into()),
        metrics_listen: Some("127.0.0.1:0".into()),
        wordlists: Some(dir.clone()),
        admin_token_file: Some(admin_token),
        log: Some("warn".into()),
        ..Settings::default()
    });
    let (addr, metrics_addr) = (server.addr, server.metrics.expect("metrics are on"));
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let ok = client_rt.block_on(soak(addr, metrics_addr, &plan));
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
    if !ok {
        std::process::exit(1);
    }
}

/// The bundled lists plus the 100k-term dictionary, in a fresh directory.
fn word_lists() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cf-soak-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let bundled = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../wordlists");
    for entry in std::fs::read_dir(&bundled).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
    }
    std::fs::write(dir.join("dictionary.txt"), data("words_100k.txt")).unwrap();
    dir
}

type Client = ContentFilterServiceClient<Channel>;

/// What the soak's background tasks share.
#[derive(Clone)]
struct Shared {
    client: Client,
    /// A reload is running: latencies now go to the busy histogram.
    reloading: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    /// Resident memory once the first reload is done: two lexicons of
    /// 100k terms have then lived side by side, and the allocator keeps
    /// that high-water mark; growth past it over the run is a leak.
    rss_after_first_reload: Arc<AtomicU64>,
}

/// Runs the soak; whether it passed.
async fn soak(addr: std::net::SocketAddr, metrics_addr: std::net::SocketAddr, plan: &Plan) -> bool {
    let channel: Channel = Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let shared = Shared {
        client: ContentFilterServiceClient::new(channel),
        reloading: Arc::new(AtomicBool::new(false)),
        stop: Arc::new(AtomicBool::new(false)),
        rss_after_first_reload: Arc::new(AtomicU64::new(0)),
    };
    let request = ScanRequest {
        text: data("corpus_1k.txt"),
        ..Default::default()
    };
    let rate = match std::env::var("SOAK_RATE")
        .ok()
        .and_then(|r| r.parse::<f64>().ok())
    {
        Some(r) => r,
        None => half_max_rate(&shared.client, &request).await,
    };
    let rss_start = rss_mb();
    let reloads = tokio::spawn(reload_every(shared.clone(), plan.reload_every));
    let streams = tokio::spawn(drop_streams(shared.clone()));
    let (sent, (calm, busy, failed)) = paced_scans(&shared, &request, rate, plan.seconds).await;
    shared.stop.store(true, Ordering::Relaxed);
    let (reloads_ok, reloads_failed) = reloads.await.unwrap();
    let streams_opened = streams.await.unwrap();
    let open_streams = streams_open_after(metrics_addr).await;
    let rss_end = rss_mb();
    let rss_base = match shared.rss_after_first_reload.load(Ordering::Relaxed) {
        0 => rss_start,
        mb => mb as f64,
    };
    println!(
        "soak: {} s at {rate:.0} req/s: sent {sent}, failed {failed}; p50/p99 {:.3}/{:.3} ms without reload, {:.3}/{:.3} ms during reloads ({} requests); reloads {reloads_ok} ok, {reloads_failed} failed; streams opened and dropped {streams_opened}, open after {open_streams}; RSS {rss_start:.0} MB at start, {rss_base:.0} MB after the first reload, {rss_end:.0} MB at the end (client and server in one process)",
        plan.seconds,
        calm.pct(0.5),
        calm.pct(0.99),
        busy.pct(0.5),
        busy.pct(0.99),
        busy.count(),
    );
    let grew = rss_end - rss_base;
    // A soak whose faults did not happen proves nothing: it needs at least
    // one reload and one dropped stream.
    let faults_happened = reloads_ok > 0 && streams_opened > 0 && calm.count() > 0;
    let ok = failed == 0
        && reloads_failed == 0
        && open_streams == 0
        && grew <= plan.growth_bound
        && faults_happened;
    if !ok {
        println!(
            "soak FAILED: failed {failed}, reloads {reloads_ok} ok and {reloads_failed} failed, streams dropped {streams_opened}, open streams {open_streams}, RSS growth after the first reload {grew:.0} MB (bound {} MB)",
            plan.growth_bound
        );
    }
    ok
}

/// Half the rate of a 3 s closed loop of 32 workers.
async fn half_max_rate(client: &Client, request: &ScanRequest) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(3);
    let count = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..32 {
        let (mut c, r, n) = (client.clone(), request.clone(), count.clone());
        workers.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                if c.scan(r.clone()).await.is_ok() {
                    n.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    count.load(Ordering::Relaxed) as f64 / 3.0 / 2.0
}

/// Reloads the 100k list every `every` seconds until stopped; (ok, failed).
async fn reload_every(shared: Shared, every: u64) -> (u64, u64) {
    let mut c = shared.client.clone();
    let (mut ok, mut failed) = (0u64, 0u64);
    while !shared.stop.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_secs(every)).await;
        if shared.stop.load(Ordering::Relaxed) {
            break;
        }
        shared.reloading.store(true, Ordering::Relaxed);
        let mut reload = tonic::Request::new(ReloadWordlistsRequest {});
        reload
            .metadata_mut()
            .insert("authorization", "Bearer soak-admin".parse().unwrap());
        match c.reload_wordlists(reload).await {
            Ok(r) if r.get_ref().ok => ok += 1,
            _ => failed += 1,
        }
        if ok == 1 && shared.rss_after_first_reload.load(Ordering::Relaxed) == 0 {
            shared
                .rss_after_first_reload
                .store(rss_mb() as u64, Ordering::Relaxed);
        }
        shared.reloading.store(false, Ordering::Relaxed);
    }
    (ok, failed)
}

/// A stream client that goes away mid-stream every second; how many.
async fn drop_streams(shared: Shared) -> u64 {
    let mut opened = 0u64;
    while !shared.stop.load(Ordering::Relaxed) {
        let mut c = shared.client.clone();
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        if let Ok(response) = c
            .scan_stream(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await
        {
            opened += 1;
            let mut inbound = response.into_inner();
            for _ in 0..5 {
                let chunk = Message::Chunk("回答的一部分，".repeat(4));
                let _ = tx
                    .send(ScanStreamRequest {
                        message: Some(chunk),
                    })
                    .await;
            }
            let _ = tokio::time::timeout(Duration::from_millis(100), inbound.message()).await;
            drop(inbound); // disconnect mid-stream
        }
        drop(tx);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    opened
}

/// Scans at `rate` for `seconds`, paced by a thread (see the load bench);
/// the number sent, and the latencies without and during reloads and the
/// failures.
async fn paced_scans(
    shared: &Shared,
    request: &ScanRequest,
    rate: f64,
    seconds: u64,
) -> (u64, (Histogram, Histogram, u64)) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u32, bool, bool)>();
    let handle = tokio::runtime::Handle::current();
    let started = Instant::now();
    let end = started + Duration::from_secs(seconds);
    let (client, request, reloading) = (
        shared.client.clone(),
        request.clone(),
        shared.reloading.clone(),
    );
    let pacer = std::thread::spawn(move || {
        let mut sent = 0u64;
        for i in 0..(rate * seconds as f64) as u64 {
            let at = started + Duration::from_secs_f64(i as f64 / rate);
            if at > end {
                break;
            }
            if let Some(wait) = at.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let during = reloading.load(Ordering::Relaxed);
            let (mut c, r, tx) = (client.clone(), request.clone(), tx.clone());
            sent += 1;
            handle.spawn(async move {
                let ok = c.scan(r).await.is_ok();
                let _ = tx.send((at.elapsed().as_micros() as u32, ok, during));
            });
        }
        sent
    });
    // Results are folded in as they come.
    let collector = tokio::spawn(async move {
        let (mut calm, mut busy, mut failed) = (Histogram::new(), Histogram::new(), 0u64);
        while let Some((micros, ok, during)) = rx.recv().await {
            match (ok, during) {
                (false, _) => failed += 1,
                (true, true) => busy.add(micros),
                (true, false) => calm.add(micros),
            }
        }
        (calm, busy, failed)
    });
    let sent = tokio::task::spawn_blocking(move || pacer.join().unwrap())
        .await
        .unwrap();
    (sent, collector.await.unwrap())
}

/// The streams the server holds open once it noticed the disconnected
/// ones (waited for, bounded).
async fn streams_open_after(metrics: std::net::SocketAddr) -> i64 {
    let open = || async {
        http_get(metrics, "/metrics")
            .await
            .lines()
            .find_map(|l| l.strip_prefix("contentfilter_streams_open "))
            .and_then(|v| v.trim().parse::<i64>().ok())
            .unwrap_or(-1)
    };
    let _ = contentfilter_tests::eventually(async || open().await == 0).await;
    open().await
}
