//! Accepting connections, with limits, for every listener of the server
//! (gRPC, metrics): no listener accepts in a way a client can abuse.
//!
//! * `TCP_NODELAY` on every connection: without it a response written in
//!   two pieces waits for the client's delayed ACK (40 ms on Linux).
//! * A cap on open connections: past it a new connection is closed at once.
//! * A handshake deadline: the TLS handshake and the first bytes of the
//!   protocol (the HTTP/2 preface) must arrive within it, so a connection
//!   that says nothing does not hold its place.
//! * An accept loop that backs off on errors: with the file-descriptor
//!   table full, `accept` fails at once, and retrying at once would spin.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_stream::Stream;
use tonic::transport::server::{Connected, TcpConnectInfo};

use crate::metrics::{Listener, Metrics};

/// How one listener accepts connections.
#[derive(Clone)]
pub struct ListenerOptions {
    /// Which listener this is, for metrics and logs.
    pub name: Listener,
    /// Connections open at once; more are closed when accepted.
    pub max_connections: usize,
    /// Time a new connection gets for its TLS handshake and its first
    /// `preface` bytes.
    pub handshake_timeout: Duration,
    /// Bytes that must arrive within the handshake timeout: 24, the HTTP/2
    /// connection preface, for gRPC; 1 for HTTP/1.1, whose server has its
    /// own header timeout.
    pub preface: usize,
    /// TLS, when on.
    pub tls: Option<TlsAcceptor>,
}

/// The HTTP/2 client connection preface (RFC 9113, section 3.4).
pub const H2_PREFACE_LEN: usize = 24;

/// The connections of a listener, ready for HTTP: a stream that ends when
/// the listener stops (it stops when the stream is dropped).
pub struct Incoming {
    rx: mpsc::Receiver<Conn>,
}

impl Stream for Incoming {
    type Item = Result<Conn, io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx).map(|c| c.map(Ok))
    }
}

/// Starts accepting on `listener`.
pub fn incoming(
    listener: TcpListener,
    options: ListenerOptions,
    metrics: Arc<Metrics>,
) -> Incoming {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(accept_loop(listener, options, metrics, tx));
    Incoming { rx }
}

async fn accept_loop(
    listener: TcpListener,
    options: ListenerOptions,
    metrics: Arc<Metrics>,
    tx: mpsc::Sender<Conn>,
) {
    let permits = Arc::new(Semaphore::new(options.max_connections));
    let mut backoff = Backoff::default();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = tx.closed() => return,
        };
        let (tcp, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                backoff.failed(options.name, &e).await;
                continue;
            }
        };
        backoff.reset();
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            metrics.connection_refused(options.name);
            tracing::debug!(listener = options.name.as_str(), %peer, "connection cap reached; closing");
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let (options, metrics, tx) = (options.clone(), metrics.clone(), tx.clone());
        tokio::spawn(async move {
            match tokio::time::timeout(options.handshake_timeout, establish(tcp, &options)).await {
                Ok(Ok((io, prefix))) => {
                    let conn = Conn::new(io, prefix, permit, &metrics, options.name);
                    let _ = tx.send(conn).await;
                }
                Ok(Err(e)) => {
                    tracing::debug!(listener = options.name.as_str(), %peer, error = %e, "handshake failed")
                }
                Err(_) => {
                    metrics.handshake_timeout(options.name);
                    tracing::debug!(listener = options.name.as_str(), %peer, "handshake timed out");
                }
            }
        });
    }
}

/// The TLS handshake (when on) and the first bytes of the protocol.
async fn establish(tcp: TcpStream, options: &ListenerOptions) -> io::Result<(Io, Vec<u8>)> {
    let mut io = match &options.tls {
        None => Io::Plain(tcp),
        Some(acceptor) => Io::Tls(Box::new(acceptor.accept(tcp).await?)),
    };
    let mut prefix = vec![0; options.preface];
    io.read_exact(&mut prefix).await?;
    Ok((io, prefix))
}

/// Sleeps after a failed `accept`, longer each time in a row, and says so
/// in the log at most every ten seconds.
#[derive(Default)]
struct Backoff {
    delay: Duration,
    failures: u64,
    last_log: Option<Instant>,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(5);
    const MOST: Duration = Duration::from_secs(1);

    async fn failed(&mut self, listener: Listener, error: &io::Error) {
        self.failures += 1;
        if self
            .last_log
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(10))
        {
            tracing::warn!(
                listener = listener.as_str(),
                error = %error,
                failures = self.failures,
                "accept failed; backing off"
            );
            self.last_log = Some(Instant::now());
        }
        self.delay = (self.delay * 2).clamp(Self::FIRST, Self::MOST);
        tokio::time::sleep(self.delay).await;
    }

    fn reset(&mut self) {
        self.delay = Duration::ZERO;
    }
}

enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Io {
    fn tcp(&self) -> &TcpStream {
        match self {
            Io::Plain(t) => t,
            Io::Tls(t) => t.get_ref().0,
        }
    }
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(t) => Pin::new(t).poll_read(cx, buf),
            Io::Tls(t) => Pin::new(t.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(t) => Pin::new(t).poll_write(cx, buf),
            Io::Tls(t) => Pin::new(t.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(t) => Pin::new(t).poll_flush(cx),
            Io::Tls(t) => Pin::new(t.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(t) => Pin::new(t).poll_shutdown(cx),
            Io::Tls(t) => Pin::new(t.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(t) => Pin::new(t).poll_write_vectored(cx, bufs),
            Io::Tls(t) => Pin::new(t.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Io::Plain(t) => t.is_write_vectored(),
            Io::Tls(t) => t.is_write_vectored(),
        }
    }
}

/// An accepted connection: the bytes read during the handshake are read
/// again first; its place under the connection cap is held until it
/// closes.
pub struct Conn {
    io: Io,
    prefix: Vec<u8>,
    at: usize,
    info: TcpConnectInfo,
    _open: OpenConn,
}

impl Conn {
    fn new(
        io: Io,
        prefix: Vec<u8>,
        permit: OwnedSemaphorePermit,
        metrics: &Arc<Metrics>,
        listener: Listener,
    ) -> Conn {
        let tcp = io.tcp();
        let info = TcpConnectInfo {
            local_addr: tcp.local_addr().ok(),
            remote_addr: tcp.peer_addr().ok(),
        };
        metrics.connection_opened(listener, 1);
        Conn {
            io,
            prefix,
            at: 0,
            info,
            _open: OpenConn {
                _permit: permit,
                metrics: metrics.clone(),
                listener,
            },
        }
    }
}

/// Counts a connection open while it lives, and holds its permit.
struct OpenConn {
    _permit: OwnedSemaphorePermit,
    metrics: Arc<Metrics>,
    listener: Listener,
}

impl Drop for OpenConn {
    fn drop(&mut self) {
        self.metrics.connection_opened(self.listener, -1);
    }
}

impl Connected for Conn {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.info.clone()
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.at < this.prefix.len() {
            let n = (this.prefix.len() - this.at).min(buf.remaining());
            buf.put_slice(&this.prefix[this.at..this.at + n]);
            this.at += n;
            if this.at == this.prefix.len() {
                this.prefix = Vec::new();
                this.at = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;
    use tokio_stream::StreamExt;

    /// Regression: the server's sockets had Nagle's algorithm on, so an
    /// answer written in two pieces waited for the client's delayed ACK
    /// (41 ms a Scan with a large answer, against 0.2 ms). Checked on the
    /// socket itself, not by timing calls.
    #[tokio::test]
    async fn accepted_connections_have_nagle_off() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let options = ListenerOptions {
            name: Listener::Grpc,
            max_connections: 4,
            handshake_timeout: Duration::from_secs(5),
            preface: H2_PREFACE_LEN,
            tls: None,
        };
        let mut incoming = incoming(listener, options, Arc::new(Metrics::default()));
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(&[b'P'; H2_PREFACE_LEN]).await.unwrap();
        let conn = tokio::time::timeout(Duration::from_secs(5), incoming.next())
            .await
            .expect("the connection is accepted")
            .unwrap()
            .unwrap();
        assert!(conn.io.tcp().nodelay().unwrap(), "TCP_NODELAY is set");
    }
}
