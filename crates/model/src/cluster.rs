//! The cluster state the evaluator and compiler work on.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::policy::ObjectRef;
use crate::{Direction, Labels, Namespace, NetworkPolicy, Pod, PolicyMode, PolicyRef};

/// A pod's `namespace/name`.
pub type PodId = ObjectRef;

/// Namespaces, pods and policies, keyed and ordered by name so iteration
/// (and everything printed from it) is deterministic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cluster {
    namespaces: BTreeMap<String, Namespace>,
    pods: BTreeMap<PodId, Pod>,
    policies: BTreeMap<PolicyRef, NetworkPolicy>,
}

impl Cluster {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a namespace. An implicit namespace is replaced by a
    /// declared one; a declared one is never downgraded to implicit.
    pub fn upsert_namespace(&mut self, ns: Namespace) {
        if !ns.declared && self.namespaces.contains_key(&ns.name) {
            return;
        }
        self.namespaces.insert(ns.name.clone(), ns);
    }

    /// Adds or replaces a pod; its namespace is implied if not declared.
    pub fn upsert_pod(&mut self, pod: Pod) {
        self.upsert_namespace(Namespace::implicit(&pod.namespace));
        self.pods.insert(pod.id(), pod);
    }

    /// Adds or replaces a policy; its namespace is implied if not declared.
    pub fn upsert_policy(&mut self, policy: NetworkPolicy) {
        self.upsert_namespace(Namespace::implicit(&policy.namespace));
        self.policies.insert(policy.reference(), policy);
    }

    /// Removes a namespace and, as Kubernetes does, everything in it.
    pub fn remove_namespace(&mut self, name: &str) -> Option<Namespace> {
        self.pods.retain(|id, _| id.namespace != name);
        self.policies.retain(|id, _| id.namespace != name);
        self.namespaces.remove(name)
    }

    pub fn remove_pod(&mut self, id: &PodId) -> Option<Pod> {
        self.pods.remove(id)
    }

    pub fn remove_policy(&mut self, id: &PolicyRef) -> Option<NetworkPolicy> {
        self.policies.remove(id)
    }

    pub fn namespace(&self, name: &str) -> Option<&Namespace> {
        self.namespaces.get(name)
    }

    pub fn namespace_mut(&mut self, name: &str) -> Option<&mut Namespace> {
        self.namespaces.get_mut(name)
    }

    /// The labels of namespace `name`; a namespace not known at all still
    /// carries `kubernetes.io/metadata.name`.
    pub fn namespace_labels(&self, name: &str) -> Cow<'_, Labels> {
        match self.namespaces.get(name) {
            Some(ns) => Cow::Borrowed(ns.labels()),
            None => Cow::Owned(Namespace::implicit(name).labels().clone()),
        }
    }

    pub fn namespaces(&self) -> impl Iterator<Item = &Namespace> {
        self.namespaces.values()
    }

    pub fn pod(&self, id: &PodId) -> Option<&Pod> {
        self.pods.get(id)
    }

    pub fn pod_mut(&mut self, id: &PodId) -> Option<&mut Pod> {
        self.pods.get_mut(id)
    }

    pub fn pods(&self) -> impl Iterator<Item = &Pod> {
        self.pods.values()
    }

    pub fn policy(&self, id: &PolicyRef) -> Option<&NetworkPolicy> {
        self.policies.get(id)
    }

    pub fn policies(&self) -> impl Iterator<Item = &NetworkPolicy> {
        self.policies.values()
    }

    /// Policies of one namespace, in name order.
    pub fn policies_in<'a>(
        &'a self,
        namespace: &'a str,
    ) -> impl Iterator<Item = &'a NetworkPolicy> + 'a {
        let start = PolicyRef::new(namespace, "");
        self.policies
            .range(start..)
            .map(|(_, p)| p)
            .take_while(move |p| p.namespace == namespace)
    }

    /// The policies that isolate a pod with `labels` in `namespace` for
    /// direction `d`: those of its namespace that select it and have `d` in
    /// their policyTypes. Empty means the pod is not isolated for `d`.
    pub fn isolating<'a>(
        &'a self,
        namespace: &'a str,
        labels: &'a Labels,
        d: Direction,
    ) -> impl Iterator<Item = &'a NetworkPolicy> + 'a {
        self.policies_in(namespace)
            .filter(move |p| p.rules(d).is_some() && p.pod_selector.matches(labels))
    }

    /// The effective mode of `policy`: its own annotation, else its
    /// namespace's, else enforce.
    pub fn policy_mode(&self, policy: &NetworkPolicy) -> PolicyMode {
        policy
            .mode
            .or_else(|| self.namespaces.get(&policy.namespace)?.mode)
            .unwrap_or_default()
    }

    /// Whether a side isolated by `isolating` only audits its denials:
    /// true iff there is at least one isolating policy and all of them are
    /// in audit mode (one enforcing policy enforces the denial).
    pub fn audit_only<'a>(&self, isolating: impl IntoIterator<Item = &'a NetworkPolicy>) -> bool {
        let mut any = false;
        for p in isolating {
            if self.policy_mode(p) == PolicyMode::Enforce {
                return false;
            }
            any = true;
        }
        any
    }

    /// The pod (not host-network) that owns `ip`, if any.
    pub fn pod_by_ip(&self, ip: IpAddr) -> Option<&Pod> {
        self.pods
            .values()
            .find(|p| !p.host_network && p.ips.contains(&ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implicit_namespaces_carry_their_name_label() {
        let mut c = Cluster::new();
        c.upsert_pod(Pod::new("ns-1", "a", Labels::new(), None));
        let labels = c.namespace_labels("ns-1");
        assert_eq!(labels.get(crate::METADATA_NAME_LABEL), Some("ns-1"));
        c.upsert_namespace(Namespace::new("ns-1", Labels::from([("team", "x")])));
        c.upsert_pod(Pod::new("ns-1", "b", Labels::new(), None));
        assert_eq!(
            c.namespace_labels("ns-1").get("team"),
            Some("x"),
            "declared survives"
        );
    }

    #[test]
    fn removing_a_namespace_removes_its_objects() {
        let mut c = Cluster::new();
        c.upsert_pod(Pod::new("a", "p", Labels::new(), None));
        c.upsert_pod(Pod::new("b", "p", Labels::new(), None));
        c.remove_namespace("a");
        assert_eq!(c.pods().count(), 1);
    }
}
