//! The denied-flow log in the agent: a thread reads the NFLOG group
//! (`palisade_flowlog`), attributes each denied or audited connection
//! attempt with the state of the last reconcile, logs it (JSON fields via
//! tracing, target `palisade::flows`), and keeps it in a
//! `palisade_dashboard::FlowLog` (a bounded ring for `GET /flows` and a
//! broadcast for `GET /flows/stream`, on `--listen` and on the dashboard).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use palisade_compile::{CounterKind, Ruleset};
use palisade_dashboard::FlowLog as Records;
use palisade_flowlog::{Attributor, FlowLog, FlowRecord, Query};
use palisade_nft::flowlog::FLOW_LOG_GROUP;
use tokio::sync::broadcast;
use tracing::{info, warn};

/// How long a read waits before checking whether to stop.
const POLL: Duration = Duration::from_millis(200);

/// Shared between the reader thread, the reconcile loop and the HTTP handlers.
#[derive(Debug)]
pub struct Flows {
    records: Records,
    attributor: RwLock<Attributor>,
    /// Counter name -> what it counts, from the last reconcile (for /metrics).
    counters: RwLock<BTreeMap<String, CounterKind>>,
    /// Why the reader is not running, if it is not.
    unavailable: Mutex<Option<String>>,
}

impl Flows {
    pub fn new(capacity: usize) -> Self {
        Self {
            records: Records::new(capacity),
            attributor: RwLock::new(Attributor::new()),
            counters: RwLock::new(BTreeMap::new()),
            unavailable: Mutex::new(Some("the flow log reader has not started".into())),
        }
    }

    /// After a successful reconcile: the chains and counters of `rs` and
    /// the pod addresses, for attribution.
    pub fn update(&self, rs: &Ruleset, pods: impl IntoIterator<Item = (IpAddr, String, String)>) {
        write(&self.attributor).update_parts(rs, pods);
        *write(&self.counters) = rs.counters.clone();
    }

    pub fn counters(&self) -> BTreeMap<String, CounterKind> {
        read(&self.counters).clone()
    }

    /// `GET /flows`: `Err` with the reason when the reader is not running.
    pub fn query(&self, q: &Query) -> Result<Vec<FlowRecord>, String> {
        if let Some(why) = lock(&self.unavailable).clone() {
            return Err(why);
        }
        Ok(self.records.query(q))
    }

    /// New records, for `/flows/stream`.
    pub fn subscribe(&self) -> broadcast::Receiver<FlowRecord> {
        self.records.subscribe()
    }

    /// Records one attempt: log line, ring, live subscribers.
    pub fn publish(&self, r: FlowRecord) {
        info!(
            target: "palisade::flows",
            time = %serde_json::to_value(r.time).unwrap_or_default().as_str().unwrap_or_default(),
            mode = r.mode.as_str(),
            direction = r.direction.as_str(),
            protocol = r.protocol,
            src = r.src.label(),
            dst = r.dst.label(),
            policies = r.policies.join(","),
            record = r.to_json(),
            "denied flow"
        );
        self.records.push(r);
    }

    /// Starts the reader thread in `netns` (or the agent's own). A group
    /// that cannot be bound (another reader, no CAP_NET_ADMIN) is logged
    /// and reported by `/flows`; enforcement is not affected.
    pub fn start(self: &Arc<Self>, netns: Option<&str>, stop: Arc<AtomicBool>) {
        let mut log = match FlowLog::open_in(netns, FLOW_LOG_GROUP, POLL) {
            Ok(log) => log,
            Err(e) => {
                warn!(error = %e, group = FLOW_LOG_GROUP, "denied-flow log unavailable");
                *lock(&self.unavailable) = Some(format!("flow log unavailable: {e}"));
                return;
            }
        };
        *lock(&self.unavailable) = None;
        info!(group = FLOW_LOG_GROUP, "reading the denied-flow log");
        let flows = self.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let received = match log.recv() {
                    Ok(r) => r,
                    Err(e) => {
                        warn!(error = %e, "denied-flow log read failed");
                        std::thread::sleep(POLL);
                        continue;
                    }
                };
                let batch = log.records(received, &read(&flows.attributor));
                if batch.overrun {
                    warn!("denied-flow log overrun: some denials were not recorded");
                }
                batch.records.into_iter().for_each(|r| flows.publish(r));
            }
        });
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}
