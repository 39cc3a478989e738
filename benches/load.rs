//! Load benchmark: Scan over loopback against the real service in this
//! process, client and server sharing the machine.
//!
//! Run on demand: `cargo bench -p contentfilter-benches --bench load`.
//! Bounded in time and count; environment knobs: `LOAD_SECONDS` (per
//! phase, default 10), `LOAD_CONCURRENCY` (closed-loop workers, default 64),
//! `LOAD_CHANNELS` (HTTP/2 connections, default 4).
//!
//! For each prompt (the 1 KB corpus prompt, and a prompt of 25 mobile
//! numbers whose answer is 25 findings), a closed loop gives the maximum
//! rate: workers send as fast as answers come back. The same closed loop
//! then runs over the HTTP/JSON API (`POST /v1/scan`, one keep-alive
//! HTTP/1.1 connection per worker, hyper's client) and the ratio to the
//! gRPC rate of the same run is printed. Then, for the 1 KB prompt, open
//! loops at half the gRPC rate and at 7,500 req/s: requests leave on a
//! schedule, latency is measured from the scheduled time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use contentfilter_benches::{data, env_u64, percentile, InProcessServer};
use filter_server::proto::content_filter_service_client::ContentFilterServiceClient;
use filter_server::proto::ScanRequest;
use filter_server::Settings;
use tokio::sync::Semaphore;
use tonic::transport::{Channel, Endpoint};

type Client = ContentFilterServiceClient<Channel>;

/// A prompt of 25 mobile numbers: an answer of 25 findings, about 1 KB.
fn many_findings() -> String {
    (0..25)
        .map(|i| format!("客户{i}的手机是1380013{i:04}，"))
        .collect()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // criterion-style listing: nothing to list
    }
    let seconds = env_u64("LOAD_SECONDS", 10);
    let concurrency = env_u64("LOAD_CONCURRENCY", 64) as usize;
    let channels = env_u64("LOAD_CHANNELS", 4) as usize;
    let server = InProcessServer::start(Settings {
        listen: Some("127.0.0.1:0".into()),
        http_listen: Some("127.0.0.1:0".into()),
        log: Some("warn".into()),
        ..Settings::default()
    });
    let addr = server.addr;
    let http = server.http.expect("the HTTP listener is on");
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    client_rt.block_on(async {
        let clients = connect(addr, channels).await;
        let prompts = [
            ("prompt_1k", data("corpus_1k.txt")),
            ("findings_25", many_findings()),
        ];
        let mut max_rate = 0.0;
        for (name, text) in &prompts {
            let request = ScanRequest {
                text: text.clone(),
                ..Default::default()
            };
            for _ in 0..200 {
                clients[0].clone().scan(request.clone()).await.unwrap();
            }
            let rate = closed_loop(name, &clients, &request, seconds, concurrency).await;
            if *name == "prompt_1k" {
                max_rate = rate;
            }
            let body = serde_json::json!({ "text": text }).to_string();
            let http_rate = http_closed_loop(name, http, body, seconds, concurrency).await;
            println!(
                "load/{name}/http_vs_grpc: {:.2}x (HTTP/JSON {http_rate:.0} req/s, gRPC {rate:.0} req/s)",
                http_rate / rate
            );
        }
        let request = ScanRequest {
            text: prompts[0].1.clone(),
            ..Default::default()
        };
        for (name, rate) in [
            ("open_loop_half_max", (max_rate / 2.0).max(1.0)),
            ("open_loop_7500", 7500.0),
        ] {
            open_loop(name, &clients, &request, rate, seconds).await;
        }
    });
    server.stop();
}

/// The closed loop over HTTP/JSON: each worker holds one keep-alive
/// HTTP/1.1 connection and posts `body` to `/v1/scan` as fast as answers
/// come back; prints and returns the rate.
async fn http_closed_loop(
    name: &str,
    addr: std::net::SocketAddr,
    body: String,
    seconds: u64,
    concurrency: usize,
) -> f64 {
    use http_body_util::BodyExt;
    let body = bytes::Bytes::from(body);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let body = body.clone();
        workers.push(tokio::spawn(async move {
            let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
            tcp.set_nodelay(true).unwrap();
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
                    .await
                    .unwrap();
            tokio::spawn(conn);
            let mut latencies = Vec::new();
            let mut failed = 0u64;
            while Instant::now() < deadline && latencies.len() < 2_000_000 {
                let request = http::Request::post("/v1/scan")
                    .header("host", "bench")
                    .header("content-type", "application/json")
                    .body(http_body_util::Full::new(body.clone()))
                    .unwrap();
                let t = Instant::now();
                let ok = match sender.send_request(request).await {
                    Ok(response) => {
                        let ok = response.status() == 200;
                        ok && response.into_body().collect().await.is_ok()
                    }
                    Err(_) => false,
                };
                if ok {
                    latencies.push(t.elapsed().as_micros() as u32);
                } else {
                    failed += 1;
                    break;
                }
            }
            (latencies, failed)
        }));
    }
    let tally = Tally::gather(workers, started).await;
    println!(
        "load/{name}/http_closed_loop: {} ({concurrency} connections)",
        tally.line()
    );
    tally.rate
}

/// The latencies (µs) and failures of a closed loop's workers.
struct Tally {
    latencies: Vec<u32>,
    failed: u64,
    elapsed: f64,
    rate: f64,
}

impl Tally {
    /// Waits for the workers and adds up what they measured.
    async fn gather(
        workers: Vec<tokio::task::JoinHandle<(Vec<u32>, u64)>>,
        started: Instant,
    ) -> Tally {
        let (mut latencies, mut failed) = (Vec::new(), 0);
        for w in workers {
            let (l, f) = w.await.unwrap();
            latencies.extend(l);
            failed += f;
        }
        let elapsed = started.elapsed().as_secs_f64();
        latencies.sort_unstable();
        let rate = latencies.len() as f64 / elapsed;
        Tally {
            latencies,
            failed,
            elapsed,
            rate,
        }
    }

    /// `N requests in T s = R req/s, failed F, p50, p99`.
    fn line(&self) -> String {
        format!(
            "{} requests in {:.1} s = {:.0} req/s, failed {}, p50 {:.3} ms, p99 {:.3} ms",
            self.latencies.len(),
            self.elapsed,
            self.rate,
            self.failed,
            percentile(&self.latencies, 0.5),
            percentile(&self.latencies, 0.99),
        )
    }
}

async fn connect(addr: std::net::SocketAddr, channels: usize) -> Vec<Client> {
    let mut clients = Vec::new();
    for _ in 0..channels {
        let channel: Channel = Endpoint::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        clients.push(ContentFilterServiceClient::new(channel));
    }
    clients
}

/// Workers send as fast as answers come back; prints and returns the rate.
async fn closed_loop(
    name: &str,
    clients: &[Client],
    request: &ScanRequest,
    seconds: u64,
    concurrency: usize,
) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..concurrency {
        let mut client = clients[w % clients.len()].clone();
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
    let tally = Tally::gather(workers, started).await;
    println!(
        "load/{name}/closed_loop: {} ({concurrency} workers, {} connections, {} byte prompt)",
        tally.line(),
        clients.len(),
        request.text.len()
    );
    tally.rate
}

/// Requests leave on a paced schedule at `rate`; latency counts from the
/// scheduled time (no coordinated omission) and from the send.
async fn open_loop(name: &str, clients: &[Client], request: &ScanRequest, rate: f64, seconds: u64) {
    let in_flight = Arc::new(Semaphore::new(2000));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Option<(u32, u32)>>();
    let started = Instant::now();
    let handle = tokio::runtime::Handle::current();
    let (clients, request) = (clients.to_vec(), request.clone());
    // A paced thread: tokio's timers tick in whole milliseconds, which
    // would send bursts; a sleeping thread sends each request on time.
    let pacer = std::thread::spawn(move || {
        let (mut sent, mut dropped) = (0u64, 0u64);
        for i in 0..(rate * seconds as f64) as u64 {
            let scheduled = started + Duration::from_secs_f64(i as f64 / rate);
            if let Some(wait) = scheduled.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let Ok(permit) = in_flight.clone().try_acquire_owned() else {
                dropped += 1;
                continue;
            };
            let (mut client, request, tx) = (
                clients[i as usize % clients.len()].clone(),
                request.clone(),
                tx.clone(),
            );
            sent += 1;
            handle.spawn(async move {
                let sent_at = Instant::now();
                let ok = client.scan(request).await.is_ok();
                let times = (
                    scheduled.elapsed().as_micros() as u32,
                    sent_at.elapsed().as_micros() as u32,
                );
                let _ = tx.send(ok.then_some(times));
                drop(permit);
            });
        }
        (sent, dropped)
    });
    let (sent, dropped) = tokio::task::spawn_blocking(move || pacer.join().unwrap())
        .await
        .unwrap();
    let (mut scheduled, mut from_send, mut failed) = (Vec::new(), Vec::new(), 0);
    while let Some(r) = rx.recv().await {
        match r {
            Some((a, b)) => {
                scheduled.push(a);
                from_send.push(b);
            }
            None => failed += 1,
        }
    }
    scheduled.sort_unstable();
    from_send.sort_unstable();
    println!(
        "load/{name}: target {rate:.0} req/s, sent {sent}, failed {failed}, dropped {dropped}, achieved {:.0} req/s; from send: p50 {:.3} ms, p99 {:.3} ms; from schedule: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        scheduled.len() as f64 / started.elapsed().as_secs_f64(),
        percentile(&from_send, 0.5),
        percentile(&from_send, 0.99),
        percentile(&scheduled, 0.5),
        percentile(&scheduled, 0.99),
        percentile(&scheduled, 1.0),
    );
}
