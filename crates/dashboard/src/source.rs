//! Where the dashboard's data comes from: the [`Source`] trait (the agent
//! implements it from its watch caches and flow ring, the lab from its
//! state file and event log) and [`FlowLog`], a ready-made bounded ring
//! with a live subscription that either can hold its records in.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use palisade_model::Cluster;
use tokio::sync::broadcast;

use crate::flow::FlowRecord;

/// What the dashboard shows. Called from the HTTP tasks: keep calls cheap
/// (return shared snapshots, do not block on I/O for long).
pub trait Source: Send + Sync + 'static {
    /// The cluster as it is enforced now, or `None` while it is not known
    /// yet (an agent whose caches have not finished their first list).
    /// Returning the same `Arc` while nothing changed lets the dashboard
    /// skip comparing contents.
    fn cluster(&self) -> Option<Arc<Cluster>>;

    /// The denied-flow records still held, oldest first.
    fn flows(&self) -> Vec<FlowRecord>;

    /// Every record from now on. A receiver that falls behind loses the
    /// oldest records (and the stream says so), it never blocks the sender.
    fn subscribe(&self) -> broadcast::Receiver<FlowRecord>;
}

/// Records a slow stream subscriber may fall behind by before it loses some.
const LIVE_BUFFER: usize = 1024;

/// A bounded ring of the latest records plus a broadcast of new ones.
#[derive(Debug)]
pub struct FlowLog {
    ring: Mutex<VecDeque<FlowRecord>>,
    capacity: usize,
    live: broadcast::Sender<FlowRecord>,
}

impl FlowLog {
    /// Keeps the newest `capacity` records (at least one).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        let (live, _) = broadcast::channel(LIVE_BUFFER);
        Self {
            ring: Mutex::new(VecDeque::with_capacity(capacity.min(4096))),
            capacity,
            live,
        }
    }

    /// Stores `record`, dropping the oldest one when full, and sends it to
    /// every subscriber. Never blocks on subscribers.
    pub fn push(&self, record: FlowRecord) {
        {
            let mut ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
            if ring.len() == self.capacity {
                ring.pop_front();
            }
            ring.push_back(record.clone());
        }
        // No subscriber is not an error.
        let _ = self.live.send(record);
    }

    /// The records held, oldest first.
    pub fn recent(&self) -> Vec<FlowRecord> {
        let ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        ring.iter().cloned().collect()
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
    fn flows(&self) -> Vec<FlowRecord> {
        self.log.recent()
    }
    fn subscribe(&self) -> broadcast::Receiver<FlowRecord> {
        self.log.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::tests::record;

    #[test]
    fn the_ring_keeps_the_newest_and_subscribers_get_new_records() {
        let log = FlowLog::new(2);
        let mut rx = log.subscribe();
        for s in 0..3 {
            log.push(record(&format!("2026-11-24T20:00:0{s}Z"), None, "a"));
        }
        let times: Vec<_> = log.recent().into_iter().map(|r| r.time).collect();
        assert_eq!(times, ["2026-11-24T20:00:01Z", "2026-11-24T20:00:02Z"]);
        assert_eq!(rx.try_recv().unwrap().time, "2026-11-24T20:00:00Z");
    }
}
