//! Running the service: load, bind, serve, reload on SIGHUP or change,
//! drain on SIGTERM/SIGINT.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use filter_core::{Scanner, SharedLexicon};
use tokio::net::TcpListener;
use tonic::transport::server::Router;
use tonic::transport::Server;
use tonic_health::server::HealthReporter;
use tonic_health::ServingStatus;

use crate::config::Config;
use crate::gateway::{self, Gateway, GrpcService};
use crate::guard::GuardLayer;
use crate::listener::{self, ListenerOptions, H2_PREFACE_LEN};
use crate::metrics::{Listener, Metrics};
use crate::proto::content_filter_service_server::ContentFilterServiceServer;
use crate::reload::Reloader;
use crate::service::{FilterService, State};
use crate::wordlists::Wordlists;
use crate::{http, proto, tls};

/// The gRPC services behind the guard layer.
type GuardedRouter = Router<tower::layer::util::Stack<GuardLayer, tower::layer::util::Identity>>;

/// How the server run ended badly.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The word lists cannot be loaded.
    #[error("--wordlists: {0}")]
    Wordlists(#[source] filter_core::Error),
    /// The TLS files cannot be used.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// An address cannot be bound.
    #[error("{setting} {addr}: {source}")]
    Bind {
        /// The flag naming the address.
        setting: &'static str,
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Reflection cannot be set up.
    #[error("reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The server failed while serving.
    #[error("serving: {0}")]
    Serve(#[from] tonic::transport::Error),
}

impl ServeError {
    /// Whether the error happened before the server was serving (bad
    /// configuration: exit status 2).
    pub fn is_startup(&self) -> bool {
        !matches!(self, ServeError::Serve(_))
    }
}

/// Loads everything, binds, and serves until SIGTERM or SIGINT.
pub async fn run(config: Config) -> Result<(), ServeError> {
    // The handlers are installed before the lists load, so a SIGTERM that
    // comes while the server starts drains it rather than killing it.
    let shutdown = shutdown_signal();
    run_until(config, shutdown, |bound| {
        // The line tests and scripts wait for: the address actually bound
        // (the HTTP one comes before it, so it is known by then).
        let mut out = std::io::stdout().lock();
        if let Some(h) = bound.http {
            let _ = writeln!(out, "filter-server http on http://{h}");
        }
        let _ = writeln!(out, "filter-server listening on {}", bound.grpc);
        if let Some(m) = bound.metrics {
            let _ = writeln!(out, "filter-server metrics on http://{m}/metrics");
        }
        let _ = out.flush();
    })
    .await
}

/// The addresses the server bound.
#[derive(Clone, Copy, Debug)]
pub struct Bound {
    /// The gRPC listener.
    pub grpc: SocketAddr,
    /// The metrics listener, when on.
    pub metrics: Option<SocketAddr>,
    /// The HTTP/JSON listener, when on.
    pub http: Option<SocketAddr>,
}

/// [`run`] with the stop signal and the report of the bound addresses
/// supplied by the caller, for in-process use such as the load benchmark.
pub async fn run_until(
    config: Config,
    shutdown: impl std::future::Future<Output = &'static str>,
    ready: impl FnOnce(Bound),
) -> Result<(), ServeError> {
    let metrics = Arc::new(Metrics::default());
    let loaded = match (config.watch, &config.wordlists) {
        (true, Wordlists::Dir(dir)) => Some(fingerprint(dir)),
        _ => None,
    };
    let state = build_state(&config, metrics.clone())?;
    let acceptors = config.tls.as_ref().map(tls::acceptors).transpose()?;
    let (acceptor, http_acceptor) = match acceptors {
        Some(a) => (Some(a.grpc), Some(a.http)),
        None => (None, None),
    };
    let grpc = bind(config.listen, "--listen").await?;
    let addr = local_addr(&grpc, config.listen)?;
    let metrics_listener = match config.metrics_listen {
        Some(a) => Some(bind(a, "--metrics-listen").await?),
        None => None,
    };
    let metrics_addr = match (&metrics_listener, config.metrics_listen) {
        (Some(l), Some(a)) => Some(local_addr(l, a)?),
        _ => None,
    };
    let http_listener = match config.http_listen {
        Some(a) => Some(bind(a, "--http-listen").await?),
        None => None,
    };
    let http_addr = match (&http_listener, config.http_listen) {
        (Some(l), Some(a)) => Some(local_addr(l, a)?),
        _ => None,
    };
    let (drain_tx, draining) = tokio::sync::watch::channel(false);
    let (health, router, grpc_service) = build_router(&config, &state, draining)?;
    ready(Bound {
        grpc: addr,
        metrics: metrics_addr,
        http: http_addr,
    });
    log_start(&config, addr);
    spawn_reloaders(&state, &config, loaded);
    let http_server = http_listener.map(|l| {
        let gateway = Arc::new(Gateway {
            grpc: grpc_service,
            max_body: config.limits.max_request_bytes,
            draining: drain_tx.subscribe(),
            guardrail: config.guardrail.clone(),
            state: state.clone(),
        });
        let incoming = listener::incoming(
            l,
            listener_options(&config, Listener::Http, http_acceptor),
            metrics.clone(),
        );
        tokio::spawn(gateway::serve(
            incoming,
            gateway::routes(gateway),
            drain_tx.subscribe(),
            config.grace_period,
        ))
    });
    let metrics_server = metrics_listener.map(|l| {
        let incoming = listener::incoming(
            l,
            listener_options(&config, Listener::Metrics, None),
            metrics.clone(),
        );
        tokio::spawn(http::serve_metrics(
            incoming,
            metrics.clone(),
            drain_tx.subscribe(),
        ))
    });
    let incoming = listener::incoming(
        grpc,
        listener_options(&config, Listener::Grpc, acceptor),
        metrics,
    );
    let result = serve_until_drained(
        router,
        incoming,
        shutdown,
        Drain {
            health,
            streams: drain_tx,
            grace: config.grace_period,
        },
    )
    .await;
    if let Some(task) = http_server {
        // It drains on the same signal, within its own grace period.
        let _ = task.await;
    }
    if let Some(task) = metrics_server {
        task.abort();
    }
    result
}

/// The word lists, the scanner and everything requests share.
fn build_state(config: &Config, metrics: Arc<Metrics>) -> Result<Arc<State>, ServeError> {
    let lexicon = config.wordlists.load().map_err(ServeError::Wordlists)?;
    for w in filter_wordlists::warning_lines(&lexicon) {
        tracing::warn!(warning = %w, "word list");
    }
    metrics.lexicon(lexicon.term_count(), lexicon.categories().count());
    let shared = SharedLexicon::new(lexicon);
    let scanner = Scanner::builder()
        .lexicon(shared.clone())
        .build()
        .map_err(ServeError::Wordlists)?;
    let reloader = Reloader::new(
        shared,
        config.wordlists.clone(),
        config.limits.reload_timeout,
        metrics.clone(),
    );
    Ok(Arc::new(State {
        scanner,
        hash_key: config.hash_key.clone(),
        vault_keys: config.vault_keys.clone().into(),
        limits: config.limits.clone(),
        reloader,
        metrics,
    }))
}

async fn bind(addr: SocketAddr, setting: &'static str) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind {
            setting,
            addr,
            source,
        })
}

fn local_addr(listener: &TcpListener, asked: SocketAddr) -> Result<SocketAddr, ServeError> {
    listener.local_addr().map_err(|source| ServeError::Bind {
        setting: "--listen",
        addr: asked,
        source,
    })
}

fn listener_options(
    config: &Config,
    name: Listener,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> ListenerOptions {
    ListenerOptions {
        name,
        max_connections: config.limits.max_connections,
        handshake_timeout: config.limits.handshake_timeout,
        preface: if name == Listener::Grpc {
            H2_PREFACE_LEN
        } else {
            1
        },
        tls,
    }
}

/// The gRPC services behind the guard, and the health reporter.
fn build_router(
    config: &Config,
    state: &Arc<State>,
    draining: tokio::sync::watch::Receiver<bool>,
) -> Result<(HealthReporter, GuardedRouter, GrpcService), ServeError> {
    let limits = &config.limits;
    let (health, health_service) = tonic_health::server::health_reporter();
    // grpcurl and other tools ask v1 or the older v1alpha: serve both.
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    // The decoding limit leaves room for the other request fields; the
    // handlers check the text itself against the limit.
    let service = || {
        ContentFilterServiceServer::new(FilterService::new(state.clone()))
            .max_decoding_message_size(limits.max_request_bytes + 64 * 1024)
            .max_encoding_message_size(limits.max_response_bytes)
    };
    let guard = GuardLayer::new(
        config.auth_token.as_ref(),
        config.admin_token.as_ref(),
        limits,
        state.metrics.clone(),
        draining,
    );
    let router = Server::builder()
        .max_concurrent_streams(limits.max_streams_per_connection)
        .http2_keepalive_interval(Some(limits.keepalive_interval))
        .http2_keepalive_timeout(Some(limits.keepalive_timeout))
        // Unread request data a connection may hold: 256 KiB per stream,
        // 1 MiB per connection.
        .initial_stream_window_size(256 * 1024)
        .initial_connection_window_size(1024 * 1024)
        .http2_max_header_list_size(16 * 1024)
        .layer(guard.clone())
        .add_service(health_service)
        .add_service(reflection().build_v1()?)
        .add_service(reflection().build_v1alpha()?)
        .add_service(service());
    // The HTTP API calls the same service through the same guard.
    let in_process = tower::Layer::layer(&guard, service());
    Ok((health, router, in_process))
}

/// What the operator should know at start: where it listens, and what is
/// open to whom.
fn log_start(config: &Config, addr: SocketAddr) {
    tracing::info!(
        %addr,
        tls = config.tls.is_some(),
        auth = config.auth_token.is_some(),
        admin = config.admin_token.is_some(),
        wordlists = %config.wordlists,
        "serving"
    );
    let exposed = !addr.ip().is_loopback();
    if exposed && config.auth_token.is_none() {
        tracing::warn!(%addr, "listening beyond loopback without --auth-token-file: anyone who reaches the port can scan");
    }
    if exposed && config.tls.is_none() {
        tracing::warn!(%addr, "listening beyond loopback without TLS: prompts cross the network in plain text");
    }
    if config.auth_token.is_none() && config.admin_token.is_some() {
        tracing::warn!("only --admin-token-file is set: Scan, Redact and ScanStream need no token");
    }
    if config.admin_token.is_none() {
        tracing::info!("ReloadWordlists is disabled (no --admin-token-file); SIGHUP reloads");
    }
}

/// What draining tells, and how long it waits.
struct Drain {
    health: HealthReporter,
    /// Ends health watches and reflection streams.
    streams: tokio::sync::watch::Sender<bool>,
    grace: Duration,
}

/// Serves until `shutdown`, then drains: health goes NOT_SERVING, health
/// watches end, new connections are refused, requests in flight get the
/// grace period to finish.
async fn serve_until_drained(
    router: GuardedRouter,
    incoming: listener::Incoming,
    shutdown: impl std::future::Future<Output = &'static str>,
    drain: Drain,
) -> Result<(), ServeError> {
    let Drain {
        health,
        streams,
        grace,
    } = drain;
    health
        .set_serving::<ContentFilterServiceServer<FilterService>>()
        .await;
    health.set_service_status("", ServingStatus::Serving).await;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(router.serve_with_incoming_shutdown(incoming, async {
        let _ = stop_rx.await;
    }));
    let signal = shutdown.await;
    tracing::info!(signal, grace_ms = grace.as_millis() as u64, "draining");
    health
        .set_not_serving::<ContentFilterServiceServer<FilterService>>()
        .await;
    health
        .set_service_status("", ServingStatus::NotServing)
        .await;
    // The watches send the NOT_SERVING above before they end.
    let _ = streams.send(true);
    let _ = stop_tx.send(());
    match tokio::time::timeout(grace, serving).await {
        Ok(Ok(result)) => {
            result?;
            tracing::info!("stopped");
            Ok(())
        }
        Ok(Err(join)) => {
            tracing::error!(error = %join, "the server task failed");
            Ok(())
        }
        Err(_) => {
            tracing::warn!("grace period over with requests in flight; stopping");
            Ok(())
        }
    }
}

/// SIGHUP, and with `--watch` a poll of the directory, reload the lists.
/// `loaded` is the directory as it was before the lists were first read,
/// so a change made while the server starts is reloaded too.
fn spawn_reloaders(state: &Arc<State>, config: &Config, loaded: Option<Fingerprint>) {
    #[cfg(unix)]
    {
        let state = state.clone();
        tokio::spawn(async move {
            use tokio::signal::unix::{signal, SignalKind};
            let Ok(mut hup) = signal(SignalKind::hangup()) else {
                return;
            };
            while hup.recv().await.is_some() {
                tracing::info!("SIGHUP: reloading word lists");
                let _ = state.reloader.reload().await;
            }
        });
    }
    if let (true, Wordlists::Dir(dir)) = (config.watch, &config.wordlists) {
        let state = state.clone();
        let dir = dir.clone();
        let Some(mut last) = loaded else { return };
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(2)).await;
                let now = fingerprint(&dir);
                if now != last {
                    tracing::info!("word-list directory changed: reloading");
                    let _ = state.reloader.reload().await;
                    last = now;
                }
            }
        });
    }
}

/// Names, sizes and modification times of the entries of a directory:
/// of what a symlink points to, and of the symlink itself.
type Fingerprint = Vec<(
    std::ffi::OsString,
    u64,
    Option<SystemTime>,
    Option<SystemTime>,
)>;

/// The [`Fingerprint`] of a directory as it is now. Symlinks are followed,
/// so an edit of a linked file is seen, and a Kubernetes ConfigMap volume's
/// update (the `..data` symlink renamed onto a new directory) changes the
/// link's own time as well.
fn fingerprint(dir: &std::path::Path) -> Fingerprint {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let own = e.metadata().ok()?;
            let target = std::fs::metadata(e.path()).unwrap_or_else(|_| own.clone());
            Some((
                e.file_name(),
                target.len(),
                target.modified().ok(),
                own.modified().ok(),
            ))
        })
        .collect();
    v.sort();
    v
}

/// Installs the SIGTERM and SIGINT handlers now; the future returned
/// waits for either and names it.
fn shutdown_signal() -> impl std::future::Future<Output = &'static str> {
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
            return tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = interrupt.recv() => "SIGINT",
            };
        }
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}
