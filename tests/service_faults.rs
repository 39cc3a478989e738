//! Faults found by trying the service from outside: each test failed
//! against the code before its fix.

use contentfilter_tests::{eventually, http_get, run, temp_dir, ServerProcess};
use filter_server::proto::content_filter_service_client::ContentFilterServiceClient;
use filter_server::proto::scan_stream_request::Message;
use filter_server::proto::{
    self, operator, Operator, OperatorOverride, RedactRequest, ScanRequest, ScanStreamOptions,
    ScanStreamRequest, ScanStreamResponse,
};
use tonic::transport::Channel;
use tonic::{Code, Status};

/// A prompt of 25 mobile numbers: an answer of 25 findings, about 1 KB.
fn many_findings() -> String {
    (0..25)
        .map(|i| format!("客户{i}的手机是1380013{i:04}，"))
        .collect()
}

/// Answers with many findings (about 1 KB) come back whole, call after
/// call on one connection. (That they come without a delayed-ACK stall is
/// checked on the socket: `listener.rs`, `accepted_connections_have_nagle_off`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_with_many_findings_come_back_whole() {
    let server = ServerProcess::start(&[]);
    let mut client = server.client().await;
    let request = ScanRequest {
        text: many_findings(),
        ..Default::default()
    };
    for _ in 0..5 {
        let r = client.scan(request.clone()).await.unwrap().into_inner();
        assert_eq!(r.findings.len(), 25);
    }
}

fn chunk(s: &str) -> ScanStreamRequest {
    ScanStreamRequest {
        message: Some(Message::Chunk(s.to_string())),
    }
}

fn options() -> ScanStreamRequest {
    ScanStreamRequest {
        message: Some(Message::Options(ScanStreamOptions::default())),
    }
}

/// Every response of a stream until it ends, and how it ended.
async fn drain(
    mut responses: tonic::Streaming<ScanStreamResponse>,
) -> (String, Result<(), Status>) {
    let mut text = String::new();
    loop {
        match responses.message().await {
            Ok(Some(r)) => text += &r.text,
            Ok(None) => return (text, Ok(())),
            Err(status) => return (text, Err(status)),
        }
    }
}

/// Regression: a chunk over the size limit ended the stream with OK, and
/// the held-back text (`[PHONE]，`) and the chunks after it never came.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_chunk_ends_the_stream_with_resource_exhausted() {
    let server = ServerProcess::start(&[]);
    let mut client = server.client().await;
    let messages = vec![
        options(),
        chunk("你好，我的手机是13800138000，"),
        chunk(&"字".repeat((5 << 20) / 3)),
        chunk("再见"),
    ];
    let responses = client
        .scan_stream(tokio_stream::iter(messages))
        .await
        .unwrap()
        .into_inner();
    let (released, end) = drain(responses).await;
    let status = end.expect_err("a truncated stream must not end OK");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(!released.contains("13800138000"), "{released}");
    assert!(!released.contains("再见"), "{released}");
}

/// A ScanStream message with its chunk as raw bytes, to send what a
/// client that cuts a JavaScript string inside a surrogate pair sends.
#[derive(Clone, PartialEq, prost::Message)]
struct RawStreamRequest {
    #[prost(bytes = "vec", tag = "2")]
    chunk: Vec<u8>,
}

/// Regression: a chunk that is not UTF-8 ended the stream with OK (unary
/// Scan answered the same bytes with an error).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunk_that_is_not_utf8_ends_the_stream_with_invalid_argument() {
    let server = ServerProcess::start(&[]);
    let channel = server.channel().await;
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let messages = vec![
        RawStreamRequest {
            chunk: "你好，我的手机是13800138000，".as_bytes().to_vec(),
        },
        RawStreamRequest {
            chunk: vec![0xed, 0xa0, 0xbd],
        },
        RawStreamRequest {
            chunk: "再见".as_bytes().to_vec(),
        },
    ];
    let path = "/contentfilter.v1.ContentFilterService/ScanStream"
        .parse()
        .unwrap();
    let codec: tonic_prost::ProstCodec<RawStreamRequest, ScanStreamResponse> =
        tonic_prost::ProstCodec::default();
    let responses = grpc
        .streaming(
            tonic::Request::new(tokio_stream::iter(messages)),
            path,
            codec,
        )
        .await
        .unwrap()
        .into_inner();
    let (released, end) = drain(responses).await;
    let status = end.expect_err("a stream with a bad message must not end OK");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(!released.contains("13800138000"), "{released}");
}

/// One gRPC message: the 5-byte prefix, then the encoded message.
fn grpc_frame(message: &impl prost::Message) -> bytes::Bytes {
    let body = message.encode_to_vec();
    let mut frame = vec![0u8];
    frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
    frame.extend_from_slice(&body);
    frame.into()
}

/// A client that cancels mid-stream (RST_STREAM with CANCEL, what every
/// gRPC client sends when its call is cancelled): the server frees the
/// stream and counts it CANCELLED, not OK.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_cancels_mid_stream_is_counted_cancelled() {
    let server = ServerProcess::start(&["--metrics-listen", "127.0.0.1:0"]);
    let metrics = server.metrics.unwrap();
    let tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (h2, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(connection);
    let mut h2 = h2.ready().await.unwrap();
    let request = http::Request::post(format!(
        "http://{}/contentfilter.v1.ContentFilterService/ScanStream",
        server.addr
    ))
    .header("content-type", "application/grpc")
    .header("te", "trailers")
    .body(())
    .unwrap();
    let (response, mut body) = h2.send_request(request, false).unwrap();
    body.send_data(grpc_frame(&chunk(&"你好。".repeat(200))), false)
        .unwrap();
    let response = response.await.unwrap();
    let mut answer = response.into_body();
    let first = answer.data().await.unwrap().unwrap();
    assert!(!first.is_empty(), "the stream answered");
    body.send_reset(h2::Reason::CANCEL);
    let counted = eventually(async || {
        let m = http_get(metrics, "/metrics").await;
        m.contains("contentfilter_streams_open 0")
            && m.contains(r#"contentfilter_requests_total{rpc="ScanStream",code="CANCELLED"} 1"#)
    })
    .await;
    let m = http_get(metrics, "/metrics").await;
    assert!(counted, "{m}");
    assert!(
        !m.contains(r#"rpc="ScanStream",code="OK""#),
        "a cancelled stream is not a success"
    );
}

async fn hash_via_service(client: &mut ContentFilterServiceClient<Channel>, text: &str) -> String {
    client
        .redact(RedactRequest {
            text: text.into(),
            operators: vec![OperatorOverride {
                kind: proto::Kind::Phone as i32,
                replace_with: Some(Operator {
                    method: Some(operator::Method::Hash(operator::Hash { hex_len: 8 })),
                }),
            }],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .text
}

/// Regression: the CLI read the key file's raw bytes (trailing newline
/// included) while the service trimmed it, so one key file gave two
/// tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_key_file_gives_one_token_in_the_cli_and_the_service() {
    let dir = temp_dir("service-key");
    let key = dir.join("key");
    std::fs::write(&key, "k3y-for-tests\n").unwrap();
    let server = ServerProcess::start(&["--hash-key-file", key.to_str().unwrap()]);
    let mut client = server.client().await;
    let text = "电话13800138000";
    let service = hash_via_service(&mut client, text).await;
    let cli = run(
        &[
            "redact",
            "--operator",
            "phone=hash:8",
            "--hash-key-file",
            key.to_str().unwrap(),
        ],
        text.as_bytes(),
    );
    assert_eq!(String::from_utf8(cli.stdout).unwrap(), service);
    assert!(service.starts_with("电话[PHONE:"), "{service}");
}

/// Regression: SIGTERM while the server was still loading its lists
/// killed it (the handlers were installed only once it served, so the
/// signal's default action ran): exit status 143 instead of a drain and 0.
#[test]
fn sigterm_during_start_drains_and_exits_zero() {
    use std::process::{Command, Stdio};
    // A list large enough that loading it outlasts the wait below.
    let dir = temp_dir("slow-start");
    let terms: String = (0..300_000)
        .map(|i| format!("启动测试词{i:06}\n"))
        .collect();
    std::fs::write(dir.join("big.txt"), terms).unwrap();
    let mut child = Command::new(contentfilter_tests::server_binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--wordlists"])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("filter-server starts");
    std::thread::sleep(std::time::Duration::from_millis(100));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let code = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code();
        }
        assert!(std::time::Instant::now() < deadline, "still running");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(code, Some(0), "drained and exited 0, not killed");
    std::fs::remove_dir_all(&dir).unwrap();
}
