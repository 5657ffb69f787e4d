//! The web dashboard served by the agent (`--dashboard-listen`): the page
//! and API of `palisade-dashboard` over the agent's watch caches and its
//! denied-flow log.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use palisade_dashboard::{broadcast, FlowLog, FlowRecord, Source};
use palisade_model::Cluster;
use tokio::sync::watch as signal;
use tracing::{info, warn};

use crate::flows::Flows;
use crate::shared::SharedRef;

/// A snapshot of the caches is rebuilt at most this often for the page.
const SNAPSHOT_AGE: Duration = Duration::from_secs(1);

/// The dashboard's view of the agent.
#[derive(Debug)]
pub struct AgentView {
    shared: SharedRef,
    log: Arc<FlowLog>,
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

    fn flows(&self) -> Vec<FlowRecord> {
        self.log.recent()
    }

    fn subscribe(&self) -> broadcast::Receiver<FlowRecord> {
        self.log.subscribe()
    }
}

/// The agent's record as the dashboard's: both are the JSON contract of
/// docs/flows.md, so the conversion goes through it.
fn convert(r: &palisade_flowlog::FlowRecord) -> Option<FlowRecord> {
    serde_json::to_value(r)
        .and_then(serde_json::from_value)
        .inspect_err(|e| warn!(error = %e, "flow record not understood by the dashboard"))
        .ok()
}

/// Serves the dashboard on `listener` until `stop`; denied flows from
/// `flows` are forwarded to it as they come.
pub async fn serve(
    listener: tokio::net::TcpListener,
    shared: SharedRef,
    flows: Arc<Flows>,
    ring: usize,
    stop: signal::Receiver<bool>,
) {
    let log = Arc::new(FlowLog::new(ring));
    let mut records = flows.subscribe();
    let forward = {
        let log = log.clone();
        let mut stop = stop.clone();
        async move {
            loop {
                tokio::select! {
                    r = records.recv() => match r {
                        Ok(r) => { if let Some(r) = convert(&r) { log.push(r) } }
                        Err(broadcast::error::RecvError::Lagged(n)) => {
                            warn!(missed = n, "dashboard fell behind the flow log");
                        }
                        Err(broadcast::error::RecvError::Closed) => return,
                    },
                    _ = stop.wait_for(|s| *s) => return,
                }
            }
        }
    };
    if let Ok(addr) = listener.local_addr() {
        info!(%addr, "serving the dashboard");
    }
    let view = AgentView {
        shared,
        log,
        last: Mutex::new(None),
    };
    tokio::join!(
        forward,
        palisade_dashboard::serve(listener, Arc::new(view), stop)
    );
}

#[cfg(test)]
mod tests {
    /// The flow log's record and the dashboard's are the same JSON.
    #[test]
    fn records_convert_both_ways_through_the_contract() {
        let json = r#"{"time":"2026-11-24T20:00:00.123Z","mode":"deny","direction":"ingress","protocol":"TCP","src":{"namespace":"ns-1","pod":"busybox","ip":"10.0.0.5","port":41234},"dst":{"namespace":"ns-1","pod":"http-echo","ip":"10.0.0.6","port":80},"policies":["ns-1/deny-all-by-default"]}"#;
        let agent: palisade_flowlog::FlowRecord = serde_json::from_str(json).unwrap();
        let dash = super::convert(&agent).expect("converts");
        let back: serde_json::Value = serde_json::to_value(&dash).unwrap();
        let want: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(back, want);
    }
}
