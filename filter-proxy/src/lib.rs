//! `filter-proxy`: an OpenAI-compatible compliance proxy built on
//! `filter-core` alone, the reference of how a Rust proxy links the
//! library.
//!
//! Requests to `/v1/chat/completions`, `/v1/completions` and
//! `/v1/embeddings` leave with personal data replaced by placeholders
//! (`[PHONE_1]`, one vault per request, so every message of the history
//! agrees); a block-category word answers 400 and nothing is sent.
//! Answers come back with the placeholders restored (in streams too, when
//! one is split across events), personal data the model made up redacted,
//! sensitive words masked, and a choice stopped at a block-category word
//! with `finish_reason: "content_filter"`, the word never sent. Streams
//! are filtered as they arrive: nothing waits for the whole answer.
//!
//! ```no_run
//! use clap::Parser;
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let args = filter_proxy::Args::parse_from([
//!     "filter-proxy",
//!     "--listen",
//!     "127.0.0.1:8080",
//!     "--upstream",
//!     "https://api.openai.com/v1",
//! ]);
//! let config = args.settings.resolve()?;
//! let stop = async {
//!     tokio::signal::ctrl_c().await.ok();
//! };
//! filter_proxy::run_until(config, stop, |bound| println!("listening on {}", bound.listen)).await?;
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]

mod answer;
mod config;
mod events;
mod metrics;
mod prompt;
mod server;
mod tls;
mod upstream;

use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use filter_core::{RedactionPolicy, Scanner, SharedLexicon};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;

pub use crate::config::{Config, ConfigError, Settings};

/// The command line.
#[derive(clap::Parser, Debug)]
#[command(
    name = "filter-proxy",
    version,
    about = "An OpenAI-compatible compliance proxy"
)]
pub struct Args {
    /// Every setting.
    #[command(flatten)]
    pub settings: Settings,
}

/// How running the proxy failed.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// A setting is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The word lists cannot be loaded.
    #[error("--wordlists: {0}")]
    Wordlists(#[source] filter_core::Error),
    /// The TLS files cannot be used.
    #[error("--tls-cert: {0}")]
    Tls(String),
    /// An address cannot be bound.
    #[error("{addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// The addresses the proxy bound.
#[derive(Clone, Copy, Debug)]
pub struct Bound {
    /// The proxy.
    pub listen: SocketAddr,
    /// The metrics endpoint, when on.
    pub metrics: Option<SocketAddr>,
}

/// The time in-flight requests get after SIGTERM.
const GRACE: Duration = Duration::from_secs(10);

/// The binary: settings, logs, serve until SIGTERM or SIGINT.
pub fn main() -> ExitCode {
    use clap::Parser;
    let args = Args::parse();
    let config = match args.settings.resolve() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("filter-proxy: {e}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&config.log)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("filter-proxy: {e}");
            return ExitCode::from(1);
        }
    };
    let served = runtime.block_on(async {
        let stop = shutdown_signal();
        run_until(config, stop, |bound| {
            println!("filter-proxy listening on {}", bound.listen);
            if let Some(m) = bound.metrics {
                println!("filter-proxy metrics on http://{m}/metrics");
            }
        })
        .await
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("filter-proxy: {e}");
            ExitCode::from(2)
        }
    }
}

/// Loads the lists, binds, serves until `stop`, then drains.
pub async fn run_until(
    config: Config,
    stop: impl Future<Output = ()>,
    ready: impl FnOnce(Bound),
) -> Result<(), ProxyError> {
    let lexicon = config.wordlists.load().map_err(ProxyError::Wordlists)?;
    for w in filter_wordlists::warning_lines(&lexicon) {
        tracing::warn!(warning = %w, "word list");
    }
    let scanner = Scanner::builder()
        .lexicon(SharedLexicon::new(lexicon))
        .build()
        .map_err(ProxyError::Wordlists)?;
    let metrics = Arc::new(metrics::Metrics::default());
    let state = Arc::new(server::State {
        scanner: Arc::new(scanner),
        upstreams: upstream::Upstreams::new(&config, metrics.clone()),
        policy: RedactionPolicy::new(),
        max_request_bytes: config.max_request_bytes,
        idle_timeout: config.idle_timeout,
        client_tokens: config
            .client_tokens
            .iter()
            .map(|t| server::digest(t))
            .collect(),
        metrics: metrics.clone(),
    });
    let acceptor = match &config.tls {
        Some((cert, key)) => Some(tls::acceptor(cert, key).map_err(ProxyError::Tls)?),
        None => None,
    };
    let (listener, addr) = bind(config.listen).await?;
    let mut metrics_addr = None;
    if let Some(at) = config.metrics_listen {
        let (metrics_listener, bound) = bind(at).await?;
        metrics_addr = Some(bound);
        tokio::spawn(serve_metrics(metrics_listener, metrics));
    }
    ready(Bound {
        listen: addr,
        metrics: metrics_addr,
    });
    tracing::info!(%addr, upstreams = config.upstreams.len(), "serving");
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10));
    let graceful = GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((tcp, peer)) = accepted else { continue };
                let _ = tcp.set_nodelay(true);
                let state = state.clone();
                let service = hyper::service::service_fn(move |req| {
                    server::handle(state.clone(), peer, req)
                });
                match &acceptor {
                    None => {
                        let conn = builder.serve_connection(TokioIo::new(tcp), service).into_owned();
                        let conn = graceful.watch(conn);
                        tokio::spawn(async move {
                            if let Err(e) = conn.await {
                                tracing::debug!(error = %e, "connection");
                            }
                        });
                    }
                    Some(acceptor) => {
                        // The handshake runs in the connection's task; its
                        // connection joins the drain once established.
                        let (acceptor, builder, watcher) =
                            (acceptor.clone(), builder.clone(), graceful.watcher());
                        tokio::spawn(async move {
                            let handshake =
                                tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp));
                            let Ok(Ok(tls)) = handshake.await else { return };
                            let conn = builder.serve_connection(TokioIo::new(tls), service);
                            if let Err(e) = watcher.watch(conn.into_owned()).await {
                                tracing::debug!(error = %e, "connection");
                            }
                        });
                    }
                }
            }
            () = &mut stop => break,
        }
    }
    drop(listener);
    tracing::info!("draining");
    if tokio::time::timeout(GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("grace period over with requests in flight");
    }
    Ok(())
}

/// Binds `addr`; returns the listener and the address bound.
async fn bind(addr: SocketAddr) -> Result<(tokio::net::TcpListener, SocketAddr), ProxyError> {
    let fail = |source| ProxyError::Bind { addr, source };
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(fail)?;
    let bound = listener.local_addr().map_err(fail)?;
    Ok((listener, bound))
}

/// `GET /metrics` in the Prometheus text format, one request a connection.
async fn serve_metrics(listener: tokio::net::TcpListener, metrics: Arc<metrics::Metrics>) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let metrics = metrics.clone();
                    async move {
                        let (status, body) = if req.uri().path() == "/metrics" {
                            (http::StatusCode::OK, metrics.render())
                        } else {
                            (http::StatusCode::NOT_FOUND, "not found\n".to_string())
                        };
                        let mut response = http::Response::new(http_body_util::Full::new(
                            bytes::Bytes::from(body),
                        ));
                        *response.status_mut() = status;
                        Ok::<_, std::convert::Infallible>(response)
                    }
                });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .keep_alive(false)
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}

/// Installs the SIGTERM and SIGINT handlers now; the future waits for one.
fn shutdown_signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    let handlers = {
        use tokio::signal::unix::{signal, SignalKind};
        signal(SignalKind::terminate())
            .and_then(|term| Ok((term, signal(SignalKind::interrupt())?)))
            .ok()
    };
    async move {
        #[cfg(unix)]
        if let Some((mut term, mut interrupt)) = handlers {
            tokio::select! {
                _ = term.recv() => {}
                _ = interrupt.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
