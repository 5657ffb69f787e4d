//! A fake Kubernetes API server for three resources (namespaces, pods,
//! networkpolicies), speaking enough of the real protocol for kube's
//! watcher: LIST with `metadata.resourceVersion`, chunked WATCH streams of
//! one JSON event per line (ADDED, MODIFIED, DELETED, BOOKMARK) resuming
//! from a resourceVersion, `410 Gone` for a resourceVersion older than the
//! retained history (as an ERROR event, as the real server does, or as an
//! HTTP 410), dropped connections, being stopped and restarted on the same
//! port, and a LIST held until released.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use futures::channel::mpsc;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// The resources served, by plural: (path, kind, apiVersion).
pub const RESOURCES: [(&str, &str, &str, &str); 3] = [
    ("namespaces", "/api/v1/namespaces", "Namespace", "v1"),
    ("pods", "/api/v1/pods", "Pod", "v1"),
    (
        "networkpolicies",
        "/apis/networking.k8s.io/v1/networkpolicies",
        "NetworkPolicy",
        "networking.k8s.io/v1",
    ),
];

/// How an expired resourceVersion is reported to a watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoneAs {
    /// HTTP 200, then an ERROR event with a 410 Status (the real server).
    Event,
    /// An HTTP 410 response to the watch request.
    Http,
}

#[derive(Debug, Default)]
struct Resource {
    objects: BTreeMap<String, Value>,
    /// (resourceVersion, event type, object) in order.
    log: Vec<(u64, &'static str, Value)>,
    /// Watches from a resourceVersion below this get 410 Gone.
    oldest: u64,
    lists: usize,
    watches: usize,
}

#[derive(Debug)]
struct State {
    rv: u64,
    resources: BTreeMap<&'static str, Resource>,
    gone_as: GoneAs,
}

/// The server; dropped: stopped.
#[derive(Debug)]
pub struct FakeApi {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    /// Bumped on every change (wakes watch streams).
    version: watch::Sender<u64>,
    /// Bumped to cut every open watch stream.
    cut: watch::Sender<u64>,
    /// Plurals whose LIST is held.
    held: watch::Sender<BTreeSet<&'static str>>,
    server: Option<JoinSet<()>>,
}

impl FakeApi {
    /// Starts on an ephemeral local port.
    pub async fn start() -> Self {
        let state = State {
            rv: 100,
            resources: RESOURCES
                .iter()
                .map(|r| (r.0, Resource::default()))
                .collect(),
            gone_as: GoneAs::Event,
        };
        let mut api = Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            state: Arc::new(Mutex::new(state)),
            version: watch::channel(0).0,
            cut: watch::channel(0).0,
            held: watch::channel(BTreeSet::new()).0,
            server: None,
        };
        api.resume().await;
        api
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    /// Creates or replaces an object (ADDED or MODIFIED), assigning it a
    /// new resourceVersion (and a uid from its name if it has none).
    pub fn apply(&self, plural: &'static str, mut object: Value) {
        let key = key(&object);
        {
            let mut st = self.state();
            st.rv += 1;
            let rv = st.rv;
            object["metadata"]["resourceVersion"] = json!(rv.to_string());
            if object["metadata"]["uid"].is_null() {
                object["metadata"]["uid"] = json!(format!("uid-{}", key.replace('/', "-")));
            }
            let res = st.resources.get_mut(plural).expect("resource");
            let kind = match res.objects.insert(key, object.clone()) {
                Some(_) => "MODIFIED",
                None => "ADDED",
            };
            res.log.push((rv, kind, object));
        }
        self.version.send_modify(|v| *v += 1);
    }

    /// Deletes `namespace/name` (or `name`), sending DELETED.
    pub fn delete(&self, plural: &'static str, key: &str) {
        {
            let mut st = self.state();
            st.rv += 1;
            let rv = st.rv;
            let res = st.resources.get_mut(plural).expect("resource");
            let Some(mut object) = res.objects.remove(key) else {
                return;
            };
            object["metadata"]["resourceVersion"] = json!(rv.to_string());
            res.log.push((rv, "DELETED", object));
        }
        self.version.send_modify(|v| *v += 1);
    }

    /// Forgets the event history (a compaction at a new revision): watches
    /// from any resourceVersion handed out so far get `410 Gone`, reported
    /// as `gone_as`; a new LIST returns a resourceVersion that can be watched.
    pub fn compact(&self, gone_as: GoneAs) {
        let mut st = self.state();
        st.gone_as = gone_as;
        st.rv += 1;
        let rv = st.rv;
        for res in st.resources.values_mut() {
            res.log.clear();
            res.oldest = rv;
        }
    }

    /// Cuts every open watch stream mid-chunk (the connection drops).
    pub fn drop_watches(&self) {
        self.cut.send_modify(|c| *c += 1);
    }

    /// Holds (true) or releases (false) LIST requests of `plural`.
    pub fn hold_list(&self, plural: &'static str, hold: bool) {
        self.held.send_modify(|h| {
            match hold {
                true => h.insert(plural),
                false => h.remove(plural),
            };
        });
    }

    /// (LIST, WATCH) requests served for `plural`.
    pub fn requests(&self, plural: &str) -> (usize, usize) {
        let st = self.state();
        let res = &st.resources[plural];
        (res.lists, res.watches)
    }

    /// Stops serving: the port refuses connections, open ones are cut.
    pub async fn stop(&mut self) {
        if let Some(mut server) = self.server.take() {
            server.shutdown().await;
        }
    }

    /// Serves again, on the same port once it has been bound.
    pub async fn resume(&mut self) {
        let listener = TcpListener::bind(self.addr).await.expect("bind");
        self.addr = listener.local_addr().expect("addr");
        let ctx = Ctx {
            state: self.state.clone(),
            version: self.version.subscribe(),
            cut: self.cut.subscribe(),
            held: self.held.subscribe(),
        };
        let mut server = JoinSet::new();
        server.spawn(accept(listener, ctx));
        self.server = Some(server);
    }
}

fn key(object: &Value) -> String {
    let meta = &object["metadata"];
    let name = meta["name"].as_str().unwrap_or_default();
    match meta["namespace"].as_str() {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

#[derive(Debug, Clone)]
struct Ctx {
    state: Arc<Mutex<State>>,
    version: watch::Receiver<u64>,
    cut: watch::Receiver<u64>,
    held: watch::Receiver<BTreeSet<&'static str>>,
}

type Body = UnsyncBoxBody<Bytes, std::io::Error>;

/// Accepts connections; aborting this task aborts them all (JoinSet).
async fn accept(listener: TcpListener, ctx: Ctx) {
    let mut connections = JoinSet::new();
    while let Ok((stream, _)) = listener.accept().await {
        let ctx = ctx.clone();
        connections.spawn(async move {
            let service = service_fn(move |req| {
                let ctx = ctx.clone();
                async move { Ok::<_, Infallible>(handle(ctx, req).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(ctx: Ctx, req: Request<Incoming>) -> Response<Body> {
    let Some(&(plural, _, kind, api_version)) = RESOURCES.iter().find(|r| r.1 == req.uri().path())
    else {
        return status(StatusCode::NOT_FOUND, 404, "NotFound", "no such resource");
    };
    let query = query(req.uri().query().unwrap_or_default());
    if query.get("watch").is_some_and(|w| w == "true" || w == "1") {
        let from = query
            .get("resourceVersion")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        return watch_response(ctx, plural, from);
    }
    let mut held = ctx.held.clone();
    let _ = held.wait_for(|h| !h.contains(plural)).await;
    list(&ctx, plural, kind, api_version)
}

fn query(q: &str) -> BTreeMap<String, String> {
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn list(ctx: &Ctx, plural: &str, kind: &str, api_version: &str) -> Response<Body> {
    let mut st = ctx.state.lock().unwrap();
    let rv = st.rv;
    let res = st.resources.get_mut(plural).expect("resource");
    res.lists += 1;
    let items: Vec<Value> = res
        .objects
        .values()
        .map(|o| {
            // Items of a list carry no apiVersion/kind, as from the real server.
            let mut o = o.clone();
            if let Some(m) = o.as_object_mut() {
                m.remove("apiVersion");
                m.remove("kind");
            }
            o
        })
        .collect();
    let body = json!({
        "apiVersion": api_version,
        "kind": format!("{kind}List"),
        "metadata": {"resourceVersion": rv.to_string()},
        "items": items,
    });
    full(StatusCode::OK, body.to_string())
}

fn watch_response(ctx: Ctx, plural: &'static str, from: u64) -> Response<Body> {
    let gone = {
        let mut st = ctx.state.lock().unwrap();
        let gone_as = st.gone_as;
        let res = st.resources.get_mut(plural).expect("resource");
        res.watches += 1;
        (from < res.oldest).then_some(gone_as)
    };
    match gone {
        Some(GoneAs::Http) => status(StatusCode::GONE, 410, "Expired", "too old resource version"),
        Some(GoneAs::Event) => {
            let event = json!({"type": "ERROR", "object": status_object(410, "Expired", "too old resource version")});
            full(StatusCode::OK, format!("{event}\n"))
        }
        None => {
            let (tx, rx) = mpsc::unbounded::<Result<Frame<Bytes>, std::io::Error>>();
            tokio::spawn(stream_events(ctx, plural, from, tx));
            let body = StreamBody::new(rx);
            with_type(Response::new(BodyExt::boxed_unsync(body)))
        }
    }
}

/// Sends the events after `from`, then a BOOKMARK, then live events, until
/// the client goes away or the stream is cut.
async fn stream_events(
    ctx: Ctx,
    plural: &'static str,
    mut cursor: u64,
    tx: mpsc::UnboundedSender<Result<Frame<Bytes>, std::io::Error>>,
) {
    let (mut version, mut cut) = (ctx.version.clone(), ctx.cut.clone());
    cut.mark_unchanged();
    let mut bookmarked = false;
    loop {
        version.mark_unchanged();
        let (events, rv) = {
            let st = ctx.state.lock().unwrap();
            let res = &st.resources[plural];
            let events: Vec<(u64, String)> = res
                .log
                .iter()
                .filter(|(rv, ..)| *rv > cursor)
                .map(|(rv, kind, o)| (*rv, json!({"type": kind, "object": o}).to_string()))
                .collect();
            (events, st.rv)
        };
        for (rv, line) in events {
            cursor = rv;
            if tx
                .unbounded_send(Ok(Frame::data(Bytes::from(line + "\n"))))
                .is_err()
            {
                return;
            }
        }
        if !bookmarked {
            bookmarked = true;
            let (kind, api_version) = RESOURCES
                .iter()
                .find(|r| r.0 == plural)
                .map_or(("", ""), |r| (r.2, r.3));
            let bookmark = json!({"type": "BOOKMARK", "object": {"kind": kind, "apiVersion": api_version,
                                  "metadata": {"resourceVersion": rv.to_string()}}});
            let _ = tx.unbounded_send(Ok(Frame::data(Bytes::from(format!("{bookmark}\n")))));
        }
        tokio::select! {
            changed = version.changed() => if changed.is_err() { return },
            _ = cut.changed() => {
                let _ = tx.unbounded_send(Err(std::io::Error::other("cut")));
                return;
            }
        }
    }
}

fn status_object(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": message, "reason": reason, "code": code})
}

fn status(http: StatusCode, code: u16, reason: &str, message: &str) -> Response<Body> {
    full(http, status_object(code, reason, message).to_string())
}

fn full(code: StatusCode, body: String) -> Response<Body> {
    let body = Full::new(Bytes::from(body)).map_err(|never| match never {});
    let mut response = with_type(Response::new(BodyExt::boxed_unsync(body)));
    *response.status_mut() = code;
    response
}

fn with_type(mut response: Response<Body>) -> Response<Body> {
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

/// Objects of the test world.
pub mod objects {
    use serde_json::{json, Value};

    pub fn namespace(name: &str, labels: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": name, "labels": labels},
               "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
    }

    pub fn pod(ns: &str, name: &str, labels: Value, node: &str, ip: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": name, "namespace": ns, "labels": labels,
                            "managedFields": [{"manager": "kubelet", "operation": "Update"}]},
               "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox",
                        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]}]},
               "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]}})
    }

    /// A policy selecting `app=<app>`, allowing ingress from `from` peers.
    pub fn policy(ns: &str, name: &str, app: &str, from: Value) -> Value {
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
               "metadata": {"name": name, "namespace": ns},
               "spec": {"podSelector": {"matchLabels": {"app": app}},
                        "policyTypes": ["Ingress"],
                        "ingress": [{"from": from, "ports": [{"port": 8080}]}]}})
    }
}
