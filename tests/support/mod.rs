//! Helpers for the end-to-end tests: the `filter-server` binary and test data.

#![forbid(unsafe_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The workspace root.
pub fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the workspace")
}

/// The `filter-server` binary, built (once per test process) with the same
/// profile as the tests, so that the tests always run the current code.
pub fn server_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let status = Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "-p",
                "filter-server",
                "--bin",
                "filter-server",
            ])
            .current_dir(workspace())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building filter-server failed");
        let exe = std::env::current_exe().expect("test binary path");
        // target/<profile>/deps/<test> -> target/<profile>/filter-server
        let bin = exe
            .parent()
            .and_then(Path::parent)
            .expect("target dir")
            .join("filter-server");
        assert!(bin.exists(), "{} missing", bin.display());
        bin
    })
}

/// Runs `filter-server ARGS` with `stdin` as standard input.
pub fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(server_binary())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("filter-server starts");
    // A command that fails before reading its input closes the pipe.
    match child.stdin.take().expect("stdin").write_all(stdin) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("write stdin: {e}"),
        _ => {}
    }
    child.wait_with_output().expect("filter-server runs")
}

/// A `filter-server` process listening on 127.0.0.1 at an ephemeral port,
/// killed when dropped. Its standard error is kept in a file for tests
/// that read the logs.
pub struct ServerProcess {
    child: std::process::Child,
    /// The gRPC address.
    pub addr: std::net::SocketAddr,
    /// The metrics address, when asked for.
    pub metrics: Option<std::net::SocketAddr>,
    /// The HTTP/JSON address, when asked for (`--http-listen`).
    pub http: Option<std::net::SocketAddr>,
    /// The file holding the server's standard error.
    pub stderr_path: PathBuf,
}

/// A fresh directory under the system temp dir, named after `tag`.
pub fn temp_dir(tag: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("cf-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

impl ServerProcess {
    /// Starts `filter-server serve --listen 127.0.0.1:0 ARGS` and waits (at
    /// most 60 s) for the line that names the bound address.
    pub fn start(args: &[&str]) -> ServerProcess {
        ServerProcess::start_with_env(args, &[])
    }

    /// [`ServerProcess::start`] with extra environment variables.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> ServerProcess {
        ServerProcess::start_under(&[], args, env)
    }

    /// [`ServerProcess::start`] run by `wrapper` (such as `prlimit
    /// --as=BYTES`), with extra environment variables.
    pub fn start_under(wrapper: &[&str], args: &[&str], env: &[(&str, &str)]) -> ServerProcess {
        use std::io::BufRead;
        let stderr_path = temp_dir("stderr").join("stderr.log");
        let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
        let mut cmd = match wrapper.split_first() {
            Some((program, rest)) => {
                let mut c = Command::new(program);
                c.args(rest).arg(server_binary());
                c
            }
            None => Command::new(server_binary()),
        };
        cmd.args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        let mut child = cmd.spawn().expect("filter-server starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut addr = None;
        let mut metrics = None;
        let mut http = None;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while addr.is_none() {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(h) = line.strip_prefix("filter-server http on http://") {
                        http = Some(h.trim().parse().expect("an address"));
                    }
                    if let Some(a) = line.strip_prefix("filter-server listening on ") {
                        addr = Some(a.trim().parse().expect("an address"));
                    }
                    if let Some(m) = line.strip_prefix("filter-server metrics on http://") {
                        metrics = Some(m.trim_end_matches("/metrics").parse().expect("an address"));
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let log = std::fs::read_to_string(&stderr_path).unwrap_or_default();
                    panic!("filter-server did not start:\n{log}");
                }
            }
        }
        if args.contains(&"--metrics-listen") && metrics.is_none() {
            if let Ok(line) = rx.recv_timeout(std::time::Duration::from_secs(10)) {
                if let Some(m) = line.strip_prefix("filter-server metrics on http://") {
                    metrics = Some(m.trim_end_matches("/metrics").parse().expect("an address"));
                }
            }
        }
        ServerProcess {
            child,
            addr: addr.expect("address"),
            metrics,
            http,
            stderr_path,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `http://ADDR` for a plaintext channel.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A plaintext channel to the server.
    pub async fn channel(&self) -> tonic::transport::Channel {
        tonic::transport::Endpoint::from_shared(self.url())
            .expect("a url")
            .connect()
            .await
            .expect("connects")
    }

    /// A connected client.
    pub async fn client(
        &self,
    ) -> filter_server::proto::content_filter_service_client::ContentFilterServiceClient<
        tonic::transport::Channel,
    > {
        filter_server::proto::content_filter_service_client::ContentFilterServiceClient::connect(
            self.url(),
        )
        .await
        .expect("connects")
        .max_decoding_message_size(64 << 20)
    }

    /// Sends a signal (`TERM`, `HUP`, ...) with `kill`.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Waits (at most `secs`) for the process to exit and returns its code.
    pub fn wait(&mut self, secs: u64) -> Option<i32> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status.code();
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                return None;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Everything the server wrote to standard error so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The admin token of [`admin_token_args`].
pub const ADMIN_TOKEN: &str = "test-admin-token";

/// `--admin-token-file FILE` for a file holding [`ADMIN_TOKEN`]:
/// ReloadWordlists is disabled without it.
pub fn admin_token_args() -> [String; 2] {
    let file = temp_dir("admin").join("admin-token");
    std::fs::write(&file, format!("{ADMIN_TOKEN}\n")).expect("token file");
    ["--admin-token-file".into(), file.display().to_string()]
}

/// `message` with `authorization: Bearer TOKEN`.
pub fn with_token<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("a header value"),
    );
    r
}

/// The peak resident memory of a process (`VmHWM`), in MB. Fails when it
/// cannot be read: a memory bound that cannot be measured is not checked.
pub fn peak_rss_mb(pid: u32) -> f64 {
    proc_status_kb(pid, "VmHWM:") / 1024.0
}

/// The current resident memory of a process (`VmRSS`), in MB.
pub fn rss_mb(pid: u32) -> f64 {
    proc_status_kb(pid, "VmRSS:") / 1024.0
}

/// The number of threads of a process.
pub fn threads(pid: u32) -> usize {
    proc_status_kb(pid, "Threads:") as usize
}

fn proc_status_kb(pid: u32, field: &str) -> f64 {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no {field} in {path}"))
}

/// Copies the bundled word lists into a fresh directory.
pub fn copy_wordlists(tag: &str) -> PathBuf {
    let dir = temp_dir(tag);
    for entry in std::fs::read_dir(workspace().join("wordlists")).expect("wordlists/") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, dir.join(path.file_name().expect("name"))).expect("copy");
    }
    dir
}

/// The body and headers of one plain HTTP GET (the metrics endpoint).
pub async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    conn.read_to_string(&mut out).await.unwrap();
    out
}

/// An HTTP answer: status, headers, body.
pub struct HttpAnswer {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: http::HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpAnswer {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// `POST path` with `body` and `headers` to `addr`, over HTTP/1.1 with
/// hyper's client, on a new connection.
pub async fn http_post(
    addr: std::net::SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<bytes::Bytes>,
) -> HttpAnswer {
    http_request("POST", addr, path, headers, body.into()).await
}

/// An HTTP/1.1 connection to `addr` with hyper's client.
pub async fn http1(
    addr: std::net::SocketAddr,
) -> hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>> {
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    let (sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
        .await
        .expect("an HTTP/1.1 handshake");
    tokio::spawn(conn);
    sender
}

/// An HTTP/1.1 connection over TLS 1.3 to `addr`, which must present
/// `cert` for `localhost` and accept `http/1.1` by ALPN.
pub async fn https1(
    addr: std::net::SocketAddr,
    cert: &rcgen::Certificate,
) -> hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>> {
    use std::sync::Arc;
    use tokio_rustls::rustls::crypto::ring::default_provider;
    use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
    use tokio_rustls::rustls::{version, ClientConfig, RootCertStore};
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from(cert.der().to_vec()))
        .expect("the certificate");
    let mut config = ClientConfig::builder_with_provider(Arc::new(default_provider()))
        .with_protocol_versions(&[&version::TLS13])
        .expect("TLS 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").expect("a name"), tcp)
        .await
        .expect("a TLS 1.3 handshake offering http/1.1");
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let (sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
        .await
        .expect("an HTTP/1.1 handshake");
    tokio::spawn(conn);
    sender
}

/// `POST path` with a JSON `body`.
pub fn json_request(
    path: &str,
    body: impl Into<bytes::Bytes>,
) -> http::Request<http_body_util::Full<bytes::Bytes>> {
    http::Request::post(path)
        .header("host", "localhost")
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(body.into()))
        .expect("a request")
}

/// A self-signed certificate for `localhost` and its key, written as
/// `cert.pem` and `key.pem` (mode 600) to a fresh directory: (directory,
/// certificate).
pub fn self_signed_cert(tag: &str) -> (PathBuf, rcgen::Certificate) {
    let key = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("a cert");
    let dir = temp_dir(tag);
    std::fs::write(dir.join("cert.pem"), key.cert.pem()).expect("cert.pem");
    std::fs::write(dir.join("key.pem"), key.signing_key.serialize_pem()).expect("key.pem");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("key.pem"), std::fs::Permissions::from_mode(0o600))
        .expect("key.pem mode");
    (dir, key.cert)
}

/// One HTTP/1.1 request with hyper's client.
pub async fn http_request(
    method: &str,
    addr: std::net::SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: bytes::Bytes,
) -> HttpAnswer {
    use http_body_util::BodyExt;
    let mut sender = http1(addr).await;
    let mut request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string());
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let request = request
        .body(http_body_util::Full::new(body))
        .expect("a request");
    let response = sender.send_request(request).await.expect("an answer");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("the body")
        .to_bytes()
        .to_vec();
    HttpAnswer {
        status,
        headers,
        body,
    }
}

/// Whether `check` comes true within 5 seconds, asked every 50 ms.
pub async fn eventually(mut check: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..100 {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

/// A word list built to make fuzzy matching super-linear: `a`, `aa`, ...,
/// `a` x 256. With it a megabyte of [`a_chain_text`] takes about a second
/// to scan: a slow request on demand.
pub fn a_chain_lists() -> PathBuf {
    let dir = temp_dir("a-chain");
    let list: String = (1..=256).map(|n| "a".repeat(n) + "\n").collect();
    std::fs::write(dir.join("chain.txt"), list).expect("write the list");
    dir
}

/// About `bytes` of text that exercises the a-chain list worst: runs of
/// `a` that exact matching rejects (no word boundary), so every fuzzy
/// piece is compared.
pub fn a_chain_text(bytes: usize) -> String {
    let unit = format!("b{}b ", "a".repeat(300));
    unit.repeat(bytes / unit.len())
}

/// Runs `cmd`, failing with its output when it fails.
pub fn run_checked(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A virtualenv with the pinned `tests/python/requirements.txt`, created
/// once in `target/python-venv` (the first run installs from PyPI).
pub fn venv_python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| venv("python-venv", "tests/python/requirements.txt"))
        .clone()
}

/// A virtualenv with LiteLLM's proxy at the version pinned in
/// `tests/python/litellm-requirements.txt`, kept apart from the other
/// tools (its dependency tree is large and pins its own versions), created
/// once in `target/litellm-venv`. Returns its `bin` directory.
pub fn litellm_venv() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let python = venv("litellm-venv", "tests/python/litellm-requirements.txt");
        python.parent().expect("bin").to_path_buf()
    })
    .clone()
}

/// The python of virtualenv `name` under the target directory, with the
/// requirements file installed; installed again when the file changes.
fn venv(name: &str, requirements: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"));
    let venv = target.join(name);
    let python = venv.join("bin/python");
    let requirements = workspace().join(requirements);
    let stamp = venv.join("requirements.installed");
    let wanted = std::fs::read_to_string(&requirements).expect("requirements file");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        run_checked(
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
            "python3 -m venv",
        );
        run_checked(
            Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "-r",
                ])
                .arg(&requirements),
            "pip install -r",
        );
        std::fs::write(&stamp, wanted).expect("stamp");
    }
    python
}

/// The `node_modules` of `tests/node/package.json` (the gRPC packages at
/// pinned versions), installed once into `target/node-client` (the first
/// run installs from the npm registry).
pub fn node_modules() -> PathBuf {
    static MODULES: OnceLock<PathBuf> = OnceLock::new();
    MODULES
        .get_or_init(|| {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| workspace().join("target"));
            let dir = target.join("node-client");
            let wanted = std::fs::read_to_string(workspace().join("tests/node/package.json"))
                .expect("tests/node/package.json");
            let stamp = dir.join("package.installed");
            if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
                std::fs::create_dir_all(&dir).expect("target/node-client");
                std::fs::write(dir.join("package.json"), &wanted).expect("package.json");
                run_checked(
                    Command::new("npm")
                        .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
                        .arg("--prefix")
                        .arg(&dir),
                    "npm install",
                );
                std::fs::write(&stamp, wanted).expect("stamp");
            }
            dir.join("node_modules")
        })
        .clone()
}

/// Makes sure Debian's `packages` are installed, installing the missing
/// ones with apt (this machine kind's registry of system packages): the
/// Go toolchain and protoc plugins of the Go client test work offline
/// from them. Fails, saying what to run, where apt cannot be used.
pub fn debian_packages(packages: &[&str]) {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| {
            let out = Command::new("dpkg-query")
                .args(["-W", "-f=${Status}", p])
                .output();
            !out.is_ok_and(|o| o.stdout.ends_with(b"install ok installed"))
        })
        .collect();
    if missing.is_empty() {
        return;
    }
    let install = |update: bool| {
        if update {
            let _ = Command::new("apt-get").args(["update", "-q"]).status();
        }
        Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success())
    };
    assert!(
        install(false) || install(true),
        "could not install Debian packages {missing:?}: run `apt-get install {}` as root",
        missing.join(" ")
    );
}

/// Python stubs of the proto, generated by grpcio-tools into a fresh
/// directory.
pub fn generate_python_stubs(python: &Path) -> PathBuf {
    let out = temp_dir("pystubs");
    let proto = workspace().join("proto");
    run_checked(
        Command::new(python)
            .args(["-m", "grpc_tools.protoc"])
            .arg(format!("-I{}", proto.display()))
            .arg(format!("--python_out={}", out.display()))
            .arg(format!("--grpc_python_out={}", out.display()))
            .arg(proto.join("contentfilter/v1/content_filter.proto")),
        "grpc_tools.protoc",
    );
    out
}
