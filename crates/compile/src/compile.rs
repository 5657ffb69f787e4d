//! Cluster state -> [`Ruleset`].

use std::collections::BTreeMap;
use std::sync::Arc;

use palisade_model::{
    Cluster, Direction, NetworkPolicy, Peer, PolicyPort, PolicyRef, PortSpec, Rule as PolicyRule,
};

use crate::index::PodIndex;
use crate::ir::{Chain, CounterKind, Family, Match, Provenance, Rule, Ruleset};
use crate::local::LocalPods;
use crate::names::name;
use crate::sets::{self, SetUse};

/// Compiles the policies that isolate `local` pods. Deterministic: the same
/// cluster and local pods always give the same ruleset, names included.
pub fn compile(cluster: &Cluster, local: &LocalPods) -> Ruleset {
    crate::incremental::compile_once(cluster, local)
}

fn dir_letter(d: Direction) -> &'static str {
    match d {
        Direction::Egress => "e",
        Direction::Ingress => "i",
    }
}

/// The subject chain for direction `d` of a pod isolated by `refs` (sorted,
/// non-empty): its name, a stable hash of the direction and the policy list.
pub fn chain_name(d: Direction, refs: &[PolicyRef]) -> String {
    name(&format!("c{}", dir_letter(d)), &chain_key(d, refs))
}

fn chain_key(d: Direction, refs: &[PolicyRef]) -> String {
    format!(
        "{d} {}",
        refs.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    )
}

/// A compiled subject chain and what it puts in the ruleset beside itself:
/// its counters, and the sets its rules refer to (with the families a pod
/// selector or named port resolved to: a family set appearing or going
/// changes the rules).
#[derive(Debug, Clone)]
pub struct ChainEntry {
    pub chain: Arc<Chain>,
    pub counters: Vec<(String, CounterKind)>,
    pub uses: Vec<(SetUse, Option<BTreeMap<Family, String>>)>,
}

impl ChainEntry {
    fn insert(&self, rs: &mut Ruleset, name: &str) {
        rs.chains.insert(name.into(), self.chain.clone());
        for (n, kind) in &self.counters {
            rs.counters.insert(n.clone(), kind.clone());
        }
    }

    /// The names of the counters and sets the chain refers to, once per use.
    pub fn names(&self) -> impl Iterator<Item = &String> {
        let sets = self.uses.iter().flat_map(|(set, families)| {
            let own = match set {
                SetUse::Block(n) | SetUse::Ports(n) => Some(n),
                SetUse::Peer(_) | SetUse::Named(_) => None,
            };
            own.into_iter()
                .chain(families.iter().flat_map(|f| f.values()))
        });
        self.counters.iter().map(|(n, _)| n).chain(sets)
    }
}

/// Compiles the subject chain isolated by `isolating` (sorted by
/// reference) for direction `d`, and puts it, its counters and sets in `rs`.
pub fn build_chain(
    rs: &mut Ruleset,
    cluster: &Cluster,
    index: &PodIndex,
    d: Direction,
    isolating: &[&NetworkPolicy],
) -> ChainEntry {
    let refs: Vec<PolicyRef> = isolating.iter().map(|p| p.reference()).collect();
    let key = chain_key(d, &refs);
    let mut rules = Vec::new();
    let mut counters = Vec::new();
    let mut uses = Vec::new();
    for p in isolating {
        for (i, r) in p.rules(d).unwrap_or_default().iter().enumerate() {
            let mut rc = RuleCompiler {
                rs,
                pods: index,
                policy: p,
                d,
                index: i,
                uses: &mut uses,
            };
            counters.push(rc.counter());
            rules.extend(rc.lines(r, &counters[counters.len() - 1].0));
        }
    }
    let audit = cluster.audit_only(isolating.iter().copied());
    // An audit chain counts would-be denials in a counter of its own, so a
    // mode change never mixes audited and dropped packets in one counter.
    let deny_counter = match audit {
        true => name("d", &format!("{key} audit")),
        false => name("d", &key),
    };
    counters.push((
        deny_counter.clone(),
        CounterKind::DefaultDeny {
            direction: d,
            isolated_by: refs.clone(),
            audit,
        },
    ));
    let entry = ChainEntry {
        chain: Arc::new(Chain {
            direction: d,
            isolated_by: refs,
            rules,
            deny_counter,
            audit,
        }),
        counters,
        uses,
    };
    entry.insert(rs, &name(&format!("c{}", dir_letter(d)), &key));
    entry
}

struct RuleCompiler<'a, 'c> {
    rs: &'a mut Ruleset,
    pods: &'a PodIndex<'c>,
    policy: &'a NetworkPolicy,
    d: Direction,
    index: usize,
    uses: &'a mut Vec<(SetUse, Option<BTreeMap<Family, String>>)>,
}

/// One peer alternative: no address condition, or a set per family.
type PeerAlt = (Option<usize>, BTreeMap<Family, String>);

impl RuleCompiler<'_, '_> {
    /// The IR lines of one policy rule: every (peer, port group) pair, per family.
    fn lines(&mut self, r: &PolicyRule, counter: &str) -> Vec<Rule> {
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
                out.extend(combine(self.d, peer_sets, port, counter, &provenance));
            }
        }
        out
    }

    /// The named counter of this policy rule.
    fn counter(&mut self) -> (String, CounterKind) {
        let policy = self.policy.reference();
        let n = name("r", &format!("{policy} {} {}", self.d, self.index));
        let kind = CounterKind::Rule {
            policy,
            direction: self.d,
            rule: self.index,
        };
        (n, kind)
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
                        let (set_use, sets) =
                            sets::pod_peer(self.rs, self.pods, namespaces.as_ref(), pods, ns);
                        self.uses.push((set_use, Some(sets.clone())));
                        sets
                    }
                    Peer::IpBlock(b) => {
                        let (set_use, set) = sets::ip_block(self.rs, b);
                        self.uses.push((set_use, None));
                        BTreeMap::from([set])
                    }
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
            let (set_use, set) = sets::numeric_ports(self.rs, &numeric);
            self.uses.push((set_use, None));
            alts.push(PortAlt::Ports(set));
        }
        for p in named {
            if let PortSpec::Named(n) = &p.port {
                let (set_use, sets) = sets::named_port(self.rs, self.pods, n, p.protocol);
                self.uses.push((set_use, Some(sets.clone())));
                alts.push(PortAlt::Named(sets));
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
