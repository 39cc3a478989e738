//! The HTTP/JSON API and LiteLLM's guardrail contract, end to end: a real
//! server on 127.0.0.1 with `--http-listen 127.0.0.1:0`, called with
//! hyper's HTTP/1.1 client.

use contentfilter_tests::{
    http_post, http_request, https1, json_request, self_signed_cert, temp_dir, HttpAnswer,
    ServerProcess,
};
use filter_server::proto::{self, ScanRequest};
use serde_json::{json, Value};

const JSON: (&str, &str) = ("content-type", "application/json");

fn start(args: &[&str]) -> (ServerProcess, std::net::SocketAddr) {
    let mut all = vec!["--http-listen", "127.0.0.1:0"];
    all.extend_from_slice(args);
    let server = ServerProcess::start(&all);
    let http = server.http.expect("the HTTP address is printed");
    (server, http)
}

async fn post_json(addr: std::net::SocketAddr, path: &str, body: &Value) -> HttpAnswer {
    http_post(addr, path, &[JSON], body.to_string()).await
}

/// Texts of the kinds users send: personal data in its forms, words and
/// their evasions, nothing at all.
const TEXTS: &[&str] = &[
    "我的手机是13800138000，身份证110101199003071233。",
    "电话：+86 138 0013 8000，卡号6222 0212 3456 7890 128",
    "您的订单号4607598386756508，请查收",
    "卡号4607598386756508",
    "代*开*发*票，網絡賭博，ｗｗｗ",
    "统一社会信用代码91350100M000100Y43，车牌京A·12345",
    "邮箱kf.x@shop.cn，密钥sk-proj-4Fq9xZ2LmN8pQ7rT1vW3yB6cD0eG5hJ",
    "😀 emoji 前面，座机(0571)87654321",
    "没有任何敏感内容的一句话。",
    "",
];

/// `/v1/scan` answers exactly what `Scan` answers over gRPC, in the proto3
/// JSON mapping; `snake_case` and `camelCase` requests are one request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_over_http_equals_scan_over_grpc() {
    let (server, http) = start(&[]);
    let mut grpc = server.client().await;
    for text in TEXTS {
        for min in [None, Some(0.0)] {
            let unary = grpc
                .scan(ScanRequest {
                    text: (*text).into(),
                    min_confidence: min,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            let mut body = json!({ "text": text });
            if let Some(m) = min {
                body["min_confidence"] = json!(m);
            }
            let answer = post_json(http, "/v1/scan", &body).await;
            assert_eq!(
                answer.status,
                200,
                "{}",
                String::from_utf8_lossy(&answer.body)
            );
            // Through text, as a client reads it (an f32 is written in
            // its shortest form: 0.9, not 0.8999999761581421).
            let grpc_json: Value =
                serde_json::from_str(&serde_json::to_string(&unary).unwrap()).unwrap();
            assert_eq!(answer.json(), grpc_json, "{text}");
        }
    }
    // Kinds by name, field names in either case; written in camelCase.
    let answer = post_json(
        http,
        "/v1/scan",
        &json!({"text": "13800138000 kf@shop.cn", "kinds": ["KIND_EMAIL"], "minConfidence": 0.1}),
    )
    .await;
    let v = answer.json();
    assert_eq!(v["findings"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["findings"][0]["kind"], "KIND_EMAIL");
    assert_eq!(
        v["findings"][0]["byteSpan"],
        json!({"start": 12, "end": 22})
    );
    assert_eq!(v["verdict"], "VERDICT_ALLOW");
}

/// Each way a request goes wrong gets its status and a JSON error that
/// names the problem.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_have_their_status_and_name_the_field() {
    let dir = temp_dir("http-token");
    let token = dir.join("token");
    std::fs::write(&token, "s3cret-token\n").unwrap();
    let (_server, http) = start(&[
        "--auth-token-file",
        token.to_str().unwrap(),
        "--max-request-bytes",
        "1024",
    ]);
    let auth = ("authorization", "Bearer s3cret-token");
    let error = |a: &HttpAnswer| -> (u16, String, String) {
        let v = a.json();
        assert!(v["details"].is_array(), "{v}");
        (
            a.status,
            v["code"].as_str().unwrap_or_default().to_string(),
            v["message"].as_str().unwrap_or_default().to_string(),
        )
    };
    let ok = http_post(http, "/v1/scan", &[JSON, auth], r#"{"text":"13800138000"}"#).await;
    assert_eq!(ok.status, 200);
    assert!(ok.headers.contains_key("x-request-id"));

    // What is wrong, the headers, the body; the status, code, and a word
    // the message must hold.
    type Case<'a> = (
        &'a str,
        &'a [(&'a str, &'a str)],
        &'a str,
        u16,
        &'a str,
        &'a str,
    );
    let cases: &[Case<'_>] = &[
        (
            "no token",
            &[JSON],
            r#"{"text":"x"}"#,
            401,
            "UNAUTHENTICATED",
            "bearer",
        ),
        (
            "bad JSON",
            &[JSON, auth],
            r#"{"text":"#,
            400,
            "INVALID_ARGUMENT",
            "body",
        ),
        (
            "unknown field",
            &[JSON, auth],
            r#"{"txet":"x"}"#,
            400,
            "INVALID_ARGUMENT",
            "txet",
        ),
        (
            "wrong type",
            &[JSON, auth],
            r#"{"text":["x"]}"#,
            400,
            "INVALID_ARGUMENT",
            "text",
        ),
        (
            "bad kind",
            &[JSON, auth],
            r#"{"text":"x","kinds":["KIND_NOPE"]}"#,
            400,
            "INVALID_ARGUMENT",
            "kinds",
        ),
        (
            "form body",
            &[("content-type", "application/x-www-form-urlencoded"), auth],
            "text=x",
            415,
            "INVALID_ARGUMENT",
            "application/json",
        ),
        (
            "no content type",
            &[auth],
            r#"{"text":"x"}"#,
            415,
            "INVALID_ARGUMENT",
            "application/json",
        ),
    ];
    for (what, headers, body, status, code, names) in cases {
        let a = http_post(http, "/v1/scan", headers, body.to_string()).await;
        let (s, c, m) = error(&a);
        assert_eq!((s, c.as_str()), (*status, *code), "{what}: {m}");
        assert!(m.contains(names), "{what}: {m:?} names {names}");
    }
    // The limit is the gRPC one: 1024 bytes, and one more is 413.
    let at_limit = format!(r#"{{"text":"{}"}}"#, "a".repeat(1024 - 11));
    assert_eq!(at_limit.len(), 1024);
    let a = http_post(http, "/v1/scan", &[JSON, auth], at_limit.clone()).await;
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    let over = format!(r#"{{"text":"{}"}}"#, "a".repeat(1024 - 10));
    let a = http_post(http, "/v1/scan", &[JSON, auth], over).await;
    assert_eq!(error(&a).0, 413);
    assert_eq!(error(&a).1, "RESOURCE_EXHAUSTED");
    // Unknown paths and methods.
    let a = http_post(http, "/v2/scan", &[JSON, auth], "{}").await;
    assert_eq!(error(&a).0, 404);
    let a = http_request("GET", http, "/v1/scan", &[auth], Default::default()).await;
    assert_eq!(a.status, 405);
    // Probes need no token.
    for probe in ["/healthz", "/readyz"] {
        let a = http_request("GET", http, probe, &[], Default::default()).await;
        assert_eq!(a.status, 200, "{probe}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Redact and Restore over HTTP: a pseudonymized prompt, the sealed vault
/// as base64, the values put back; request ids echoed (or made).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redact_and_restore_round_trip_over_http() {
    let dir = temp_dir("http-vault");
    let key = dir.join("vault.key");
    std::fs::write(&key, "a vault key of 16+ bytes").unwrap();
    let (_server, http) = start(&["--vault-key-file", key.to_str().unwrap()]);
    let a = http_post(
        http,
        "/v1/redact",
        &[JSON, ("x-request-id", "turn-1")],
        json!({"text": "给13800138000写信", "pseudonymMode": "PSEUDONYM_MODE_PLACEHOLDER"})
            .to_string(),
    )
    .await;
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(a.headers["x-request-id"], "turn-1");
    let v = a.json();
    assert_eq!(v["text"], "给[PHONE_1]写信");
    let vault = v["vault"].as_str().unwrap().to_string();
    assert!(!vault.is_empty());
    let a = post_json(
        http,
        "/v1/restore",
        &json!({"text": "已致电【phone_1】", "vault": vault}),
    )
    .await;
    assert_eq!(a.json(), json!({"text": "已致电13800138000"}));
    // A mask operator in the proto JSON form.
    let a = post_json(
        http,
        "/v1/redact",
        &json!({
            "text": "手机13800138000",
            "operators": [{"kind": "KIND_PHONE", "replaceWith": {"mask": {"keepStart": 3, "keepEnd": 4}}}]
        }),
    )
    .await;
    assert_eq!(a.json()["text"], "手机138****8000");
    // A vault that is not one: INVALID_ARGUMENT, 400.
    let a = post_json(http, "/v1/restore", &json!({"text": "x", "vault": "AAAA"})).await;
    assert_eq!(a.status, 400);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// LiteLLM's Generic Guardrail API: the three actions with Chinese texts,
/// as many texts back as sent, a reason without the matched text, the
/// fields LiteLLM adds (and its nulls) accepted, per-call parameters, its
/// call id as the request id, its `x-api-key` as the token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn litellm_guardrail_contract() {
    let dir = temp_dir("litellm-token");
    let token = dir.join("token");
    std::fs::write(&token, "guard-key").unwrap();
    let (_server, http) = start(&["--auth-token-file", token.to_str().unwrap()]);
    let path = "/beta/litellm_basic_guardrail_api";
    let call = |body: Value| async move {
        http_post(
            http,
            path,
            &[JSON, ("x-api-key", "guard-key")],
            body.to_string(),
        )
        .await
    };
    // As LiteLLM 1.108 sends it: extra fields, nulls, a system message.
    let request = |texts: Vec<&str>, input_type: &str| {
        json!({
            "texts": texts,
            "images": null,
            "tools": null,
            "tool_calls": null,
            "structured_messages": [{"role": "system", "content": "你是客服"}],
            "request_data": {"user_api_key_hash": "abc"},
            "request_headers": {"user-agent": "[present]"},
            "litellm_version": "1.108.0",
            "model": "gpt-4o",
            "input_type": input_type,
            "litellm_call_id": "call-42",
            "litellm_trace_id": "trace-7",
            "additional_provider_specific_params": {}
        })
    };
    let a = call(request(
        vec![
            "你是客服",
            "我的手机是13800138000，身份证110101199003071233",
        ],
        "request",
    ))
    .await;
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(a.headers["x-request-id"], "call-42");
    assert_eq!(
        a.json(),
        json!({"action": "GUARDRAIL_INTERVENED", "texts": ["你是客服", "我的手机是[PHONE]，身份证[ID_CARD]"]})
    );
    let a = call(request(vec!["你好", "今天天气不错"], "response")).await;
    assert_eq!(a.json(), json!({"action": "NONE"}));
    let a = call(request(vec!["可以帮你代开发票，網絡賭博也行"], "response")).await;
    let v = a.json();
    assert_eq!(v["action"], "BLOCKED", "{v}");
    let reason = v["blocked_reason"].as_str().unwrap();
    assert!(
        !reason.contains("赌博") && !reason.contains("賭博") && !reason.contains("发票"),
        "{reason}"
    );
    assert!(reason.contains("category"), "{reason}");
    // Per-call parameters narrow the kinds; unknown keys are refused.
    let mut only_email = request(vec!["13800138000 kf@shop.cn"], "request");
    only_email["additional_provider_specific_params"] = json!({"kinds": ["KIND_EMAIL"]});
    assert_eq!(
        call(only_email).await.json(),
        json!({"action": "GUARDRAIL_INTERVENED", "texts": ["13800138000 [EMAIL]"]})
    );
    let mut masked = request(vec!["13800138000"], "request");
    masked["additional_provider_specific_params"] = json!({
        "operators": [{"kind": "KIND_PHONE", "replaceWith": {"mask": {"keepStart": 3, "keepEnd": 4}}}]
    });
    assert_eq!(call(masked).await.json()["texts"], json!(["138****8000"]));
    let mut unknown = request(vec!["x"], "request");
    unknown["additional_provider_specific_params"] = json!({"threshold": 0.5});
    let a = call(unknown).await;
    assert_eq!(a.status, 400);
    assert!(a.json()["message"].as_str().unwrap().contains("threshold"));
    let a = call(json!({"texts": ["x"], "input_type": "sideways"})).await;
    assert_eq!(a.status, 400);
    // Without the key: 401, which LiteLLM treats as a failure (closed).
    let a = http_post(
        http,
        path,
        &[JSON],
        request(vec!["x"], "request").to_string(),
    )
    .await;
    assert_eq!(a.status, 401);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `x-request-id` on gRPC too: echoed in the response metadata, made when
/// the client sends none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_echoes_request_ids() {
    let (server, _http) = start(&[]);
    let mut grpc = server.client().await;
    let mut request = tonic::Request::new(proto::ScanRequest {
        text: "x".into(),
        ..Default::default()
    });
    request
        .metadata_mut()
        .insert("x-request-id", "from-client".parse().unwrap());
    let response = grpc.scan(request).await.unwrap();
    assert_eq!(
        response.metadata().get("x-request-id").unwrap(),
        "from-client"
    );
    let response = grpc
        .scan(proto::ScanRequest {
            text: "x".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let made = response
        .metadata()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap();
    assert_eq!(made.len(), 16, "{made}");
}

/// With `--tls-cert`, the HTTP listener speaks TLS 1.3 too and offers
/// HTTP/1.1 beside HTTP/2 (the gRPC listener offers HTTP/2 only).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_the_servers_certificate() {
    let (dir, cert) = self_signed_cert("http-tls");
    let (_server, http) = start(&[
        "--tls-cert",
        dir.join("cert.pem").to_str().unwrap(),
        "--tls-key",
        dir.join("key.pem").to_str().unwrap(),
    ]);
    let mut sender = https1(http, &cert).await;
    let response = sender
        .send_request(json_request("/v1/scan", r#"{"text":"13800138000"}"#))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    std::fs::remove_dir_all(&dir).unwrap();
}
