//! The accept loop both HTTP surfaces share: the dashboard's listener and
//! the agent's `--listen` endpoint (which serves its own routes with
//! [`serve`]). hyper 1, HTTP/1.1, one task per connection, and limits:
//!
//! - at most [`Limits::max_connections`] connections at a time: past it no
//!   connection is accepted (new ones wait in the kernel's listen backlog)
//!   until one ends;
//! - a request head must arrive within [`Limits::header_read_timeout`] of
//!   the connection being ready for it (a new connection, or an idle
//!   keep-alive one): a client sending a head byte by byte, or nothing, is
//!   disconnected then;
//! - a response that makes no write progress for [`Limits::write_stall`]
//!   ends its connection (a client that never reads);
//! - request heads are limited to [`Limits::max_head_bytes`]; no route reads
//!   a request body (every route is a `GET`);
//! - an accept error (`EMFILE`, `ENFILE`, `ENOBUFS`...) is logged once and
//!   retried every [`ACCEPT_BACKOFF`] instead of at once, which would spin
//!   a core while the process is out of file descriptors.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::time::{sleep, Instant, Sleep};

use crate::http::Body;

/// How long the loop waits after an accept error before accepting again.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The limits of one listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once; more wait to be accepted. Live streams
    /// (`/flows/stream`) hold theirs for as long as they run.
    pub max_connections: usize,
    /// A request head (request line and headers) must be read within this.
    pub header_read_timeout: Duration,
    /// A response write making no progress for this long ends the connection.
    pub write_stall: Duration,
    /// The largest request head read (hyper's read buffer, at least 8 KiB).
    pub max_head_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 64,
            header_read_timeout: Duration::from_secs(10),
            write_stall: Duration::from_secs(30),
            max_head_bytes: 64 * 1024,
        }
    }
}

/// Serves `listener` with `handle(request, peer)` until `stop` turns true.
pub async fn serve<H, F>(
    listener: TcpListener,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
    handle: H,
) where
    H: Fn(Request<Incoming>, SocketAddr) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut failing = false;
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            _ = stop.wait_for(|s| *s) => return,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|s| *s) => return,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            // The client gave up before we accepted: nothing to wait for.
            Err(e) if per_connection(&e) => continue,
            Err(e) => {
                if !failing {
                    tracing::warn!(error = %e, "cannot accept connections; retrying every {ACCEPT_BACKOFF:?}");
                    failing = true;
                }
                tokio::select! {
                    _ = sleep(ACCEPT_BACKOFF) => continue,
                    _ = stop.wait_for(|s| *s) => return,
                }
            }
        };
        if failing {
            tracing::info!("accepting connections again");
            failing = false;
        }
        let handle = handle.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let service = service_fn(move |req| {
                let response = handle(req, peer);
                async move { Ok::<_, Infallible>(response.await) }
            });
            let io = TokioIo::new(Stalling::new(stream, limits.write_stall));
            let served = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .max_buf_size(limits.max_head_bytes.max(8192))
                .serve_connection(io, service)
                .await;
            // A client that goes away, or too slowly, is not our error.
            if let Err(e) = served {
                tracing::debug!(%peer, error = %e, "http connection ended");
            }
        });
    }
}

/// Errors about the one connection being accepted, not the listener.
fn per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

/// A stream whose writes fail with `TimedOut` after making no progress for
/// `stall` (the peer's receive window stays full).
struct Stalling {
    inner: TcpStream,
    stall: Duration,
    deadline: Option<Pin<Box<Sleep>>>,
}

impl Stalling {
    fn new(inner: TcpStream, stall: Duration) -> Self {
        Self {
            inner,
            stall,
            deadline: None,
        }
    }

    /// After a write that returned `Pending`: fails once stalled too long.
    fn check(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let stall = self.stall;
        let deadline = self
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(Instant::now() + stall)));
        match deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client reads nothing",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for Stalling {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Stalling {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Pending => self.check(cx),
            done => {
                self.deadline = None;
                done
            }
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write_vectored(cx, bufs) {
            Poll::Pending => self.check(cx),
            done => {
                self.deadline = None;
                done
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
