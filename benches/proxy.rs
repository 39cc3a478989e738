//! The proxy's cost, measured as a client meets it: a mock OpenAI upstream,
//! `filter-proxy`, a plain pass-through proxy (hyper, no filtering) and a
//! client, all in this process over loopback, each measurement made
//! through both proxies in the same run.
//!
//! Run on demand: `cargo bench -p contentfilter-benches --bench proxy`.
//! Bounded in count: `PROXY_REQUESTS` sequential non-streamed requests
//! (default 2000), `PROXY_STREAMS` streamed answers (default 100).
//!
//! * added latency of a non-streamed request with the 1 KB prompt of
//!   `corpus_1k.txt` and the same text as the answer (p50, p99);
//! * time to the first content of a streamed answer (the 1 KB text in
//!   64 events of about 16 bytes, leaving the upstream 1 ms apart);
//! * cost per SSE event: answers of 1,000 events sent at once, the time
//!   per event through each proxy.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use contentfilter_benches::{data, env_u64, percentile};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{json, Value};

type Body = BoxBody<Bytes, Infallible>;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let requests = env_u64("PROXY_REQUESTS", 2000) as usize;
    let streams = env_u64("PROXY_STREAMS", 100) as usize;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let text = data("corpus_1k.txt");
        let mock = serve(move |req| mock(req, text.clone())).await;
        let plain = pass_through(mock).await;
        let filter = filter_proxy(mock).await;
        let prompt = data("corpus_1k.txt");
        let body = json!({"model": "m", "messages": [{"role": "user", "content": prompt}]});

        let mut rows = Vec::new();
        for (name, addr) in [
            ("upstream directly", mock),
            ("pass-through proxy", plain),
            ("filter-proxy", filter),
        ] {
            let times = sequential(addr, &body, requests).await;
            rows.push((name, times));
        }
        println!("proxy/non_streamed_1k ({requests} sequential requests, 1 KB prompt and answer):");
        for (name, t) in &rows {
            println!(
                "  {name:<20} p50 {:.3} ms  p99 {:.3} ms",
                percentile(t, 0.5),
                percentile(t, 0.99)
            );
        }
        let added = |q| percentile(&rows[2].1, q) - percentile(&rows[1].1, q);
        println!(
            "  filter-proxy adds p50 {:.3} ms, p99 {:.3} ms over the pass-through proxy",
            added(0.5),
            added(0.99)
        );

        let mut first = Vec::new();
        for (name, addr) in [("pass-through proxy", plain), ("filter-proxy", filter)] {
            let mut stream_body = body.clone();
            stream_body["stream"] = json!(true);
            stream_body["messages"][0]["content"] = json!("SLOW");
            let mut t = Vec::new();
            for _ in 0..streams {
                t.push(first_content(addr, &stream_body).await);
            }
            t.sort_unstable();
            first.push((name, t));
        }
        println!(
            "proxy/time_to_first_content ({streams} answers of 64 events of 16 bytes, 1 ms apart):"
        );
        for (name, t) in &first {
            println!(
                "  {name:<20} p50 {:.3} ms  p99 {:.3} ms",
                percentile(t, 0.5),
                percentile(t, 0.99)
            );
        }

        let mut per_event = Vec::new();
        for (name, addr) in [("pass-through proxy", plain), ("filter-proxy", filter)] {
            let mut stream_body = body.clone();
            stream_body["stream"] = json!(true);
            stream_body["messages"][0]["content"] = json!("MANY");
            let started = Instant::now();
            let count = streams.min(50);
            for _ in 0..count {
                whole_stream(addr, &stream_body).await;
            }
            let micros = started.elapsed().as_secs_f64() * 1e6 / (count as f64 * 1000.0);
            per_event.push((name, micros));
        }
        println!("proxy/per_sse_event (answers of 1,000 events of 16 bytes, sent at once):");
        for (name, us) in &per_event {
            println!("  {name:<20} {us:.2} µs per event");
        }
        println!(
            "  filter-proxy adds {:.2} µs per event",
            per_event[1].1 - per_event[0].1
        );
    });
}

/// Serves `handler` on 127.0.0.1:0; returns the address.
async fn serve<F, Fut>(handler: F) -> SocketAddr
where
    F: Fn(hyper::Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<hyper::Response<Body>, Infallible>> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let _ = tcp.set_nodelay(true);
            let handler = handler.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(handler);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    addr
}

/// The mock upstream: `answer` whole, or streamed in 16-byte events (1 ms
/// apart for `SLOW`, 1,000 at once for `MANY`).
async fn mock(
    req: hyper::Request<Incoming>,
    answer: String,
) -> Result<hyper::Response<Body>, Infallible> {
    let body = req.into_body().collect().await.unwrap().to_bytes();
    let v: Value = serde_json::from_slice(&body).unwrap();
    let prompt = v["messages"][0]["content"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if v["stream"] != json!(true) {
        let out = json!({"id": "x", "object": "chat.completion", "choices": [
            {"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}]});
        return Ok(hyper::Response::new(
            Full::new(Bytes::from(out.to_string())).boxed(),
        ));
    }
    let (events, gap) = if prompt == "SLOW" {
        (64, Duration::from_millis(1))
    } else {
        (1000, Duration::ZERO)
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, Infallible>>(64);
    // The answer's text in pieces of about 16 bytes, as models stream.
    let mut pieces = Vec::new();
    let mut at = 0;
    while at < answer.len() {
        let mut end = (at + 16).min(answer.len());
        while !answer.is_char_boundary(end) {
            end += 1;
        }
        pieces.push(answer[at..end].to_string());
        at = end;
    }
    tokio::spawn(async move {
        for i in 0..events {
            let piece = &pieces[i % pieces.len()];
            let e = json!({"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": null}]});
            if tx
                .send(Ok(Frame::data(Bytes::from(format!("data: {e}\n\n")))))
                .await
                .is_err()
            {
                return;
            }
            if !gap.is_zero() {
                tokio::time::sleep(gap).await;
            }
        }
        let end = json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]});
        let _ = tx
            .send(Ok(Frame::data(Bytes::from(format!(
                "data: {end}\n\ndata: [DONE]\n\n"
            )))))
            .await;
    });
    let mut r = hyper::Response::new(
        StreamBody::new(tokio_stream::wrappers::ReceiverStream::new(rx)).boxed(),
    );
    r.headers_mut()
        .insert("content-type", "text/event-stream".parse().unwrap());
    Ok(r)
}

/// A proxy that forwards every request to `upstream` and relays the
/// answer as it comes, filtering nothing: the baseline.
async fn pass_through(upstream: SocketAddr) -> SocketAddr {
    let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    serve(move |req: hyper::Request<Incoming>| {
        let client = client.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = body.collect().await.unwrap().to_bytes();
            let uri = format!("http://{upstream}{}", parts.uri.path());
            let mut forward = hyper::Request::builder().method(parts.method).uri(uri);
            for (k, v) in &parts.headers {
                if k != "host" && k != "content-length" {
                    forward = forward.header(k, v);
                }
            }
            let answer = client
                .request(forward.body(Full::new(body)).unwrap())
                .await
                .unwrap();
            let (parts, body) = answer.into_parts();
            // The mock never fails a body; a bench that sees one panics.
            let body = body.map_err(|e| panic!("upstream body: {e}")).boxed();
            Ok::<_, Infallible>(hyper::Response::from_parts(parts, body))
        }
    })
    .await
}

/// `filter-proxy` with the bundled lists in front of `upstream`.
async fn filter_proxy(upstream: SocketAddr) -> SocketAddr {
    use clap::Parser;
    let url = format!("http://{upstream}/v1");
    let args = filter_proxy::Args::parse_from([
        "filter-proxy",
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        &url,
        "--log",
        "warn",
    ]);
    let config = args.settings.resolve().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(filter_proxy::run_until(
        config,
        std::future::pending::<()>(),
        move |b| {
            let _ = tx.send(b.listen);
        },
    ));
    rx.await.unwrap()
}

async fn connect(addr: SocketAddr) -> hyper::client::conn::http1::SendRequest<Full<Bytes>> {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender
}

fn post(body: &Value) -> hyper::Request<Full<Bytes>> {
    hyper::Request::post("/v1/chat/completions")
        .header("host", "bench")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

/// Microseconds of `n` sequential requests on one connection, sorted.
async fn sequential(addr: SocketAddr, body: &Value, n: usize) -> Vec<u32> {
    let mut sender = connect(addr).await;
    for _ in 0..50 {
        sender.ready().await.unwrap();
        let r = sender.send_request(post(body)).await.unwrap();
        r.into_body().collect().await.unwrap();
    }
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        sender.ready().await.unwrap();
        let t = Instant::now();
        let r = sender.send_request(post(body)).await.unwrap();
        assert_eq!(r.status(), 200);
        r.into_body().collect().await.unwrap();
        times.push(t.elapsed().as_micros() as u32);
    }
    times.sort_unstable();
    times
}

/// Microseconds to the first frame that carries answer text.
async fn first_content(addr: SocketAddr, body: &Value) -> u32 {
    let mut sender = connect(addr).await;
    let t = Instant::now();
    let mut response = sender.send_request(post(body)).await.unwrap().into_body();
    let mut first = None;
    while let Some(frame) = response.frame().await {
        let Ok(data) = frame.unwrap().into_data() else {
            continue;
        };
        let text = String::from_utf8_lossy(&data);
        let has_text = text
            .match_indices("\"content\":\"")
            .any(|(i, m)| !text[i + m.len()..].starts_with('"'));
        if first.is_none() && has_text {
            first = Some(t.elapsed().as_micros() as u32);
        }
    }
    first.expect("the answer's text arrived")
}

/// Reads one streamed answer to its end.
async fn whole_stream(addr: SocketAddr, body: &Value) {
    let mut sender = connect(addr).await;
    let response = sender.send_request(post(body)).await.unwrap();
    let all = response.into_body().collect().await.unwrap().to_bytes();
    assert!(all.ends_with(b"[DONE]\n\n"));
}
