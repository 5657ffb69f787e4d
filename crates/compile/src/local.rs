//! Which pods a compilation enforces: the pods of one node.

use std::collections::BTreeSet;

use palisade_model::{Pod, PodId};

/// The pods whose policies this node enforces. Pods elsewhere still feed
/// peer sets (their addresses are matched by selectors and ipBlocks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalPods {
    /// Every pod (the lab: one node).
    All,
    /// Pods whose `spec.nodeName` is this node.
    Node(String),
    /// An explicit list.
    Pods(BTreeSet<PodId>),
}

impl LocalPods {
    /// Host-network pods are never subjects; pods without an address cannot be dispatched.
    pub fn contains(&self, pod: &Pod) -> bool {
        if pod.host_network || pod.ips.is_empty() {
            return false;
        }
        match self {
            LocalPods::All => true,
            LocalPods::Node(n) => pod.node_name.as_deref() == Some(n.as_str()),
            LocalPods::Pods(ids) => ids.contains(&pod.id()),
        }
    }
}
