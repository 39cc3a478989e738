//! What a client or a word list can send against the service: each attack
//! of the security review, against the real server process, ends with the
//! attacker refused with the documented status (or served within bounds),
//! the server alive, its health check answering within a second, and its
//! peak resident memory under a stated bound. Bounded in time and count.

use std::time::{Duration, Instant};

use contentfilter_tests::{
    a_chain_lists, a_chain_text, admin_token_args, peak_rss_mb, temp_dir, threads, with_token,
    ServerProcess, ADMIN_TOKEN,
};
use filter_server::proto::content_filter_service_client::ContentFilterServiceClient;
use filter_server::proto::scan_stream_request::Message;
use filter_server::proto::{
    self, operator, Operator, OperatorOverride, RedactRequest, ReloadWordlistsRequest, ScanRequest,
    ScanStreamRequest,
};
use tokio::io::AsyncReadExt;
use tonic::transport::Channel;
use tonic::Code;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

/// The peak resident memory every attack must stay under, in MB. The
/// limits bound it: 32 MiB of admitted messages (each held about twice
/// while decoded, and scanned with five bytes of scratch per byte by at
/// most four blocking threads), 1 MiB of unread HTTP/2 data per
/// connection.
const PEAK_RSS_MB: f64 = 256.0;

/// The address space the server runs in: an attack that made it allocate
/// past this would abort it, as one did before the limits.
const ADDRESS_SPACE: &str = "--as=1610612736";

/// The server, under the address-space limit.
fn start(args: &[&str]) -> ServerProcess {
    ServerProcess::start_under(&["prlimit", ADDRESS_SPACE], args, &[])
}

type Client = ContentFilterServiceClient<Channel>;

fn scan(text: impl Into<String>) -> ScanRequest {
    ScanRequest {
        text: text.into(),
        ..Default::default()
    }
}

/// Asserts the server is alive: its health check answers within a second
/// on a new connection, and its peak memory is under the bound.
async fn assert_healthy(server: &ServerProcess) {
    let started = Instant::now();
    let answered = tokio::time::timeout(Duration::from_secs(1), async {
        let channel = server.channel().await;
        HealthClient::new(channel)
            .check(HealthCheckRequest::default())
            .await
    })
    .await;
    assert!(
        matches!(answered, Ok(Ok(_))),
        "the health check did not answer within a second: {answered:?}\n{}",
        server.logs()
    );
    assert!(
        !server.logs().contains("panicked"),
        "a task panicked:\n{}",
        server.logs()
    );
    let peak = peak_rss_mb(server.pid());
    assert!(
        peak < PEAK_RSS_MB,
        "peak resident memory {peak:.0} MB (bound {PEAK_RSS_MB} MB)"
    );
    eprintln!(
        "healthy: health answered in {:?}, peak RSS {peak:.0} MB",
        started.elapsed()
    );
}

fn label(text: &str) -> Vec<OperatorOverride> {
    vec![OperatorOverride {
        kind: proto::Kind::Phone as i32,
        replace_with: Some(Operator {
            method: Some(operator::Method::Label(operator::Label {
                text: text.into(),
            })),
        }),
    }]
}

fn phones(n: usize) -> String {
    (0..n)
        .map(|i| format!("1380013{:04} ", i % 10_000))
        .collect()
}

/// The review's critical finding: a 200 KB label copied for each of
/// 10,000 phone numbers (a 2 GB answer) aborted the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_amplification_is_refused() {
    let server = start(&[]);
    let mut client = server.client().await;
    let err = client
        .redact(RedactRequest {
            text: phones(10_000),
            operators: label(&"x".repeat(200_000)),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(
        err.message()
            .contains("operators[0].replace_with.label.text"),
        "{}",
        err.message()
    );
    // The longest label allowed, on as many findings as allowed: served.
    let ok = client
        .redact(RedactRequest {
            text: phones(10_000),
            operators: label(&"x".repeat(64)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ok.findings.len(), 10_000);
    // One more finding than the limit: refused.
    let err = client
        .redact(RedactRequest {
            text: phones(10_001),
            operators: label(&"x".repeat(64)),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    assert!(
        err.message().contains("10000 findings"),
        "{}",
        err.message()
    );
    // ScanStream's operators are checked the same way.
    let options = ScanStreamRequest {
        message: Some(Message::Options(proto::ScanStreamOptions {
            operators: label(&"x".repeat(200_000)),
            ..Default::default()
        })),
    };
    let mut responses = client
        .scan_stream(tokio_stream::iter([options, chunk(&phones(100))]))
        .await
        .unwrap()
        .into_inner();
    let err = responses.message().await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert_healthy(&server).await;
}

/// 4 MB of `av ` is 1.33 million sensitive words: refused when the scan
/// passes the findings limit, not after holding them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_findings_is_refused_early() {
    let server = start(&[]);
    let mut client = server.client().await;
    let started = Instant::now();
    let err = client
        .scan(scan("av ".repeat((4 << 20) / 3 - 100)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    eprintln!("4 MB of `av ` refused in {:?}", started.elapsed());
    // A stream chunk of the same.
    let mut responses = client
        .scan_stream(tokio_stream::iter([ScanStreamRequest {
            message: Some(Message::Chunk("av ".repeat(1 << 20))),
        }]))
        .await
        .unwrap()
        .into_inner();
    let err = loop {
        match responses.message().await {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("the stream ended OK"),
            Err(e) => break e,
        }
    };
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    assert_healthy(&server).await;
}

/// 150 requests of 4 MiB at once on one connection (they pushed the
/// server to 617 MB in 1.2 s): admitted a bounded number at a time, each
/// answered or, when its turn comes after its deadline, refused with
/// DEADLINE_EXCEEDED; memory bounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_large_requests_on_one_connection_stay_bounded() {
    let server = start(&[]);
    let client = server.client().await;
    let text = "a".repeat((4 << 20) - 1);
    let mut calls = Vec::new();
    for _ in 0..150 {
        let (mut c, t) = (client.clone(), text.clone());
        calls.push(tokio::spawn(async move { c.scan(scan(t)).await }));
    }
    drop(text);
    let (mut ok, mut late) = (0, 0);
    for call in calls {
        match call.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) if e.code() == Code::ResourceExhausted => late += 1,
            Err(e) => panic!("a large request failed: {e:?}"),
        }
    }
    eprintln!("150 requests of 4 MiB: {ok} answered, {late} refused as busy");
    assert!(ok > 0);
    assert_healthy(&server).await;
}

fn chunk(s: &str) -> ScanStreamRequest {
    ScanStreamRequest {
        message: Some(Message::Chunk(s.to_string())),
    }
}

/// Streams are requests too: a cap on open ScanStreams, an idle timeout,
/// and a cap on health watches (which need no token).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_streams_are_capped_and_idle_ones_time_out() {
    let server = start(&[
        "--max-streams",
        "4",
        "--max-aux-streams",
        "3",
        "--stream-idle-timeout-ms",
        "300",
    ]);
    let client = server.client().await;
    // Four streams that send nothing: each ends DEADLINE_EXCEEDED after
    // the idle timeout; a fifth is refused at once.
    let mut held = Vec::new();
    for _ in 0..4 {
        let (tx, rx) = tokio::sync::mpsc::channel::<ScanStreamRequest>(1);
        let responses = client
            .clone()
            .scan_stream(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await
            .unwrap()
            .into_inner();
        held.push((tx, responses));
    }
    let err = client
        .clone()
        .scan_stream(tokio_stream::iter([chunk("x")]))
        .await
        .map(|r| r.into_inner());
    let refused = match err {
        Err(e) => e,
        Ok(mut s) => s.message().await.unwrap_err(),
    };
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    let started = Instant::now();
    for (_tx, mut responses) in held {
        let end = responses.message().await.unwrap_err();
        assert_eq!(end.code(), Code::DeadlineExceeded, "{end:?}");
        assert!(end.message().contains("no message"), "{}", end.message());
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    // Their places are free again.
    let mut s = client
        .clone()
        .scan_stream(tokio_stream::iter([chunk("好的。")]))
        .await
        .unwrap()
        .into_inner();
    while s.message().await.unwrap().is_some() {}

    // Health watches: three at once, the fourth refused; checks still work.
    let channel = server.channel().await;
    let mut watches = Vec::new();
    for _ in 0..3 {
        let mut w = HealthClient::new(channel.clone())
            .watch(HealthCheckRequest::default())
            .await
            .unwrap()
            .into_inner();
        assert!(w.message().await.unwrap().is_some());
        watches.push(w);
    }
    let fourth = HealthClient::new(channel.clone())
        .watch(HealthCheckRequest::default())
        .await;
    let refused = match fourth {
        Err(e) => e,
        Ok(w) => w.into_inner().message().await.unwrap_err(),
    };
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert_healthy(&server).await;
    drop(watches);
}

/// Raw connections that never speak HTTP/2, with or without the preface:
/// closed after the handshake timeout; past the connection cap, closed at
/// once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed() {
    let server = start(&[
        "--max-connections",
        "20",
        "--handshake-timeout-ms",
        "500",
        "--keepalive-interval-ms",
        "300",
        "--keepalive-timeout-ms",
        "300",
    ]);
    let mut idle = Vec::new();
    for i in 0..30 {
        let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        if i % 2 == 1 {
            // The preface and nothing after it: no answer to pings.
            use tokio::io::AsyncWriteExt;
            tcp.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
                .await
                .unwrap();
        }
        idle.push(tcp);
    }
    // Every one of them is closed by the server, the ones past the cap
    // first, the rest by the handshake timeout or unanswered pings.
    let started = Instant::now();
    for tcp in &mut idle {
        let mut buf = vec![0u8; 4096];
        let closed = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match tcp.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => continue, // the server's SETTINGS and PINGs
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "a connection stayed open");
    }
    eprintln!("30 idle connections closed within {:?}", started.elapsed());
    assert_healthy(&server).await;
}

/// With the file-descriptor table full, `accept` fails at once; the accept
/// loop must back off rather than spin (110 idle connections burned 12 s
/// of CPU in 10 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_descriptor_table_does_not_make_the_server_spin() {
    let bin = contentfilter_tests::server_binary();
    let mut child = std::process::Command::new("prlimit")
        .arg("--nofile=64")
        .arg(bin)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--handshake-timeout-ms",
            "60000",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let addr = read_listen_line(&mut child);
    let pid = child.id();
    let mut held = Vec::new();
    for _ in 0..100 {
        if let Ok(tcp) = tokio::net::TcpStream::connect(addr).await {
            held.push(tcp);
        }
    }
    let before = cpu_seconds(pid);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let burned = cpu_seconds(pid) - before;
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        burned < 0.5,
        "the server burned {burned:.2} s of CPU in 2 s with its descriptor table full"
    );
}

/// The address a `filter-server` child prints when it listens.
fn read_listen_line(child: &mut std::process::Child) -> std::net::SocketAddr {
    use std::io::BufRead;
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap();
    line.trim()
        .strip_prefix("filter-server listening on ")
        .unwrap_or_else(|| panic!("unexpected line {line:?}"))
        .parse()
        .unwrap()
}

/// User and system CPU time of a process, in seconds (from /proc).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

/// The a-chain list scans 1 MB in bounded time (linear, with a budget of
/// comparisons per byte), off the async workers: health answers meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_built_for_fuzzy_blowup_scans_in_linear_time() {
    let dir = a_chain_lists();
    let server = start(&[
        "--wordlists",
        dir.to_str().unwrap(),
        "--metrics-listen",
        "127.0.0.1:0",
    ]);
    let mut client = server.client().await;
    let text = a_chain_text(1 << 20);
    let started = Instant::now();
    let scan_call = tokio::spawn(async move { client.scan(scan(text)).await });
    // While the megabyte is scanned, the service answers.
    let metrics = server.metrics.unwrap();
    let scanning = contentfilter_tests::eventually(async || {
        contentfilter_tests::http_get(metrics, "/metrics")
            .await
            .contains("contentfilter_requests_in_flight 1")
    })
    .await;
    assert!(scanning, "the scan did not start");
    assert_healthy(&server).await;
    let answer = scan_call.await.unwrap().unwrap().into_inner();
    eprintln!(
        "1 MB against the a-chain list: {:?}, {} findings",
        started.elapsed(),
        answer.findings.len()
    );
    assert!(started.elapsed() < Duration::from_secs(25));
}

/// The deadline stops the work: with one place (`--max-concurrent 1`),
/// six slow scans with 0.3 s deadlines each end DEADLINE_EXCEEDED, hold
/// the place until their scan has really stopped, and leave no thread
/// spinning (they reached 1 GB and 10 threads).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadlines_stop_the_work_they_time() {
    let dir = a_chain_lists();
    let server = start(&[
        "--wordlists",
        dir.to_str().unwrap(),
        "--max-concurrent",
        "1",
        "--admission-wait-ms",
        "5000",
    ]);
    let client = server.client().await;
    let text = a_chain_text(2 << 20);
    let mut calls = Vec::new();
    for _ in 0..6 {
        let mut c = client.clone();
        let mut request = tonic::Request::new(scan(text.clone()));
        request.set_timeout(Duration::from_millis(300));
        calls.push(tokio::spawn(async move {
            let started = Instant::now();
            (c.scan(request).await, started.elapsed())
        }));
    }
    for call in calls {
        let (answer, took) = call.await.unwrap();
        let err = answer.unwrap_err();
        assert!(
            matches!(err.code(), Code::DeadlineExceeded | Code::Cancelled),
            "{err:?}"
        );
        assert!(
            took < Duration::from_secs(3),
            "a 0.3 s deadline took {took:?}"
        );
    }
    // The work stopped: the one place is free for the next request, and
    // the threads are back to the runtime's few.
    let mut c = client.clone();
    let started = Instant::now();
    let ok = c.scan(scan("手机13800138000")).await.unwrap().into_inner();
    assert_eq!(ok.findings.len(), 1);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let n = threads(server.pid());
    assert!(n <= 12, "{n} threads");
    assert_healthy(&server).await;
}

/// Word-list files that would stall or exhaust a reload: a FIFO, a link
/// to `/dev/zero`, a link out of the directory. Each is refused, naming
/// the file, and the reload after it works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_list_files_never_wedge_reloads() {
    let dir = contentfilter_tests::copy_wordlists("hostile");
    let admin = admin_token_args();
    let server = start(&["--wordlists", dir.to_str().unwrap(), &admin[0], &admin[1]]);
    let mut client = server.client().await;
    let reload = |c: &mut Client| {
        let mut c = c.clone();
        async move {
            tokio::time::timeout(
                Duration::from_secs(10),
                c.reload_wordlists(with_token(ReloadWordlistsRequest {}, ADMIN_TOKEN)),
            )
            .await
            .expect("the reload answered")
        }
    };
    let outside = temp_dir("outside").join("secret.txt");
    std::fs::write(&outside, "-----BEGIN PRIVATE KEY-----\n").unwrap();
    let fifo = dir.join("fifo.txt");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    type MakeFile<'a> = Box<dyn Fn() + 'a>;
    let cases: [(&str, MakeFile, &str); 3] = [
        ("fifo.txt", Box::new(|| {}), "not a regular file"),
        (
            "zero.txt",
            Box::new(|| std::os::unix::fs::symlink("/dev/zero", dir.join("zero.txt")).unwrap()),
            "outside",
        ),
        (
            "key.txt",
            Box::new(|| std::os::unix::fs::symlink(&outside, dir.join("key.txt")).unwrap()),
            "outside",
        ),
    ];
    for (name, make, says) in cases {
        make();
        let err = reload(&mut client).await.unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition, "{name}: {err:?}");
        assert!(
            err.message().contains(name) && err.message().contains(says),
            "{name}: {}",
            err.message()
        );
        std::fs::remove_file(dir.join(name)).unwrap();
    }
    // A category name that would break a metrics line.
    std::fs::write(dir.join("bad\nname.txt"), "词\n").unwrap();
    let err = reload(&mut client).await.unwrap_err();
    assert!(err.message().contains("category name"), "{}", err.message());
    std::fs::remove_file(dir.join("bad\nname.txt")).unwrap();
    // And then a reload works.
    assert!(reload(&mut client).await.unwrap().into_inner().ok);
    assert_healthy(&server).await;
}
