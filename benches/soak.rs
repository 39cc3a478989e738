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

use contentfilter_benches::{data, env_u64, InProcessServer};
use contentfilter_tests::http_get;
use filter_server::proto::content_filter_client::ContentFilterClient;
use filter_server::proto::scan_stream_request::Message;
use filter_server::proto::{ReloadWordlistsRequest, ScanRequest, ScanStreamRequest};
use filter_server::Settings;
use tonic::transport::{Channel, Endpoint};

/// Resident memory of this process, in MB; the soak cannot judge growth
/// without it, so it fails when `/proc` cannot be read.
fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .expect("VmRSS in /proc/self/status")
}

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

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let seconds = env_u64("SOAK_SECONDS", 600);
    let reload_every = env_u64("SOAK_RELOAD_SECONDS", 10);
    let growth_bound = env_u64("SOAK_RSS_GROWTH_MB", 128) as f64;
    let prompt = data("corpus_1k.txt");

    // The word lists: the bundled ones plus the 100k-term dictionary.
    let dir = std::env::temp_dir().join(format!("cf-soak-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let bundled = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../wordlists");
    for entry in std::fs::read_dir(&bundled).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
    }
    std::fs::write(dir.join("dictionary.txt"), data("words_100k.txt")).unwrap();

    // ReloadWordlists needs the admin token.
    let admin_token = dir.with_extension("admin-token");
    std::fs::write(&admin_token, "soak-admin\n").unwrap();
    let args = Settings {
        listen: Some("127.0.0.1:0".into()),
        metrics_listen: Some("127.0.0.1:0".into()),
        wordlists: Some(dir.clone()),
        admin_token_file: Some(admin_token),
        log: Some("warn".into()),
        ..Settings::default()
    };
    let server = InProcessServer::start(args);
    let (addr, metrics_addr) = (server.addr, server.metrics.expect("metrics are on"));

    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let ok = client_rt.block_on(async move {
        let channel: Channel = Endpoint::from_shared(format!("http://{addr}")).unwrap().connect().await.unwrap();
        let client = ContentFilterClient::new(channel);
        let request = ScanRequest { text: prompt, ..Default::default() };

        // The rate: half the maximum of a short closed loop, unless given.
        let rate = match std::env::var("SOAK_RATE").ok().and_then(|r| r.parse::<f64>().ok()) {
            Some(r) => r,
            None => {
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
        };
        let rss_start = rss_mb();
        let reloading = Arc::new(AtomicBool::new(false));
        // Resident memory once the first reload is done: two lexicons of
        // 100k terms have then lived side by side, and the allocator keeps
        // that high-water mark; growth past it over the run is a leak.
        let rss_after_first_reload = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let end = started + Duration::from_secs(seconds);

        // Reloads of the 100k list.
        let reloads = {
            let (mut c, reloading, stop) = (client.clone(), reloading.clone(), stop.clone());
            let rss_first = rss_after_first_reload.clone();
            tokio::spawn(async move {
                let (mut ok, mut failed) = (0u64, 0u64);
                while !stop.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_secs(reload_every)).await;
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    reloading.store(true, Ordering::Relaxed);
                    let mut reload = tonic::Request::new(ReloadWordlistsRequest {});
                    reload
                        .metadata_mut()
                        .insert("authorization", "Bearer soak-admin".parse().unwrap());
                    match c.reload_wordlists(reload).await {
                        Ok(r) if r.get_ref().ok => ok += 1,
                        _ => failed += 1,
                    }
                    if ok == 1 && rss_first.load(Ordering::Relaxed) == 0 {
                        rss_first.store(rss_mb() as u64, Ordering::Relaxed);
                    }
                    reloading.store(false, Ordering::Relaxed);
                }
                (ok, failed)
            })
        };
        // A stream client that goes away mid-stream every second.
        let streams = {
            let (c, stop) = (client.clone(), stop.clone());
            tokio::spawn(async move {
                let mut opened = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let mut c = c.clone();
                    let (tx, rx) = tokio::sync::mpsc::channel(4);
                    if let Ok(response) = c.scan_stream(tokio_stream::wrappers::ReceiverStream::new(rx)).await {
                        opened += 1;
                        let mut inbound = response.into_inner();
                        for _ in 0..5 {
                            let _ = tx
                                .send(ScanStreamRequest { message: Some(Message::Chunk("回答的一部分，".repeat(4))) })
                                .await;
                        }
                        let _ = tokio::time::timeout(Duration::from_millis(100), inbound.message()).await;
                        drop(inbound); // disconnect mid-stream
                    }
                    drop(tx);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                opened
            })
        };

        // Scan at `rate`, paced by a thread (see the load bench).
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u32, bool, bool)>();
        let handle = tokio::runtime::Handle::current();
        let pacer = {
            let (client, request, reloading) = (client.clone(), request.clone(), reloading.clone());
            std::thread::spawn(move || {
                let total = (rate * seconds as f64) as u64;
                let mut sent = 0u64;
                for i in 0..total {
                    let at = started + Duration::from_secs_f64(i as f64 / rate);
                    if at > end {
                        break;
                    }
                    let now = Instant::now();
                    if at > now {
                        std::thread::sleep(at - now);
                    }
                    let (mut c, r, tx, during) = (client.clone(), request.clone(), tx.clone(), reloading.load(Ordering::Relaxed));
                    sent += 1;
                    handle.spawn(async move {
                        let ok = c.scan(r).await.is_ok();
                        let _ = tx.send((at.elapsed().as_micros() as u32, ok, during));
                    });
                }
                sent
            })
        };
        // Results are folded in as they come.
        let collector = tokio::spawn(async move {
            let (mut calm, mut busy, mut failed) = (Histogram::new(), Histogram::new(), 0u64);
            while let Some((micros, ok, during)) = rx.recv().await {
                if !ok {
                    failed += 1;
                } else if during {
                    busy.add(micros);
                } else {
                    calm.add(micros);
                }
            }
            (calm, busy, failed)
        });
        let sent = tokio::task::spawn_blocking(move || pacer.join().unwrap()).await.unwrap();
        let (calm, busy, failed) = collector.await.unwrap();
        stop.store(true, Ordering::Relaxed);
        let (reloads_ok, reloads_failed) = reloads.await.unwrap();
        let streams_opened = streams.await.unwrap();
        // Disconnected streams are freed when the server notices: wait for
        // it (bounded), then look.
        let open = || async {
            http_get(metrics_addr, "/metrics")
                .await
                .lines()
                .find_map(|l| l.strip_prefix("contentfilter_streams_open "))
                .and_then(|v| v.trim().parse::<i64>().ok())
                .unwrap_or(-1)
        };
        let _ = contentfilter_tests::eventually(async || open().await == 0).await;
        let open_streams = open().await;
        let rss_end = rss_mb();
        let rss_base = match rss_after_first_reload.load(Ordering::Relaxed) {
            0 => rss_start,
            mb => mb as f64,
        };
        println!(
            "soak: {seconds} s at {rate:.0} req/s: sent {sent}, failed {failed}; p50/p99 {:.3}/{:.3} ms without reload, {:.3}/{:.3} ms during reloads ({} requests); reloads {reloads_ok} ok, {reloads_failed} failed; streams opened and dropped {streams_opened}, open after {open_streams}; RSS {rss_start:.0} MB at start, {rss_base:.0} MB after the first reload, {rss_end:.0} MB at the end (client and server in one process)",
            calm.pct(0.5),
            calm.pct(0.99),
            busy.pct(0.5),
            busy.pct(0.99),
            busy.count(),
        );
        let grew = rss_end - rss_base;
        // A soak whose faults did not happen proves nothing: it needs at
        // least one reload and one dropped stream.
        let faults_happened = reloads_ok > 0 && streams_opened > 0 && calm.count() > 0;
        let ok = failed == 0
            && reloads_failed == 0
            && open_streams == 0
            && grew <= growth_bound
            && faults_happened;
        if !ok {
            println!("soak FAILED: failed {failed}, reloads {reloads_ok} ok and {reloads_failed} failed, streams dropped {streams_opened}, open streams {open_streams}, RSS growth after the first reload {grew:.0} MB (bound {growth_bound} MB)");
        }
        ok
    });
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
    if !ok {
        std::process::exit(1);
    }
}
