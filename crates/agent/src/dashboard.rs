//! The web dashboard served by the agent (`--dashboard-listen`): the page
//! and API of `palisade-dashboard` over the agent's watch caches and its
//! denied-flow log.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use palisade_dashboard::{broadcast, FlowRecord, Query, Source};
use palisade_model::Cluster;
use tokio::sync::watch as signal;
use tracing::info;

use crate::flows::Flows;
use crate::shared::SharedRef;

/// A snapshot of the caches is rebuilt at most this often for the page.
const SNAPSHOT_AGE: Duration = Duration::from_secs(1);

/// The dashboard's view of the agent.
#[derive(Debug)]
pub struct AgentView {
    shared: SharedRef,
    flows: Arc<Flows>,
    last: Mutex<Option<(Instant, Arc<Cluster>)>>,
}

impl Source for AgentView {
    fn cluster(&self) -> Option<Arc<Cluster>> {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, cluster)) = &*last {
            if at.elapsed() < SNAPSHOT_AGE {
                return Some(cluster.clone());
            }
        }
        let cluster = Arc::new(crate::source::snapshot(&self.shared)?);
        *last = Some((Instant::now(), cluster.clone()));
        Some(cluster)
    }

    fn flows(&self, q: &Query) -> Vec<FlowRecord> {
        // While the reader is not running there is nothing to show.
        self.flows.query(q).unwrap_or_default()
    }

    fn subscribe(&self) -> broadcast::Receiver<FlowRecord> {
        self.flows.subscribe()
    }
}

/// Serves the dashboard on `listener` until `stop`; its denied flows are
/// the agent's flow log itself.
pub async fn serve(
    listener: tokio::net::TcpListener,
    shared: SharedRef,
    flows: Arc<Flows>,
    allowed_hosts: Vec<String>,
    stop: signal::Receiver<bool>,
) {
    if let Ok(addr) = listener.local_addr() {
        info!(%addr, "serving the dashboard");
    }
    let view = AgentView {
        shared,
        flows,
        last: Mutex::new(None),
    };
    let options = palisade_dashboard::Options {
        allowed_hosts,
        ..Default::default()
    };
    palisade_dashboard::serve_with(listener, Arc::new(view), stop, options).await
}
