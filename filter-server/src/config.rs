//! Server configuration: flags, `FILTER_*` environment variables, a TOML
//! file, defaults, in that order of precedence.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, ValueEnum};
use serde::Deserialize;

/// `filter-server serve` options. Each can also come from the environment
/// variable named in its help, or from the `--config` file (same names,
/// with underscores); flags win over the environment, which wins over the
/// file, which wins over the defaults.
#[derive(Args, Debug, Default, Clone)]
pub struct ServeArgs {
    /// TOML configuration file.
    #[arg(long, value_name = "FILE", env = "FILTER_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:50051].
    #[arg(long, value_name = "ADDR", env = "FILTER_LISTEN")]
    pub listen: Option<String>,
    /// Word-list directory [default: the bundled wordlists/].
    #[arg(long, value_name = "DIR", env = "FILTER_WORDLISTS")]
    pub wordlists: Option<PathBuf>,
    /// Address for Prometheus metrics over HTTP (`/metrics`); off by default.
    #[arg(long, value_name = "ADDR", env = "FILTER_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// PEM certificate chain: serve TLS 1.3 only.
    #[arg(long, value_name = "FILE", env = "FILTER_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, value_name = "FILE", env = "FILTER_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// PEM CA certificates: require client certificates signed by them.
    #[arg(long, value_name = "FILE", env = "FILTER_TLS_CLIENT_CA")]
    pub tls_client_ca: Option<PathBuf>,
    /// File holding the bearer token every call must present.
    #[arg(long, value_name = "FILE", env = "FILTER_AUTH_TOKEN_FILE")]
    pub auth_token_file: Option<PathBuf>,
    /// File holding the token ReloadWordlists requires (instead of the
    /// ordinary one).
    #[arg(long, value_name = "FILE", env = "FILTER_ADMIN_TOKEN_FILE")]
    pub admin_token_file: Option<PathBuf>,
    /// File holding the key of the `hash` redaction operator.
    #[arg(long, value_name = "FILE", env = "FILTER_HASH_KEY_FILE")]
    pub hash_key_file: Option<PathBuf>,
    /// Largest request text, in bytes [default: 4194304].
    #[arg(long, value_name = "BYTES", env = "FILTER_MAX_REQUEST_BYTES")]
    pub max_request_bytes: Option<usize>,
    /// Requests scanned at once; more wait [default: 256].
    #[arg(long, value_name = "N", env = "FILTER_MAX_CONCURRENT")]
    pub max_concurrent: Option<usize>,
    /// Longest time a request may take, in milliseconds, when the client
    /// sets no shorter deadline [default: 30000].
    #[arg(long, value_name = "MS", env = "FILTER_REQUEST_TIMEOUT_MS")]
    pub request_timeout_ms: Option<u64>,
    /// Time in-flight requests get to finish after SIGTERM, in milliseconds
    /// [default: 10000].
    #[arg(long, value_name = "MS", env = "FILTER_GRACE_PERIOD_MS")]
    pub grace_period_ms: Option<u64>,
    /// Reload the word lists when files in the directory change.
    #[arg(long, env = "FILTER_WATCH")]
    pub watch: bool,
    /// Log format [default: text].
    #[arg(long, value_enum, env = "FILTER_LOG_FORMAT")]
    pub log_format: Option<LogFormat>,
    /// Log filter, such as `info` or `filter_server=debug` [default: info].
    #[arg(long, value_name = "FILTER", env = "FILTER_LOG")]
    pub log: Option<String>,
}

/// How logs are written to standard error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object a line.
    Json,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    wordlists: Option<PathBuf>,
    metrics_listen: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    tls_client_ca: Option<PathBuf>,
    auth_token_file: Option<PathBuf>,
    admin_token_file: Option<PathBuf>,
    hash_key_file: Option<PathBuf>,
    max_request_bytes: Option<usize>,
    max_concurrent: Option<usize>,
    request_timeout_ms: Option<u64>,
    grace_period_ms: Option<u64>,
    watch: Option<bool>,
    log_format: Option<LogFormat>,
    log: Option<String>,
}

/// TLS material, read and checked before binding.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// Certificate chain.
    pub cert: PathBuf,
    /// Private key.
    pub key: PathBuf,
    /// CA for client certificates.
    pub client_ca: Option<PathBuf>,
}

/// The resolved configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The word-list directory.
    pub wordlists: PathBuf,
    /// Where to serve metrics.
    pub metrics_listen: Option<SocketAddr>,
    /// TLS, when on.
    pub tls: Option<TlsFiles>,
    /// The bearer token of every call.
    pub auth_token: Option<String>,
    /// The token of ReloadWordlists.
    pub admin_token: Option<String>,
    /// The key of the hash operator.
    pub hash_key: Option<Vec<u8>>,
    /// Largest request text.
    pub max_request_bytes: usize,
    /// Requests scanned at once.
    pub max_concurrent: usize,
    /// Longest request time.
    pub request_timeout: Duration,
    /// Drain time after SIGTERM.
    pub grace_period: Duration,
    /// Reload on change.
    pub watch: bool,
    /// Log format.
    pub log_format: LogFormat,
    /// Log filter.
    pub log: String,
}

/// The bundled word lists: `./wordlists` when run from a checkout, else
/// the directory this binary was built from.
fn default_wordlists() -> PathBuf {
    let here = PathBuf::from("wordlists");
    if here.is_dir() {
        return here;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../wordlists")
}

fn read_secret(path: &Path, what: &str) -> Result<String, String> {
    let s = std::fs::read_to_string(path).map_err(|e| format!("{what} {}: {e}", path.display()))?;
    let s = s.trim().to_string();
    if s.is_empty() {
        return Err(format!("{what} {}: the file is empty", path.display()));
    }
    Ok(s)
}

fn parse_addr(s: &str, what: &str) -> Result<SocketAddr, String> {
    s.parse()
        .map_err(|_| format!("{what}: `{s}` is not an address such as 127.0.0.1:50051"))
}

impl ServeArgs {
    /// Resolves flags, environment, file and defaults into a checked
    /// configuration. Every error names the setting.
    pub fn resolve(&self) -> Result<Config, String> {
        let file: FileConfig = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("--config {}: {e}", path.display()))?;
                toml::from_str(&text).map_err(|e| format!("--config {}: {e}", path.display()))?
            }
            None => FileConfig::default(),
        };
        macro_rules! pick {
            ($name:ident) => {
                self.$name.clone().or(file.$name.clone())
            };
        }
        let listen = parse_addr(
            &pick!(listen).unwrap_or_else(|| "127.0.0.1:50051".into()),
            "--listen",
        )?;
        let wordlists = pick!(wordlists).unwrap_or_else(default_wordlists);
        if !wordlists.is_dir() {
            return Err(format!(
                "--wordlists {}: not a directory",
                wordlists.display()
            ));
        }
        let metrics_listen = pick!(metrics_listen)
            .map(|s| parse_addr(&s, "--metrics-listen"))
            .transpose()?;
        let tls = match (pick!(tls_cert), pick!(tls_key)) {
            (Some(cert), Some(key)) => Some(TlsFiles {
                cert,
                key,
                client_ca: pick!(tls_client_ca),
            }),
            (None, None) if pick!(tls_client_ca).is_none() => None,
            (None, None) => return Err("--tls-client-ca needs --tls-cert and --tls-key".into()),
            _ => return Err("--tls-cert and --tls-key go together".into()),
        };
        let auth_token = pick!(auth_token_file)
            .map(|p| read_secret(&p, "--auth-token-file"))
            .transpose()?;
        let admin_token = pick!(admin_token_file)
            .map(|p| read_secret(&p, "--admin-token-file"))
            .transpose()?;
        let hash_key = pick!(hash_key_file)
            .map(|p| read_secret(&p, "--hash-key-file").map(String::into_bytes))
            .transpose()?;
        let max_request_bytes = pick!(max_request_bytes).unwrap_or(4 << 20);
        let max_concurrent = pick!(max_concurrent).unwrap_or(256);
        if max_request_bytes == 0 || max_concurrent == 0 {
            return Err("--max-request-bytes and --max-concurrent must be above 0".into());
        }
        let request_timeout = Duration::from_millis(pick!(request_timeout_ms).unwrap_or(30_000));
        let grace_period = Duration::from_millis(pick!(grace_period_ms).unwrap_or(10_000));
        Ok(Config {
            listen,
            wordlists,
            metrics_listen,
            tls,
            auth_token,
            admin_token,
            hash_key,
            max_request_bytes,
            max_concurrent,
            request_timeout,
            grace_period,
            watch: self.watch || file.watch.unwrap_or(false),
            log_format: pick!(log_format).unwrap_or_default(),
            log: pick!(log).unwrap_or_else(|| "info".into()),
        })
    }
}
