//! The agent's [`StateSource`]: the cluster as the watch caches know it,
//! or nothing until all three caches have completed their first list.

use std::collections::BTreeSet;
use std::net::IpAddr;

use palisade_compile::LocalPods;
use palisade_manifest::Object;
use palisade_model::Cluster;
use palisade_reconcile::StateSource;

use crate::cache::Entries;
use crate::shared::{lock, SharedRef};

/// Counts and addresses of the last snapshot, for metrics and fail-closed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Pods enforced on this node (local, not host-network, with an address).
    pub local_pods: usize,
    /// Every address of every known pod (any node, not host-network).
    pub pod_ips: BTreeSet<IpAddr>,
    /// `(address, namespace, name)` of every known pod, for the flow log.
    pub pods: Vec<(IpAddr, String, String)>,
}

/// Snapshots the watch caches.
#[derive(Debug)]
pub struct CacheSource {
    shared: SharedRef,
    local: LocalPods,
    /// What the last successful snapshot held.
    pub last: Option<Summary>,
}

impl CacheSource {
    pub fn new(shared: SharedRef, local: LocalPods) -> Self {
        Self {
            shared,
            local,
            last: None,
        }
    }
}

impl StateSource for CacheSource {
    fn snapshot(&mut self) -> Option<Cluster> {
        let cluster = snapshot(&self.shared)?;
        self.last = Some(summary(&cluster, &self.local));
        Some(cluster)
    }
}

/// The cluster the caches hold, or `None` until every cache has synced.
pub fn snapshot(shared: &SharedRef) -> Option<Cluster> {
    let caches = &shared.caches;
    let (namespaces, pods, policies) = (
        lock(&caches.namespaces),
        lock(&caches.pods),
        lock(&caches.policies),
    );
    let parts = [
        namespaces.complete()?,
        pods.complete()?,
        policies.complete()?,
    ];
    Some(build(&parts))
}

/// Namespaces first (a pod's namespace labels must be the declared ones),
/// then pods, then policies: the order of `Loaded::to_cluster`.
fn build(parts: &[&Entries; 3]) -> Cluster {
    let mut cluster = Cluster::new();
    for object in parts
        .iter()
        .flat_map(|p| p.values())
        .filter_map(|e| e.enforced.as_ref())
    {
        match object {
            Object::Namespace(ns) => cluster.upsert_namespace(ns.clone()),
            Object::Pod(pod) => cluster.upsert_pod(pod.clone()),
            Object::NetworkPolicy(np) => cluster.upsert_policy(np.clone()),
        }
    }
    cluster
}

fn summary(cluster: &Cluster, local: &LocalPods) -> Summary {
    let pods: Vec<_> = cluster.pods().filter(|p| !p.host_network).collect();
    Summary {
        local_pods: cluster.pods().filter(|p| local.contains(p)).count(),
        pod_ips: pods.iter().flat_map(|p| p.ips.iter().copied()).collect(),
        pods: pods
            .iter()
            .flat_map(|p| {
                p.ips
                    .iter()
                    .map(move |ip| (*ip, p.namespace.clone(), p.name.clone()))
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use k8s_openapi::api::core::v1::{Namespace, Pod};
    use k8s_openapi::api::networking::v1::NetworkPolicy;
    use kube::runtime::watcher::Event;
    use serde_json::json;

    use super::*;
    use crate::shared::Shared;

    fn pod(name: &str, node: &str, ip: &str) -> Pod {
        serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "ns-1", "uid": name, "resourceVersion": "1"},
            "spec": {"nodeName": node, "containers": []},
            "status": {"podIP": ip, "podIPs": [{"ip": ip}]}
        }))
        .unwrap()
    }

    #[test]
    fn no_snapshot_until_every_cache_is_synced() {
        let shared = Arc::new(Shared::default());
        let mut source = CacheSource::new(shared.clone(), LocalPods::Node("n1".into()));
        let caches = &shared.caches;
        lock(&caches.pods).apply(Event::<Pod>::Init);
        lock(&caches.pods).apply(Event::InitApply(pod("a", "n1", "10.0.0.1")));
        lock(&caches.pods).apply(Event::InitApply(pod("b", "n2", "10.0.0.2")));
        lock(&caches.pods).apply(Event::<Pod>::InitDone);
        lock(&caches.namespaces).apply(Event::<Namespace>::Init);
        lock(&caches.namespaces).apply(Event::<Namespace>::InitDone);
        assert!(source.snapshot().is_none(), "policies not listed yet");
        lock(&caches.policies).apply(Event::<NetworkPolicy>::Init);
        assert!(source.snapshot().is_none(), "policies still listing");
        lock(&caches.policies).apply(Event::<NetworkPolicy>::InitDone);
        let cluster = source.snapshot().expect("ready");
        assert_eq!(cluster.pods().count(), 2);
        let last = source.last.expect("summary");
        assert_eq!((last.local_pods, last.pod_ips.len()), (1, 2));
    }
}
