//! Policies compiled to ids: every distinct selector, ipBlock, named port
//! and peer is numbered once, so matching is bit lookups.

use palisade_model::{
    Cluster, Direction, IpBlock, LabelSelector, NetworkPolicy, Peer, PolicyPort, PortSpec,
    Protocol, Rule,
};

use crate::hash::{set_bit, words_for, Interner};

/// Which namespaces a pod peer admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum NsMatch {
    /// Only the policy's own namespace (no namespaceSelector).
    Own(u32),
    /// Namespaces matching namespace selector `id`.
    Sel(u32),
}

/// A peer: pods by namespace and pod selector id, or ipBlock id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum PeerC {
    Pods { ns: NsMatch, sel: u32 },
    Block(u32),
}

/// A `ports` entry: a range (`Any` is 1-65535), or named port id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PortC {
    Range(Protocol, u16, u16),
    Named(u32),
}

/// A rule: `None` peers = every peer, `None` ports = every port.
#[derive(Debug, Clone)]
pub(crate) struct RuleC {
    pub peers: Option<Vec<u32>>,
    pub ports: Option<Vec<PortC>>,
}

/// A policy: namespace id, pod selector id, and the rules in force per
/// direction (`None` when the direction is not in policyTypes).
#[derive(Debug, Clone)]
pub(crate) struct PolicyC {
    pub ns: u32,
    pub selector: u32,
    pub ingress: Option<Vec<RuleC>>,
    pub egress: Option<Vec<RuleC>>,
    /// In audit mode (`palisade.dev/mode`, on the policy or its namespace).
    pub audit: bool,
}

impl PolicyC {
    pub(crate) fn rules(&self, d: Direction) -> Option<&[RuleC]> {
        match d {
            Direction::Ingress => self.ingress.as_deref(),
            Direction::Egress => self.egress.as_deref(),
        }
    }
}

/// The cluster's policies, numbered.
#[derive(Debug, Clone)]
pub(crate) struct Compiled<'c> {
    pub namespaces: Interner<&'c str>,
    pub pod_selectors: Interner<&'c LabelSelector>,
    pub ns_selectors: Interner<&'c LabelSelector>,
    pub blocks: Interner<&'c IpBlock>,
    /// Named ports referenced by rules: (name, protocol).
    pub named: Interner<(&'c str, Protocol)>,
    pub peers: Interner<PeerC>,
    pub policies: Vec<PolicyC>,
    /// Policy ids per namespace id, in cluster order.
    pub by_ns: Vec<Vec<u32>>,
    /// Per namespace selector: bitset over namespace ids it matches.
    ns_match: Vec<Box<[u64]>>,
}

impl<'c> Compiled<'c> {
    pub(crate) fn new(cluster: &'c Cluster) -> Self {
        let mut c = Compiled {
            namespaces: Interner::default(),
            pod_selectors: Interner::default(),
            ns_selectors: Interner::default(),
            blocks: Interner::default(),
            named: Interner::default(),
            peers: Interner::default(),
            policies: Vec::new(),
            by_ns: Vec::new(),
            ns_match: Vec::new(),
        };
        for ns in cluster.namespaces() {
            c.namespaces.intern(ns.name.as_str());
        }
        c.by_ns = vec![Vec::new(); c.namespaces.len()];
        for p in cluster.policies() {
            let mut pc = c.policy(p);
            pc.audit = cluster.policy_mode(p) == palisade_model::PolicyMode::Audit;
            c.by_ns[pc.ns as usize].push(c.policies.len() as u32);
            c.policies.push(pc);
        }
        c.ns_match = c.namespace_matches(cluster);
        c
    }

    fn policy(&mut self, p: &'c NetworkPolicy) -> PolicyC {
        let ns = self.namespaces.intern(p.namespace.as_str());
        let rules = |c: &mut Self, d: Direction| {
            let rs = p.rules(d)?;
            Some(rs.iter().map(|r| c.rule(r, ns)).collect())
        };
        PolicyC {
            ns,
            selector: self.pod_selectors.intern(&p.pod_selector),
            ingress: rules(self, Direction::Ingress),
            egress: rules(self, Direction::Egress),
            audit: false,
        }
    }

    fn rule(&mut self, r: &'c Rule, ns: u32) -> RuleC {
        let peers = (!r.peers.is_empty()).then(|| {
            let ids = r.peers.iter().map(|p| self.peer(p, ns));
            ids.collect::<Vec<_>>()
        });
        let ports = (!r.ports.is_empty()).then(|| r.ports.iter().map(|p| self.port(p)).collect());
        RuleC { peers, ports }
    }

    fn peer(&mut self, p: &'c Peer, ns: u32) -> u32 {
        let peer = match p {
            Peer::IpBlock(b) => PeerC::Block(self.blocks.intern(b)),
            Peer::Pods { namespaces, pods } => PeerC::Pods {
                ns: match namespaces {
                    None => NsMatch::Own(ns),
                    Some(sel) => NsMatch::Sel(self.ns_selectors.intern(sel)),
                },
                sel: self.pod_selectors.intern(pods),
            },
        };
        self.peers.intern(peer)
    }

    fn port(&mut self, p: &'c PolicyPort) -> PortC {
        match &p.port {
            PortSpec::Any => PortC::Range(p.protocol, 1, 65535),
            PortSpec::Range { start, end } => PortC::Range(p.protocol, *start, *end),
            PortSpec::Named(n) => PortC::Named(self.named.intern((n.as_str(), p.protocol))),
        }
    }

    fn namespace_matches(&self, cluster: &Cluster) -> Vec<Box<[u64]>> {
        let words = words_for(self.namespaces.len());
        let sels = self.ns_selectors.items().iter();
        sels.map(|sel| {
            let mut set = vec![0; words].into_boxed_slice();
            for (i, ns) in self.namespaces.items().iter().enumerate() {
                if sel.matches(&cluster.namespace_labels(ns)) {
                    set_bit(&mut set, i);
                }
            }
            set
        })
        .collect()
    }

    /// Does a pod peer admit namespace `ns`?
    pub(crate) fn ns_admits(&self, m: NsMatch, ns: u32) -> bool {
        match m {
            NsMatch::Own(own) => own == ns,
            NsMatch::Sel(sel) => crate::hash::bit(&self.ns_match[sel as usize], ns as usize),
        }
    }

    /// The named port ids a list of rules refers to, sorted.
    pub(crate) fn names_in<'r>(rules: impl Iterator<Item = &'r RuleC>) -> Vec<u32> {
        let ports = rules.flat_map(|r| r.ports.iter().flatten());
        let mut names: Vec<u32> = ports
            .filter_map(|p| match p {
                PortC::Named(n) => Some(*n),
                PortC::Range(..) => None,
            })
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}
