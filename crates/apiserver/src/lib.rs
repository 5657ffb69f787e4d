//! The lab's Kubernetes API server: the HTTP side of
//! `palisade-apimachinery`, enough of the API for the real kubectl and
//! for kube-rs clients.
//!
//! - [`api`]: the objects, for every writer (HTTP, controllers, the lab):
//!   one path through admission, the store and the watch channel.
//! - [`http`], [`route`], [`watch`], [`subresource`]: the wire.
//! - [`session`], [`websocket`], [`logs`], [`streams`]: processes
//!   reachable as streams, the `v5.channel.k8s.io` WebSocket protocol of
//!   `exec` and `attach`, `pods/log` bodies with `follow`.
//! - [`controllers`]: deletion with dependents, namespaces, deployments,
//!   replica sets, endpoints.
//! - [`kinds`]: the built-in kinds' registrations.
//! - [`tls`]: the server's certificate authority, certificate and token,
//!   and the kubeconfig that holds them (0600).
//!
//! Every request needs the bearer token (over TLS: kubectl sends no
//! credentials over plain http).

pub mod api;
pub mod controllers;
pub mod http;
pub mod kinds;
pub mod logs;
pub mod names;
pub mod route;
pub mod session;
pub mod streams;
pub mod subresource;
pub mod tls;
pub mod watch;
pub mod websocket;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use palisade_apimachinery::openapi::OpenApi;
use palisade_apimachinery::status::Result;
use palisade_apimachinery::store::resource_version;
use palisade_apimachinery::{strict, Resource, Status};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch as tokio_watch;

pub use api::{Admission, AdmitAll, Api, Operation};
pub use subresource::Pods;

/// How long a write waits for the node to have enforced it.
const REALIZE_LIMIT: Duration = Duration::from_secs(30);
/// How long a client may take to send a request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections served at once.
const MAX_CONNECTIONS: usize = 512;

/// A running API server's shared parts.
pub struct Server {
    pub api: Arc<Api>,
    /// The bearer token every request must carry.
    pub token: String,
    /// `host:port`, as discovery reports it.
    pub address: String,
    pub openapi: OpenApi,
    pub validator: strict::Validator,
    /// Pods' processes: logs, exec, attach (`None`: not served).
    pub pods: Option<Arc<dyn Pods>>,
    /// The highest `resourceVersion` the node has enforced: a write is
    /// answered once it is (so a policy is in force when `kubectl create`
    /// returns). `None`: writes are answered at once.
    pub realized: Option<tokio_watch::Receiver<u64>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Server {
    pub fn new(api: Arc<Api>, token: String, address: String) -> Server {
        let validator = strict::Validator::new(&api.registry);
        let openapi = OpenApi::with_schemas(&api.registry, validator.schemas());
        Server {
            api,
            token,
            address,
            openapi,
            validator,
            pods: None,
            realized: None,
        }
    }

    /// Server-side field validation (`?fieldValidation=`; kubectl asks for
    /// Strict by default): unknown and duplicate fields are refused
    /// (Strict), reported (Warn) or let through (Ignore). `body` is what
    /// the client sent (for duplicates); `obj` the object to store.
    /// Returns the warnings.
    pub fn check_fields(
        &self,
        r: &Resource,
        query: &route::Query,
        body: &[u8],
        obj: &Value,
    ) -> Result<Vec<String>> {
        let mode = strict::FieldValidation::parse(query.get("fieldValidation"))
            .map_err(Status::bad_request)?;
        self.validator
            .check(r, body, obj, mode)
            .map_err(Status::bad_request)
    }

    /// Waits until the node has enforced the write that produced `obj`.
    pub async fn wait_realized(&self, obj: &Value, dry_run: bool) {
        let (Some(rx), false) = (&self.realized, dry_run) else {
            return;
        };
        let want = resource_version(obj);
        let mut rx = rx.clone();
        let _ = tokio::time::timeout(REALIZE_LIMIT, rx.wait_for(|v| *v >= want)).await;
    }
}

/// Serves HTTPS on `listener` until the process ends: TLS with `tls`,
/// every request authenticated by the token, the controllers running.
pub async fn serve(listener: TcpListener, tls: Arc<rustls::ServerConfig>, server: Arc<Server>) {
    tokio::spawn(controllers::run(server.api.clone()));
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let (tcp, _peer): (tokio::net::TcpStream, SocketAddr) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of file descriptors and the like: wait, do not spin.
                eprintln!("apiserver: accepting a connection: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let (acceptor, server) = (acceptor.clone(), server.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let Ok(Ok(stream)) = tokio::time::timeout(HEADER_TIMEOUT, acceptor.accept(tcp)).await
            else {
                return;
            };
            let service = service_fn(move |req| {
                let server = server.clone();
                async move { Ok::<_, std::convert::Infallible>(http::handle(server, req).await) }
            });
            let _ = http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await;
        });
    }
}
