//! Server configuration: flags, `FILTER_*` environment variables, a TOML
//! file, defaults, in that order of precedence, for every setting
//! (booleans included: `--no-watch` and `FILTER_WATCH=false` turn off a
//! `watch = true` of the file).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{Args, ValueEnum};
use filter_core::{HashKey, VaultKey};
use serde::{Deserialize, Serialize};

use crate::wordlists::Wordlists;

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
    /// A key or token file cannot be used.
    #[error("{setting} {}: {source}", path.display())]
    Secret {
        /// The flag.
        setting: &'static str,
        /// The file.
        path: PathBuf,
        /// Why it cannot be used.
        source: filter_core::Error,
    },
}

fn invalid(setting: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting,
        reason: reason.into(),
    }
}

/// `filter-server serve` options. Each can also come from the environment
/// variable named in its help, or from the `--config` file (same names,
/// with underscores); flags win over the environment, which wins over the
/// file, which wins over the defaults.
#[derive(Args, Debug, Default, Clone)]
pub struct ServeArgs {
    /// TOML configuration file.
    #[arg(long, value_name = "FILE", env = "FILTER_CONFIG")]
    pub config: Option<PathBuf>,
    /// Print the configuration these settings resolve to (as TOML, secrets
    /// by their file names only) and exit.
    #[arg(long)]
    pub print_config: bool,
    #[command(flatten)]
    pub settings: Settings,
}

/// Every setting of `serve`, as flags and environment variables; the same
/// names with underscores in the `--config` file.
#[derive(Args, Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on [default: 127.0.0.1:50051].
    #[arg(long, value_name = "ADDR", env = "FILTER_LISTEN")]
    pub listen: Option<String>,
    /// Word-list directory [default: the lists bundled in the binary].
    #[arg(long, value_name = "DIR", env = "FILTER_WORDLISTS")]
    pub wordlists: Option<PathBuf>,
    /// Address for Prometheus metrics over HTTP (`/metrics`); off by default.
    #[arg(long, value_name = "ADDR", env = "FILTER_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// Address for the HTTP/JSON API (`/v1/scan`, `/v1/redact`,
    /// `/v1/restore`), LiteLLM's guardrail API and the `/healthz` and
    /// `/readyz` probes, HTTP/1.1 and h2c (TLS as --tls-cert says); off by
    /// default.
    #[arg(long, value_name = "ADDR", env = "FILTER_HTTP_LISTEN")]
    pub http_listen: Option<String>,
    /// Kinds the LiteLLM guardrail checks in requests (prompts),
    /// comma-separated [default: all].
    #[arg(
        long,
        value_name = "KIND",
        env = "FILTER_GUARDRAIL_REQUEST_KINDS",
        value_delimiter = ','
    )]
    pub guardrail_request_kinds: Option<Vec<String>>,
    /// Kinds the LiteLLM guardrail checks in responses (answers),
    /// comma-separated [default: all].
    #[arg(
        long,
        value_name = "KIND",
        env = "FILTER_GUARDRAIL_RESPONSE_KINDS",
        value_delimiter = ','
    )]
    pub guardrail_response_kinds: Option<Vec<String>>,
    /// What the LiteLLM guardrail does with a word of a `review` category:
    /// `pass` (masked as the policy says, counted in the metrics) or
    /// `block` [default: pass].
    #[arg(long, value_enum, env = "FILTER_GUARDRAIL_REVIEW")]
    pub guardrail_review: Option<ReviewChoice>,
    /// PEM certificate chain: serve TLS 1.3 only.
    #[arg(long, value_name = "FILE", env = "FILTER_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, value_name = "FILE", env = "FILTER_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// PEM CA certificates: require client certificates signed by them.
    #[arg(long, value_name = "FILE", env = "FILTER_TLS_CLIENT_CA")]
    pub tls_client_ca: Option<PathBuf>,
    /// File holding the bearer token every call but health must present.
    #[arg(long, value_name = "FILE", env = "FILTER_AUTH_TOKEN_FILE")]
    pub auth_token_file: Option<PathBuf>,
    /// File holding the token ReloadWordlists requires; without it the RPC
    /// is disabled (SIGHUP and --watch still reload).
    #[arg(long, value_name = "FILE", env = "FILTER_ADMIN_TOKEN_FILE")]
    pub admin_token_file: Option<PathBuf>,
    /// File holding the key of the `hash` redaction operator (its bytes
    /// without one trailing line ending).
    #[arg(long, value_name = "FILE", env = "FILTER_HASH_KEY_FILE")]
    pub hash_key_file: Option<PathBuf>,
    /// File holding a vault key (at least 16 bytes), repeatable or
    /// comma-separated: the first seals vaults, all open them (rotation).
    /// Without one, pseudonyms and Restore are FAILED_PRECONDITION.
    #[arg(
        long,
        value_name = "FILE",
        env = "FILTER_VAULT_KEY_FILE",
        value_delimiter = ','
    )]
    pub vault_key_file: Option<Vec<PathBuf>>,
    /// Largest request text or stream chunk, in bytes [default: 4194304].
    #[arg(long, value_name = "BYTES", env = "FILTER_MAX_REQUEST_BYTES")]
    pub max_request_bytes: Option<usize>,
    /// Largest response, in bytes [default: 16777216].
    #[arg(long, value_name = "BYTES", env = "FILTER_MAX_RESPONSE_BYTES")]
    pub max_response_bytes: Option<usize>,
    /// Most findings in one request or stream chunk; more is
    /// RESOURCE_EXHAUSTED [default: 10000].
    #[arg(long, value_name = "N", env = "FILTER_MAX_FINDINGS")]
    pub max_findings: Option<usize>,
    /// Scan and Redact requests admitted at once (reading and scanning);
    /// more wait [default: 256].
    #[arg(long, value_name = "N", env = "FILTER_MAX_CONCURRENT")]
    pub max_concurrent: Option<usize>,
    /// The most bytes of Scan and Redact messages admitted at once; a
    /// request weighs its message length, and waits until it fits
    /// [default: 33554432].
    #[arg(long, value_name = "BYTES", env = "FILTER_MAX_INFLIGHT_BYTES")]
    pub max_inflight_bytes: Option<usize>,
    /// Longest wait for a place under --max-concurrent and
    /// --max-inflight-bytes, in milliseconds; then RESOURCE_EXHAUSTED
    /// [default: 500].
    #[arg(long, value_name = "MS", env = "FILTER_ADMISSION_WAIT_MS")]
    pub admission_wait_ms: Option<u64>,
    /// ScanStream calls open at once; more are RESOURCE_EXHAUSTED
    /// [default: 512].
    #[arg(long, value_name = "N", env = "FILTER_MAX_STREAMS")]
    pub max_streams: Option<usize>,
    /// Health watches and reflection streams open at once [default: 64].
    #[arg(long, value_name = "N", env = "FILTER_MAX_AUX_STREAMS")]
    pub max_aux_streams: Option<usize>,
    /// Connections open at once, per listener [default: 256].
    #[arg(long, value_name = "N", env = "FILTER_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// HTTP/2 streams one connection may open at once [default: 100].
    #[arg(long, value_name = "N", env = "FILTER_MAX_STREAMS_PER_CONNECTION")]
    pub max_streams_per_connection: Option<u32>,
    /// Longest time a unary request may take, in milliseconds, when the
    /// client sets no shorter deadline [default: 30000].
    #[arg(long, value_name = "MS", env = "FILTER_REQUEST_TIMEOUT_MS")]
    pub request_timeout_ms: Option<u64>,
    /// Longest time a ScanStream call may last, in milliseconds
    /// [default: 600000].
    #[arg(long, value_name = "MS", env = "FILTER_STREAM_TIMEOUT_MS")]
    pub stream_timeout_ms: Option<u64>,
    /// Longest wait for the next ScanStream message, in milliseconds
    /// [default: 60000].
    #[arg(long, value_name = "MS", env = "FILTER_STREAM_IDLE_TIMEOUT_MS")]
    pub stream_idle_timeout_ms: Option<u64>,
    /// Time a new connection gets for its TLS handshake and HTTP/2 preface,
    /// in milliseconds [default: 10000].
    #[arg(long, value_name = "MS", env = "FILTER_HANDSHAKE_TIMEOUT_MS")]
    pub handshake_timeout_ms: Option<u64>,
    /// HTTP/2 keepalive ping interval, in milliseconds; a connection that
    /// does not answer a ping closes [default: 60000].
    #[arg(long, value_name = "MS", env = "FILTER_KEEPALIVE_INTERVAL_MS")]
    pub keepalive_interval_ms: Option<u64>,
    /// Time to wait for a keepalive ping's answer, in milliseconds
    /// [default: 20000].
    #[arg(long, value_name = "MS", env = "FILTER_KEEPALIVE_TIMEOUT_MS")]
    pub keepalive_timeout_ms: Option<u64>,
    /// Time in-flight requests get to finish after SIGTERM, in milliseconds
    /// [default: 10000].
    #[arg(long, value_name = "MS", env = "FILTER_GRACE_PERIOD_MS")]
    pub grace_period_ms: Option<u64>,
    /// Longest time a word-list reload may take, in milliseconds
    /// [default: 120000].
    #[arg(long, value_name = "MS", env = "FILTER_RELOAD_TIMEOUT_MS")]
    pub reload_timeout_ms: Option<u64>,
    /// Reload the word lists when files in the directory change
    /// (`--watch=false` or `--no-watch` to turn it off) [default: false].
    #[arg(
        long,
        env = "FILTER_WATCH",
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = BoolishValueParser::new(),
    )]
    pub watch: Option<bool>,
    /// Do not reload on changes (wins over --watch, FILTER_WATCH and the
    /// file).
    #[arg(long)]
    #[serde(skip)]
    pub no_watch: bool,
    /// Log format [default: text].
    #[arg(long, value_enum, env = "FILTER_LOG_FORMAT")]
    pub log_format: Option<LogFormat>,
    /// Log filter, such as `info` or `filter_server=debug` [default: info].
    #[arg(long, value_name = "FILTER", env = "FILTER_LOG")]
    pub log: Option<String>,
}

/// What the LiteLLM guardrail does with words of a `review` category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ReviewChoice {
    /// Let the text through (masked as the policy says), counted.
    #[default]
    Pass,
    /// Block it.
    Block,
}

/// The LiteLLM guardrail's policy per direction.
#[derive(Clone, Debug, Default)]
pub struct GuardrailPolicy {
    /// Kinds checked in requests (empty: all).
    pub request_kinds: Vec<filter_core::Kind>,
    /// Kinds checked in responses (empty: all).
    pub response_kinds: Vec<filter_core::Kind>,
    /// Review-category words.
    pub review: ReviewChoice,
}

/// How logs are written to standard error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object a line.
    Json,
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

/// A token, never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// The token's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// What a client may ask of the server, and how long it may take.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest request text or stream chunk.
    pub max_request_bytes: usize,
    /// Largest response.
    pub max_response_bytes: usize,
    /// Most findings per request or stream chunk.
    pub max_findings: usize,
    /// Scan and Redact requests admitted at once.
    pub max_concurrent: usize,
    /// Bytes of Scan and Redact messages admitted at once.
    pub max_inflight_bytes: usize,
    /// Longest wait for admission.
    pub admission_wait: Duration,
    /// ScanStream calls open at once.
    pub max_streams: usize,
    /// Health watches and reflection streams open at once.
    pub max_aux_streams: usize,
    /// Connections per listener.
    pub max_connections: usize,
    /// HTTP/2 streams per connection.
    pub max_streams_per_connection: u32,
    /// Longest unary request.
    pub request_timeout: Duration,
    /// Longest stream.
    pub stream_timeout: Duration,
    /// Longest wait for a stream's next message.
    pub stream_idle_timeout: Duration,
    /// Time for a new connection's handshake and preface.
    pub handshake_timeout: Duration,
    /// HTTP/2 ping interval.
    pub keepalive_interval: Duration,
    /// HTTP/2 ping answer timeout.
    pub keepalive_timeout: Duration,
    /// Longest reload.
    pub reload_timeout: Duration,
}

/// The resolved configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The word lists.
    pub wordlists: Wordlists,
    /// Where to serve metrics.
    pub metrics_listen: Option<SocketAddr>,
    /// Where to serve the HTTP/JSON API.
    pub http_listen: Option<SocketAddr>,
    /// The LiteLLM guardrail's policy.
    pub guardrail: GuardrailPolicy,
    /// TLS, when on.
    pub tls: Option<TlsFiles>,
    /// The bearer token of every call.
    pub auth_token: Option<Token>,
    /// The token of ReloadWordlists.
    pub admin_token: Option<Token>,
    /// The key of the hash operator.
    pub hash_key: Option<HashKey>,
    /// The vault keys, the sealing one first.
    pub vault_keys: Vec<VaultKey>,
    /// Limits and timeouts.
    pub limits: Limits,
    /// Drain time after SIGTERM.
    pub grace_period: Duration,
    /// Reload on change.
    pub watch: bool,
    /// Log format.
    pub log_format: LogFormat,
    /// Log filter.
    pub log: String,
}

/// A token file: its text, trimmed, must not be empty.
fn read_token(path: &Path, setting: &'static str) -> Result<Token, ConfigError> {
    let secret = |source| ConfigError::Secret {
        setting,
        path: path.to_path_buf(),
        source,
    };
    let key = HashKey::from_file(path).map_err(secret)?;
    let text = std::str::from_utf8(key.as_bytes())
        .map_err(|_| invalid(setting, format!("{}: not UTF-8", path.display())))?
        .trim()
        .to_string();
    if text.is_empty() {
        return Err(invalid(
            setting,
            format!("{}: the file is empty", path.display()),
        ));
    }
    Ok(Token(text))
}

fn parse_addr(s: &str, setting: &'static str) -> Result<SocketAddr, ConfigError> {
    s.parse().map_err(|_| {
        invalid(
            setting,
            format!("`{s}` is not an address such as 127.0.0.1:50051"),
        )
    })
}

fn millis(ms: Option<u64>, default: u64) -> Duration {
    Duration::from_millis(ms.unwrap_or(default))
}

impl ServeArgs {
    /// The settings of the flags and environment over those of the file.
    pub fn merged(&self) -> Result<Settings, ConfigError> {
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
        Ok(self.settings.over(file))
    }

    /// Resolves flags, environment, file and defaults into a checked
    /// configuration. Every error names the setting.
    pub fn resolve(&self) -> Result<Config, ConfigError> {
        self.merged()?.resolve()
    }
}

impl Settings {
    /// These settings, with `file`'s where these have none.
    fn over(&self, file: Settings) -> Settings {
        macro_rules! pick {
            ($($name:ident),*) => {
                Settings { $($name: self.$name.clone().or(file.$name),)* no_watch: false,
                    watch: if self.no_watch { Some(false) } else { self.watch.or(file.watch) } }
            };
        }
        pick!(
            listen,
            wordlists,
            metrics_listen,
            http_listen,
            guardrail_request_kinds,
            guardrail_response_kinds,
            guardrail_review,
            tls_cert,
            tls_key,
            tls_client_ca,
            auth_token_file,
            admin_token_file,
            hash_key_file,
            vault_key_file,
            max_request_bytes,
            max_response_bytes,
            max_findings,
            max_concurrent,
            max_inflight_bytes,
            admission_wait_ms,
            max_streams,
            max_aux_streams,
            max_connections,
            max_streams_per_connection,
            request_timeout_ms,
            stream_timeout_ms,
            stream_idle_timeout_ms,
            handshake_timeout_ms,
            keepalive_interval_ms,
            keepalive_timeout_ms,
            grace_period_ms,
            reload_timeout_ms,
            log_format,
            log
        )
    }

    /// The settings with every default filled in, as `--print-config`
    /// shows them.
    pub fn with_defaults(&self) -> Settings {
        let defaults = Settings {
            listen: Some("127.0.0.1:50051".into()),
            max_request_bytes: Some(4 << 20),
            max_response_bytes: Some(16 << 20),
            max_findings: Some(10_000),
            max_concurrent: Some(256),
            max_inflight_bytes: Some(32 << 20),
            admission_wait_ms: Some(500),
            max_streams: Some(512),
            max_aux_streams: Some(64),
            max_connections: Some(256),
            max_streams_per_connection: Some(100),
            request_timeout_ms: Some(30_000),
            stream_timeout_ms: Some(600_000),
            stream_idle_timeout_ms: Some(60_000),
            handshake_timeout_ms: Some(10_000),
            keepalive_interval_ms: Some(60_000),
            keepalive_timeout_ms: Some(20_000),
            grace_period_ms: Some(10_000),
            reload_timeout_ms: Some(120_000),
            watch: Some(false),
            guardrail_review: Some(ReviewChoice::Pass),
            log_format: Some(LogFormat::Text),
            log: Some("info".into()),
            ..Settings::default()
        };
        self.over(defaults)
    }

    /// Checks the settings and reads the files they name.
    pub fn resolve(&self) -> Result<Config, ConfigError> {
        let s = self.with_defaults();
        let listen = parse_addr(s.listen.as_deref().unwrap_or_default(), "--listen")?;
        let wordlists = Wordlists::from_option(s.wordlists.clone());
        if let Wordlists::Dir(dir) = &wordlists {
            if !dir.is_dir() {
                return Err(invalid(
                    "--wordlists",
                    format!("{}: not a directory", dir.display()),
                ));
            }
        }
        let watch = s.watch.unwrap_or(false);
        if watch && wordlists == Wordlists::Bundled {
            return Err(invalid(
                "--watch",
                "needs --wordlists DIR: the bundled lists never change",
            ));
        }
        let metrics_listen = s
            .metrics_listen
            .as_deref()
            .map(|a| parse_addr(a, "--metrics-listen"))
            .transpose()?;
        let http_listen = s
            .http_listen
            .as_deref()
            .map(|a| parse_addr(a, "--http-listen"))
            .transpose()?;
        let tls = s.tls_files()?;
        let hash_key = s
            .hash_key_file
            .as_deref()
            .map(|p| {
                HashKey::from_file(p).map_err(|source| ConfigError::Secret {
                    setting: "--hash-key-file",
                    path: p.to_path_buf(),
                    source,
                })
            })
            .transpose()?;
        Ok(Config {
            listen,
            wordlists,
            metrics_listen,
            http_listen,
            guardrail: s.guardrail()?,
            tls,
            auth_token: s
                .auth_token_file
                .as_deref()
                .map(|p| read_token(p, "--auth-token-file"))
                .transpose()?,
            admin_token: s
                .admin_token_file
                .as_deref()
                .map(|p| read_token(p, "--admin-token-file"))
                .transpose()?,
            hash_key,
            vault_keys: s.vault_keys()?,
            limits: s.limits()?,
            grace_period: millis(s.grace_period_ms, 0),
            watch,
            log_format: s.log_format.unwrap_or_default(),
            log: s.log.clone().unwrap_or_default(),
        })
    }

    /// The LiteLLM guardrail's policy, its kind names checked.
    fn guardrail(&self) -> Result<GuardrailPolicy, ConfigError> {
        let kinds = |names: &Option<Vec<String>>, setting: &'static str| {
            names
                .iter()
                .flatten()
                .filter(|n| !n.trim().is_empty())
                .map(|n| {
                    n.trim()
                        .parse()
                        .map_err(|e| invalid(setting, format!("{e}")))
                })
                .collect::<Result<Vec<filter_core::Kind>, _>>()
        };
        Ok(GuardrailPolicy {
            request_kinds: kinds(&self.guardrail_request_kinds, "--guardrail-request-kinds")?,
            response_kinds: kinds(&self.guardrail_response_kinds, "--guardrail-response-kinds")?,
            review: self.guardrail_review.unwrap_or_default(),
        })
    }

    /// The vault keys, the sealing one first.
    fn vault_keys(&self) -> Result<Vec<VaultKey>, ConfigError> {
        let files = self.vault_key_file.as_deref().unwrap_or_default();
        files
            .iter()
            .map(|p| {
                VaultKey::from_file(p).map_err(|source| ConfigError::Secret {
                    setting: "--vault-key-file",
                    path: p.clone(),
                    source,
                })
            })
            .collect()
    }

    /// The TLS files, which go together.
    fn tls_files(&self) -> Result<Option<TlsFiles>, ConfigError> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Ok(Some(TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
                client_ca: self.tls_client_ca.clone(),
            })),
            (None, None) if self.tls_client_ca.is_none() => Ok(None),
            (None, None) => Err(invalid("--tls-client-ca", "needs --tls-cert and --tls-key")),
            _ => Err(invalid(
                "--tls-cert",
                "--tls-cert and --tls-key go together",
            )),
        }
    }

    /// The limits of settings with defaults filled in, checked.
    fn limits(&self) -> Result<Limits, ConfigError> {
        let positive = |v: Option<usize>, setting: &'static str| match v {
            Some(n) if n > 0 => Ok(n),
            _ => Err(invalid(setting, "must be above 0")),
        };
        let max_request_bytes = positive(self.max_request_bytes, "--max-request-bytes")?;
        // Offsets travel as 32-bit numbers, and a request is held in memory
        // several times over while it is scanned.
        if max_request_bytes > 1 << 30 {
            return Err(invalid("--max-request-bytes", "must be at most 1 GiB"));
        }
        let max_streams_per_connection = self.max_streams_per_connection.unwrap_or(0);
        if max_streams_per_connection == 0 {
            return Err(invalid("--max-streams-per-connection", "must be above 0"));
        }
        Ok(Limits {
            max_request_bytes,
            max_response_bytes: positive(self.max_response_bytes, "--max-response-bytes")?,
            max_findings: positive(self.max_findings, "--max-findings")?,
            max_concurrent: positive(self.max_concurrent, "--max-concurrent")?,
            max_inflight_bytes: positive(self.max_inflight_bytes, "--max-inflight-bytes")?,
            admission_wait: millis(self.admission_wait_ms, 0),
            max_streams: positive(self.max_streams, "--max-streams")?,
            max_aux_streams: positive(self.max_aux_streams, "--max-aux-streams")?,
            max_connections: positive(self.max_connections, "--max-connections")?,
            max_streams_per_connection,
            request_timeout: millis(self.request_timeout_ms, 0),
            stream_timeout: millis(self.stream_timeout_ms, 0),
            stream_idle_timeout: millis(self.stream_idle_timeout_ms, 0),
            handshake_timeout: millis(self.handshake_timeout_ms, 0),
            keepalive_interval: millis(self.keepalive_interval_ms, 0),
            keepalive_timeout: millis(self.keepalive_timeout_ms, 0),
            reload_timeout: millis(self.reload_timeout_ms, 0),
        })
    }
}
