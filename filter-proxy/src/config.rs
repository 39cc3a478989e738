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
    /// Consecutive failures (5xx or no connection) after which the backup
    /// takes over [default: 3].
    #[arg(long, value_name = "N", env = "FILTER_PROXY_FAILURE_THRESHOLD")]
    pub failure_threshold: Option<u32>,
    /// Time on the backup before the primary is tried again, in
    /// milliseconds [default: 30000].
    #[arg(long, value_name = "MS", env = "FILTER_PROXY_COOLDOWN_MS")]
    pub cooldown_ms: Option<u64>,
    /// Longest wait for the upstream's connection and answer headers, in
    /// milliseconds [default: 60000].
    #[arg(long, value_name = "MS", env = "FILTER_PROXY_FIRST_BYTE_TIMEOUT_MS")]
    pub first_byte_timeout_ms: Option<u64>,
    /// Largest request body, in bytes [default: 4194304].
    #[arg(long, value_name = "BYTES", env = "FILTER_PROXY_MAX_REQUEST_BYTES")]
    pub max_request_bytes: Option<usize>,
    /// Log filter [default: info].
    #[arg(long, value_name = "FILTER", env = "FILTER_PROXY_LOG")]
    pub log: Option<String>,
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
    /// Consecutive failures that switch to the backup.
    pub failure_threshold: u32,
    /// Time on the backup before the primary is tried again.
    pub cooldown: Duration,
    /// Longest wait for the upstream's answer headers.
    pub first_byte_timeout: Duration,
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
        Ok(Config {
            listen,
            upstreams,
            wordlists: Wordlists::from_option(pick!(wordlists)),
            upstream_api_key,
            failure_threshold: pick!(failure_threshold).unwrap_or(3).max(1),
            cooldown: Duration::from_millis(pick!(cooldown_ms).unwrap_or(30_000)),
            first_byte_timeout: Duration::from_millis(
                pick!(first_byte_timeout_ms).unwrap_or(60_000),
            ),
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
