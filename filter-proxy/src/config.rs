//! The proxy's settings: flags, `FILTER_PROXY_*` environment variables, a
//! TOML file (`--config`), defaults, in that order of precedence.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use filter_wordlists::Wordlists;
use serde::Deserialize;

/// A bad setting, named.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file cannot be read or parsed.
    #[error("--config {path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A setting has a bad value.
    #[error("{setting}: {reason}")]
    Invalid {
        /// The flag that names the setting.
        setting: &'static str,
        /// What is wrong.
        reason: String,
    },
}

fn invalid(setting: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting,
        reason: reason.into(),
    }
}

/// Every setting, as flags and environment variables; the same names with
/// underscores in the `--config` file.
#[derive(Args, Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// TOML configuration file.
    #[arg(long, value_name = "FILE", env = "FILTER_PROXY_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR", env = "FILTER_PROXY_LISTEN")]
    pub listen: Option<String>,
    /// The OpenAI-compatible API to forward to, with its version path
    /// (`https://api.openai.com/v1`).
    #[arg(long, value_name = "URL", env = "FILTER_PROXY_UPSTREAM")]
    pub upstream: Option<String>,
    /// A second upstream, used while the first fails.
    #[arg(long, value_name = "URL", env = "FILTER_PROXY_BACKUP_UPSTREAM")]
    pub backup_upstream: Option<String>,
    /// Word-list directory [default: the lists bundled in the binary].
    #[arg(long, value_name = "DIR", env = "FILTER_PROXY_WORDLISTS")]
    pub wordlists: Option<PathBuf>,
    /// File holding the upstream's API key: it replaces the client's
    /// `Authorization`, so clients never hold the billed key.
    #[arg(long, value_name = "FILE", env = "FILTER_PROXY_UPSTREAM_API_KEY_FILE")]
    pub upstream_api_key_file: Option<PathBuf>,
    /// File of the tokens clients must present (`Authorization: Bearer
    /// TOKEN`), one a line; without it any client may call.
    #[arg(long, value_name = "FILE", env = "FILTER_PROXY_CLIENT_TOKENS_FILE")]
    pub client_tokens_file: Option<PathBuf>,
    /// PEM certificate chain: the listener speaks TLS 1.3 only.
    #[arg(long, value_name = "FILE", env = "FILTER_PROXY_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, value_name = "FILE", env = "FILTER_PROXY_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Address for Prometheus metrics (`/metrics`); off by default.
    #[arg(long, value_name = "ADDR", env = "FILTER_PROXY_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// Consecutive failures (5xx or no connection) after which the backup
    /// takes over [default: 3].
    #[arg(long, value_name = "N", env = "FILTER_PROXY_FAILURE_THRESHOLD")]
    pub failure_threshold: Option<u32>,
    /// The window over which the primary's success rate and latency are
    /// judged, in milliseconds [default: 300000].
    #[arg(long, value_name = "MS", env = "FILTER_PROXY_FAILOVER_WINDOW_MS")]
    pub failover_window_ms: Option<u64>,
    /// The success rate over the window below which the backup takes over
    /// [default: 0.95].
    #[arg(long, value_name = "RATE", env = "FILTER_PROXY_MIN_SUCCESS_RATE")]
    pub min_success_rate: Option<f64>,
    /// The mean time to the answer's headers over the window above which
    /// the backup takes over, in milliseconds [default: 1500].
    #[arg(long, value_name = "MS", env = "FILTER_PROXY_MAX_MEAN_LATENCY_MS")]
    pub max_mean_latency_ms: Option<u64>,
    /// Time on the backup before the primary is tried again, in
    /// milliseconds [default: 30000].
    #[arg(long, value_name = "MS", env = "FILTER_PROXY_COOLDOWN_MS")]
    pub cooldown_ms: Option<u64>,
    /// Longest wait for the upstream's connection and answer headers, in
    /// milliseconds [default: 60000].
    #[arg(long, value_name = "MS", env = "FILTER_PROXY_FIRST_BYTE_TIMEOUT_MS")]
    pub first_byte_timeout_ms: Option<u64>,
    /// Longest silence of the upstream within an answer, in milliseconds;
    /// then the answer ends there [default: 60000].
    #[arg(long, value_name = "MS", env = "FILTER_PROXY_IDLE_TIMEOUT_MS")]
    pub idle_timeout_ms: Option<u64>,
    /// Largest request body, in bytes [default: 4194304].
    #[arg(long, value_name = "BYTES", env = "FILTER_PROXY_MAX_REQUEST_BYTES")]
    pub max_request_bytes: Option<usize>,
    /// Log filter [default: info].
    #[arg(long, value_name = "FILTER", env = "FILTER_PROXY_LOG")]
    pub log: Option<String>,
}

/// When the primary is left for the backup.
#[derive(Clone, Debug)]
pub struct Failover {
    /// Consecutive failures.
    pub threshold: u32,
    /// The window the rate and latency are judged over.
    pub window: Duration,
    /// The success rate below which the primary is left.
    pub min_success_rate: f64,
    /// The mean latency above which the primary is left.
    pub max_mean_latency: Duration,
    /// Time on the backup before the primary is tried again.
    pub cooldown: Duration,
}

/// The resolved configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The upstreams, the primary first.
    pub upstreams: Vec<http::Uri>,
    /// The word lists.
    pub wordlists: Wordlists,
    /// The upstream key (`Bearer KEY`), replacing the client's.
    pub upstream_api_key: Option<String>,
    /// The tokens clients must present (none: any client).
    pub client_tokens: Vec<String>,
    /// TLS certificate and key, when the listener speaks TLS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Where to serve metrics.
    pub metrics_listen: Option<SocketAddr>,
    /// When the backup takes over.
    pub failover: Failover,
    /// Longest wait for the upstream's answer headers.
    pub first_byte_timeout: Duration,
    /// Longest silence of the upstream within an answer.
    pub idle_timeout: Duration,
    /// Largest request body.
    pub max_request_bytes: usize,
    /// Log filter.
    pub log: String,
}

impl Settings {
    /// These settings over the file's, over the defaults, checked.
    pub fn resolve(&self) -> Result<Config, ConfigError> {
        let file: Settings = match &self.config {
            Some(path) => {
                let fail = |reason: String| ConfigError::File {
                    path: path.clone(),
                    reason,
                };
                let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
                toml::from_str(&text).map_err(|e| fail(e.to_string()))?
            }
            None => Settings::default(),
        };
        macro_rules! pick {
            ($name:ident) => {
                self.$name.clone().or(file.$name.clone())
            };
        }
        let listen = pick!(listen).unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen = listen
            .parse()
            .map_err(|_| invalid("--listen", format!("`{listen}` is not an address")))?;
        let mut upstreams = vec![upstream(pick!(upstream), "--upstream")?
            .ok_or_else(|| invalid("--upstream", "required: the API to forward to"))?];
        upstreams.extend(upstream(pick!(backup_upstream), "--backup-upstream")?);
        let upstream_api_key = match pick!(upstream_api_key_file) {
            Some(path) => {
                let key = std::fs::read_to_string(&path).map_err(|e| {
                    invalid(
                        "--upstream-api-key-file",
                        format!("{}: {e}", path.display()),
                    )
                })?;
                let key = key.trim();
                if key.is_empty() {
                    return Err(invalid("--upstream-api-key-file", "the file is empty"));
                }
                Some(format!("Bearer {key}"))
            }
            None => None,
        };
        let client_tokens = match pick!(client_tokens_file) {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    invalid("--client-tokens-file", format!("{}: {e}", path.display()))
                })?;
                let tokens: Vec<String> = text
                    .lines()
                    .map(str::trim)
                    .filter(|t| !t.is_empty() && !t.starts_with('#'))
                    .map(String::from)
                    .collect();
                if tokens.is_empty() {
                    return Err(invalid("--client-tokens-file", "the file holds no token"));
                }
                tokens
            }
            None => Vec::new(),
        };
        if !client_tokens.is_empty() && upstream_api_key.is_none() {
            return Err(invalid(
                "--client-tokens-file",
                "needs --upstream-api-key-file: the clients' tokens are not the upstream's key",
            ));
        }
        let tls = match (pick!(tls_cert), pick!(tls_key)) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            _ => {
                return Err(invalid(
                    "--tls-cert",
                    "--tls-cert and --tls-key go together",
                ))
            }
        };
        let metrics_listen = match pick!(metrics_listen) {
            Some(a) => Some(
                a.parse()
                    .map_err(|_| invalid("--metrics-listen", format!("`{a}` is not an address")))?,
            ),
            None => None,
        };
        let min_success_rate = pick!(min_success_rate).unwrap_or(0.95);
        if !(0.0..=1.0).contains(&min_success_rate) {
            return Err(invalid("--min-success-rate", "must be between 0 and 1"));
        }
        Ok(Config {
            listen,
            upstreams,
            wordlists: Wordlists::from_option(pick!(wordlists)),
            upstream_api_key,
            client_tokens,
            tls,
            metrics_listen,
            failover: Failover {
                threshold: pick!(failure_threshold).unwrap_or(3).max(1),
                window: Duration::from_millis(pick!(failover_window_ms).unwrap_or(300_000)),
                min_success_rate,
                max_mean_latency: Duration::from_millis(pick!(max_mean_latency_ms).unwrap_or(1500)),
                cooldown: Duration::from_millis(pick!(cooldown_ms).unwrap_or(30_000)),
            },
            first_byte_timeout: Duration::from_millis(
                pick!(first_byte_timeout_ms).unwrap_or(60_000),
            ),
            idle_timeout: Duration::from_millis(pick!(idle_timeout_ms).unwrap_or(60_000)),
            max_request_bytes: pick!(max_request_bytes).unwrap_or(4 << 20),
            log: pick!(log).unwrap_or_else(|| "info".into()),
        })
    }
}

/// An upstream URL: http or https, with a host; its path is the prefix
/// the API's paths follow (`/v1`).
fn upstream(url: Option<String>, setting: &'static str) -> Result<Option<http::Uri>, ConfigError> {
    let Some(url) = url else { return Ok(None) };
    let uri: http::Uri = url
        .trim_end_matches('/')
        .parse()
        .map_err(|_| invalid(setting, format!("`{url}` is not a URL")))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http" | "https"), Some(_)) => Ok(Some(uri)),
        _ => Err(invalid(
            setting,
            format!("`{url}` must be an http:// or https:// URL"),
        )),
    }
}
