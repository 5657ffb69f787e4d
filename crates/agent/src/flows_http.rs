//! `GET /flows` and `GET /flows/stream` (the API contract in docs/flows.md).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use futures::stream;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Bytes, Frame};
use hyper::{Response, StatusCode};
use palisade_flowlog::{parse_since, FlowRecord, Query};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch as signal;

use crate::flows::Flows;

pub type Body = BoxBody<Bytes, Infallible>;

/// A comment line every 15 s keeps proxies from closing an idle stream.
pub const KEEPALIVE: Duration = Duration::from_secs(15);

/// Parses `namespace`, `since` (RFC 3339 or unix ms) and `limit`.
pub fn query(raw: Option<&str>) -> Result<Query, String> {
    let mut q = Query::default();
    for pair in raw.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = decode(value);
        match key {
            "namespace" => q.namespace = Some(value),
            "since" => q.since_ms = Some(parse_since(&value).map_err(|e| format!("since: {e}"))?),
            "limit" => {
                let n = value
                    .parse()
                    .map_err(|_| format!("limit: expected a number, got {value:?}"))?;
                q.limit = Some(n);
            }
            other => {
                return Err(format!(
                    "unknown parameter {other:?} (namespace, since, limit)"
                ))
            }
        }
    }
    Ok(q)
}

/// Percent-decoding of a query value (`+` is a space).
fn decode(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `GET /flows`.
pub fn list(flows: &Flows, raw_query: Option<&str>) -> Response<Body> {
    let q = match query(raw_query) {
        Ok(q) => q,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("{e}\n")),
    };
    match flows.query(&q) {
        Ok(records) => {
            let body = serde_json::json!({ "flows": records }).to_string();
            respond(StatusCode::OK, "application/json", full(body))
        }
        Err(why) => text(StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")),
    }
}

/// `GET /flows/stream`: server-sent events, one `flow` event per record.
pub fn stream(
    flows: &Arc<Flows>,
    raw_query: Option<&str>,
    stop: signal::Receiver<bool>,
) -> Response<Body> {
    let q = match query(raw_query) {
        Ok(q) => Query {
            since_ms: None,
            limit: None,
            ..q
        },
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("{e}\n")),
    };
    let rx = flows.subscribe();
    let events = stream::unfold((rx, q, stop), |(mut rx, q, mut stop)| async move {
        loop {
            let keepalive = tokio::time::sleep(KEEPALIVE);
            let chunk = tokio::select! {
                r = rx.recv() => match r {
                    Ok(r) if q.matches(&r) => event(&r),
                    Ok(_) | Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                },
                _ = keepalive => ": keepalive\n\n".to_string(),
                _ = stop.wait_for(|s| *s) => return None,
            };
            return Some((Ok(Frame::data(Bytes::from(chunk))), (rx, q, stop)));
        }
    });
    // The first bytes go out at once, so clients see the stream is open.
    let hello = stream::once(async { Ok(Frame::data(Bytes::from(": flows\n\n"))) });
    let body = StreamBody::new(futures::StreamExt::chain(hello, events));
    let mut r = respond(StatusCode::OK, "text/event-stream", BodyExt::boxed(body));
    r.headers_mut().insert(
        hyper::header::CACHE_CONTROL,
        hyper::header::HeaderValue::from_static("no-cache"),
    );
    r
}

/// `event: flow` + `data: RECORD` + blank line.
pub fn event(r: &FlowRecord) -> String {
    format!("event: flow\ndata: {}\n\n", r.to_json())
}

pub fn full(body: String) -> Body {
    Full::new(Bytes::from(body)).boxed()
}

pub fn text(status: StatusCode, body: String) -> Response<Body> {
    respond(status, "text/plain; charset=utf-8", full(body))
}

pub fn respond(status: StatusCode, content_type: &'static str, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters() {
        let q = query(Some(
            "namespace=ns-1&since=2026-11-24T20%3A00%3A00Z&limit=5",
        ))
        .unwrap();
        assert_eq!(q.namespace.as_deref(), Some("ns-1"));
        assert_eq!(q.since_ms, Some(1_795_550_400_000));
        assert_eq!(q.limit, Some(5));
        assert_eq!(
            query(Some("since=1795550400000")).unwrap().since_ms,
            Some(1_795_550_400_000)
        );
        assert!(query(Some("since=yesterday")).is_err());
        assert!(query(Some("limit=x")).is_err());
        assert!(query(Some("colour=red")).is_err());
        assert_eq!(query(None).unwrap(), Query::default());
        assert_eq!(decode("a%2Fb+c%"), "a/b c%");
    }
}
