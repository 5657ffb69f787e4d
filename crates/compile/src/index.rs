//! The cluster's pods grouped by namespace, built once per compilation, so
//! a selector peer only looks at the pods of the namespaces it can match,
//! once per distinct label set.

use std::cell::OnceCell;
use std::collections::BTreeMap;

use palisade_model::{Cluster, LabelSelector, Labels, Pod};

use crate::cache::{Cache, Reuse, ReuseCell};

/// Non-host-network pods by namespace, then by label set (host-network pods
/// are never matched by pod selectors, nor do they resolve named ports).
/// Pods of a namespace share few distinct label sets (the replicas of a
/// workload), so a selector is matched once per label set, not per pod.
/// Built on first use: a compilation that reuses every set never needs it.
#[derive(Debug)]
pub struct PodIndex<'c> {
    pub cluster: &'c Cluster,
    by_ns: OnceCell<BTreeMap<&'c str, Groups<'c>>>,
    /// Sets from the previous compilation that are still valid, and the
    /// ones this compilation uses (see [`crate::Compiler`]).
    pub reuse: ReuseCell,
}

type Groups<'c> = BTreeMap<&'c Labels, Vec<&'c Pod>>;

impl<'c> PodIndex<'c> {
    pub fn with_cache(cluster: &'c Cluster, old: Cache) -> Self {
        let reuse = ReuseCell::new(Reuse {
            old,
            used: Cache::default(),
        });
        Self {
            cluster,
            by_ns: OnceCell::new(),
            reuse,
        }
    }

    fn by_ns(&self) -> &BTreeMap<&'c str, Groups<'c>> {
        self.by_ns.get_or_init(|| {
            let mut by_ns: BTreeMap<&str, Groups> = BTreeMap::new();
            for pod in self.cluster.pods().filter(|p| !p.host_network) {
                by_ns
                    .entry(pod.namespace.as_str())
                    .or_default()
                    .entry(&pod.labels)
                    .or_default()
                    .push(pod);
            }
            by_ns
        })
    }

    /// The sets this compilation used (or built), and the ones it did not touch.
    pub fn into_caches(self) -> (Cache, Cache) {
        let reuse = self.reuse.into_inner();
        (reuse.used, reuse.old)
    }

    /// The pods in scope (see [`PodIndex::in_scope`]) whose labels `pods` matches.
    pub fn matching<'a>(
        &'a self,
        namespaces: Option<&'a LabelSelector>,
        pods: &'a LabelSelector,
        policy_ns: &'a str,
    ) -> impl Iterator<Item = &'c Pod> + 'a {
        self.namespaces(namespaces, policy_ns)
            .flat_map(|groups| groups.iter())
            .filter(|(labels, _)| pods.matches(labels))
            .flat_map(|(_, pods)| pods.iter().copied())
    }

    fn namespaces<'a>(
        &'a self,
        namespaces: Option<&'a LabelSelector>,
        policy_ns: &'a str,
    ) -> impl Iterator<Item = &'a Groups<'c>> + 'a {
        let own = match namespaces {
            None => self.by_ns().get(policy_ns),
            Some(_) => None,
        };
        let selected = namespaces.into_iter().flat_map(move |sel| {
            self.by_ns()
                .iter()
                .filter(move |(ns, _)| sel.matches(&self.cluster.namespace_labels(ns)))
                .map(|(_, groups)| groups)
        });
        own.into_iter().chain(selected)
    }

    /// Every pod that can resolve a named port.
    pub fn all(&self) -> impl Iterator<Item = &'c Pod> + '_ {
        self.by_ns()
            .values()
            .flat_map(|g| g.values().flatten())
            .copied()
    }
}
