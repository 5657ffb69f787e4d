//! `GET /flows/stream`: server-sent events, `event: flow` / `data: RECORD`
//! per record, from a broadcast receiver, filtered by namespace; `: flows`
//! at once (clients see the stream is open), `: keepalive` every 15 s, and
//! `event: lagged` / `data: {"missed":N}` when a slow client fell behind.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::{Body, Bytes, Frame};
use hyper::{Response, StatusCode};
use tokio::sync::{broadcast, mpsc, watch};

use crate::flow::{FlowRecord, Query};
use crate::http::reply as http_reply;

/// A comment line every this often keeps proxies from closing an idle stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// A response body fed by a channel; ends when the sender is dropped.
#[derive(Debug)]
pub struct ChannelBody(mpsc::Receiver<Bytes>);

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|b| b.map(|b| Ok(Frame::data(b))))
    }
}

/// One event in the wire format.
pub fn event(name: &str, data: &str) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {data}\n\n"))
}

/// The stream of `rx`'s records that pass `query`'s namespace filter. The
/// forwarding task ends when the client goes away, the sender is dropped
/// or `stop` turns true (the server is shutting down).
pub fn stream(
    mut rx: broadcast::Receiver<FlowRecord>,
    query: Query,
    mut stop: watch::Receiver<bool>,
) -> ChannelBody {
    let (tx, body) = mpsc::channel(64);
    tokio::spawn(async move {
        if tx.send(Bytes::from_static(b": flows\n\n")).await.is_err() {
            return;
        }
        loop {
            let chunk = tokio::select! {
                got = rx.recv() => match got {
                    Ok(r) if query.matches(&r) => flow_event(&r),
                    Ok(_) => continue,
                    Err(broadcast::error::RecvError::Lagged(n)) => event("lagged", &format!("{{\"missed\":{n}}}")),
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = tokio::time::sleep(KEEP_ALIVE) => Bytes::from_static(b": keepalive\n\n"),
                _ = tx.closed() => return,
                _ = stop.wait_for(|s| *s) => return,
            };
            if tx.send(chunk).await.is_err() {
                return;
            }
        }
    });
    ChannelBody(body)
}

fn flow_event(r: &FlowRecord) -> Bytes {
    event("flow", &r.to_json())
}

/// The `200 text/event-stream` response carrying `body`.
pub fn reply(body: ChannelBody) -> Response<crate::http::Body> {
    http_reply(StatusCode::OK, "text/event-stream", body.boxed())
}
