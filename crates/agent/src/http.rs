//! The operations endpoint: `/metrics` (Prometheus text, with the
//! per-policy counters read from the kernel), `/healthz` (liveness),
//! `/readyz` (readiness), and the denied-flow log: `/flows` (JSON) and
//! `/flows/stream` (server-sent events); plain HTTP/1.1 on `--listen`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch as signal;
use tracing::debug;

use crate::counters;
use crate::flows::Flows;
use crate::health::Health;
use crate::metrics::Metrics;
use crate::shared::SharedRef;
use palisade_dashboard::Body;

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

/// Serves connections until `stop` turns true.
pub async fn serve(listener: TcpListener, endpoints: Endpoints, mut stop: signal::Receiver<bool>) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|s| *s) => return,
        };
        let Ok((stream, peer)) = accepted else {
            continue;
        };
        let endpoints = endpoints.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let endpoints = endpoints.clone();
                async move { Ok::<_, Infallible>(route(&endpoints, &req).await) }
            });
            let io = TokioIo::new(stream);
            if let Err(e) = http1::Builder::new().serve_connection(io, service).await {
                debug!(%peer, error = %e, "http connection failed");
            }
        });
    }
}

async fn route(endpoints: &Endpoints, req: &Request<Incoming>) -> Response<Body> {
    let query = req.uri().query();
    match req.uri().path() {
        "/metrics" => metrics(endpoints).await,
        "/healthz" => verdict(endpoints.health.alive()),
        "/readyz" => verdict(endpoints.health.ready(&endpoints.shared.caches)),
        path => {
            let flows = &endpoints.flows;
            palisade_dashboard::flow::respond(
                path,
                query,
                |q| flows.query(q),
                || flows.subscribe(),
                &endpoints.stop,
            )
            .unwrap_or_else(|| {
                respond(
                    StatusCode::NOT_FOUND,
                    TEXT,
                    full(
                        "not found: try /metrics, /healthz, /readyz, /flows, /flows/stream\n"
                            .into(),
                    ),
                )
            })
        }
    }
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
