//! The HTTP face: routing, JSON replies, static files, and the server loop
//! ([`crate::server`], shared with the agent's endpoint).

use std::convert::Infallible;
use std::sync::Arc;

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::api::{self, ApiError, ExplainQuery};
use crate::query::parse_query;
use crate::state::Dashboard;
use crate::{assets, flow, host, server, Options};

pub type Body = BoxBody<Bytes, Infallible>;

/// The page may load only its own files and talk only to this server.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Serves `dashboard` on `listener` until `stop` turns true, within
/// `options.limits`, answering only requests naming an allowed host
/// ([`crate::host`]).
pub async fn serve(
    listener: TcpListener,
    dashboard: Arc<Dashboard>,
    stop: watch::Receiver<bool>,
    options: Options,
) {
    let hosts: Arc<[String]> = options.allowed_hosts.into();
    let stopping = stop.clone();
    server::serve(listener, options.limits, stop, move |req, _peer| {
        let (dashboard, stop, hosts) = (dashboard.clone(), stopping.clone(), hosts.clone());
        async move {
            match host::check(&req, &hosts) {
                Some(refused) => refused,
                None => route(dashboard, req, &stop).await,
            }
        }
    })
    .await
}

/// Answers one request.
async fn route(
    d: Arc<Dashboard>,
    req: Request<Incoming>,
    stop: &watch::Receiver<bool>,
) -> Response<Body> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "only GET\n".into());
    }
    let (path, raw_query) = (req.uri().path(), req.uri().query());
    let flows = flow::respond(
        path,
        raw_query,
        |q| Ok(d.source.flows(q)),
        || d.source.subscribe(),
        stop,
    );
    if let Some(response) = flows {
        return response;
    }
    let pairs = parse_query(raw_query);
    match path {
        "/api/cluster" => json_or(d.cluster_json()),
        "/api/graph" => {
            let (d2, ns) = (d.clone(), find(&pairs, "namespace").map(str::to_string));
            let graph = tokio::task::spawn_blocking(move || d2.graph_json(ns.as_deref())).await;
            json_or(graph.unwrap_or(Err(ApiError::Invalid("graph computation failed".into()))))
        }
        "/api/pod" => json_or(d.with_cluster(|c| {
            let get = |k: &'static str| find(&pairs, k).ok_or(ApiError::Missing(k));
            api::pod_details(c, get("namespace")?, get("name")?).map(to_json)
        })),
        "/api/explain" => json_or(
            d.with_cluster(|c| api::explain(c, &ExplainQuery::from_pairs(&pairs)).map(to_json)),
        ),
        path => match assets::asset(path) {
            Some((ty, bytes)) => static_file(ty, bytes),
            None => text(
                StatusCode::NOT_FOUND,
                "not found: the dashboard is at /, its API under /api/ and /flows\n".into(),
            ),
        },
    }
}

fn find<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

pub(crate) fn to_json<T: Serialize>(v: T) -> Bytes {
    Bytes::from(serde_json::to_vec(&v).expect("API views serialize"))
}

pub(crate) fn json_reply(status: StatusCode, body: Bytes) -> Response<Body> {
    reply(status, "application/json", Full::new(body).boxed())
}

fn json_or(result: Result<Bytes, ApiError>) -> Response<Body> {
    match result {
        Ok(body) => json_reply(StatusCode::OK, body),
        Err(e) => {
            let status = match e {
                ApiError::NotReady => StatusCode::SERVICE_UNAVAILABLE,
                ApiError::NoPod(_) | ApiError::NoNamespace(_) => StatusCode::NOT_FOUND,
                _ => StatusCode::BAD_REQUEST,
            };
            json_reply(
                status,
                to_json(serde_json::json!({ "error": e.to_string() })),
            )
        }
    }
}

pub(crate) fn text(status: StatusCode, body: String) -> Response<Body> {
    let body = Full::new(Bytes::from(body)).boxed();
    reply(status, "text/plain; charset=utf-8", body)
}

fn static_file(ty: &'static str, bytes: &'static [u8]) -> Response<Body> {
    let body = Full::new(Bytes::from_static(bytes)).boxed();
    reply(StatusCode::OK, ty, body)
}

pub(crate) fn reply(status: StatusCode, content_type: &'static str, body: Body) -> Response<Body> {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    r
}
