//! Accept loop serving an axum router over HTTP/1.1, with a per-connection abort handle so faults can
//! really cut a connection (a TCP reset, seen by clients as a transport error).

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

/// Request extension: aborts the connection the request arrived on.
#[derive(Clone, Default)]
pub(crate) struct ConnAbort {
    inner: Arc<AbortInner>,
}

#[derive(Default)]
struct AbortInner {
    notify: Notify,
    aborted: AtomicBool,
}

impl ConnAbort {
    /// Drops the connection with a TCP reset as soon as the connection task notices.
    pub fn abort(&self) {
        self.inner.aborted.store(true, Ordering::SeqCst);
        self.inner.notify.notify_one();
    }
}

/// The TCP stream, set to reset (zero linger) on drop when the connection was aborted.
struct AbortableIo {
    stream: TcpStream,
    abort: ConnAbort,
}

impl Drop for AbortableIo {
    fn drop(&mut self) {
        if self.abort.inner.aborted.load(Ordering::SeqCst) {
            let _ = self.stream.set_zero_linger();
        }
    }
}

impl AsyncRead for AbortableIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for AbortableIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Binds `ip:port` (0: any free port).
pub(crate) async fn bind(ip: IpAddr, port: u16) -> io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind((ip, port)).await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

/// The base URL clients use for a bound address: an unspecified address (`0.0.0.0`, `::`) is reached
/// on loopback.
pub(crate) fn url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// Serves `router` on `listener` until `shutdown` flips to true.
pub(crate) fn spawn(
    listener: TcpListener,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                _ = shutdown.changed() => break,
            };
            let Ok((stream, _peer)) = accepted else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let abort = ConnAbort::default();
            let svc =
                TowerToHyperService::new(router.clone().layer(axum::Extension(abort.clone())));
            let io = TokioIo::new(AbortableIo {
                stream,
                abort: abort.clone(),
            });
            let mut conn_shutdown = shutdown.clone();
            tokio::spawn(async move {
                let conn = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(io, svc);
                tokio::select! {
                    _ = conn => {}
                    _ = abort.inner.notify.notified() => {}
                    _ = conn_shutdown.changed() => {}
                }
            });
        }
    })
}
