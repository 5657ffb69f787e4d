//! Cluster state -> [`Ruleset`].

use std::collections::BTreeMap;

use palisade_model::{
    Cluster, Direction, Labels, NetworkPolicy, Peer, PolicyPort, PolicyRef, PortSpec,
    Rule as PolicyRule,
};

use crate::index::PodIndex;
use crate::ir::{Chain, CounterKind, Family, Match, Provenance, Rule, Ruleset};
use crate::local::LocalPods;
use crate::names::name;
use crate::sets;

/// Compiles the policies that isolate `local` pods. Deterministic: the same
/// cluster and local pods always give the same ruleset, names included.
pub fn compile(cluster: &Cluster, local: &LocalPods) -> Ruleset {
    compile_indexed(cluster, local, &PodIndex::new(cluster))
}

/// [`compile`] over an index of `cluster` (which may carry sets still valid
/// from a previous compilation: see [`crate::Compiler`]).
pub(crate) fn compile_indexed(cluster: &Cluster, local: &LocalPods, index: &PodIndex) -> Ruleset {
    let mut rs = Ruleset::default();
    for d in [Direction::Egress, Direction::Ingress] {
        rs.dispatch.insert(d, BTreeMap::new());
    }
    // Pods with the same namespace and labels have the same chains.
    let mut chains: BTreeMap<(&str, &Labels, Direction), Option<String>> = BTreeMap::new();
    for pod in cluster.pods().filter(|p| local.contains(p)) {
        for d in [Direction::Egress, Direction::Ingress] {
            let key = (pod.namespace.as_str(), &pod.labels, d);
            let chain = chains.entry(key).or_insert_with(|| {
                let isolating: Vec<&NetworkPolicy> =
                    cluster.isolating(&pod.namespace, &pod.labels, d).collect();
                (!isolating.is_empty()).then(|| chain_for(&mut rs, cluster, index, d, &isolating))
            });
            let Some(chain) = chain else { continue };
            let dispatch = rs.dispatch.entry(d).or_default();
            pod.ips.iter().for_each(|ip| {
                dispatch.insert(*ip, chain.clone());
            });
        }
    }
    rs
}

fn dir_letter(d: Direction) -> &'static str {
    match d {
        Direction::Egress => "e",
        Direction::Ingress => "i",
    }
}

/// The subject chain for one isolating policy list, built once.
fn chain_for(
    rs: &mut Ruleset,
    cluster: &Cluster,
    index: &PodIndex,
    d: Direction,
    isolating: &[&NetworkPolicy],
) -> String {
    let refs: Vec<PolicyRef> = isolating.iter().map(|p| p.reference()).collect();
    let key = format!(
        "{d} {}",
        refs.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let chain_name = name(&format!("c{}", dir_letter(d)), &key);
    if rs.chains.contains_key(&chain_name) {
        return chain_name;
    }
    let mut rules = Vec::new();
    for p in isolating {
        for (i, r) in p.rules(d).unwrap_or_default().iter().enumerate() {
            rules.extend(
                RuleCompiler {
                    rs,
                    pods: index,
                    policy: p,
                    d,
                    index: i,
                }
                .lines(r),
            );
        }
    }
    let audit = cluster.audit_only(isolating.iter().copied());
    // An audit chain counts would-be denials in a counter of its own, so a
    // mode change never mixes audited and dropped packets in one counter.
    let deny_counter = match audit {
        true => name("d", &format!("{key} audit")),
        false => name("d", &key),
    };
    rs.counters.insert(
        deny_counter.clone(),
        CounterKind::DefaultDeny {
            direction: d,
            isolated_by: refs.clone(),
            audit,
        },
    );
    rs.chains.insert(
        chain_name.clone(),
        Chain {
            direction: d,
            isolated_by: refs,
            rules,
            deny_counter,
            audit,
        },
    );
    chain_name
}

struct RuleCompiler<'a, 'c> {
    rs: &'a mut Ruleset,
    pods: &'a PodIndex<'c>,
    policy: &'c NetworkPolicy,
    d: Direction,
    index: usize,
}

/// One peer alternative: no address condition, or a set per family.
type PeerAlt = (Option<usize>, BTreeMap<Family, String>);

impl RuleCompiler<'_, '_> {
    /// The IR lines of one policy rule: every (peer, port group) pair, per family.
    fn lines(mut self, r: &PolicyRule) -> Vec<Rule> {
        let counter = self.counter();
        let peers = self.peer_alternatives(r);
        let ports = self.port_alternatives(&r.ports);
        let mut out = Vec::new();
        for (peer_index, peer_sets) in &peers {
            for port in &ports {
                let provenance = Provenance {
                    policy: self.policy.reference(),
                    direction: self.d,
                    rule: self.index,
                    peer: *peer_index,
                };
                out.extend(combine(self.d, peer_sets, port, &counter, &provenance));
            }
        }
        out
    }

    fn counter(&mut self) -> String {
        let policy = self.policy.reference();
        let n = name("r", &format!("{policy} {} {}", self.d, self.index));
        let kind = CounterKind::Rule {
            policy,
            direction: self.d,
            rule: self.index,
        };
        self.rs.counters.insert(n.clone(), kind);
        n
    }

    fn peer_alternatives(&mut self, r: &PolicyRule) -> Vec<PeerAlt> {
        if r.peers.is_empty() {
            return vec![(None, BTreeMap::new())];
        }
        let ns = &self.policy.namespace;
        r.peers
            .iter()
            .enumerate()
            .map(|(j, peer)| {
                let sets = match peer {
                    Peer::Pods { namespaces, pods } => {
                        sets::pod_peer(self.rs, self.pods, namespaces.as_ref(), pods, ns)
                    }
                    Peer::IpBlock(b) => BTreeMap::from([sets::ip_block(self.rs, b)]),
                };
                (Some(j), sets)
            })
            .collect()
    }

    fn port_alternatives(&mut self, ports: &[PolicyPort]) -> Vec<PortAlt> {
        if ports.is_empty() {
            return vec![PortAlt::Any];
        }
        let (named, numeric): (Vec<&PolicyPort>, Vec<&PolicyPort>) = ports
            .iter()
            .partition(|p| matches!(p.port, PortSpec::Named(_)));
        let mut alts = Vec::new();
        if !numeric.is_empty() {
            alts.push(PortAlt::Ports(sets::numeric_ports(self.rs, &numeric)));
        }
        for p in named {
            if let PortSpec::Named(n) = &p.port {
                alts.push(PortAlt::Named(sets::named_port(
                    self.rs, self.pods, n, p.protocol,
                )));
            }
        }
        alts
    }
}

enum PortAlt {
    Any,
    Ports(String),
    Named(BTreeMap<Family, String>),
}

/// The lines for one (peer, port) pair: one per address family the pair can
/// match (a family-free line when neither side names addresses).
fn combine(
    d: Direction,
    peer_sets: &BTreeMap<Family, String>,
    port: &PortAlt,
    counter: &str,
    provenance: &Provenance,
) -> Vec<Rule> {
    let line = |family: Option<Family>, matches: Vec<Match>| Rule {
        family,
        matches,
        counter: counter.to_string(),
        provenance: provenance.clone(),
    };
    let addr = |set: &String| match d {
        Direction::Egress => Match::DstAddr(set.clone()),
        Direction::Ingress => Match::SrcAddr(set.clone()),
    };
    let families: Vec<Option<Family>> = match (peer_sets.is_empty(), port) {
        (true, PortAlt::Named(named)) => named.keys().copied().map(Some).collect(),
        (true, _) => vec![None],
        (false, PortAlt::Named(named)) => peer_sets
            .keys()
            .filter(|f| named.contains_key(f))
            .copied()
            .map(Some)
            .collect(),
        (false, _) => peer_sets.keys().copied().map(Some).collect(),
    };
    families
        .into_iter()
        .map(|family| {
            let mut matches = Vec::new();
            if let Some(set) = family.and_then(|f| peer_sets.get(&f)) {
                matches.push(addr(set));
            }
            match port {
                PortAlt::Any => {}
                PortAlt::Ports(p) => matches.push(Match::Ports(p.clone())),
                PortAlt::Named(named) => {
                    let f = family.expect("named ports are family-specific");
                    matches.push(Match::NamedPort(named[&f].clone()));
                }
            }
            line(family, matches)
        })
        .collect()
}
