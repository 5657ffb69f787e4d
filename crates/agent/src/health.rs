//! Liveness and readiness, as `/healthz` and `/readyz` report them.
//!
//! - Alive: every long-running task (the three watches, the reconcile loop)
//!   is running, and no reconcile has been stuck for [`STUCK`].
//! - Ready: the table has been programmed successfully at least once (and
//!   stays ready while the API server is unreachable: the last known state
//!   is enforced). With `--require-br-netfilter`, a bridge bypassing
//!   netfilter also makes the agent not ready.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::bridge::BridgeStatus;
use crate::shared::Caches;

/// A reconcile running longer than this makes the agent not alive.
pub const STUCK: Duration = Duration::from_secs(300);

/// What the health endpoints report.
#[derive(Debug)]
pub struct Health {
    programmed: AtomicBool,
    require_br_netfilter: bool,
    bridge: Mutex<BridgeStatus>,
    tasks: Mutex<BTreeMap<&'static str, bool>>,
    busy_since: Mutex<Option<Instant>>,
    last_error: Mutex<Option<String>>,
}

/// Marks its task stopped when dropped (task end or panic).
#[derive(Debug)]
pub struct TaskGuard {
    health: Arc<Health>,
    name: &'static str,
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        locked(&self.health.tasks).insert(self.name, false);
    }
}

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Health {
    pub fn new(require_br_netfilter: bool, bridge: BridgeStatus) -> Self {
        Self {
            programmed: AtomicBool::new(false),
            require_br_netfilter,
            bridge: Mutex::new(bridge),
            tasks: Mutex::default(),
            busy_since: Mutex::default(),
            last_error: Mutex::default(),
        }
    }

    /// Registers a running task; it counts as stopped once the guard drops.
    pub fn task(self: &Arc<Self>, name: &'static str) -> TaskGuard {
        locked(&self.tasks).insert(name, true);
        TaskGuard {
            health: self.clone(),
            name,
        }
    }

    /// Records a new bridge check; true when it changed.
    pub fn set_bridge(&self, status: BridgeStatus) -> bool {
        let mut bridge = locked(&self.bridge);
        let changed = *bridge != status;
        *bridge = status;
        changed
    }

    /// A reconcile starts (`true`) or ends (`false`).
    pub fn busy(&self, busy: bool) {
        *locked(&self.busy_since) = busy.then(Instant::now);
    }

    /// After a reconcile: `None` on success, else the error.
    pub fn reconciled(&self, error: Option<String>) {
        if error.is_none() {
            self.programmed.store(true, Ordering::Release);
        }
        *locked(&self.last_error) = error;
    }

    /// Whether the table has been programmed at least once.
    pub fn programmed(&self) -> bool {
        self.programmed.load(Ordering::Acquire)
    }

    /// `Ok(body)` when alive, `Err(body)` when not.
    pub fn alive(&self) -> Result<String, String> {
        let stopped: Vec<&str> = locked(&self.tasks)
            .iter()
            .filter(|(_, running)| !**running)
            .map(|(name, _)| *name)
            .collect();
        let stuck = locked(&self.busy_since).is_some_and(|t| t.elapsed() > STUCK);
        match (stopped.is_empty(), stuck) {
            (true, false) => Ok("ok\n".into()),
            (false, _) => Err(format!("stopped: {}\n", stopped.join(", "))),
            (true, true) => Err(format!("a reconcile has been running for over {STUCK:?}\n")),
        }
    }

    /// `Ok(body)` when ready, `Err(body)` when not; the body says why, the
    /// state of each cache, and the bridge check.
    pub fn ready(&self, caches: &Caches) -> Result<String, String> {
        let bridge = locked(&self.bridge).clone();
        let mut body = String::new();
        let programmed = self.programmed();
        let blocked = self.require_br_netfilter && bridge.bypassed();
        let verdict = match (programmed, blocked) {
            (true, false) => "ready: the table is programmed",
            (true, true) => "not ready: --require-br-netfilter and a bridge bypasses netfilter",
            (false, _) => "not ready: the table has not been programmed yet",
        };
        let _ = writeln!(body, "{verdict}");
        for (kind, synced) in caches.synced() {
            let state = if synced { "synced" } else { "listing" };
            let _ = writeln!(body, "cache {kind}: {state}");
        }
        let level = if bridge.bypassed() { "WARNING" } else { "ok" };
        let _ = writeln!(body, "bridge: {level}: {bridge}");
        if let Some(e) = locked(&self.last_error).as_ref() {
            let _ = writeln!(body, "last reconcile failed: {e}");
        }
        match programmed && !blocked {
            true => Ok(body),
            false => Err(body),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_after_the_first_program_and_alive_while_tasks_run() {
        let health = Arc::new(Health::new(false, BridgeStatus::NoBridge));
        let caches = Caches::default();
        assert!(health
            .ready(&caches)
            .unwrap_err()
            .contains("not been programmed"));
        health.reconciled(None);
        let body = health.ready(&caches).unwrap();
        assert!(body.contains("cache Pod: listing"), "{body}");
        let guard = health.task("reconcile");
        assert!(health.alive().is_ok());
        drop(guard);
        assert!(health.alive().unwrap_err().contains("reconcile"));
    }

    #[test]
    fn a_bypassing_bridge_blocks_readiness_only_when_required() {
        let bridge = BridgeStatus::Bypassed {
            bridges: vec!["cni0".into()],
            reason: "br_netfilter is not loaded".into(),
        };
        let caches = Caches::default();
        let lenient = Health::new(false, bridge.clone());
        lenient.reconciled(None);
        assert!(lenient.ready(&caches).unwrap().contains("WARNING"));
        let strict = Health::new(true, bridge);
        strict.reconciled(None);
        assert!(strict.ready(&caches).is_err());
    }
}
