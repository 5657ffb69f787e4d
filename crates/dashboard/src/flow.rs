//! `GET /flows` and `GET /flows/stream`, the denied-flow API of
//! docs/flows.md, answered the same way on the dashboard's listener and on
//! the agent's `--listen` endpoint (which calls [`respond`]). The records
//! and the query are `palisade-flowlog`'s: one type for the kernel reader,
//! the agent's log, the lab's `events.jsonl` and the page.
//!
//! ```json
//! {"time":"2026-11-24T20:00:00.123Z","mode":"deny","direction":"ingress","protocol":"TCP",
//!  "src":{"namespace":"ns-1","pod":"busybox","ip":"10.0.0.5","port":41234},
//!  "dst":{"namespace":"ns-1","pod":"http-echo","ip":"10.0.0.6","port":80},
//!  "policies":["ns-1/deny-all-by-default"]}
//! ```

use hyper::{Response, StatusCode};
pub use palisade_flowlog::{FlowEndpoint, FlowRecord, Mode, Query};
use tokio::sync::{broadcast, watch};

use crate::http::{json_reply, text, to_json, Body};
use crate::query::parse_query;
use crate::sse;

/// Answers `path` if it is `/flows` or `/flows/stream` (else `None`):
/// `held` gives the records matching a query, oldest first, or the reason
/// there are none to give (`503`, e.g. the flow-log reader is not
/// running); `subscribe` gives every record from now on; a stream ends when
/// `stop` turns true. A bad query is a `400` naming the parameter.
pub fn respond(
    path: &str,
    raw_query: Option<&str>,
    held: impl FnOnce(&Query) -> Result<Vec<FlowRecord>, String>,
    subscribe: impl FnOnce() -> broadcast::Receiver<FlowRecord>,
    stop: &watch::Receiver<bool>,
) -> Option<Response<Body>> {
    if path != "/flows" && path != "/flows/stream" {
        return None;
    }
    let q = match Query::from_pairs(&parse_query(raw_query)) {
        Ok(q) => q,
        Err(e) => return Some(text(StatusCode::BAD_REQUEST, format!("{e}\n"))),
    };
    Some(match path {
        "/flows" => match held(&q) {
            Ok(records) => json_reply(
                StatusCode::OK,
                to_json(serde_json::json!({ "flows": records })),
            ),
            Err(why) => text(StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")),
        },
        // A stream has no past: `since` and `limit` do not apply.
        _ => sse::reply(sse::stream(
            subscribe(),
            Query {
                since_ms: None,
                limit: None,
                ..q
            },
            stop.clone(),
        )),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use palisade_flowlog::{parse_since, Timestamp};
    use palisade_model::Direction;

    pub(crate) fn record(time: &str, src_ns: Option<&str>, dst_ns: &str) -> FlowRecord {
        FlowRecord {
            time: Timestamp(parse_since(time).unwrap()),
            mode: Mode::Deny,
            direction: Direction::Ingress,
            protocol: "TCP".into(),
            src: FlowEndpoint {
                namespace: src_ns.map(Into::into),
                pod: src_ns.map(|_| "busybox".into()),
                ip: "10.244.1.11".parse().unwrap(),
                port: Some(41234),
            },
            dst: FlowEndpoint {
                namespace: Some(dst_ns.into()),
                pod: Some("http-echo".into()),
                ip: "10.244.1.10".parse().unwrap(),
                port: Some(80),
            },
            policies: vec![format!("{dst_ns}/deny-all-by-default")],
        }
    }
}
