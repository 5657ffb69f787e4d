//! The cluster's pods grouped by namespace and label set, so a selector
//! peer only looks at the namespaces it can match, once per distinct label
//! set. Kept between compilations by [`crate::Compiler`] and patched for
//! changed pods, so building a set after a change costs what the set holds.

use std::collections::BTreeMap;
use std::net::IpAddr;

use palisade_model::{Cluster, LabelSelector, Labels, Pod};

use crate::cache::{Cache, Reuse, ReuseCell};

/// Non-host-network pods (host-network pods are never matched by pod
/// selectors, nor do they resolve named ports): namespace -> label set ->
/// pod name -> addresses. Pods of a namespace share few distinct label sets
/// (the replicas of a workload).
#[derive(Debug, Default)]
pub struct PodGroups {
    by_ns: BTreeMap<String, BTreeMap<Labels, BTreeMap<String, Vec<IpAddr>>>>,
}

impl PodGroups {
    pub fn of(cluster: &Cluster) -> Self {
        let mut groups = Self::default();
        cluster.pods().for_each(|p| groups.insert(p));
        groups
    }

    pub fn insert(&mut self, pod: &Pod) {
        if pod.host_network {
            return;
        }
        let ns = self.by_ns.entry(pod.namespace.clone()).or_default();
        let group = ns.entry(pod.labels.clone()).or_default();
        group.insert(pod.name.clone(), pod.ips.clone());
    }

    /// The addresses of the pods of namespace `ns` that `pods` selects.
    pub fn matching_in<'a>(
        &'a self,
        ns: &str,
        pods: &'a LabelSelector,
    ) -> impl Iterator<Item = &'a IpAddr> + 'a {
        self.by_ns
            .get(ns)
            .into_iter()
            .flat_map(|g| g.iter())
            .filter(|(labels, _)| pods.matches(labels))
            .flat_map(|(_, pods)| pods.values().flatten())
    }

    pub fn remove(&mut self, pod: &Pod) {
        let Some(ns) = self.by_ns.get_mut(&pod.namespace) else {
            return;
        };
        if let Some(group) = ns.get_mut(&pod.labels) {
            group.remove(&pod.name);
            if group.is_empty() {
                ns.remove(&pod.labels);
            }
        }
        if ns.is_empty() {
            self.by_ns.remove(&pod.namespace);
        }
    }
}

/// One compilation's view: the cluster, its pod groups, and the sets kept
/// from previous compilations.
#[derive(Debug)]
pub struct PodIndex<'c> {
    pub cluster: &'c Cluster,
    groups: &'c PodGroups,
    /// Sets kept from the previous compilation, and the ones this
    /// compilation uses (see [`crate::Compiler`]).
    pub reuse: ReuseCell,
}

impl<'c> PodIndex<'c> {
    pub fn new(cluster: &'c Cluster, groups: &'c PodGroups, old: Cache) -> Self {
        let reuse = ReuseCell::new(Reuse {
            old,
            used: Cache::default(),
        });
        Self {
            cluster,
            groups,
            reuse,
        }
    }

    /// The sets this compilation used (or built), and the ones it did not touch.
    pub fn into_caches(self) -> (Cache, Cache) {
        let reuse = self.reuse.into_inner();
        (reuse.used, reuse.old)
    }

    /// The addresses of the pods in scope (the policy's namespace, or the
    /// namespaces `namespaces` matches) whose labels `pods` matches.
    pub fn matching<'a>(
        &'a self,
        namespaces: Option<&'a LabelSelector>,
        pods: &'a LabelSelector,
        policy_ns: &'a str,
    ) -> impl Iterator<Item = &'c IpAddr> + 'a {
        let groups = self.groups;
        let cluster = self.cluster;
        let own = match namespaces {
            None => groups.by_ns.get(policy_ns),
            Some(_) => None,
        };
        let selected = namespaces.into_iter().flat_map(move |sel| {
            groups
                .by_ns
                .iter()
                .filter(move |(ns, _)| sel.matches(&cluster.namespace_labels(ns)))
                .map(|(_, g)| g)
        });
        own.into_iter()
            .chain(selected)
            .flat_map(|g| g.iter())
            .filter(|(labels, _)| pods.matches(labels))
            .flat_map(|(_, pods)| pods.values().flatten())
    }

    /// Every pod that can resolve a named port.
    pub fn all(&self) -> impl Iterator<Item = &'c Pod> + '_ {
        self.cluster.pods().filter(|p| !p.host_network)
    }
}
