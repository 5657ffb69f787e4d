//! State shared between the watch tasks and the reconcile loop: the three
//! caches, and the pending-change signal.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::Notify;

use crate::cache::Cache;

/// The caches of the three watched kinds.
#[derive(Debug, Default)]
pub struct Caches {
    pub namespaces: Mutex<Cache>,
    pub pods: Mutex<Cache>,
    pub policies: Mutex<Cache>,
}

impl Caches {
    /// The cache of `kind` (`Namespace`, `Pod`, `NetworkPolicy`).
    pub fn of(&self, kind: &str) -> &Mutex<Cache> {
        match kind {
            "Namespace" => &self.namespaces,
            "Pod" => &self.pods,
            _ => &self.policies,
        }
    }

    /// Which kinds have completed their first list, in watch order.
    pub fn synced(&self) -> [(&'static str, bool); 3] {
        ["Namespace", "Pod", "NetworkPolicy"].map(|k| (k, lock(self.of(k)).complete().is_some()))
    }
}

/// Locks a cache; a watch task that panicked while holding the lock left a
/// cache that is still structurally sound, so poisoning is ignored.
pub fn lock(cache: &Mutex<Cache>) -> MutexGuard<'_, Cache> {
    cache
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// "Something changed since the last reconcile", with when it first did
/// (for the event-to-kernel latency).
#[derive(Debug, Default)]
pub struct Pending {
    since: Mutex<Option<Instant>>,
    notify: Notify,
}

impl Pending {
    /// Records a change now (keeping an earlier one) and wakes the loop.
    pub fn mark(&self) {
        self.mark_at(Instant::now());
    }

    /// Records a change that happened at `at`.
    pub fn mark_at(&self, at: Instant) {
        let mut since = self.since.lock().unwrap_or_else(|p| p.into_inner());
        *since = Some(since.map_or(at, |s| s.min(at)));
        self.notify.notify_one();
    }

    /// Takes the pending change: when it first happened, if any.
    pub fn take(&self) -> Option<Instant> {
        self.since.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// Whether a change is pending.
    pub fn is_set(&self) -> bool {
        self.since
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    /// Resolves after the next [`Pending::mark`] (or at once if one came
    /// since the last wait).
    pub async fn changed(&self) {
        self.notify.notified().await;
    }
}

/// Everything the tasks share.
#[derive(Debug, Default)]
pub struct Shared {
    pub caches: Caches,
    pub pending: Pending,
}

/// A handle to [`Shared`].
pub type SharedRef = Arc<Shared>;
