//! Bad inputs against the real server and the CLI: each gets a clear
//! answer, nothing panics, memory stays bounded, the server keeps serving.

use contentfilter_tests::{
    admin_token_args, copy_wordlists, peak_rss_mb, run, temp_dir, with_token, workspace,
    ServerProcess, ADMIN_TOKEN,
};
use filter_server::proto::content_filter_service_client::ContentFilterServiceClient;
use filter_server::proto::{ReloadWordlistsRequest, ReloadWordlistsResponse, ScanRequest};
use tonic::transport::Channel;
use tonic::Code;

type Client = ContentFilterServiceClient<Channel>;

const MB: usize = 1 << 20;

/// `unit` repeated to about `bytes` bytes.
fn fill(unit: &str, bytes: usize) -> String {
    unit.repeat(bytes / unit.len())
}

/// The text cases: (name, text, expected number of findings).
fn cases() -> Vec<(&'static str, String, usize)> {
    let line_unit = "客户的手机是13800138000，地址在北京。";
    vec![
        ("empty", String::new(), 0),
        (
            "1 MB single line",
            fill(line_unit, MB),
            MB / line_unit.len(),
        ),
        ("1 MB of digits", fill("1234567890", MB), 0),
        // `*` and spaces between every CJK character: each group is a word.
        (
            "1 MB of noise",
            fill("代* 开* 发* 票* ", MB),
            MB / "代* 开* 发* 票* ".len(),
        ),
        (
            "combining marks and zero-width only",
            fill("\u{301}\u{200b}\u{fe0f}\u{200d}", MB),
            0,
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_answers_every_bad_text() {
    // The dense texts hold up to 52,000 findings; the findings limit has
    // its own test (tests/attacks.rs).
    let server = ServerProcess::start(&["--max-findings", "100000"]);
    let pid = server.pid();
    let mut client = server.client().await;
    for (name, text, want) in cases() {
        let r = client
            .scan(ScanRequest {
                text,
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:?}"))
            .into_inner();
        assert_eq!(r.findings.len(), want, "{name}");
    }
    let err = client
        .scan(ScanRequest {
            text: "a".repeat(4 * MB + 1),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "4 MiB + 1 byte");
    let peak = peak_rss_mb(pid);
    assert!(
        peak < 512.0,
        "server peak resident memory {peak:.0} MB during the bad inputs"
    );
    // Still serving.
    let ok = client.scan(ScanRequest {
        text: "13800138000".into(),
        ..Default::default()
    });
    assert_eq!(ok.await.unwrap().into_inner().findings.len(), 1);
    assert!(!server.logs().contains("panicked"), "{}", server.logs());
}

/// One ReloadWordlists call: the lists loaded, or the error's message.
async fn reload(client: &mut Client) -> Result<ReloadWordlistsResponse, String> {
    match client
        .reload_wordlists(with_token(ReloadWordlistsRequest {}, ADMIN_TOKEN))
        .await
    {
        Ok(r) => Ok(r.into_inner()),
        Err(status) => {
            assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
            Err(status.message().to_string())
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_word_lists_are_rejected_and_the_old_ones_kept() {
    let dir = copy_wordlists("badlists");
    let admin = admin_token_args();
    let server =
        ServerProcess::start(&["--wordlists", dir.to_str().unwrap(), &admin[0], &admin[1]]);
    let mut client = server.client().await;
    let scan = |text: &str| ScanRequest {
        text: text.into(),
        ..Default::default()
    };

    // 100k terms with one bad line.
    let mut big = std::fs::read_to_string(workspace().join("benches/data/words_100k.txt")).unwrap();
    big.push_str("正常\n\u{7}坏行\n");
    let bad_line = big.lines().count();
    std::fs::write(dir.join("dictionary.txt"), &big).unwrap();
    let error = reload(&mut client).await.unwrap_err();
    assert!(
        error.contains(&format!("dictionary.txt:{bad_line}")),
        "{error}"
    );
    std::fs::remove_file(dir.join("dictionary.txt")).unwrap();

    // A 1 MB term.
    std::fs::write(dir.join("huge.txt"), "字".repeat(MB / 3)).unwrap();
    let error = reload(&mut client).await.unwrap_err();
    assert!(
        error.contains("huge.txt:1") && error.contains("longer"),
        "{error}"
    );
    std::fs::remove_file(dir.join("huge.txt")).unwrap();

    // Not UTF-8.
    std::fs::write(dir.join("latin1.txt"), b"ok\ncaf\xe9\n").unwrap();
    let error = reload(&mut client).await.unwrap_err();
    assert!(
        error.contains("latin1.txt:2") && error.contains("UTF-8"),
        "{error}"
    );
    std::fs::remove_file(dir.join("latin1.txt")).unwrap();

    // The directory vanishes during the reload.
    let moved = dir.with_extension("gone");
    std::fs::rename(&dir, &moved).unwrap();
    let error = reload(&mut client).await.unwrap_err();
    assert!(error.contains("stay in service"), "{error}");
    std::fs::rename(&moved, &dir).unwrap();

    // Through all of it the old lists stayed in service.
    let n = client
        .scan(scan("网络赌博"))
        .await
        .unwrap()
        .into_inner()
        .findings
        .len();
    assert_eq!(n, 1, "the old lists are in service");
    let r = reload(&mut client).await.unwrap();
    assert!(r.ok, "{r:?}");
}

#[test]
fn the_cli_answers_every_bad_text_within_a_memory_bound() {
    let bin = contentfilter_tests::server_binary();
    let lists = workspace().join("wordlists");
    for (name, text, want) in cases() {
        let file = temp_dir("cli-bad").join("input.txt");
        std::fs::write(&file, &text).unwrap();
        // 1 GiB of address space at most.
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "ulimit -v 1048576 && exec '{}' scan --format json --wordlists '{}' '{}'",
                bin.display(),
                lists.display(),
                file.display()
            ))
            .output()
            .unwrap();
        let expected_code = if want == 0 { 0 } else { 1 };
        assert_eq!(
            out.status.code(),
            Some(expected_code),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            out.stdout.iter().filter(|&&b| b == b'\n').count(),
            want,
            "{name}"
        );
    }
    let out = run(&["scan"], b"\xff\xfe not text");
    assert_eq!(out.status.code(), Some(2));
}
