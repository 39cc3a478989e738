//! Load benchmark: Scan with 1 KB prompts over loopback against the real
//! service in this process, client and server sharing the machine.
//!
//! Run on demand: `cargo bench -p contentfilter-benches --bench load`.
//! Bounded in time and count; environment knobs: `LOAD_SECONDS` (per
//! phase, default 10), `LOAD_CONCURRENCY` (closed-loop workers, default 64),
//! `LOAD_CHANNELS` (HTTP/2 connections, default 4).
//!
//! Phase 1 is closed loop: workers send as fast as answers come back; it
//! gives the maximum rate. Phase 2 is open loop at half that rate: requests
//! leave on a schedule, latency is measured from the scheduled time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use contentfilter_benches::{data, InProcessServer};
use filter_server::proto::content_filter_client::ContentFilterClient;
use filter_server::proto::ScanRequest;
use filter_server::Settings;
use tokio::sync::Semaphore;
use tonic::transport::{Channel, Endpoint};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // criterion-style listing: nothing to list
    }
    let seconds = env("LOAD_SECONDS", 10);
    let concurrency = env("LOAD_CONCURRENCY", 64) as usize;
    let channels = env("LOAD_CHANNELS", 4) as usize;
    let prompt = data("corpus_1k.txt");

    let args = Settings {
        listen: Some("127.0.0.1:0".into()),
        wordlists: Some(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../wordlists")),
        log: Some("warn".into()),
        ..Settings::default()
    };
    let server = InProcessServer::start(args);
    let addr = server.addr;

    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    client_rt.block_on(async {
        let mut clients = Vec::new();
        for _ in 0..channels {
            let channel: Channel = Endpoint::from_shared(format!("http://{addr}"))
                .unwrap()
                .connect()
                .await
                .unwrap();
            clients.push(ContentFilterClient::new(channel));
        }
        let request = ScanRequest {
            text: prompt.clone(),
            ..Default::default()
        };
        // Warm up.
        for _ in 0..200 {
            clients[0].clone().scan(request.clone()).await.unwrap();
        }

        // Phase 1: closed loop.
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let started = Instant::now();
        let mut workers = Vec::new();
        for w in 0..concurrency {
            let mut client = clients[w % channels].clone();
            let request = request.clone();
            workers.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut failed = 0u64;
                // Bounded in count as well as time.
                while Instant::now() < deadline && latencies.len() < 2_000_000 {
                    let t = Instant::now();
                    match client.scan(request.clone()).await {
                        Ok(_) => latencies.push(t.elapsed().as_micros() as u32),
                        Err(_) => failed += 1,
                    }
                }
                (latencies, failed)
            }));
        }
        let mut all = Vec::new();
        let mut failed = 0;
        for w in workers {
            let (l, f) = w.await.unwrap();
            all.extend(l);
            failed += f;
        }
        let elapsed = started.elapsed().as_secs_f64();
        all.sort_unstable();
        let max_rate = all.len() as f64 / elapsed;
        println!(
            "load/closed_loop: {} requests in {elapsed:.1} s = {max_rate:.0} req/s, failed {failed}, p50 {:.3} ms, p99 {:.3} ms ({concurrency} workers, {channels} connections, {} byte prompt)",
            all.len(),
            percentile(&all, 0.5),
            percentile(&all, 0.99),
            prompt.len()
        );

        // Phase 2: open loop at half the maximum rate, then at half the
        // 15,000 req/s bar.
        for (name, rate) in [("open_loop_half_max", (max_rate / 2.0).max(1.0)), ("open_loop_7500", 7500.0)] {
        let in_flight = Arc::new(Semaphore::new(2000));
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u32, u32)>();
        let started = Instant::now();
        // A paced thread: tokio's timers tick in whole milliseconds, which
        // would send bursts; a sleeping thread sends each request on time.
        let handle = tokio::runtime::Handle::current();
        let pacer = {
            let clients = clients.clone();
            let request = request.clone();
            let in_flight = in_flight.clone();
            std::thread::spawn(move || {
                let (mut sent, mut dropped) = (0u64, 0u64);
                let total = (rate * seconds as f64) as u64;
                for i in 0..total {
                    let scheduled = started + Duration::from_secs_f64(i as f64 / rate);
                    let now = Instant::now();
                    if scheduled > now {
                        std::thread::sleep(scheduled - now);
                    }
                    let Ok(permit) = in_flight.clone().try_acquire_owned() else {
                        dropped += 1;
                        continue;
                    };
                    let mut client = clients[i as usize % clients.len()].clone();
                    let request = request.clone();
                    let tx = tx.clone();
                    sent += 1;
                    handle.spawn(async move {
                        let sent_at = Instant::now();
                        let ok = client.scan(request).await.is_ok();
                        let from_schedule = scheduled.elapsed().as_micros() as u32;
                        let from_send = sent_at.elapsed().as_micros() as u32;
                        let _ = tx.send(if ok { (from_schedule, from_send) } else { (u32::MAX, 0) });
                        drop(permit);
                    });
                }
                (sent, dropped)
            })
        };
        let (sent, dropped) = tokio::task::spawn_blocking(move || pacer.join().unwrap())
            .await
            .unwrap();
        let (mut scheduled, mut sent_lat) = (Vec::new(), Vec::new());
        let mut failed = 0;
        while let Some((a, b)) = rx.recv().await {
            if a == u32::MAX {
                failed += 1;
            } else {
                scheduled.push(a);
                sent_lat.push(b);
            }
        }
        scheduled.sort_unstable();
        sent_lat.sort_unstable();
        // From the scheduled time counts any wait behind a late send (no
        // coordinated omission); from the send is what one call costs.
        println!(
            "load/{name}: target {rate:.0} req/s, sent {sent}, failed {failed}, dropped {dropped}, achieved {:.0} req/s; from send: p50 {:.3} ms, p99 {:.3} ms; from schedule: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            scheduled.len() as f64 / started.elapsed().as_secs_f64(),
            percentile(&sent_lat, 0.5),
            percentile(&sent_lat, 0.99),
            percentile(&scheduled, 0.5),
            percentile(&scheduled, 0.99),
            percentile(&scheduled, 1.0),
        );
        }
    });
    server.stop();
}
