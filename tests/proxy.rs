//! `filter-proxy` end to end: the proxy in this process in front of a mock
//! OpenAI upstream (a real HTTP server on 127.0.0.1 that records what it
//! receives and streams its answers event by event, with delays), called
//! with hyper's client here and with the official `openai` Python package
//! (`tests/python/proxy_client.py`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use contentfilter_tests::{
    http1, http_post, http_request, https1, json_request, run_checked, self_signed_cert,
    venv_python, workspace,
};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use serde_json::{json, Value};

/// What the mock upstream saw and did.
#[derive(Default)]
struct Mock {
    /// Request bodies, in order.
    bodies: Mutex<Vec<Value>>,
    hits: AtomicUsize,
    /// Answer every request with 500.
    failing: bool,
    /// A streamed answer lost its reader before it ended.
    cancelled: AtomicBool,
    /// When the last streamed answer sent its last event.
    finished: Mutex<Option<Instant>>,
    /// The Authorization headers received.
    auth: Mutex<Vec<String>>,
    /// Time taken before each answer.
    delay: Duration,
}

/// The text of a request's last user message.
fn last_user_text(body: &Value) -> String {
    body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// The mock's answer to a chat request: the prompt echoed, or as the
/// prompt's magic words ask.
fn answer_text(prompt: &str) -> String {
    if prompt.contains("BLOCKME") {
        "前面的话。网络赌博的平台有很多，后面的话".into()
    } else {
        format!("收到：{prompt}")
    }
}

async fn mock_handle(
    mock: Arc<Mock>,
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<http_body_util::combinators::BoxBody<Bytes, Infallible>>, Infallible> {
    let path = request.uri().path().to_string();
    if let Some(a) = request.headers().get("authorization") {
        mock.auth
            .lock()
            .unwrap()
            .push(a.to_str().unwrap_or_default().to_string());
    }
    let body = request.into_body().collect().await.unwrap().to_bytes();
    mock.hits.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(mock.delay).await;
    let respond = |status: u16, body: String| {
        let mut r = hyper::Response::new(Full::new(Bytes::from(body)).boxed());
        *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
        r.headers_mut()
            .insert("content-type", "application/json".parse().unwrap());
        Ok(r)
    };
    if mock.failing {
        return respond(500, r#"{"error":{"message":"down"}}"#.into());
    }
    if path == "/v1/models" {
        return respond(
            200,
            r#"{"object":"list","data":[{"id":"mock","object":"model"}]}"#.into(),
        );
    }
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    mock.bodies.lock().unwrap().push(json.clone());
    let prompt = last_user_text(&json);
    let n = json["n"].as_u64().unwrap_or(1);
    let text = answer_text(&prompt);
    if json["stream"] != json!(true) {
        let choices: Vec<Value> = (0..n)
            .map(|i| {
                let mut message = json!({"role": "assistant", "content": text});
                if prompt.contains("TOOL") {
                    message["tool_calls"] = json!([{"id": "call_1", "type": "function",
                        "function": {"name": "dial", "arguments": format!("{{\"said\":{}}}", serde_json::to_string(&prompt).unwrap())}}]);
                }
                json!({"index": i, "message": message, "finish_reason": "stop"})
            })
            .collect();
        return respond(
            200,
            json!({"id": "x", "object": "chat.completion", "model": "mock", "choices": choices})
                .to_string(),
        );
    }
    // Streamed: three characters an event, 15 ms apart (a slow reader's
    // upstream: 60 events, 40 ms apart).
    let chars: Vec<char> = text.chars().collect();
    let slow = prompt.contains("SLOW");
    let pieces: Vec<String> = if slow {
        (0..60).map(|i| format!("第{i}段。")).collect()
    } else {
        chars.chunks(3).map(|c| c.iter().collect()).collect()
    };
    let stall = prompt.contains("STALL");
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, Infallible>>(1);
    tokio::spawn(async move {
        let event = |v: Value| Ok(Frame::data(Bytes::from(format!("data: {v}\n\n"))));
        if stall {
            // One event, then silence for longer than any test waits.
            let chunk = json!({"choices": [{"index": 0, "delta": {"content": "开头"}, "finish_reason": null}]});
            let _ = tx.send(event(chunk)).await;
            tokio::time::sleep(Duration::from_secs(30)).await;
            return;
        }
        for (k, piece) in pieces.iter().enumerate() {
            for i in 0..n {
                let mut delta = json!({"content": piece});
                if k == 0 {
                    delta["role"] = json!("assistant");
                }
                let chunk = json!({"id": "x", "object": "chat.completion.chunk",
                    "choices": [{"index": i, "delta": delta, "finish_reason": null}]});
                if tx.send(event(chunk)).await.is_err() {
                    mock.cancelled.store(true, Ordering::SeqCst);
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(if slow { 40 } else { 15 })).await;
        }
        for i in 0..n {
            let end = json!({"id": "x", "object": "chat.completion.chunk",
                "choices": [{"index": i, "delta": {}, "finish_reason": "stop"}]});
            let _ = tx.send(event(end)).await;
        }
        let _ = tx
            .send(Ok(Frame::data(Bytes::from("data: [DONE]\n\n"))))
            .await;
        *mock.finished.lock().unwrap() = Some(Instant::now());
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    let mut r = hyper::Response::new(StreamBody::new(stream).boxed());
    r.headers_mut()
        .insert("content-type", "text/event-stream".parse().unwrap());
    Ok(r)
}

/// Starts a mock upstream; returns its state and its `/v1` URL.
async fn mock_upstream(failing: bool) -> (Arc<Mock>, String) {
    mock_with(Mock {
        failing,
        ..Mock::default()
    })
    .await
}

/// Starts the mock `mock`.
async fn mock_with(mock: Mock) -> (Arc<Mock>, String) {
    let mock = Arc::new(mock);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = mock.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let state = state.clone();
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |req| mock_handle(state.clone(), req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    (mock, format!("http://{addr}/v1"))
}

/// Starts the proxy in this process in front of `upstreams`.
async fn proxy(upstreams: &[&str], extra: &[&str]) -> SocketAddr {
    proxy_bound(upstreams, extra).await.listen
}

/// [`proxy`], with every address it bound.
async fn proxy_bound(upstreams: &[&str], extra: &[&str]) -> filter_proxy::Bound {
    use clap::Parser;
    let mut args = vec![
        "filter-proxy",
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        upstreams[0],
    ];
    if let Some(backup) = upstreams.get(1) {
        args.extend(["--backup-upstream", backup]);
    }
    args.extend_from_slice(extra);
    let config = filter_proxy::Args::parse_from(args)
        .settings
        .resolve()
        .unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(filter_proxy::run_until(
        config,
        std::future::pending::<()>(),
        move |bound| {
            let _ = tx.send(bound);
        },
    ));
    rx.await.unwrap()
}

const JSON: (&str, &str) = ("content-type", "application/json");

fn chat(text: &str, stream: bool) -> String {
    json!({"model": "mock", "stream": stream, "messages": [
        {"role": "system", "content": "你是客服"},
        {"role": "user", "content": text}
    ]})
    .to_string()
}

/// The contents of a streamed answer's events per choice, their finish
/// reasons, and whether `[DONE]` ended it.
fn read_events(body: &[u8]) -> (Vec<String>, Vec<Option<String>>, bool) {
    let text = String::from_utf8_lossy(body);
    let mut contents = vec![String::new(); 4];
    let mut finish = vec![None; 4];
    let mut done = false;
    for event in text.split("\n\n").filter(|e| !e.is_empty()) {
        let data = event.strip_prefix("data: ").expect("a data event");
        if data == "[DONE]" {
            done = true;
            continue;
        }
        let v: Value = serde_json::from_str(data).unwrap();
        for c in v["choices"].as_array().unwrap() {
            let i = c["index"].as_u64().unwrap() as usize;
            contents[i] += c["delta"]["content"].as_str().unwrap_or_default();
            if let Some(f) = c["finish_reason"].as_str() {
                finish[i] = Some(f.to_string());
            }
        }
    }
    (contents, finish, done)
}

const PERSONAL: &str = "我的手机13800138000，身份证110101199003071233，卡号6222021234567890128";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompts_leave_pseudonymized_and_answers_come_back_restored() {
    let (mock, url) = mock_upstream(false).await;
    let addr = proxy(&[&url], &[]).await;
    // Not streamed; a tool call's arguments too.
    let a = http_post(
        addr,
        "/v1/chat/completions",
        &[JSON],
        chat(&format!("{PERSONAL} TOOL"), false),
    )
    .await;
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    let sent = mock.bodies.lock().unwrap()[0].to_string();
    for value in ["13800138000", "110101199003071233", "6222021234567890128"] {
        assert!(
            !sent.contains(value),
            "{value} reached the upstream: {sent}"
        );
    }
    assert!(
        sent.contains("[PHONE_1]") && sent.contains("[ID_CARD_1]"),
        "{sent}"
    );
    let v = a.json();
    assert_eq!(
        v["choices"][0]["message"]["content"],
        format!("收到：{PERSONAL} TOOL")
    );
    let args = v["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]
        .as_str()
        .unwrap();
    assert!(
        args.contains("13800138000") && !args.contains("[PHONE_1]"),
        "{args}"
    );

    // Streamed, three characters an event: `[PHONE_1]` arrives in three.
    let started = Instant::now();
    let a = http_post(addr, "/v1/chat/completions", &[JSON], chat(PERSONAL, true)).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.headers["content-type"], "text/event-stream");
    let (contents, finish, done) = read_events(&a.body);
    assert_eq!(contents[0], format!("收到：{PERSONAL}"));
    assert_eq!(finish[0].as_deref(), Some("stop"));
    assert!(done);
    assert!(started.elapsed() < Duration::from_secs(30));
}

/// The first token reaches the client while the upstream is still
/// answering: nothing waits for the whole answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_token_arrives_before_the_upstream_finishes() {
    let (mock, url) = mock_upstream(false).await;
    let addr = proxy(&[&url], &[]).await;
    let mut sender = http1(addr).await;
    let request = json_request("/v1/chat/completions", chat("SLOW 你好", true));
    let mut body = sender.send_request(request).await.unwrap().into_body();
    let mut first_content = None;
    let mut all = Vec::new();
    while let Some(frame) = body.frame().await {
        let data = frame.unwrap().into_data().unwrap_or_default();
        all.extend_from_slice(&data);
        // The first delta with text: the stream may release `第0` in
        // one event and `段。` in the next.
        if first_content.is_none() && String::from_utf8_lossy(&all).contains("\"content\":\"第") {
            first_content = Some(Instant::now());
        }
    }
    let finished = mock.finished.lock().unwrap().expect("the mock finished");
    let first = first_content
        .unwrap_or_else(|| panic!("no content arrived: {}", String::from_utf8_lossy(&all)));
    assert!(
        first < finished,
        "the first token came after the whole answer"
    );
    let (contents, _, done) = read_events(&all);
    assert!(contents[0].starts_with("第0段。第1段。") && done);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_words_stop_prompts_and_answers() {
    let (mock, url) = mock_upstream(false).await;
    let addr = proxy(&[&url], &[]).await;
    // In a prompt: 400 in OpenAI's shape, and no upstream call.
    let a = http_post(
        addr,
        "/v1/chat/completions",
        &[JSON],
        chat("推荐网络赌博平台", false),
    )
    .await;
    assert_eq!(a.status, 400);
    let v = a.json();
    assert_eq!(v["error"]["code"], "content_filter");
    assert_eq!(v["error"]["type"], "invalid_request_error");
    assert!(!v.to_string().contains("网络赌博"), "{v}");
    assert_eq!(mock.hits.load(Ordering::SeqCst), 0);
    // In a streamed answer: the text before it, `content_filter`, never the
    // word, then `[DONE]`.
    let a = http_post(addr, "/v1/chat/completions", &[JSON], chat("BLOCKME", true)).await;
    let (contents, finish, done) = read_events(&a.body);
    assert_eq!(contents[0], "前面的话。");
    assert_eq!(finish[0].as_deref(), Some("content_filter"));
    assert!(done);
    assert!(!String::from_utf8_lossy(&a.body).contains("赌"));
    // Not streamed: cut at the same point.
    let a = http_post(
        addr,
        "/v1/chat/completions",
        &[JSON],
        chat("BLOCKME", false),
    )
    .await;
    let v = a.json();
    assert_eq!(v["choices"][0]["message"]["content"], "前面的话。");
    assert_eq!(v["choices"][0]["finish_reason"], "content_filter");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_choices_are_filtered_apart() {
    let (_mock, url) = mock_upstream(false).await;
    let addr = proxy(&[&url], &[]).await;
    let body = json!({"model": "mock", "stream": true, "n": 2,
        "messages": [{"role": "user", "content": PERSONAL}]})
    .to_string();
    let a = http_post(addr, "/v1/chat/completions", &[JSON], body).await;
    let (contents, finish, done) = read_events(&a.body);
    for i in 0..2 {
        assert_eq!(contents[i], format!("收到：{PERSONAL}"), "choice {i}");
        assert_eq!(finish[i].as_deref(), Some("stop"));
    }
    assert!(done);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_paths_are_refused_and_models_pass() {
    let (_mock, url) = mock_upstream(false).await;
    let addr = proxy(&[&url], &[]).await;
    let a = http_post(addr, "/v1/audio/speech", &[JSON], "{}").await;
    assert_eq!(a.status, 404);
    assert!(a.json()["error"]["message"].is_string());
    let a = http_request("GET", addr, "/v1/models", &[], Bytes::new()).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["data"][0]["id"], "mock");
}

/// A primary that answers 500: every request succeeds through the backup;
/// after three failures the primary is left alone, and after the
/// cool-down it is tried again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_to_the_backup_and_back_to_probing() {
    let (primary, primary_url) = mock_upstream(true).await;
    let (backup, backup_url) = mock_upstream(false).await;
    let addr = proxy(&[&primary_url, &backup_url], &["--cooldown-ms", "500"]).await;
    for _ in 0..6 {
        let a = http_post(addr, "/v1/chat/completions", &[JSON], chat("你好", false)).await;
        assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    }
    assert_eq!(
        primary.hits.load(Ordering::SeqCst),
        3,
        "three failures, then the backup"
    );
    assert_eq!(backup.hits.load(Ordering::SeqCst), 6);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let a = http_post(addr, "/v1/chat/completions", &[JSON], chat("你好", false)).await;
    assert_eq!(a.status, 200);
    assert_eq!(
        primary.hits.load(Ordering::SeqCst),
        4,
        "probed after the cool-down"
    );
}

/// A primary that answers, but slowly: after enough answers whose mean
/// latency is over the limit, the backup serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_primary_is_left_for_the_backup() {
    let (primary, primary_url) = mock_with(Mock {
        delay: Duration::from_millis(40),
        ..Mock::default()
    })
    .await;
    let (backup, backup_url) = mock_upstream(false).await;
    let addr = proxy(
        &[&primary_url, &backup_url],
        &["--max-mean-latency-ms", "20", "--cooldown-ms", "60000"],
    )
    .await;
    for _ in 0..25 {
        let a = http_post(addr, "/v1/chat/completions", &[JSON], chat("你好", false)).await;
        assert_eq!(a.status, 200);
    }
    assert_eq!(
        primary.hits.load(Ordering::SeqCst),
        20,
        "20 answers judge the window"
    );
    assert_eq!(backup.hits.load(Ordering::SeqCst), 5);
}

/// `--upstream-api-key-file` replaces the client's Authorization, and
/// `--client-tokens-file` lists who may call; the counters show it all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_tokens_and_metrics() {
    let dir = contentfilter_tests::temp_dir("proxy-keys");
    std::fs::write(dir.join("upstream.key"), "sk-upstream-secret\n").unwrap();
    std::fs::write(
        dir.join("clients"),
        "# one a line\nteam-a-token\nteam-b-token\n",
    )
    .unwrap();
    let (mock, url) = mock_upstream(false).await;
    let bound = proxy_bound(
        &[&url],
        &[
            "--upstream-api-key-file",
            dir.join("upstream.key").to_str().unwrap(),
            "--client-tokens-file",
            dir.join("clients").to_str().unwrap(),
            "--metrics-listen",
            "127.0.0.1:0",
        ],
    )
    .await;
    let addr = bound.listen;
    let a = http_post(addr, "/v1/chat/completions", &[JSON], chat("你好", false)).await;
    assert_eq!(a.status, 401);
    assert_eq!(a.json()["error"]["code"], "invalid_api_key");
    let wrong = ("authorization", "Bearer team-c-token");
    let a = http_post(
        addr,
        "/v1/chat/completions",
        &[JSON, wrong],
        chat("你好", false),
    )
    .await;
    assert_eq!(a.status, 401);
    let right = ("authorization", "Bearer team-b-token");
    let a = http_post(
        addr,
        "/v1/chat/completions",
        &[JSON, right],
        chat("手机13800138000", false),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(*mock.auth.lock().unwrap(), ["Bearer sk-upstream-secret"]);
    let a = http_post(
        addr,
        "/v1/chat/completions",
        &[JSON, right],
        chat("网络赌博", false),
    )
    .await;
    assert_eq!(a.status, 400);
    let metrics = contentfilter_tests::http_get(bound.metrics.unwrap(), "/metrics").await;
    for line in [
        "filter_proxy_requests_total{endpoint=\"chat_completions\",status=\"401\"} 2",
        "filter_proxy_requests_total{endpoint=\"chat_completions\",status=\"200\"} 1",
        "filter_proxy_pseudonymized_total{kind=\"phone\"} 1",
        "filter_proxy_blocked_prompts_total 1",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
    assert!(!metrics.contains("13800138000") && !metrics.contains("赌博"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// With `--tls-cert`, TLS 1.3 and HTTP/1.1 or HTTP/2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_listener() {
    let (dir, cert) = self_signed_cert("proxy-tls");
    let (_mock, url) = mock_upstream(false).await;
    let addr = proxy(
        &[&url],
        &[
            "--tls-cert",
            dir.join("cert.pem").to_str().unwrap(),
            "--tls-key",
            dir.join("key.pem").to_str().unwrap(),
        ],
    )
    .await;
    let mut sender = https1(addr, &cert).await;
    let request = json_request("/v1/chat/completions", chat("手机13800138000", false));
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("13800138000"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An upstream that goes silent mid-answer: the answer ends after the
/// idle timeout instead of holding the client, without `[DONE]` (the
/// client sees a cut answer, not a complete one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_upstream_ends_the_answer_after_the_idle_timeout() {
    let (_mock, url) = mock_upstream(false).await;
    let addr = proxy(&[&url], &["--idle-timeout-ms", "300"]).await;
    let started = Instant::now();
    let a = http_post(addr, "/v1/chat/completions", &[JSON], chat("STALL", true)).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(!String::from_utf8_lossy(&a.body).contains("[DONE]"));
}

/// A client that leaves mid-stream cancels the upstream request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_leaves_cancels_the_upstream() {
    let (mock, url) = mock_upstream(false).await;
    let addr = proxy(&[&url], &[]).await;
    {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
                .await
                .unwrap();
        // Its own connection task, to close the connection at once.
        let conn = tokio::spawn(conn);
        let request = json_request("/v1/chat/completions", chat("SLOW", true));
        let mut body = sender.send_request(request).await.unwrap().into_body();
        let _ = body.frame().await;
        drop(body);
        conn.abort();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while !mock.cancelled.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "the upstream kept streaming");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(mock.finished.lock().unwrap().is_none());
}

/// The official `openai` Python package against the proxy: streamed and
/// not, values restored, a block word refused as an API error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_openai_client_works_through_the_proxy() {
    let (mock, url) = mock_upstream(false).await;
    let addr = proxy(&[&url], &[]).await;
    let python = venv_python();
    let script = workspace().join("tests/python/proxy_client.py");
    tokio::task::spawn_blocking(move || {
        run_checked(
            std::process::Command::new(python)
                .arg(script)
                .arg(format!("http://{addr}/v1")),
            "tests/python/proxy_client.py",
        )
    })
    .await
    .unwrap();
    let sent: String = mock
        .bodies
        .lock()
        .unwrap()
        .iter()
        .map(Value::to_string)
        .collect();
    assert!(!sent.contains("13800138000"), "{sent}");
}
