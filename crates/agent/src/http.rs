//! The operations endpoint: `/metrics` (Prometheus text, with the
//! per-policy counters read from the kernel), `/healthz` (liveness),
//! `/readyz` (readiness), and the denied-flow log: `/flows` (JSON) and
//! `/flows/stream` (server-sent events); plain HTTP/1.1 on `--listen`.
//! The flows are answered on loopback only unless `--flows-access any`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Request, Response, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::watch as signal;
use tracing::debug;

use crate::counters;
use crate::flows::Flows;
use crate::health::Health;
use crate::metrics::Metrics;
use crate::shared::SharedRef;
use palisade_dashboard::{Body, Limits};

/// What the handlers read.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub metrics: Arc<Metrics>,
    pub health: Arc<Health>,
    pub shared: SharedRef,
    pub flows: Arc<Flows>,
    /// palisade's table and its netns, for the per-policy counters.
    pub table: String,
    pub netns: Option<String>,
    /// Ends server-sent-event streams when the agent stops.
    pub stop: signal::Receiver<bool>,
    /// The last counter read, reused for [`COUNTERS_MAX_AGE`].
    pub counters: Arc<tokio::sync::Mutex<Option<(Instant, CounterValues)>>>,
    /// Who may read `/flows` and `/flows/stream`.
    pub flows_access: FlowsAccess,
    /// Host names besides addresses and localhost that `/flows` answers to.
    pub allowed_hosts: Arc<[String]>,
}

type CounterValues = std::collections::BTreeMap<String, (u64, u64)>;

/// How long one read of the kernel's counters serves scrapes: a read costs
/// about 1.4-2.6 s of nft CPU on a 5,000-pod / 1,000-policy node (nft loads
/// the whole table), so scrapes in between reuse it (docs/flows.md).
pub const COUNTERS_MAX_AGE: Duration = Duration::from_secs(15);

/// Binds `addr`; the returned listener is then served by [`serve`].
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Serves connections until `stop` turns true, within the shared limits
/// ([`palisade_dashboard::server`]).
pub async fn serve(listener: TcpListener, endpoints: Endpoints, stop: signal::Receiver<bool>) {
    let limits = Limits::default();
    palisade_dashboard::server::serve(listener, limits, stop, move |req, peer| {
        let endpoints = endpoints.clone();
        async move { route(&endpoints, &req, peer).await }
    })
    .await
}

/// Who may read the denied flows on `--listen` (`--flows-access`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum FlowsAccess {
    /// Only connections from this node's loopback (a `kubectl port-forward`,
    /// a shell on the node), naming an address or localhost as their host.
    #[default]
    Loopback,
    /// Any client that reaches `--listen`: pod names, addresses and policy
    /// names to anyone on the network. Only behind a network policy of
    /// your own, or a proxy that authenticates.
    Any,
}

async fn route<B>(endpoints: &Endpoints, req: &Request<B>, peer: SocketAddr) -> Response<Body> {
    let query = req.uri().query();
    match req.uri().path() {
        "/metrics" => metrics(endpoints).await,
        "/healthz" => verdict(endpoints.health.alive()),
        "/readyz" => verdict(endpoints.health.ready(&endpoints.shared.caches)),
        path @ ("/flows" | "/flows/stream") => {
            if let Some(refused) = flows_refused(endpoints, req, peer) {
                return refused;
            }
            let flows = &endpoints.flows;
            palisade_dashboard::flow::respond(
                path,
                query,
                |q| flows.query(q),
                || flows.subscribe(),
                &endpoints.stop,
            )
            .expect("a flow path")
        }
        _ => respond(
            StatusCode::NOT_FOUND,
            TEXT,
            full("not found: try /metrics, /healthz, /readyz, /flows, /flows/stream\n".into()),
        ),
    }
}

/// The flows show pod names, addresses and policy names: by default they
/// are answered on loopback only, and (against DNS rebinding through a
/// port-forward) only to requests naming an address or localhost.
fn flows_refused<B>(
    endpoints: &Endpoints,
    req: &Request<B>,
    peer: SocketAddr,
) -> Option<Response<Body>> {
    if endpoints.flows_access == FlowsAccess::Any {
        return None;
    }
    if !peer.ip().to_canonical().is_loopback() {
        let why = "the denied flows are served to this node's loopback only: use \
                   kubectl port-forward, or --flows-access any (docs/flows.md)\n";
        return Some(respond(StatusCode::FORBIDDEN, TEXT, full(why.into())));
    }
    palisade_dashboard::host::check(req, &endpoints.allowed_hosts)
}

/// The registry's metrics plus the per-policy counters (at most one `nft`
/// run per [`COUNTERS_MAX_AGE`], off the async threads; when it fails the
/// rest is still served).
async fn metrics(endpoints: &Endpoints) -> Response<Body> {
    let values = counter_values(endpoints).await;
    let extra = match values {
        Ok(values) => counters::encode(&endpoints.flows.counters(), &values),
        Err(e) => {
            debug!(error = %e, "per-policy counters unavailable");
            String::new()
        }
    };
    respond(
        StatusCode::OK,
        "application/openmetrics-text; version=1.0.0; charset=utf-8",
        full(counters::splice(endpoints.metrics.encode(), &extra)),
    )
}

/// The cached counter values, read again when older than [`COUNTERS_MAX_AGE`]
/// (one read at a time: concurrent scrapes wait for it).
async fn counter_values(endpoints: &Endpoints) -> Result<CounterValues, String> {
    let mut cached = endpoints.counters.lock().await;
    if let Some((at, values)) = cached.as_ref() {
        if at.elapsed() < COUNTERS_MAX_AGE {
            return Ok(values.clone());
        }
    }
    let (table, netns) = (endpoints.table.clone(), endpoints.netns.clone());
    let values = tokio::task::spawn_blocking(move || counters::read(&table, netns.as_deref()))
        .await
        .unwrap_or_else(|e| Err(e.to_string()))?;
    *cached = Some((Instant::now(), values.clone()));
    Ok(values)
}

const TEXT: &str = "text/plain; charset=utf-8";

fn full(body: String) -> Body {
    Full::new(Bytes::from(body)).boxed()
}

fn respond(status: StatusCode, content_type: &'static str, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    response
}

fn verdict(result: Result<String, String>) -> Response<Body> {
    match result {
        Ok(body) => respond(StatusCode::OK, TEXT, full(body)),
        Err(body) => respond(StatusCode::SERVICE_UNAVAILABLE, TEXT, full(body)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridge::BridgeStatus;

    fn endpoints(access: FlowsAccess) -> (Endpoints, signal::Sender<bool>) {
        let (stop_tx, stop) = signal::channel(false);
        let flows = Arc::new(Flows::new(16));
        let endpoints = Endpoints {
            metrics: Arc::new(Metrics::new()),
            health: Arc::new(Health::new(false, BridgeStatus::NoBridge)),
            shared: Default::default(),
            flows,
            table: "palisade-test-absent".into(),
            netns: None,
            stop,
            counters: Default::default(),
            flows_access: access,
            allowed_hosts: Arc::from(Vec::new()),
        };
        (endpoints, stop_tx)
    }

    fn get(target: &str, host: &str) -> Request<()> {
        Request::get(target).header("host", host).body(()).unwrap()
    }

    const NODE: &str = "192.0.2.7:41000";
    const LOCAL: &str = "127.0.0.1:41000";

    #[tokio::test]
    async fn flows_are_for_loopback_only_and_metrics_for_everyone() {
        let (e, _stop) = endpoints(FlowsAccess::Loopback);
        let status = |r: Response<Body>| r.status();
        for path in ["/flows", "/flows/stream", "/flows?namespace=kube-system"] {
            let remote = route(&e, &get(path, "192.0.2.1:9464"), NODE.parse().unwrap()).await;
            assert_eq!(status(remote), StatusCode::FORBIDDEN, "{path}");
        }
        let remote = route(
            &e,
            &get("/healthz", "192.0.2.1:9464"),
            NODE.parse().unwrap(),
        )
        .await;
        assert_eq!(status(remote), StatusCode::OK);
        let scrape = route(
            &e,
            &get("/metrics", "192.0.2.1:9464"),
            NODE.parse().unwrap(),
        )
        .await;
        assert_eq!(status(scrape), StatusCode::OK);
        // Through a port-forward: loopback, naming localhost. The reader is
        // not running in this test, hence 503 rather than 200.
        let local = route(&e, &get("/flows", "localhost:9464"), LOCAL.parse().unwrap()).await;
        assert_eq!(status(local), StatusCode::SERVICE_UNAVAILABLE);
        let v6 = route(
            &e,
            &get("/flows", "[::1]:9464"),
            "[::1]:41000".parse().unwrap(),
        )
        .await;
        assert_eq!(status(v6), StatusCode::SERVICE_UNAVAILABLE);
        // A rebound name through a port-forward.
        let rebound = get("/flows", "attacker.example:9464");
        let rebound = route(&e, &rebound, LOCAL.parse().unwrap()).await;
        assert_eq!(status(rebound), StatusCode::MISDIRECTED_REQUEST);

        let (open, _stop) = endpoints(FlowsAccess::Any);
        let remote = route(&open, &get("/flows", "node-1:9464"), NODE.parse().unwrap()).await;
        assert_eq!(status(remote), StatusCode::SERVICE_UNAVAILABLE);
    }

    /// Over TCP from this host's non-loopback address (skipped without one).
    #[tokio::test]
    async fn flows_over_tcp_from_a_node_address_are_refused() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let probe = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
        let Some(ip) = probe
            .connect("192.0.2.200:9")
            .and_then(|_| probe.local_addr())
            .map(|a| a.ip())
            .ok()
            .filter(|ip| !ip.is_loopback() && !ip.is_unspecified())
        else {
            eprintln!("no non-loopback address: skipped");
            return;
        };
        let listener = bind(SocketAddr::from(([0, 0, 0, 0], 0))).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (e, stop_tx) = endpoints(FlowsAccess::Loopback);
        tokio::spawn(serve(listener, e, stop_tx.subscribe()));
        for (path, want) in [("/flows", "403"), ("/metrics", "200")] {
            let mut s = tokio::net::TcpStream::connect((ip, port)).await.unwrap();
            let req = format!("GET {path} HTTP/1.1\r\nHost: {ip}\r\nConnection: close\r\n\r\n");
            s.write_all(req.as_bytes()).await.unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            assert_eq!(
                &out[9..12],
                want,
                "{path}: {}",
                out.lines().next().unwrap_or("")
            );
        }
    }

    #[tokio::test]
    async fn a_slow_request_head_is_disconnected_and_health_still_answers() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (e, stop_tx) = endpoints(FlowsAccess::Loopback);
        tokio::spawn(serve(listener, e, stop_tx.subscribe()));
        let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
        slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x")
            .await
            .unwrap();
        let mut health = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        health.write_all(req).await.unwrap();
        let mut out = String::new();
        health.read_to_string(&mut out).await.unwrap();
        assert!(out.starts_with("HTTP/1.1 200"), "{out}");
        let bound = Limits::default().header_read_timeout + Duration::from_secs(2);
        let mut buf = [0u8; 256];
        let closed = tokio::time::timeout(bound, async {
            loop {
                match slow.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        });
        assert!(
            closed.await.is_ok(),
            "a half request stayed open past {bound:?}"
        );
    }
}
