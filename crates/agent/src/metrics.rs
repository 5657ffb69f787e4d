//! Prometheus metrics, served as text on `/metrics`. Every name starts
//! with `palisade_`.

use std::sync::atomic::AtomicU64;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use palisade_compile::Ruleset;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::source::Summary;

type Labels1 = [(&'static str, &'static str); 1];
type Labels2 = [(&'static str, &'static str); 2];
type ObjectLabels = [(&'static str, String); 2];

/// Every metric the agent exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    reconciles: Family<Labels2, Counter>,
    reconcile_seconds: Histogram,
    event_to_kernel_seconds: Histogram,
    apply_errors: Counter,
    watch_errors: Family<Labels1, Counter>,
    relists: Family<Labels1, Counter>,
    objects: Family<Labels1, Gauge>,
    invalid_objects: Family<Labels1, Gauge>,
    unenforceable: Family<ObjectLabels, Gauge>,
    local_pods: Gauge,
    nft_sets: Gauge,
    nft_elements: Gauge,
    nft_chains: Gauge,
    last_sync: Gauge<f64, AtomicU64>,
    ready: Gauge,
    bridge_bypass: Gauge,
    failclosed_addresses: Gauge,
    drift_repairs: Counter,
    drift_last_repair: Gauge<f64, AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let latency = || Histogram::new(exponential_buckets(0.001, 2.0, 16));
        let mut m = Self {
            registry: Registry::with_prefix("palisade"),
            reconciles: Family::default(),
            reconcile_seconds: latency(),
            event_to_kernel_seconds: latency(),
            apply_errors: Counter::default(),
            watch_errors: Family::default(),
            relists: Family::default(),
            objects: Family::default(),
            invalid_objects: Family::default(),
            unenforceable: Family::default(),
            local_pods: Gauge::default(),
            nft_sets: Gauge::default(),
            nft_elements: Gauge::default(),
            nft_chains: Gauge::default(),
            last_sync: Gauge::default(),
            ready: Gauge::default(),
            bridge_bypass: Gauge::default(),
            failclosed_addresses: Gauge::default(),
            drift_repairs: Counter::default(),
            drift_last_repair: Gauge::default(),
        };
        m.register();
        m
    }

    fn register(&mut self) {
        let r = &mut self.registry;
        r.register("reconciles", "Reconciles, by trigger (startup, event, resync, retry) and result (full, delta, unchanged, error)", self.reconciles.clone());
        r.register(
            "reconcile_duration_seconds",
            "Wall time of one reconcile: snapshot, compile, apply",
            self.reconcile_seconds.clone(),
        );
        r.register(
            "event_to_kernel_seconds",
            "From the first watch event of a change to the kernel holding it",
            self.event_to_kernel_seconds.clone(),
        );
        r.register(
            "apply_errors",
            "Reconciles that failed to program the kernel (the previous ruleset stays)",
            self.apply_errors.clone(),
        );
        r.register(
            "watch_errors",
            "Watch or list failures, by kind",
            self.watch_errors.clone(),
        );
        r.register(
            "relists",
            "Full lists, by kind (start, 410 Gone, watcher restart)",
            self.relists.clone(),
        );
        r.register(
            "watched_objects",
            "Objects in the watch caches, by kind",
            self.objects.clone(),
        );
        r.register(
            "invalid_objects",
            "Objects whose current version failed validation, by kind",
            self.invalid_objects.clone(),
        );
        r.register(
            "policies_unenforceable",
            "1 for each NetworkPolicy palisade cannot enforce (a rule it cannot read): the pods it selects are isolated and allowed nothing",
            self.unenforceable.clone(),
        );
        r.register(
            "local_pods",
            "Pods of this node enforced as subjects",
            self.local_pods.clone(),
        );
        r.register(
            "nft_sets",
            "Sets and verdict maps in palisade's table",
            self.nft_sets.clone(),
        );
        r.register(
            "nft_elements",
            "Elements of all sets and maps in palisade's table",
            self.nft_elements.clone(),
        );
        r.register(
            "nft_chains",
            "Chains in palisade's table",
            self.nft_chains.clone(),
        );
        r.register(
            "last_sync_timestamp_seconds",
            "Unix time of the last successful reconcile",
            self.last_sync.clone(),
        );
        r.register(
            "ready",
            "1 once the table has been programmed successfully",
            self.ready.clone(),
        );
        r.register("bridge_netfilter_bypass", "1 when a bridge's same-bridge traffic bypasses netfilter (br_netfilter missing or disabled)", self.bridge_bypass.clone());
        r.register(
            "failclosed_known_addresses",
            "Pod addresses let through by fail-closed mode",
            self.failclosed_addresses.clone(),
        );
        r.register(
            "drift_repairs",
            "Read-backs (drift check or resync) that found the table changed by someone else and repaired it",
            self.drift_repairs.clone(),
        );
        r.register(
            "drift_last_repair_timestamp_seconds",
            "Unix time of the last drift repair (0: none yet)",
            self.drift_last_repair.clone(),
        );
    }

    /// The metrics in the Prometheus/OpenMetrics text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }

    pub fn reconciled(&self, trigger: &'static str, result: &'static str, took: Duration) {
        self.reconciles
            .get_or_create(&[("trigger", trigger), ("result", result)])
            .inc();
        self.reconcile_seconds.observe(took.as_secs_f64());
    }

    pub fn apply_error(&self) {
        self.apply_errors.inc();
    }

    pub fn event_to_kernel(&self, latency: Duration) {
        self.event_to_kernel_seconds.observe(latency.as_secs_f64());
    }

    pub fn watch_error(&self, kind: &'static str) {
        self.watch_errors.get_or_create(&[("kind", kind)]).inc();
    }

    pub fn relist(&self, kind: &'static str) {
        self.relists.get_or_create(&[("kind", kind)]).inc();
    }

    /// After a successful reconcile: what the caches and the table hold.
    pub fn synced(&self, summary: Option<&Summary>, rs: &Ruleset) {
        if let Some(s) = summary {
            self.local_pods.set(gauge(s.local_pods));
        }
        // Counted on the IR (computing the kernel state would cost more than
        // the update itself at 10,000 pods): 2 hairpin sets and 4 dispatch
        // maps are fixed; each dispatched address is a map element and a
        // hairpin pair; interval sets count their IR ranges.
        let dispatched: usize = rs.dispatch.values().map(|m| m.len()).sum();
        let hairpin: std::collections::BTreeSet<_> =
            rs.dispatch.values().flat_map(|m| m.keys()).collect();
        let elements = rs.addr_sets.values().map(|s| s.ranges.len()).sum::<usize>()
            + rs.port_sets.values().map(|s| s.ranges.len()).sum::<usize>()
            + rs.named_port_sets
                .values()
                .map(|s| s.elements.len())
                .sum::<usize>()
            + dispatched
            + hairpin.len();
        let sets = rs.addr_sets.len() + rs.port_sets.len() + rs.named_port_sets.len() + 2 + 4;
        self.nft_sets.set(gauge(sets));
        self.nft_elements.set(gauge(elements));
        self.nft_chains.set(gauge(rs.chains.len() + 3));
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        self.last_sync.set(now.as_secs_f64());
        self.ready.set(1);
    }

    /// What one kind's cache holds.
    pub fn cache_counts(&self, kind: &'static str, objects: usize, invalid: usize) {
        self.objects
            .get_or_create(&[("kind", kind)])
            .set(gauge(objects));
        self.invalid_objects
            .get_or_create(&[("kind", kind)])
            .set(gauge(invalid));
    }

    /// The policies enforced as unenforceable, by `(namespace, name)`.
    pub fn unenforceable(&self, policies: &[(String, String)]) {
        self.unenforceable.clear();
        for (namespace, name) in policies {
            self.unenforceable
                .get_or_create(&[("namespace", namespace.clone()), ("name", name.clone())])
                .set(1);
        }
    }

    pub fn bridge_bypass(&self, bypass: bool) {
        self.bridge_bypass.set(i64::from(bypass));
    }

    pub fn drift_repaired(&self) {
        self.drift_repairs.inc();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        self.drift_last_repair.set(now.as_secs_f64());
    }

    pub fn failclosed_addresses(&self, n: usize) {
        self.failclosed_addresses.set(gauge(n));
    }
}

fn gauge(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_output_names_every_metric() {
        let m = Metrics::new();
        m.reconciled("event", "delta", Duration::from_millis(3));
        m.synced(Some(&Summary::default()), &Ruleset::default());
        m.cache_counts("Pod", 3, 1);
        m.unenforceable(&[("ns-1".into(), "x".into())]);
        let text = m.encode();
        for name in [
            "palisade_reconciles_total{trigger=\"event\",result=\"delta\"} 1",
            "palisade_reconcile_duration_seconds_bucket",
            "palisade_event_to_kernel_seconds_count",
            "palisade_apply_errors_total",
            "palisade_watched_objects{kind=\"Pod\"}",
            "palisade_policies_unenforceable{namespace=\"ns-1\",name=\"x\"} 1",
            "palisade_local_pods",
            "palisade_nft_elements",
            "palisade_last_sync_timestamp_seconds",
            "palisade_drift_repairs_total 0",
            "palisade_drift_last_repair_timestamp_seconds 0",
        ] {
            assert!(text.contains(name), "{name} missing from\n{text}");
        }
    }
}
