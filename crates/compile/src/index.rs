//! The cluster's pods grouped by namespace, built once per compilation, so
//! a selector peer only looks at the pods of the namespaces it can match.

use std::collections::BTreeMap;

use palisade_model::{Cluster, LabelSelector, Pod};

/// Non-host-network pods by namespace (host-network pods are never matched
/// by pod selectors, nor do they resolve named ports).
#[derive(Debug)]
pub struct PodIndex<'c> {
    pub cluster: &'c Cluster,
    by_ns: BTreeMap<&'c str, Vec<&'c Pod>>,
}

impl<'c> PodIndex<'c> {
    pub fn new(cluster: &'c Cluster) -> Self {
        let mut by_ns: BTreeMap<&str, Vec<&Pod>> = BTreeMap::new();
        for pod in cluster.pods().filter(|p| !p.host_network) {
            by_ns.entry(pod.namespace.as_str()).or_default().push(pod);
        }
        Self { cluster, by_ns }
    }

    /// The pods of the namespaces a peer can reach: the policy's own
    /// namespace (`None`), or those whose labels `namespaces` matches.
    pub fn in_scope<'a>(
        &'a self,
        namespaces: Option<&'a LabelSelector>,
        policy_ns: &'a str,
    ) -> impl Iterator<Item = &'c Pod> + 'a {
        self.by_ns
            .iter()
            .filter(move |(ns, _)| match namespaces {
                None => **ns == policy_ns,
                Some(sel) => sel.matches(&self.cluster.namespace_labels(ns)),
            })
            .flat_map(|(_, pods)| pods.iter().copied())
    }

    /// Every pod that can resolve a named port.
    pub fn all(&self) -> impl Iterator<Item = &'c Pod> + '_ {
        self.by_ns.values().flatten().copied()
    }
}
