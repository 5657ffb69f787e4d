//! The operations endpoint: `/metrics` (Prometheus text), `/healthz`
//! (liveness) and `/readyz` (readiness), plain HTTP/1.1 on `--listen`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch as signal;
use tracing::debug;

use crate::health::Health;
use crate::metrics::Metrics;
use crate::shared::SharedRef;

/// What the handlers read.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub metrics: Arc<Metrics>,
    pub health: Arc<Health>,
    pub shared: SharedRef,
}

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
                async move { Ok::<_, Infallible>(route(&endpoints, &req)) }
            });
            let io = TokioIo::new(stream);
            if let Err(e) = http1::Builder::new().serve_connection(io, service).await {
                debug!(%peer, error = %e, "http connection failed");
            }
        });
    }
}

fn route(endpoints: &Endpoints, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    match req.uri().path() {
        "/metrics" => reply(
            StatusCode::OK,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            endpoints.metrics.encode(),
        ),
        "/healthz" => verdict(endpoints.health.alive()),
        "/readyz" => verdict(endpoints.health.ready(&endpoints.shared.caches)),
        _ => reply(
            StatusCode::NOT_FOUND,
            TEXT,
            "not found: try /metrics, /healthz, /readyz\n".into(),
        ),
    }
}

const TEXT: &str = "text/plain; charset=utf-8";

fn verdict(result: Result<String, String>) -> Response<Full<Bytes>> {
    match result {
        Ok(body) => reply(StatusCode::OK, TEXT, body),
        Err(body) => reply(StatusCode::SERVICE_UNAVAILABLE, TEXT, body),
    }
}

fn reply(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    response
}
