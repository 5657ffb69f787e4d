//! The palisade dashboard: a web page showing a cluster's namespaces, pods
//! and policies, the connectivity graph the analyzer computes, denied flows
//! live, and the evaluator's explanation of any connection.
//!
//! Start with [`Source`] (what the page shows: the agent implements it from
//! its watch caches and flow ring, `palisade lab dashboard` from the lab's
//! state) and [`serve`]. The page itself is built from `web/` and compiled
//! into the binary ([`assets`]); it fetches nothing from elsewhere.
//!
//! HTTP API (all `GET`):
//! - `/` and `/assets/...`: the page;
//! - `/api/cluster`: namespaces, pods (labels, addresses), policies (rules as text);
//! - `/api/graph`: endpoints and allowed connections with their ports;
//! - `/api/pod?namespace=NS&name=POD`: the policies that select a pod, per direction;
//! - `/api/explain?from=NS/POD|IP&to=NS/POD|IP&port=N|NAME&protocol=TCP`: a verdict, explained;
//! - `/flows?namespace=NS&since=RFC3339|UNIX_MS&limit=N`: `{"flows":[RECORD...]}`, oldest first;
//! - `/flows/stream?namespace=NS`: server-sent events, `event: flow`, `data: RECORD`
//!   ([`flow::respond`], which the agent's `--listen` endpoint serves too).

pub mod api;
pub mod assets;
pub mod flow;
pub mod host;
mod http;
mod query;
pub mod server;
mod source;
mod sse;
mod state;

use std::net::SocketAddr;
use std::sync::Arc;

pub use flow::{FlowEndpoint, FlowRecord, Mode, Query};
pub use http::Body;
pub use server::Limits;
pub use source::{FlowLog, Source, StaticSource};
pub use state::Dashboard;
/// The channel type of [`Source::subscribe`], re-exported for implementers.
pub use tokio::sync::broadcast;

use tokio::net::TcpListener;
use tokio::sync::watch;

/// How a dashboard listener is served.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Host names answered besides IP addresses and `localhost`
    /// ([`host::allowed`]).
    pub allowed_hosts: Vec<String>,
    pub limits: Limits,
}

/// Serves the dashboard of `source` on `listener` until `stop` turns true,
/// with the default [`Options`].
pub async fn serve(listener: TcpListener, source: Arc<dyn Source>, stop: watch::Receiver<bool>) {
    serve_with(listener, source, stop, Options::default()).await
}

/// Serves the dashboard of `source` on `listener` until `stop` turns true.
/// For the agent: bind its `--dashboard-listen` address, then spawn this.
pub async fn serve_with(
    listener: TcpListener,
    source: Arc<dyn Source>,
    stop: watch::Receiver<bool>,
    options: Options,
) {
    http::serve(listener, Arc::new(Dashboard::new(source)), stop, options).await
}

/// Binds `addr` and serves until the process ends, on a runtime of its own
/// (for commands that have none, like `palisade lab dashboard`). `on_bound`
/// gets the bound address (port 0 picks a free port).
pub fn run_blocking(
    addr: SocketAddr,
    source: Arc<dyn Source>,
    on_bound: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(addr).await?;
        on_bound(listener.local_addr()?);
        let (_keep, stop) = watch::channel(false);
        serve(listener, source, stop).await;
        Ok(())
    })
}

#[cfg(test)]
mod tests;
