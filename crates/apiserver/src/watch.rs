//! Watches: a chunked stream of `{"type":..., "object":...}` lines.
//!
//! From `resourceVersion` 0 or none, the current objects first as
//! synthetic `ADDED` (what `kubectl get NAME -w` expects and suppresses);
//! from any other, the changes after it from the store's history (410
//! Expired when the history no longer reaches it). Objects entering or
//! leaving a selector are `ADDED` / `DELETED`, as upstream. Bookmarks
//! when asked, and the stream ends at `timeoutSeconds`.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::Response;
use palisade_apimachinery::status::Result;
use palisade_apimachinery::store::{Event, EventType, ObjectKey};
use palisade_apimachinery::table::{self, IncludeObject};
use palisade_apimachinery::{time, Resource, Status};
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc};

use crate::http::{selectors, wants_table, Body, Selectors, Target, TABLE};
use crate::route::Query;
use crate::Server;

/// How often a bookmark is sent when asked for.
const BOOKMARK_EVERY: Duration = Duration::from_secs(10);
/// The longest a watch runs without `timeoutSeconds` (upstream: 30-60 min).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

struct Watch {
    r: Resource,
    kind: usize,
    namespace: Option<String>,
    selectors: Selectors,
    table: Option<IncludeObject>,
    /// Objects the client holds (passed the selectors last time).
    held: HashSet<ObjectKey>,
    headers_sent: bool,
}

impl Watch {
    fn in_scope(&self, key: &ObjectKey) -> bool {
        key.kind == self.kind
            && self
                .namespace
                .as_ref()
                .is_none_or(|ns| *ns == key.namespace)
    }

    fn passes(&self, obj: &Value) -> bool {
        self.selectors
            .0
            .as_ref()
            .is_none_or(|l| l.matches_object(obj))
            && self.selectors.1.as_ref().is_none_or(|f| f.matches(obj))
    }

    /// The line for an event, if the client is to see it.
    fn line(&mut self, e: &Event) -> Option<Bytes> {
        if !self.in_scope(&e.key) {
            return None;
        }
        let passes = e.ty != EventType::Deleted && self.passes(&e.object);
        let held = self.held.contains(&e.key);
        let ty = match (e.ty, held, passes) {
            (EventType::Deleted, true, _) => EventType::Deleted,
            // Not known to be held (a replay from a resourceVersion):
            // its last state decides.
            (EventType::Deleted, false, _) if self.passes(&e.object) => EventType::Deleted,
            (EventType::Deleted, false, _) => return None,
            (_, false, true) => EventType::Added,
            (_, true, true) => e.ty,
            // It no longer passes the selectors: gone for this client.
            (_, true, false) => EventType::Deleted,
            (_, false, false) => return None,
        };
        if ty == EventType::Deleted {
            self.held.remove(&e.key);
        } else {
            self.held.insert(e.key.clone());
        }
        Some(self.encode(ty.as_str(), &e.object))
    }

    fn encode(&mut self, ty: &str, obj: &Value) -> Bytes {
        let object = match self.table {
            Some(include) => {
                let rv = palisade_apimachinery::store::resource_version(obj);
                let headers = !std::mem::replace(&mut self.headers_sent, true);
                table::table(&self.r, [obj], rv, time::now(), include, headers)
            }
            None => obj.clone(),
        };
        event_line(ty, &object)
    }

    fn bookmark(&self, rv: u64) -> Bytes {
        let obj = json!({"kind": self.r.kind, "apiVersion": self.r.api_version(),
                         "metadata": {"resourceVersion": rv.to_string(),
                                      "annotations": {"k8s.io/initial-events-end": "true"}}});
        event_line("BOOKMARK", &obj)
    }
}

/// One line of the stream: `{"type": ..., "object": ...}`.
fn event_line(ty: &str, object: &Value) -> Bytes {
    let mut line = serde_json::to_vec(&json!({"type": ty, "object": object})).unwrap_or_default();
    line.push(b'\n');
    Bytes::from(line)
}

fn error_line(s: &Status) -> Bytes {
    event_line("ERROR", &s.to_json())
}

/// Starts a watch and returns its streaming reply.
pub fn serve(
    server: &Arc<Server>,
    t: &Target,
    query: &Query,
    accept: &str,
) -> Result<Response<Body>> {
    let api = server.api.clone();
    let r = *api.resource(t.kind);
    let table =
        wants_table(accept).then(|| IncludeObject::parse(query.get("includeObject").unwrap_or("")));
    let mut w = Watch {
        r,
        kind: t.kind,
        namespace: t.namespace.clone(),
        selectors: selectors(query)?,
        table,
        held: HashSet::new(),
        headers_sent: false,
    };
    if let Some(name) = &t.name {
        // A watch of one object is a field selector on its name.
        let f =
            palisade_apimachinery::selector::FieldSelector::parse(&format!("metadata.name={name}"))
                .map_err(|e| Status::bad_request(e.to_string()))?;
        w.selectors.1 = Some(f);
    }
    let from = query.number("resourceVersion").unwrap_or(0);
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let mut first: Vec<Bytes> = vec![];
    let mut expired = false;
    let (sub, current) = {
        let (sub, current, store) = api.subscribe_at();
        if from == 0 {
            for (key, obj) in store.list(t.kind, t.namespace.as_deref()) {
                if w.passes(obj) {
                    w.held.insert(key.clone());
                    first.push(w.encode("ADDED", obj));
                }
            }
        } else {
            // What the client held at `from` is not known here: every
            // object that passes now is assumed held, so leaving the
            // selector reads as DELETED.
            for (key, obj) in store.list(t.kind, t.namespace.as_deref()) {
                if w.passes(obj) {
                    w.held.insert(key.clone());
                }
            }
            match store.since(from) {
                Ok(events) => {
                    for e in &events {
                        // Replays the history: undo the assumption for
                        // objects created after `from`.
                        if e.ty == EventType::Added {
                            w.held.remove(&e.key);
                        }
                    }
                    for e in &events {
                        first.extend(w.line(e));
                    }
                }
                Err(s) => {
                    first.push(error_line(&s));
                    expired = true;
                }
            }
        }
        (sub, current)
    };
    let bookmarks = query.flag("allowWatchBookmarks");
    let timeout = query
        .number("timeoutSeconds")
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_TIMEOUT);
    tokio::spawn(pump(
        w,
        sub,
        tx,
        first,
        expired,
        bookmarks.then_some(current),
        timeout,
    ));
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, std::io::Error>(Frame::data(b)), rx))
    });
    let mut resp = Response::new(StreamBody::new(stream).boxed());
    let ct = if table.is_some() {
        TABLE
    } else {
        "application/json"
    };
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(ct));
    Ok(resp)
}

async fn pump(
    mut w: Watch,
    mut sub: broadcast::Receiver<Arc<Event>>,
    tx: mpsc::Sender<Bytes>,
    first: Vec<Bytes>,
    expired: bool,
    bookmark_from: Option<u64>,
    timeout: Duration,
) {
    for line in first {
        if tx.send(line).await.is_err() {
            return;
        }
    }
    if expired {
        return;
    }
    let mut last_rv = bookmark_from.unwrap_or(0);
    if bookmark_from.is_some() && tx.send(w.bookmark(last_rv)).await.is_err() {
        return;
    }
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut ticker = tokio::time::interval(BOOKMARK_EVERY);
    ticker.tick().await;
    loop {
        tokio::select! {
            _ = &mut deadline => return,
            _ = ticker.tick(), if bookmark_from.is_some() => {
                if tx.send(w.bookmark(last_rv)).await.is_err() { return; }
            }
            e = sub.recv() => match e {
                Ok(e) => {
                    last_rv = e.rv;
                    if let Some(line) = w.line(&e) {
                        if tx.send(line).await.is_err() { return; }
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let _ = tx.send(error_line(&Status::gone("the watch fell too far behind; list again"))).await;
                    return;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = tx.closed() => return,
        }
    }
}
