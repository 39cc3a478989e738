//! `filter-server health`: asks a running server's gRPC health service
//! (`grpc.health.v1.Health/Check`) whether it serves, so that a container
//! health check or a script needs no other tool (`grpc_health_probe`,
//! `grpcurl`).
//!
//! Exit status: 0 when the service answers SERVING; 1 when it answers
//! anything else, cannot be reached or does not answer in time; 2 when the
//! arguments are wrong (an address that is none, an unreadable CA file).

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

/// `filter-server health` arguments.
#[derive(Args, Debug)]
pub(crate) struct HealthArgs {
    /// The server's gRPC address: `HOST:PORT`, `http://HOST:PORT`, or
    /// `https://HOST:PORT` (then with --tls-ca).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:50051")]
    addr: String,
    /// The service to ask about: empty for the whole server (NOT_SERVING
    /// while it drains), or `contentfilter.v1.ContentFilterService`.
    #[arg(long, value_name = "NAME", default_value = "")]
    service: String,
    /// Give up after this many milliseconds (connecting included).
    #[arg(long, value_name = "MS", default_value_t = 3000)]
    timeout_ms: u64,
    /// PEM file of the CA that signed the server's certificate (for an
    /// `https://` address).
    #[arg(long, value_name = "FILE")]
    tls_ca: Option<PathBuf>,
    /// The name the server's certificate must carry [default: the host of
    /// --addr].
    #[arg(long, value_name = "NAME")]
    tls_server_name: Option<String>,
}

/// Why `health` could not even ask.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HealthArgsError {
    #[error("--addr {addr:?}: {reason}")]
    Addr { addr: String, reason: String },
    #[error("--tls-ca {path}: {source}")]
    Ca { path: String, source: io::Error },
    #[error("--tls-ca: {0}")]
    Tls(tonic::transport::Error),
    #[error("starting the runtime: {0}")]
    Runtime(io::Error),
}

/// What the server said, or why it said nothing.
enum Answer {
    Status(ServingStatus),
    Unreachable(String),
}

impl HealthArgs {
    /// The endpoint to call, TLS configured for `https://`.
    fn endpoint(&self) -> Result<Endpoint, HealthArgsError> {
        let bad = |reason: String| HealthArgsError::Addr {
            addr: self.addr.clone(),
            reason,
        };
        let uri = if self.addr.contains("://") {
            self.addr.clone()
        } else {
            format!("http://{}", self.addr)
        };
        let timeout = Duration::from_millis(self.timeout_ms.max(1));
        let mut endpoint = Endpoint::from_shared(uri.clone())
            .map_err(|e| bad(e.to_string()))?
            .connect_timeout(timeout)
            .timeout(timeout);
        let https = uri.starts_with("https://");
        if !https && !uri.starts_with("http://") {
            return Err(bad("the scheme must be http:// or https://".into()));
        }
        match (&self.tls_ca, https) {
            (Some(path), true) => {
                let pem = std::fs::read(path).map_err(|source| HealthArgsError::Ca {
                    path: path.display().to_string(),
                    source,
                })?;
                let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem));
                if let Some(name) = &self.tls_server_name {
                    tls = tls.domain_name(name.clone());
                }
                endpoint = endpoint.tls_config(tls).map_err(HealthArgsError::Tls)?;
            }
            (None, true) => {
                return Err(bad(
                    "an https:// address needs --tls-ca (the CA of the server's certificate)"
                        .into(),
                ))
            }
            (Some(_), false) => return Err(bad("--tls-ca needs an https:// address".into())),
            (None, false) => {}
        }
        Ok(endpoint)
    }

    async fn ask(&self, endpoint: Endpoint) -> Answer {
        let channel: Channel = match endpoint.connect().await {
            Ok(c) => c,
            Err(e) => return Answer::Unreachable(format!("cannot connect: {}", source_chain(&e))),
        };
        let request = HealthCheckRequest {
            service: self.service.clone(),
        };
        match HealthClient::new(channel).check(request).await {
            Ok(r) => Answer::Status(
                ServingStatus::try_from(r.into_inner().status).unwrap_or(ServingStatus::Unknown),
            ),
            Err(status) => {
                Answer::Unreachable(format!("{:?}: {}", status.code(), status.message()))
            }
        }
    }
}

/// The error and its causes on one line (a connect error's reason is in
/// its sources).
fn source_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        next = cause.source();
    }
    s
}

/// Runs `health`; the exit status (0 serving, 1 not).
pub(crate) fn health(args: &HealthArgs) -> Result<u8, HealthArgsError> {
    let endpoint = args.endpoint()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(HealthArgsError::Runtime)?;
    let answer = runtime.block_on(args.ask(endpoint));
    let (line, code) = match answer {
        Answer::Status(ServingStatus::Serving) => ("SERVING".to_string(), 0),
        Answer::Status(s) => (s.as_str_name().to_string(), 1),
        Answer::Unreachable(reason) => (format!("UNREACHABLE ({reason})"), 1),
    };
    // A health check reads the status; a closed pipe changes nothing.
    let _ = writeln!(io::stdout(), "{line}");
    Ok(code)
}
