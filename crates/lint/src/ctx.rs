//! What every check needs: the cluster, the options, and selector lookups.

use std::collections::BTreeSet;

use ipnet::IpNet;
use palisade_model::{Cluster, Direction, LabelSelector, NetworkPolicy, Peer, Pod, Rule};

use crate::Options;

/// The cluster as lint sees it, with the endpoints computed once.
#[derive(Debug)]
pub(crate) struct Ctx<'c> {
    pub cluster: &'c Cluster,
    pub opts: &'c Options,
    /// Pods and workloads that pod selectors can select (host-network pods
    /// excluded), in cluster order.
    pub endpoints: Vec<&'c Pod>,
    /// The pod network: given, or derived from pod IPs.
    pub pod_cidrs: Vec<IpNet>,
}

/// One rule in force: its direction, index and the rule.
pub(crate) type RuleAt<'p> = (Direction, usize, &'p Rule);

impl<'c> Ctx<'c> {
    pub fn new(cluster: &'c Cluster, opts: &'c Options) -> Self {
        Self {
            cluster,
            opts,
            endpoints: cluster.pods().filter(|p| !p.host_network).collect(),
            pod_cidrs: opts.effective_pod_cidrs(cluster),
        }
    }

    /// False for a policies-only input: then "matches no pod" says nothing
    /// about the cluster, and the checks that need pods stay quiet.
    pub fn has_endpoints(&self) -> bool {
        !self.endpoints.is_empty()
    }

    /// True when some Namespace object was given (not only implied).
    pub fn has_declared_namespaces(&self) -> bool {
        self.cluster.namespaces().any(|ns| ns.declared)
    }

    /// The endpoints policy `p` selects.
    pub fn selected(&self, p: &NetworkPolicy) -> Vec<&'c Pod> {
        self.endpoints
            .iter()
            .copied()
            .filter(|e| e.namespace == p.namespace && p.pod_selector.matches(&e.labels))
            .collect()
    }

    /// Names of the namespaces `sel` matches (declared or implied).
    pub fn namespaces_matching(&self, sel: &LabelSelector) -> Vec<&'c str> {
        self.cluster
            .namespaces()
            .filter(|ns| sel.matches(ns.labels()))
            .map(|ns| ns.name.as_str())
            .collect()
    }

    /// The endpoints `peer` (of a rule of `p`) matches. An ipBlock matches
    /// the endpoints with an address in it.
    pub fn peer_endpoints(&self, p: &NetworkPolicy, peer: &Peer) -> Vec<&'c Pod> {
        let matches = |e: &&Pod| match peer {
            Peer::IpBlock(b) => e.ips.iter().any(|ip| b.contains(*ip)),
            Peer::Pods { namespaces, pods } => {
                let ns_ok = match namespaces {
                    None => e.namespace == p.namespace,
                    Some(sel) => sel.matches(&self.cluster.namespace_labels(&e.namespace)),
                };
                ns_ok && pods.matches(&e.labels)
            }
        };
        self.endpoints.iter().copied().filter(matches).collect()
    }

    /// The endpoints any peer of `rule` matches (every endpoint when the
    /// rule has no peers).
    pub fn rule_endpoints(&self, p: &NetworkPolicy, rule: &Rule) -> Vec<&'c Pod> {
        if rule.peers.is_empty() {
            return self.endpoints.clone();
        }
        let mut seen = BTreeSet::new();
        let peers = rule
            .peers
            .iter()
            .flat_map(|peer| self.peer_endpoints(p, peer));
        peers
            .filter(|e| seen.insert((e.namespace.as_str(), e.name.as_str())))
            .collect()
    }
}

/// The rules of `p` in force (their direction is in policyTypes), ingress first.
pub(crate) fn rules_in_force(p: &NetworkPolicy) -> impl Iterator<Item = RuleAt<'_>> {
    [Direction::Ingress, Direction::Egress]
        .into_iter()
        .flat_map(move |d| {
            let rules = p.rules(d).unwrap_or_default();
            rules.iter().enumerate().map(move |(i, r)| (d, i, r))
        })
}
