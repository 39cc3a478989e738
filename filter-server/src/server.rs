//! Running the service: bind, serve, reload on SIGHUP or change, drain on
//! SIGTERM/SIGINT.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use filter_core::{Lexicon, Scanner, SharedLexicon};
use tokio::net::TcpListener;
use tokio::sync::{Mutex, Semaphore};
use tokio_stream::wrappers::{ReceiverStream, TcpListenerStream};
use tonic::transport::Server;
use tonic_health::ServingStatus;

use crate::config::Config;
use crate::guard::GuardLayer;
use crate::metrics::{self, Metrics};
use crate::proto::content_filter_server::ContentFilterServer;
use crate::service::{FilterService, Reloader, State};
use crate::{proto, tls};

/// How the server run ended badly.
#[derive(Debug)]
pub enum ServeError {
    /// Before binding: configuration, word lists, TLS files, the address.
    Startup(String),
    /// While serving.
    Runtime(String),
}

/// Loads everything, binds, and serves until SIGTERM or SIGINT.
pub async fn run(config: Config) -> Result<(), ServeError> {
    run_until(config, shutdown_signal(), |addr, metrics| {
        // The line tests and scripts wait for: the address actually bound.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "filter-server listening on {addr}");
        if let Some(m) = metrics {
            let _ = writeln!(out, "filter-server metrics on http://{m}/metrics");
        }
        let _ = out.flush();
    })
    .await
}

/// [`run`] with the stop signal and the report of the bound addresses
/// (gRPC, metrics) supplied by the caller, for in-process use such as the
/// load benchmark.
pub async fn run_until(
    config: Config,
    shutdown: impl std::future::Future<Output = &'static str>,
    ready: impl FnOnce(std::net::SocketAddr, Option<std::net::SocketAddr>),
) -> Result<(), ServeError> {
    let lexicon =
        Lexicon::from_dir(&config.wordlists).map_err(|e| ServeError::Startup(e.to_string()))?;
    for w in lexicon.warnings() {
        tracing::warn!(warning = %w, "word list");
    }
    let acceptor = config
        .tls
        .as_ref()
        .map(tls::acceptor)
        .transpose()
        .map_err(ServeError::Startup)?;
    let metrics = Arc::new(Metrics::default());
    metrics.lexicon(lexicon.term_count(), lexicon.categories().count());
    let shared = SharedLexicon::new(lexicon);
    let scanner = Scanner::builder()
        .lexicon(shared)
        .build()
        .map_err(|e| ServeError::Startup(e.to_string()))?;
    let scanner_lexicon = scanner.lexicon().expect("built with a lexicon").clone();
    let state = Arc::new(State {
        scanner,
        wordlists: config.wordlists.clone(),
        hash_key: config.hash_key.clone(),
        max_request_bytes: config.max_request_bytes,
        permits: Semaphore::new(config.max_concurrent),
        reload_lock: Mutex::new(()),
        reloader: Reloader::start(scanner_lexicon),
        metrics: metrics.clone(),
    });

    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| ServeError::Startup(format!("--listen {}: {e}", config.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| ServeError::Startup(e.to_string()))?;
    let metrics_addr = match config.metrics_listen {
        Some(m) => {
            let l = metrics::bind(m)
                .await
                .map_err(|e| ServeError::Startup(format!("--metrics-listen {m}: {e}")))?;
            let a = l
                .local_addr()
                .map_err(|e| ServeError::Startup(e.to_string()))?;
            tokio::spawn(metrics::serve(l, metrics.clone()));
            Some(a)
        }
        None => None,
    };

    let (health, health_service) = tonic_health::server::health_reporter();
    // grpcurl and other tools ask v1 or the older v1alpha: serve both.
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_v1 = reflection()
        .build_v1()
        .map_err(|e| ServeError::Startup(e.to_string()))?;
    let reflection_v1alpha = reflection()
        .build_v1alpha()
        .map_err(|e| ServeError::Startup(e.to_string()))?;
    // The decoding limit leaves room for the other request fields; the
    // handlers check the text itself against the limit.
    let service = ContentFilterServer::new(FilterService::new(state.clone()))
        .max_decoding_message_size(config.max_request_bytes + 64 * 1024)
        .max_encoding_message_size(usize::MAX);
    let router = Server::builder()
        .timeout(config.request_timeout)
        .layer(GuardLayer::new(
            config.auth_token.clone(),
            config.admin_token.clone(),
            config.max_request_bytes,
        ))
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(service);
    health
        .set_serving::<ContentFilterServer<FilterService>>()
        .await;
    health.set_service_status("", ServingStatus::Serving).await;

    ready(addr, metrics_addr);
    tracing::info!(
        %addr,
        tls = config.tls.is_some(),
        auth = config.auth_token.is_some(),
        wordlists = %config.wordlists.display(),
        "serving"
    );

    spawn_reloaders(&state, &config);

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let stopped = async {
        let _ = stop_rx.await;
    };
    let serving = match acceptor {
        None => tokio::spawn(
            router.serve_with_incoming_shutdown(TcpListenerStream::new(listener), stopped),
        ),
        Some(acceptor) => {
            let incoming = tls_incoming(listener, acceptor);
            tokio::spawn(router.serve_with_incoming_shutdown(incoming, stopped))
        }
    };

    let signal = shutdown.await;
    tracing::info!(
        signal,
        grace_ms = config.grace_period.as_millis() as u64,
        "draining"
    );
    health
        .set_not_serving::<ContentFilterServer<FilterService>>()
        .await;
    health
        .set_service_status("", ServingStatus::NotServing)
        .await;
    let _ = stop_tx.send(());
    match tokio::time::timeout(config.grace_period, serving).await {
        Ok(Ok(Ok(()))) => {
            tracing::info!("stopped");
            Ok(())
        }
        Ok(Ok(Err(e))) => Err(ServeError::Runtime(e.to_string())),
        Ok(Err(e)) => Err(ServeError::Runtime(e.to_string())),
        Err(_) => {
            tracing::warn!("grace period over with requests in flight; stopping");
            Ok(())
        }
    }
}

/// TLS handshakes run concurrently, bounded in time; a failed one (an old
/// protocol version, a bad client certificate) drops that connection only.
fn tls_incoming(
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
) -> ReceiverStream<Result<tokio_rustls::server::TlsStream<tokio::net::TcpStream>, std::io::Error>>
{
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, peer)) = listener.accept().await else {
                continue;
            };
            let (acceptor, tx) = (acceptor.clone(), tx.clone());
            tokio::spawn(async move {
                match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => {
                        let _ = tx.send(Ok(tls)).await;
                    }
                    Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                }
            });
        }
    });
    ReceiverStream::new(rx)
}

/// SIGHUP, and with `--watch` a poll of the directory, reload the lists.
fn spawn_reloaders(state: &Arc<State>, config: &Config) {
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
                state.reload().await;
            }
        });
    }
    if config.watch {
        let state = state.clone();
        let dir = config.wordlists.clone();
        tokio::spawn(async move {
            let mut last = fingerprint(&dir);
            loop {
                tokio::time::sleep(Duration::from_secs(2)).await;
                let now = fingerprint(&dir);
                if now != last {
                    tracing::info!("word-list directory changed: reloading");
                    state.reload().await;
                    last = now;
                }
            }
        });
    }
}

/// Names, sizes and modification times of the files of a directory.
fn fingerprint(dir: &std::path::Path) -> Vec<(std::ffi::OsString, u64, Option<SystemTime>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            Some((e.file_name(), m.len(), m.modified().ok()))
        })
        .collect();
    v.sort();
    v
}

/// Waits for SIGTERM or SIGINT and names it.
async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = tokio::signal::ctrl_c() => "SIGINT",
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}
