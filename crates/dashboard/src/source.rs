//! Where the dashboard's data comes from: the [`Source`] trait (the agent
//! implements it from its watch caches and flow ring, the lab from its
//! state file and event log) and [`FlowLog`], a ready-made bounded ring
//! with a live subscription that either can hold its records in.

use std::sync::{Arc, Mutex};

use palisade_flowlog::Ring;
use palisade_model::Cluster;
use tokio::sync::broadcast;

use crate::flow::{FlowRecord, Query};

/// What the dashboard shows. Called from the HTTP tasks: keep calls cheap
/// (return shared snapshots, do not block on I/O for long).
pub trait Source: Send + Sync + 'static {
    /// The cluster as it is enforced now, or `None` while it is not known
    /// yet (an agent whose caches have not finished their first list).
    /// Returning the same `Arc` while nothing changed lets the dashboard
    /// skip comparing contents.
    fn cluster(&self) -> Option<Arc<Cluster>>;

    /// The denied-flow records still held that match `q`, oldest first.
    fn flows(&self, q: &Query) -> Vec<FlowRecord>;

    /// Every record from now on. A receiver that falls behind loses the
    /// oldest records (and the stream says so), it never blocks the sender.
    fn subscribe(&self) -> broadcast::Receiver<FlowRecord>;
}

/// Records a slow stream subscriber may fall behind by before it loses some.
const LIVE_BUFFER: usize = 1024;

/// A bounded ring of the latest records plus a broadcast of new ones.
#[derive(Debug)]
pub struct FlowLog {
    ring: Mutex<Ring>,
    live: broadcast::Sender<FlowRecord>,
}

impl FlowLog {
    /// Keeps the newest `capacity` records (at least one).
    pub fn new(capacity: usize) -> Self {
        let (live, _) = broadcast::channel(LIVE_BUFFER);
        Self {
            ring: Mutex::new(Ring::new(capacity)),
            live,
        }
    }

    /// Stores `record`, dropping the oldest one when full, and sends it to
    /// every subscriber. Never blocks on subscribers.
    pub fn push(&self, record: FlowRecord) {
        self.lock().push(record.clone());
        // No subscriber is not an error.
        let _ = self.live.send(record);
    }

    /// The records held that match `q`, oldest first.
    pub fn query(&self, q: &Query) -> Vec<FlowRecord> {
        self.lock().query(q)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn subscribe(&self) -> broadcast::Receiver<FlowRecord> {
        self.live.subscribe()
    }
}

/// A fixed cluster and a [`FlowLog`]: for tests, and for callers whose
/// cluster does not change.
#[derive(Debug)]
pub struct StaticSource {
    pub cluster: Arc<Cluster>,
    pub log: FlowLog,
}

impl StaticSource {
    pub fn new(cluster: Cluster) -> Self {
        Self {
            cluster: Arc::new(cluster),
            log: FlowLog::new(1000),
        }
    }
}

impl Source for StaticSource {
    fn cluster(&self) -> Option<Arc<Cluster>> {
        Some(self.cluster.clone())
    }
    fn flows(&self, q: &Query) -> Vec<FlowRecord> {
        self.log.query(q)
    }
    fn subscribe(&self) -> broadcast::Receiver<FlowRecord> {
        self.log.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::tests::record;

    fn stamp(t: &str) -> palisade_flowlog::Timestamp {
        palisade_flowlog::Timestamp(palisade_flowlog::parse_since(t).unwrap())
    }

    #[test]
    fn the_ring_keeps_the_newest_and_subscribers_get_new_records() {
        let log = FlowLog::new(2);
        let mut rx = log.subscribe();
        for s in 0..3 {
            log.push(record(&format!("2026-11-24T20:00:0{s}Z"), None, "a"));
        }
        let times: Vec<_> = log
            .query(&Query::default())
            .into_iter()
            .map(|r| r.time)
            .collect();
        assert_eq!(
            times,
            [stamp("2026-11-24T20:00:01Z"), stamp("2026-11-24T20:00:02Z")]
        );
        assert_eq!(rx.try_recv().unwrap().time, stamp("2026-11-24T20:00:00Z"));
    }
}
