//! The gRPC service end to end: a real `filter-server` process on
//! 127.0.0.1 at an ephemeral port, called with the tonic client generated
//! from our proto.

use std::time::Duration;

use contentfilter_tests::{
    admin_token_args, copy_wordlists, eventually, http_get, temp_dir, with_token, workspace,
    ServerProcess, ADMIN_TOKEN,
};
use filter_core::{Lexicon, OffsetMapper, Scanner};
use filter_server::proto::{
    self, operator, Operator, OperatorOverride, RedactRequest, ReloadWordlistsRequest, ScanRequest,
};
use tonic::{Code, Request};
use tonic_types::StatusExt;

fn scan_request(text: &str) -> ScanRequest {
    ScanRequest {
        text: text.to_string(),
        ..Default::default()
    }
}

/// A message with personal data and sensitive words in it.
fn sample() -> String {
    format!(
        "用户😀张三，身份证{}，手机+86 138 0013 8000，卡号6222021234567890128，邮箱z@x.cn。请代*开*发*票，網絡賭博。",
        "110101199003071233"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_and_redact_match_filter_core() {
    let server = ServerProcess::start(&[]);
    let mut client = server.client().await;
    let lexicon = Lexicon::from_dir(workspace().join("wordlists")).unwrap();
    let scanner = Scanner::builder().words(lexicon).build().unwrap();
    for text in [
        sample(),
        String::new(),
        "没有敏感内容。".to_string(),
        "a@b.cn 13900139000".to_string(),
    ] {
        let response = client.scan(scan_request(&text)).await.unwrap().into_inner();
        let want = scanner.scan(&text);
        assert_eq!(response.findings.len(), want.len(), "{text}");
        let mut offsets = OffsetMapper::new(&text);
        for (got, want) in response.findings.iter().zip(&want) {
            let b = got.byte_span.unwrap();
            assert_eq!(
                (b.start as usize, b.end as usize),
                (want.start(), want.end())
            );
            let cp = got.codepoint_span.unwrap();
            assert_eq!(
                offsets.char_range(want.range()),
                cp.start as usize..cp.end as usize
            );
            assert_eq!(
                got.kind().as_str_name().to_lowercase(),
                format!("kind_{}", want.kind())
            );
            assert_eq!(got.category, want.category());
            assert_eq!(got.term, want.term().unwrap_or(""));
        }
        let redacted = client
            .redact(RedactRequest {
                text: text.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(redacted.text, scanner.redact(&text, &Default::default()));
    }
    let sample = sample();
    let verdicts = [
        (
            sample.as_str(),
            proto::Verdict::Block,
            "fraud and gambling are block categories",
        ),
        (
            "加微信",
            proto::Verdict::Review,
            "spam_ads is a review category",
        ),
        (
            "手机13800138000",
            proto::Verdict::Allow,
            "personal data is masked, not blocked",
        ),
    ];
    for (text, want, why) in verdicts {
        let got = client
            .scan(scan_request(text))
            .await
            .unwrap()
            .into_inner()
            .verdict();
        assert_eq!(got, want, "{why}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selection_and_operator_overrides() {
    let server = ServerProcess::start(&[]);
    let mut client = server.client().await;
    let phones = client
        .scan(ScanRequest {
            min_confidence: None,
            text: sample(),
            kinds: vec![proto::Kind::Phone as i32],
            categories: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(phones.findings.len(), 1);
    let gambling = client
        .scan(ScanRequest {
            min_confidence: None,
            text: sample(),
            kinds: vec![proto::Kind::SensitiveWord as i32],
            categories: vec!["gambling".into()],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(gambling.findings.len(), 1);
    assert_eq!(gambling.findings[0].category, "gambling");
    let masked = client
        .redact(RedactRequest {
            text: "电话13800138000".into(),
            operators: vec![OperatorOverride {
                kind: proto::Kind::Phone as i32,
                replace_with: Some(Operator {
                    method: Some(operator::Method::Mask(operator::Mask {
                        keep_start: 3,
                        keep_end: 4,
                    })),
                }),
            }],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(masked.text, "电话138****8000");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_arguments_name_the_field() {
    let server = ServerProcess::start(&[]);
    let mut client = server.client().await;
    let err = client
        .scan(ScanRequest {
            min_confidence: None,
            text: "x".into(),
            kinds: vec![proto::Kind::Phone as i32, 99],
            categories: vec![],
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("kinds[1]"), "{}", err.message());
    let err = client
        .scan(ScanRequest {
            min_confidence: None,
            text: "x".into(),
            kinds: vec![],
            categories: vec!["no_such".into()],
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("categories[0]"), "{}", err.message());
    let err = client
        .redact(RedactRequest {
            text: "13800138000".into(),
            operators: vec![OperatorOverride {
                kind: proto::Kind::Phone as i32,
                replace_with: Some(Operator {
                    method: Some(operator::Method::Hash(operator::Hash { hex_len: 8 })),
                }),
            }],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "no hash key configured");
    assert!(
        err.message().contains("operators[0].replace_with.hash"),
        "{}",
        err.message()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_requests_are_resource_exhausted() {
    let server = ServerProcess::start(&["--max-request-bytes", "1000"]);
    let mut client = server.client().await;
    assert!(client.scan(scan_request(&"a".repeat(1000))).await.is_ok());
    let err = client
        .scan(scan_request(&"a".repeat(1001)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    // Far over the limit, tonic's own decoder rejects the message first.
    let err = client
        .scan(scan_request(&"a".repeat(200_000)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");

    let default = ServerProcess::start(&[]);
    let mut client = default.client().await;
    let err = client
        .scan(scan_request(&"字".repeat((4 << 20) / 3 + 1)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "4 MiB + 1 byte");
    let ok = client.scan(scan_request("")).await.unwrap().into_inner();
    assert!(ok.findings.is_empty(), "empty text is a valid request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_reflection_answer() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::ServerReflectionRequest;

    let server = ServerProcess::start(&[]);
    let mut health = HealthClient::new(server.channel().await);
    for service in ["", "contentfilter.v1.ContentFilterService"] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status();
        assert_eq!(status, ServingStatus::Serving, "{service:?}");
    }
    let mut reflection = ServerReflectionClient::new(server.channel().await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("not a service list: {response:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&"contentfilter.v1.ContentFilterService".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.health.v1.Health".to_string()),
        "{names:?}"
    );
    // Older tools ask v1alpha.
    use tonic_reflection::pb::v1alpha;
    let mut old =
        v1alpha::server_reflection_client::ServerReflectionClient::new(server.channel().await);
    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            v1alpha::server_reflection_request::MessageRequest::ListServices(String::new()),
        ),
    };
    let response = old
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner()
        .message()
        .await
        .unwrap()
        .unwrap();
    let Some(v1alpha::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        response.message_response
    else {
        panic!("not a service list: {response:?}");
    };
    assert!(list
        .service
        .iter()
        .any(|s| s.name == "contentfilter.v1.ContentFilterService"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_is_closed_without_an_admin_token() {
    let server = ServerProcess::start(&[]);
    let mut client = server.client().await;
    let err = client
        .reload_wordlists(ReloadWordlistsRequest {})
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert!(
        err.message().contains("--admin-token-file"),
        "{}",
        err.message()
    );
    // A token does not open it either: there is none to match.
    let err = client
        .reload_wordlists(with_token(ReloadWordlistsRequest {}, "guess"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_reload_keeps_the_old_lists() {
    let dir = copy_wordlists("reload");
    let admin = admin_token_args();
    let server =
        ServerProcess::start(&["--wordlists", dir.to_str().unwrap(), &admin[0], &admin[1]]);
    let mut client = server.client().await;
    let reload = || with_token(ReloadWordlistsRequest {}, ADMIN_TOKEN);
    let before = client
        .scan(scan_request("网络赌博"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(before.findings.len(), 1);

    std::fs::write(dir.join("gambling.txt"), "网络赌博\n赌球\n***\n").unwrap();
    let err = client.reload_wordlists(reload()).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(
        err.message().contains("gambling.txt:3"),
        "{}",
        err.message()
    );
    assert!(
        err.message().contains("old lists stay"),
        "{}",
        err.message()
    );
    let trailer = |name: &str| {
        err.metadata()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    assert!(
        trailer("wordlist-file").is_some_and(|f| f.ends_with("gambling.txt")),
        "{err:?}"
    );
    assert_eq!(trailer("wordlist-line").as_deref(), Some("3"));
    // The same as a google.rpc.ErrorInfo, for clients with rich errors.
    let info = err
        .get_error_details()
        .error_info()
        .cloned()
        .expect("an ErrorInfo detail");
    assert_eq!(
        (info.reason.as_str(), info.domain.as_str()),
        ("WORDLIST_INVALID", "contentfilter.v1")
    );
    assert!(
        info.metadata
            .get("file")
            .is_some_and(|f| f.ends_with("gambling.txt")),
        "{info:?}"
    );
    assert_eq!(info.metadata.get("line").map(String::as_str), Some("3"));
    let still = client
        .scan(scan_request("线上赌场"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(still.findings.len(), 1, "the old list is still in service");

    std::fs::write(dir.join("gambling.txt"), "网络赌博\n新加的词\n").unwrap();
    let reloaded = client
        .reload_wordlists(reload())
        .await
        .unwrap()
        .into_inner();
    assert!(reloaded.ok, "{reloaded:?}");
    assert_eq!(
        client
            .scan(scan_request("新加的词"))
            .await
            .unwrap()
            .into_inner()
            .findings
            .len(),
        1
    );
    assert!(client
        .scan(scan_request("线上赌场"))
        .await
        .unwrap()
        .into_inner()
        .findings
        .is_empty());

    // SIGHUP reloads too.
    std::fs::write(dir.join("gambling.txt"), "信号重载词\n").unwrap();
    server.signal("HUP");
    let found = eventually(async || {
        client
            .scan(scan_request("信号重载词"))
            .await
            .unwrap()
            .into_inner()
            .findings
            .len()
            == 1
    })
    .await;
    assert!(found, "SIGHUP reloaded the lists");
}

/// `detectors.toml` beside the lists: custom detectors report through the
/// service with their own label, context decides cards, a broken file is
/// refused with its line and the old detectors stay, a fixed one reloads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detectors_file_loads_reloads_and_reports() {
    let dir = copy_wordlists("detectors");
    std::fs::write(
        dir.join("detectors.toml"),
        "[[custom]]\nname = \"employee_id\"\npattern = 'EMP-\\d{6}'\n",
    )
    .unwrap();
    let admin = admin_token_args();
    let server =
        ServerProcess::start(&["--wordlists", dir.to_str().unwrap(), &admin[0], &admin[1]]);
    let mut client = server.client().await;
    let kinds = |r: &proto::ScanResponse| -> Vec<(i32, String, String)> {
        r.findings
            .iter()
            .map(|f| {
                let s = f.byte_span.unwrap();
                (
                    f.kind,
                    f.category.clone(),
                    format!("{}..{}", s.start, s.end),
                )
            })
            .collect()
    };
    let scan =
        async |client: &mut filter_server::proto::content_filter_service_client::ContentFilterServiceClient<_>,
               text: &str| { client.scan(scan_request(text)).await.unwrap().into_inner() };
    let custom = proto::Kind::Custom as i32;
    let r = scan(&mut client, "工号EMP-001234").await;
    assert_eq!(
        kinds(&r),
        vec![(custom, "employee_id".into(), "6..16".into())]
    );
    assert!(r.findings[0].confidence >= 0.9, "{r:?}");
    let redacted = client
        .redact(RedactRequest {
            text: "工号EMP-001234".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(redacted.text, "工号[EMPLOYEE_ID]");
    // Order numbers are no cards; card numbers beside card words are.
    let card = proto::Kind::BankCard as i32;
    assert!(kinds(&scan(&mut client, "您的订单号4607598386756508，请查收").await).is_empty());
    let r = scan(&mut client, "卡号4607598386756508").await;
    assert_eq!(kinds(&r), vec![(card, "visa".into(), "6..22".into())]);
    // A request's own threshold: 0.1 reports the order number too.
    let low = client
        .scan(ScanRequest {
            min_confidence: Some(0.1),
            ..scan_request("您的订单号4607598386756508，请查收")
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(low.findings.len(), 1, "{low:?}");
    assert!(low.findings[0].confidence < 0.4, "{low:?}");

    let reload = || with_token(ReloadWordlistsRequest {}, ADMIN_TOKEN);
    std::fs::write(
        dir.join("detectors.toml"),
        "[[custom]]\nname = \"ticket\"\npattern = 'TK\\d{8}'\n\n[[custom]]\nname = \"broken\"\npattern = '(EMP'\n",
    )
    .unwrap();
    let err = client.reload_wordlists(reload()).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(
        err.message().contains("detectors.toml:6"),
        "{}",
        err.message()
    );
    let r = scan(&mut client, "工号EMP-001234 TK12345678").await;
    assert_eq!(
        kinds(&r),
        vec![(custom, "employee_id".into(), "6..16".into())],
        "the old detectors stay in service"
    );

    std::fs::write(
        dir.join("detectors.toml"),
        "[[custom]]\nname = \"ticket\"\npattern = 'TK\\d{8}'\noperator = \"mask:2:0\"\n",
    )
    .unwrap();
    assert!(
        client
            .reload_wordlists(reload())
            .await
            .unwrap()
            .into_inner()
            .ok
    );
    let r = scan(&mut client, "工号EMP-001234 TK12345678").await;
    assert_eq!(kinds(&r), vec![(custom, "ticket".into(), "17..27".into())]);
    let redacted = client
        .redact(RedactRequest {
            text: "TK12345678".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(redacted.text, "TK********");
}

/// One value of every kind, as library, CLI JSON and proto report it: a
/// kind the registry gains and a surface forgets fails here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_round_trips_through_every_surface() {
    let dir = copy_wordlists("every-kind");
    std::fs::write(
        dir.join("detectors.toml"),
        "[[custom]]\nname = \"employee_id\"\npattern = 'EMP-\\d{6}'\n",
    )
    .unwrap();
    let text = "身份证110101199003071233，信用代码91350100M000100Y43，\
        密钥sk-proj-4Fq9xZ2LmN8pQ7rT1vW3yB6cD0eG5hJ，邮箱kf@shop.cn，车架号LFV2A21K6C3054321，\
        护照E12345678，手机13800138000，IP 10.0.0.1，车牌京A·12345，卡号6222021234567890128，\
        工号EMP-001234，网络赌博。";
    let lexicon = Lexicon::from_dir(&dir).unwrap();
    let scanner = Scanner::builder().words(lexicon).build().unwrap();
    let library: Vec<(String, String)> = scanner
        .scan(text)
        .iter()
        .map(|f| (f.kind().as_str().to_string(), f.as_str().to_string()))
        .collect();
    let mut every: Vec<&str> = filter_core::Kind::ALL.iter().map(|k| k.as_str()).collect();
    let mut seen: Vec<&str> = library.iter().map(|(k, _)| k.as_str()).collect();
    every.sort_unstable();
    seen.sort_unstable();
    assert_eq!(seen, every, "one finding of every kind: {library:?}");

    let out = contentfilter_tests::run(
        &[
            "scan",
            "--format",
            "json",
            "--wordlists",
            dir.to_str().unwrap(),
        ],
        text.as_bytes(),
    );
    let cli: Vec<(String, String)> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["kind"].as_str().unwrap().to_string(),
                v["text"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(cli, library, "CLI JSON");

    let server = ServerProcess::start(&["--wordlists", dir.to_str().unwrap()]);
    let mut client = server.client().await;
    let r = client.scan(scan_request(text)).await.unwrap().into_inner();
    let grpc: Vec<(String, String)> = r
        .findings
        .iter()
        .map(|f| {
            let name = proto::Kind::try_from(f.kind).unwrap().as_str_name();
            let span = f.byte_span.unwrap();
            (
                name.strip_prefix("KIND_").unwrap().to_ascii_lowercase(),
                text[span.start as usize..span.end as usize].to_string(),
            )
        })
        .collect();
    assert_eq!(grpc, library, "proto");
}

/// Restore of `text` with `vault`.
async fn restore(
    client: &mut filter_server::proto::content_filter_service_client::ContentFilterServiceClient<
        tonic::transport::Channel,
    >,
    text: &str,
    vault: Vec<u8>,
) -> Result<tonic::Response<proto::RestoreResponse>, tonic::Status> {
    client
        .restore(proto::RestoreRequest {
            text: text.into(),
            vault,
        })
        .await
}

/// Pseudonyms through the service: two turns share placeholders through
/// the sealed vault the client carries, Restore puts the values back, a
/// changed vault is INVALID_ARGUMENT, a server without a key says which
/// setting it needs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pseudonyms_round_trip_through_the_service() {
    let dir = temp_dir("vault-keys");
    let (old, new) = (dir.join("old.key"), dir.join("new.key"));
    std::fs::write(&old, "the old vault key, 16+ bytes").unwrap();
    std::fs::write(&new, "the new vault key, 16+ bytes").unwrap();
    let server = ServerProcess::start(&[
        "--vault-key-file",
        new.to_str().unwrap(),
        "--vault-key-file",
        old.to_str().unwrap(),
    ]);
    let mut client = server.client().await;
    let redact = |text: &str, vault: Vec<u8>| RedactRequest {
        text: text.into(),
        vault,
        pseudonym_mode: proto::PseudonymMode::Placeholder as i32,
        ..Default::default()
    };
    let first = client
        .redact(redact("给13800138000写信，网络赌博", vec![]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.text, "给[PHONE_1]写信，****");
    assert_eq!(first.findings.len(), 2);
    let second = client
        .redact(redact("+86 138 0013 8000 和 13900139000", first.vault))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.text, "[PHONE_1] 和 [PHONE_2]");
    let restored = restore(
        &mut client,
        "请致电【phone_2】或[PHONE_1]",
        second.vault.clone(),
    )
    .await
    .unwrap()
    .into_inner();
    assert_eq!(restored.text, "请致电13900139000或13800138000");

    let mut changed = second.vault.clone();
    changed[40] ^= 1;
    let err = restore(&mut client, "[PHONE_1]", changed)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(
        err.message().contains("changed or damaged"),
        "{}",
        err.message()
    );
    let err = restore(&mut client, "[PHONE_1]", vec![]).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    // An operator for personal data cannot apply beside placeholders.
    let err = client
        .redact(RedactRequest {
            operators: vec![OperatorOverride {
                kind: proto::Kind::Phone as i32,
                replace_with: Some(Operator {
                    method: Some(operator::Method::Remove(operator::Remove {})),
                }),
            }],
            ..redact("13800138000", vec![])
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");

    // Rotation: the first key seals, every key opens. A vault sealed by a
    // server that still has only the old key opens here; one sealed here
    // does not open there.
    let only_old = ServerProcess::start(&["--vault-key-file", old.to_str().unwrap()]);
    let mut old_client = only_old.client().await;
    let sealed_old = old_client
        .redact(redact("13700137000", vec![]))
        .await
        .unwrap()
        .into_inner();
    let restored = restore(&mut client, "[PHONE_1]", sealed_old.vault)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(restored.text, "13700137000");
    let err = restore(&mut old_client, "[PHONE_1]", second.vault.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(
        err.message().contains("not configured"),
        "{}",
        err.message()
    );

    let no_key = ServerProcess::start(&[]);
    let err = no_key
        .client()
        .await
        .redact(redact("13800138000", vec![]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(
        err.message().contains("--vault-key-file"),
        "{}",
        err.message()
    );
}

/// Surrogates through the service: Redact draws them (valid values of the
/// kind, another value than the original), Restore finds them again as a
/// model re-writes them, and a ScanStream with the vault restores a
/// placeholder split across three chunks and a surrogate, while it
/// redacts and reports a number the model made up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn surrogates_and_restoring_streams_through_the_service() {
    use filter_server::proto::scan_stream_request::Message;
    use filter_server::proto::{ScanStreamOptions, ScanStreamRequest};
    let dir = temp_dir("surrogate-keys");
    let key = dir.join("vault.key");
    std::fs::write(&key, "a vault key of 16+ bytes").unwrap();
    let server = ServerProcess::start(&["--vault-key-file", key.to_str().unwrap()]);
    let mut client = server.client().await;
    let prompt = "卡号6222021234567890128，身份证110101199003071233";
    let first = client
        .redact(RedactRequest {
            text: prompt.into(),
            pseudonym_mode: proto::PseudonymMode::Surrogate as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let card = &first.text["卡号".len().."卡号".len() + 19];
    let id = &first.text[first.text.len() - 18..];
    assert!(
        card.starts_with("622202") && card != "6222021234567890128",
        "{}",
        first.text
    );
    assert!(
        id.starts_with("110101") && id != "110101199003071233",
        "{}",
        first.text
    );
    // The surrogates are what the detectors take for a card and an ID.
    let scanned = client
        .scan(scan_request(&first.text))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(scanned.findings.len(), 2, "{scanned:?}");
    // A second turn adds a placeholder to the same vault.
    let second = client
        .redact(RedactRequest {
            text: "电话13800138000".into(),
            vault: first.vault,
            pseudonym_mode: proto::PseudonymMode::Placeholder as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.text, "电话[PHONE_1]");
    let spaced = format!(
        "{} {} {} {} {}",
        &card[..4],
        &card[4..8],
        &card[8..12],
        &card[12..16],
        &card[16..]
    );
    let restored = restore(
        &mut client,
        &format!("卡 {spaced}，证 {id}，电话【PHONE_1】"),
        second.vault.clone(),
    )
    .await
    .unwrap()
    .into_inner();
    assert_eq!(
        restored.text,
        "卡 6222021234567890128，证 110101199003071233，电话13800138000"
    );

    let answer = [
        "请拨[PH".to_string(),
        "ONE_".to_string(),
        format!("1]，卡号{card}，或13900139000。"),
    ];
    let mut messages = vec![ScanStreamRequest {
        message: Some(Message::Options(ScanStreamOptions {
            vault: second.vault.clone(),
            ..Default::default()
        })),
    }];
    messages.extend(answer.iter().map(|c| ScanStreamRequest {
        message: Some(Message::Chunk(c.clone())),
    }));
    let mut stream = client
        .scan_stream(tokio_stream::iter(messages))
        .await
        .unwrap()
        .into_inner();
    let (mut text, mut findings) = (String::new(), Vec::new());
    while let Some(r) = stream.message().await.unwrap() {
        text += &r.text;
        findings.extend(r.findings);
    }
    assert_eq!(
        text,
        "请拨13800138000，卡号6222021234567890128，或[PHONE]。"
    );
    assert_eq!(
        findings.len(),
        1,
        "only the model's own number: {findings:?}"
    );
    assert_eq!(findings[0].kind, proto::Kind::Phone as i32);
    // A stream with a vault needs the key too; a damaged vault is refused.
    let mut damaged = second.vault.clone();
    damaged[45] ^= 1;
    let err = client
        .scan_stream(tokio_stream::iter(vec![ScanStreamRequest {
            message: Some(Message::Options(ScanStreamOptions {
                vault: damaged,
                ..Default::default()
            })),
        }]))
        .await;
    let err = match err {
        Err(e) => e,
        Ok(r) => r.into_inner().message().await.unwrap_err(),
    };
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
}

/// `--watch`: a change in the directory is reloaded without a signal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_reloads_a_changed_directory() {
    let dir = copy_wordlists("watch");
    let server = ServerProcess::start(&["--wordlists", dir.to_str().unwrap(), "--watch"]);
    let mut client = server.client().await;
    std::fs::write(dir.join("gambling.txt"), "网络赌博\n监视新词\n").unwrap();
    // The directory is polled every 2 s: wait up to 15 s, asking often.
    let mut found = false;
    for _ in 0..150 {
        let r = client
            .scan(scan_request("监视新词"))
            .await
            .unwrap()
            .into_inner();
        if r.findings.len() == 1 {
            found = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(found, "the change was not reloaded:\n{}", server.logs());
}

/// `--request-timeout-ms` bounds a call whose client sets no deadline,
/// with DEADLINE_EXCEEDED (tonic's own timer says CANCELLED).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_timeout_answers_deadline_exceeded() {
    let lists = contentfilter_tests::a_chain_lists();
    let server = ServerProcess::start(&[
        "--wordlists",
        lists.to_str().unwrap(),
        "--request-timeout-ms",
        "200",
    ]);
    let mut client = server.client().await;
    let slow = contentfilter_tests::a_chain_text(2 << 20);
    let err = client.scan(scan_request(&slow)).await.unwrap_err();
    assert_eq!(err.code(), Code::DeadlineExceeded, "{err:?}");
    // Small requests still fit in the time.
    assert!(client.scan(scan_request("13800138000")).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_of_100k_terms_under_load_loses_no_request() {
    let dir = temp_dir("reload100k");
    std::fs::copy(
        workspace().join("benches/data/words_100k.txt"),
        dir.join("dictionary.txt"),
    )
    .unwrap();
    let admin = admin_token_args();
    let server =
        ServerProcess::start(&["--wordlists", dir.to_str().unwrap(), &admin[0], &admin[1]]);
    let text = sample();
    let mut load = Vec::new();
    for _ in 0..4 {
        let mut client = server.client().await;
        let text = text.clone();
        load.push(tokio::spawn(async move {
            let (mut ok, mut failed) = (0, 0);
            let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
            // Bounded in count and in time.
            for _ in 0..400 {
                if tokio::time::Instant::now() > deadline {
                    break;
                }
                match client.scan(scan_request(&text)).await {
                    Ok(_) => ok += 1,
                    Err(_) => failed += 1,
                }
            }
            (ok, failed)
        }));
    }
    let mut admin = server.client().await;
    for _ in 0..3 {
        let r = admin
            .reload_wordlists(with_token(ReloadWordlistsRequest {}, ADMIN_TOKEN))
            .await
            .unwrap()
            .into_inner();
        assert!(r.ok && r.terms > 90_000, "{r:?}");
    }
    let mut total = 0;
    for task in load {
        let (ok, failed) = task.await.unwrap();
        assert_eq!(failed, 0);
        total += ok;
    }
    assert!(total > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_in_flight_requests_finish() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;

    // Slow scans (a second each), so that requests are surely in flight.
    let lists = contentfilter_tests::a_chain_lists();
    let server = ServerProcess::start(&[
        "--grace-period-ms",
        "60000",
        "--metrics-listen",
        "127.0.0.1:0",
        "--wordlists",
        lists.to_str().unwrap(),
    ]);
    let metrics = server.metrics.unwrap();
    let mut watch = HealthClient::new(server.channel().await)
        .watch(HealthCheckRequest::default())
        .await
        .unwrap()
        .into_inner();
    let first = watch.message().await.unwrap().unwrap();
    assert_eq!(first.status(), ServingStatus::Serving);
    let text = contentfilter_tests::a_chain_text(1 << 20);
    let mut calls = Vec::new();
    for _ in 0..3 {
        let mut client = server.client().await;
        let text = text.clone();
        calls.push(tokio::spawn(async move {
            let r = client.scan(scan_request(&text)).await;
            (r, std::time::Instant::now())
        }));
    }
    // Wait (on the server's own count, not on a guess) until all three
    // are in flight, then ask it to stop.
    let in_flight = eventually(async || {
        http_get(metrics, "/metrics")
            .await
            .contains("contentfilter_requests_in_flight 3")
    })
    .await;
    assert!(in_flight, "{}", http_get(metrics, "/metrics").await);
    let signalled = std::time::Instant::now();
    server.signal("TERM");
    // Health goes NOT_SERVING while the requests drain.
    let draining = watch.message().await.unwrap().unwrap();
    assert_eq!(draining.status(), ServingStatus::NotServing);
    // Then the watch ends, so that it does not hold the drain.
    let ended = watch.message().await.unwrap_err();
    assert_eq!(ended.code(), Code::Unavailable, "{ended:?}");
    for call in calls {
        let (response, done) = call.await.unwrap();
        assert!(response.is_ok(), "in-flight request failed: {response:?}");
        assert!(done > signalled, "it was in flight at the signal");
    }
    let mut server = server;
    assert_eq!(server.wait(30), Some(0), "clean exit after draining");
    let logs = server.logs();
    assert!(logs.contains("draining"), "{logs}");
    assert!(!logs.contains("panicked"), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_never_contain_scanned_text() {
    let server = ServerProcess::start(&["--log", "trace", "--metrics-listen", "127.0.0.1:0"]);
    let mut client = server.client().await;
    let id = "440304199001010011"; // checked with python-stdnum
    let text = format!("身份证{id}，手机13912345678，代开发票");
    client.scan(scan_request(&text)).await.unwrap();
    client
        .redact(RedactRequest {
            text: text.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let _ = client
        .scan(scan_request(&format!("{id}x{}", "y".repeat(5000))))
        .await;
    // The stream too, cut through the numbers and the word.
    use filter_server::proto::scan_stream_request::Message;
    let mut chunks = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let end = floor(&text, (at + 7).min(text.len())).max(at + 1);
        let end = (end..=text.len())
            .find(|&e| text.is_char_boundary(e))
            .unwrap();
        chunks.push(proto::ScanStreamRequest {
            message: Some(Message::Chunk(text[at..end].to_string())),
        });
        at = end;
    }
    let mut streamed = client
        .scan_stream(tokio_stream::iter(chunks))
        .await
        .unwrap()
        .into_inner();
    while let Ok(Some(_)) = streamed.message().await {}
    // The metrics endpoint carries counts, not text.
    let metrics = http_get(server.metrics.unwrap(), "/metrics").await;
    assert!(
        metrics.contains("contentfilter_requests_total{rpc=\"Scan\",code=\"OK\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("contentfilter_findings_total{kind=\"id_card\""),
        "{metrics}"
    );
    assert!(!metrics.contains(id) && !metrics.contains("13912345678"));
    let mut server = server;
    server.signal("TERM");
    assert_eq!(server.wait(30), Some(0));
    let logs = server.logs();
    assert!(logs.lines().count() > 3, "trace logging is on: {logs}");
    for secret in [id, "13912345678", "代开发票", "139 1234"] {
        assert!(!logs.contains(secret), "the log contains {secret:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_tokens_guard_every_call() {
    let dir = temp_dir("tokens");
    std::fs::write(dir.join("token"), "user-token\n").unwrap();
    std::fs::write(dir.join("admin"), "admin-token\n").unwrap();
    let server = ServerProcess::start(&[
        "--auth-token-file",
        dir.join("token").to_str().unwrap(),
        "--admin-token-file",
        dir.join("admin").to_str().unwrap(),
    ]);
    let mut client = server.client().await;
    let with = |token: Option<&str>, text: &str| {
        let mut r = Request::new(scan_request(text));
        if let Some(t) = token {
            r.metadata_mut()
                .insert("authorization", format!("Bearer {t}").parse().unwrap());
        }
        r
    };
    assert_eq!(
        client.scan(with(None, "x")).await.unwrap_err().code(),
        Code::Unauthenticated
    );
    assert_eq!(
        client
            .scan(with(Some("nope"), "x"))
            .await
            .unwrap_err()
            .code(),
        Code::Unauthenticated
    );
    assert!(client.scan(with(Some("user-token"), "x")).await.is_ok());
    // The scheme is case-insensitive; two authorization headers are refused.
    let mut lower = Request::new(scan_request("x"));
    lower
        .metadata_mut()
        .insert("authorization", "bearer user-token".parse().unwrap());
    assert!(client.scan(lower).await.is_ok());
    let mut two = with(Some("user-token"), "x");
    two.metadata_mut()
        .append("authorization", "Bearer user-token".parse().unwrap());
    let err = client.scan(two).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert!(err.message().contains("more than one"), "{}", err.message());
    let reload = |token: &str| {
        let mut r = Request::new(ReloadWordlistsRequest {});
        r.metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        r
    };
    let err = client
        .reload_wordlists(reload("user-token"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    assert!(
        client
            .reload_wordlists(reload("admin-token"))
            .await
            .unwrap()
            .into_inner()
            .ok
    );
    // Health stays open for load balancers.
    let mut health = tonic_health::pb::health_client::HealthClient::new(server.channel().await);
    assert!(health
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .is_ok());
}

/// The largest char boundary of `s` at or before `i`.
fn floor(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// What is open to whom is said at start: an admin token alone leaves
/// Scan open; an expired certificate and a key others can read are
/// warned about.
#[test]
fn start_up_warns_about_what_is_open() {
    let admin = admin_token_args();
    let server = ServerProcess::start(&[&admin[0], &admin[1]]);
    let logs = eventually_logs(&server, "only --admin-token-file");
    assert!(logs.contains("only --admin-token-file"), "{logs}");
    drop(server);

    let dir = temp_dir("tls-warnings");
    let mut params = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("key.pem"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let server = ServerProcess::start(&[
        "--tls-cert",
        dir.join("cert.pem").to_str().unwrap(),
        "--tls-key",
        dir.join("key.pem").to_str().unwrap(),
    ]);
    let logs = eventually_logs(&server, "other users");
    assert!(logs.contains("has expired"), "{logs}");
    assert!(logs.contains("can be read by other users"), "{logs}");
}

/// The server's log once it holds `needle` (or after 5 s).
fn eventually_logs(server: &ServerProcess, needle: &str) -> String {
    for _ in 0..100 {
        let logs = server.logs();
        if logs.contains(needle) {
            return logs;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    server.logs()
}

mod tls {
    use std::sync::Arc;

    use tokio_rustls::rustls::crypto::ring::default_provider;
    use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
    use tokio_rustls::rustls::{version, ClientConfig, RootCertStore, SupportedProtocolVersion};
    use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};

    use super::*;

    async fn handshake(
        addr: std::net::SocketAddr,
        cert: &rcgen::Certificate,
        versions: &[&'static SupportedProtocolVersion],
    ) -> Result<(), String> {
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from(cert.der().to_vec()))
            .unwrap();
        let config = ClientConfig::builder_with_provider(Arc::new(default_provider()))
            .with_protocol_versions(versions)
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let name = ServerName::try_from("localhost").unwrap();
        connector
            .connect(name, tcp)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Each old version offered alone through OpenSSL (Python's `ssl`)
    /// must be refused by an alert from the server; TLS 1.3 accepted. A
    /// client that cannot offer a version fails the test: a refusal on the
    /// client's side would prove nothing about the server.
    #[test]
    fn old_tls_versions_are_refused_by_the_server() {
        let (dir, _) = contentfilter_tests::self_signed_cert("tls");
        let server = ServerProcess::start(&[
            "--tls-cert",
            dir.join("cert.pem").to_str().unwrap(),
            "--tls-key",
            dir.join("key.pem").to_str().unwrap(),
        ]);
        let out = std::process::Command::new(contentfilter_tests::venv_python())
            .arg(workspace().join("tests/python/tls_versions.py"))
            .arg("127.0.0.1")
            .arg(server.addr.port().to_string())
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{report}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let verdicts: Vec<(&str, &str)> = report
            .lines()
            .filter_map(|l| {
                let mut words = l.split_whitespace();
                Some((words.next()?, words.next()?))
            })
            .collect();
        assert_eq!(
            verdicts,
            [
                ("TLSv1", "refused"),
                ("TLSv1_1", "refused"),
                ("TLSv1_2", "refused"),
                ("TLSv1_3", "accepted")
            ],
            "{report}"
        );
    }

    /// `--tls-client-ca`: a client certificate signed by the CA is let in,
    /// one signed by another CA and none at all are refused.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn client_certificates_are_checked_against_the_ca() {
        use tonic::transport::Identity;
        let (dir, server_cert) = contentfilter_tests::self_signed_cert("tls");
        let ca = |name: &str| {
            let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
            params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, name);
            let key = rcgen::KeyPair::generate().unwrap();
            let cert = params.self_signed(&key).unwrap();
            (rcgen::Issuer::new(params, key), cert)
        };
        let client = |issuer: &rcgen::Issuer<'_, rcgen::KeyPair>| {
            let params = rcgen::CertificateParams::new(vec!["client".to_string()]).unwrap();
            let key = rcgen::KeyPair::generate().unwrap();
            let cert = params.signed_by(&key, issuer).unwrap();
            Identity::from_pem(cert.pem(), key.serialize_pem())
        };
        let (trusted, trusted_cert) = ca("trusted CA");
        let (other, _) = ca("other CA");
        std::fs::write(dir.join("ca.pem"), trusted_cert.pem()).unwrap();
        let server = ServerProcess::start(&[
            "--tls-cert",
            dir.join("cert.pem").to_str().unwrap(),
            "--tls-key",
            dir.join("key.pem").to_str().unwrap(),
            "--tls-client-ca",
            dir.join("ca.pem").to_str().unwrap(),
        ]);
        let call = |identity: Option<Identity>| {
            let mut tls = ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(server_cert.pem()))
                .domain_name("localhost");
            if let Some(id) = identity {
                tls = tls.identity(id);
            }
            let url = format!("https://{}", server.addr);
            async move {
                let channel = Endpoint::from_shared(url)
                    .unwrap()
                    .tls_config(tls)
                    .unwrap()
                    .connect()
                    .await
                    .map_err(|e| e.to_string())?;
                proto::content_filter_service_client::ContentFilterServiceClient::new(channel)
                    .scan(scan_request("13800138000"))
                    .await
                    .map(|r| r.into_inner().findings.len())
                    .map_err(|e| e.to_string())
            }
        };
        assert_eq!(call(Some(client(&trusted))).await, Ok(1));
        assert!(
            call(Some(client(&other))).await.is_err(),
            "another CA's client"
        );
        assert!(call(None).await.is_err(), "no client certificate");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn only_tls_1_3_is_accepted() {
        let key = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let dir = temp_dir("tls");
        std::fs::write(dir.join("cert.pem"), key.cert.pem()).unwrap();
        std::fs::write(dir.join("key.pem"), key.signing_key.serialize_pem()).unwrap();
        let server = ServerProcess::start(&[
            "--tls-cert",
            dir.join("cert.pem").to_str().unwrap(),
            "--tls-key",
            dir.join("key.pem").to_str().unwrap(),
        ]);
        assert!(handshake(server.addr, &key.cert, &[&version::TLS13])
            .await
            .is_ok());
        let refused = handshake(server.addr, &key.cert, &[&version::TLS12]).await;
        assert!(refused.is_err(), "TLS 1.2 must be refused");

        let tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(key.cert.pem()))
            .domain_name("localhost");
        let channel = Endpoint::from_shared(format!("https://{}", server.addr))
            .unwrap()
            .tls_config(tls)
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut client =
            proto::content_filter_service_client::ContentFilterServiceClient::new(channel);
        let r = client
            .scan(scan_request("13800138000"))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(r.findings.len(), 1);
    }
}

#[test]
fn bad_configuration_exits_2_before_binding() {
    for (args, says) in [
        (vec!["--listen", "not-an-address"], "--listen"),
        (
            vec!["--wordlists", "/definitely/not/here"],
            "not a directory",
        ),
        (vec!["--tls-cert", "/nope.pem"], "--tls-key"),
        (vec!["--max-request-bytes", "0"], "above 0"),
    ] {
        let out = contentfilter_tests::run(&[&["serve"][..], &args].concat(), b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "nothing was bound");
    }
    let broken = temp_dir("broken-lists");
    std::fs::write(broken.join("x.txt"), "好词\n\u{7}\n").unwrap();
    let out = contentfilter_tests::run(&["serve", "--wordlists", broken.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("x.txt:2"));
}

mod streaming {
    use filter_server::proto::scan_stream_request::Message;
    use filter_server::proto::{ScanStreamOptions, ScanStreamRequest};

    use super::*;

    fn chunk(s: &str) -> ScanStreamRequest {
        ScanStreamRequest {
            message: Some(Message::Chunk(s.to_string())),
        }
    }

    /// Streams `chunks` (after `options`), returns the responses.
    async fn stream(
        client: &mut proto::content_filter_service_client::ContentFilterServiceClient<
            tonic::transport::Channel,
        >,
        options: Option<ScanStreamOptions>,
        chunks: Vec<String>,
    ) -> Vec<proto::ScanStreamResponse> {
        let mut messages: Vec<ScanStreamRequest> = options
            .map(|o| ScanStreamRequest {
                message: Some(Message::Options(o)),
            })
            .into_iter()
            .collect();
        messages.extend(chunks.iter().map(|c| chunk(c)));
        let mut responses = client
            .scan_stream(tokio_stream::iter(messages))
            .await
            .unwrap()
            .into_inner();
        let mut out = Vec::new();
        while let Some(r) = responses.message().await.unwrap() {
            out.push(r);
        }
        out
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_character_at_a_time_equals_unary_redact() {
        let server = ServerProcess::start(&[]);
        let mut client = server.client().await;
        // Only review and mask categories, so that the stream is not blocked.
        let answer = format!(
            "{}，你可以加微信，手机+86 138 0013 8000，卡号6222021234567890128。😀{}",
            "好的，下面是回答。".repeat(20),
            "继续说明。".repeat(20)
        );
        let options = ScanStreamOptions {
            min_confidence: None,
            kinds: vec![],
            categories: vec![],
            operators: vec![],
            vault: vec![],
        };
        let chars: Vec<String> = answer.chars().map(String::from).collect();
        let responses = stream(&mut client, Some(options), chars).await;
        let streamed: String = responses.iter().map(|r| r.text.as_str()).collect();
        let unary = client
            .redact(RedactRequest {
                text: answer.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(streamed, unary.text);
        let spans = |f: &proto::Finding| (f.kind, f.byte_span, f.codepoint_span, f.utf16_span);
        let streamed_findings: Vec<_> = responses
            .iter()
            .flat_map(|r| r.findings.iter().map(spans))
            .collect();
        let unary_findings: Vec<_> = unary.findings.iter().map(spans).collect();
        assert_eq!(streamed_findings, unary_findings);
        assert!(
            responses.len() > 10,
            "text flows as it becomes safe, not at the end"
        );
        assert_eq!(responses.last().unwrap().verdict(), proto::Verdict::Review);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn split_id_and_word_never_leave_unredacted() {
        let server = ServerProcess::start(&[]);
        let mut client = server.client().await;
        let id = "110101199003071233";
        let chunks = vec![
            format!("身份证{}", &id[..6]),
            id[6..12].to_string(),
            format!("{}，请", &id[12..]),
        ];
        let responses = stream(&mut client, None, chunks).await;
        let mut released = String::new();
        for r in &responses {
            released += &r.text;
            assert!(
                !released.contains(&id[..6]) || !released.contains(&id[6..12]),
                "{released}"
            );
        }
        assert_eq!(released, "身份证[ID_CARD]，请");

        let responses = stream(
            &mut client,
            None,
            vec!["好的，代*".into(), "开*发".into(), "*票，谢谢".into()],
        )
        .await;
        let released: String = responses.iter().map(|r| r.text.as_str()).collect();
        assert!(
            !released.contains("代*") && !released.contains("开*发"),
            "{released}"
        );
        let last = responses.last().unwrap();
        assert_eq!(
            last.verdict(),
            proto::Verdict::Block,
            "fraud is a block category"
        );
        assert!(
            last.text.is_empty(),
            "no text leaves once the stream is blocked"
        );
        assert!(responses
            .iter()
            .any(|r| r.findings.iter().any(|f| f.term == "代开发票")));
    }

    /// BLOCK is sent as soon as the word is decided, before the client
    /// sends what comes after it, and then no more text leaves.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn block_arrives_before_the_later_chunks_are_sent() {
        let server = ServerProcess::start(&[]);
        let mut client = server.client().await;
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let mut responses = client
            .scan_stream(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await
            .unwrap()
            .into_inner();
        // The word, then enough harmless text to decide it (more than the
        // stream holds back).
        let first = format!("好的，代*开*发*票。{}", "这是一段无害的文字。".repeat(120));
        tx.send(chunk(&first)).await.unwrap();
        let mut released = String::new();
        let blocked = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let r = responses.message().await.unwrap().expect("a response");
                released += &r.text;
                if r.verdict() == proto::Verdict::Block {
                    return r;
                }
            }
        })
        .await
        .expect("BLOCK arrived while the rest was still unsent");
        assert!(blocked.text.is_empty(), "no text with the BLOCK");
        assert!(!released.contains('代'), "{released}");
        // The rest comes after the verdict, and none of it is released.
        let _ = tx.send(chunk("后来的文字，绝不能放出。")).await;
        drop(tx);
        while let Ok(Some(r)) = responses.message().await {
            assert!(r.text.is_empty(), "text after BLOCK: {:?}", r.text);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_client_that_disconnects_frees_its_stream() {
        let server = ServerProcess::start(&["--metrics-listen", "127.0.0.1:0"]);
        let mut client = server.client().await;
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let mut responses = client
            .scan_stream(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await
            .unwrap()
            .into_inner();
        tx.send(chunk(&"你好。".repeat(200))).await.unwrap();
        assert!(responses.message().await.unwrap().is_some());
        let open = http_get(server.metrics.unwrap(), "/metrics").await;
        assert!(open.contains("contentfilter_streams_open 1"), "{open}");
        drop(responses);
        drop(tx);
        drop(client);
        let closed = eventually(async || {
            http_get(server.metrics.unwrap(), "/metrics")
                .await
                .contains("contentfilter_streams_open 0")
        })
        .await;
        assert!(closed, "the stream's state was not freed");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stream_arguments_are_checked() {
        let server = ServerProcess::start(&["--max-request-bytes", "100"]);
        let mut client = server.client().await;
        let messages = vec![chunk(&"a".repeat(101))];
        let mut responses = client
            .scan_stream(tokio_stream::iter(messages))
            .await
            .unwrap()
            .into_inner();
        let err = responses.message().await.unwrap_err();
        assert_eq!(err.code(), Code::ResourceExhausted);
        let messages = vec![
            ScanStreamRequest {
                message: Some(Message::Options(ScanStreamOptions {
                    kinds: vec![42],
                    ..Default::default()
                })),
            },
            chunk("x"),
        ];
        let mut responses = client
            .scan_stream(tokio_stream::iter(messages))
            .await
            .unwrap()
            .into_inner();
        let err = responses.message().await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        assert!(err.message().contains("kinds[0]"), "{}", err.message());
        // The field as a google.rpc.BadRequest violation too.
        let details = err.get_error_details();
        let violations = &details
            .bad_request()
            .expect("a BadRequest")
            .field_violations;
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].field, "kinds[0]");
        assert_eq!(violations[0].description, "unknown kind 42");
    }
}
