//! Building the sets rules refer to, deduplicated by content key.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use palisade_model::{IpBlock, LabelSelector, PolicyPort, PortSpec, Protocol};

use crate::cache::{NamedSets, PeerSets};
use crate::index::PodIndex;
use crate::ir::{AddrSet, Family, NamedPortSet, PortSet, Ruleset};
use crate::names::name;

/// The addresses of the pods a selector peer matches, by family.
pub fn pod_peer(
    rs: &mut Ruleset,
    index: &PodIndex,
    namespaces: Option<&LabelSelector>,
    pods: &LabelSelector,
    policy_ns: &str,
) -> (SetUse, BTreeMap<Family, String>) {
    let scope = match namespaces {
        None => format!("namespace {policy_ns}"),
        Some(sel) => format!("namespaces matching {sel}"),
    };
    let peer = PeerKey {
        origin: format!("pods matching {pods} in {scope}"),
        namespaces: namespaces.cloned(),
        pods: pods.clone(),
        policy_ns: policy_ns.into(),
    };
    let names = peer_sets(rs, index, &peer);
    (SetUse::Peer(Arc::new(peer)), names)
}

/// What a selector peer's sets are built from; `origin` is its content key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerKey {
    pub origin: String,
    pub namespaces: Option<LabelSelector>,
    pub pods: LabelSelector,
    pub policy_ns: String,
}

/// The sets of a selector peer, put in `rs`: built earlier in this
/// compilation, still valid from the previous one, or built now.
pub fn peer_sets(rs: &mut Ruleset, index: &PodIndex, peer: &PeerKey) -> BTreeMap<Family, String> {
    let origin = &peer.origin;
    if let Some(known) = built(&rs.addr_sets, &name("a", origin)) {
        return known;
    }
    let reused = index.reuse.borrow_mut().peer(origin);
    let entry = reused.unwrap_or_else(|| PeerSets {
        namespaces: peer.namespaces.clone(),
        pods: peer.pods.clone(),
        policy_ns: peer.policy_ns.clone(),
        sets: build_peer(
            index,
            peer.namespaces.as_ref(),
            &peer.pods,
            &peer.policy_ns,
            origin,
        ),
    });
    let names = entry
        .sets
        .iter()
        .map(|(n, set)| {
            rs.addr_sets.insert(n.clone(), set.clone());
            (set.family, n.clone())
        })
        .collect();
    index.reuse.borrow_mut().keep_peer(origin, entry);
    names
}

/// A set a subject chain refers to, as recorded when the chain was built,
/// so the compiler knows which chains use a set and when a set is no
/// longer used (see [`crate::Compiler`]).
#[derive(Debug, Clone)]
pub enum SetUse {
    /// Pod addresses: patched when pods change.
    Peer(Arc<PeerKey>),
    /// A named port (name, protocol, origin): resolved on pods.
    Named(Arc<(String, Protocol, String)>),
    /// An ipBlock set, by name: fixed by the policy.
    Block(String),
    /// A port set, by name: fixed by the policy.
    Ports(String),
}

impl SetUse {
    /// The content key of a pod-selector or named-port use: its sets
    /// change with pods, and chains that use it are found by it.
    pub fn origin(&self) -> Option<&str> {
        match self {
            SetUse::Peer(peer) => Some(&peer.origin),
            SetUse::Named(key) => Some(&key.2),
            SetUse::Block(_) | SetUse::Ports(_) => None,
        }
    }
}

pub fn build_peer(
    index: &PodIndex,
    namespaces: Option<&LabelSelector>,
    pods: &LabelSelector,
    policy_ns: &str,
    origin: &str,
) -> Vec<(String, Arc<AddrSet>)> {
    let mut by_family: BTreeMap<Family, Vec<(IpAddr, IpAddr)>> = BTreeMap::new();
    by_family.insert(Family::V4, Vec::new());
    for ip in index.matching(namespaces, pods, policy_ns) {
        by_family
            .entry(Family::of(ip))
            .or_default()
            .push((*ip, *ip));
    }
    by_family
        .into_iter()
        .map(|(family, mut ranges)| {
            ranges.sort();
            ranges.dedup();
            let set = AddrSet {
                family,
                interval: false,
                ranges,
                origin: origin.into(),
            };
            (addr_set_name(origin, family), Arc::new(set))
        })
        .collect()
}

/// The sets of a key built earlier in this compilation (every rule that
/// uses the same selector or named port shares them), by family: the IPv4
/// set is always made, the IPv6 one only when it has elements. Scanning
/// every pod again for each rule that repeats a peer was most of the
/// compile time at 10,000 pods.
fn built<T>(sets: &BTreeMap<String, T>, base: &str) -> Option<BTreeMap<Family, String>> {
    let v4 = format!("{base}_4");
    if !sets.contains_key(&v4) {
        return None;
    }
    let v6 = format!("{base}_6");
    let mut found = BTreeMap::from([(Family::V4, v4)]);
    if sets.contains_key(&v6) {
        found.insert(Family::V6, v6);
    }
    Some(found)
}

/// An ipBlock as an interval set of its family.
pub fn ip_block(rs: &mut Ruleset, block: &IpBlock) -> (SetUse, (Family, String)) {
    let ranges = block.ranges();
    let family = Family::of(&block.cidr.addr());
    let origin = format!("ipBlock {block}");
    let n = addr_set_name(&origin, family);
    let set = Arc::new(AddrSet {
        family,
        interval: true,
        ranges,
        origin,
    });
    rs.addr_sets.insert(n.clone(), set);
    (SetUse::Block(n.clone()), (family, n))
}

pub fn addr_set_name(key: &str, family: Family) -> String {
    let suffix = match family {
        Family::V4 => "4",
        Family::V6 => "6",
    };
    format!("{}_{suffix}", name("a", key))
}

/// The numeric (and any-port) entries of a rule's `ports`, merged per
/// protocol. Rules with the same merged ranges share one set, whose origin
/// is written from the ranges (`80/TCP, 8000-8080/TCP`), so a set's name
/// always stands for one content.
pub fn numeric_ports(rs: &mut Ruleset, ports: &[&PolicyPort]) -> (SetUse, String) {
    let mut ranges: Vec<(Protocol, u16, u16)> = ports
        .iter()
        .map(|p| match p.port {
            PortSpec::Range { start, end } => (p.protocol, start, end),
            _ => (p.protocol, 0, u16::MAX),
        })
        .collect();
    ranges.sort();
    let ranges = merge(ranges);
    let origin = ranges
        .iter()
        .map(|&(proto, lo, hi)| match (lo, hi) {
            (0, u16::MAX) => format!("any port/{proto}"),
            _ if lo == hi => format!("{lo}/{proto}"),
            _ => format!("{lo}-{hi}/{proto}"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let key = format!("{ranges:?}");
    let n = name("p", &key);
    rs.port_sets.insert(n.clone(), PortSet { ranges, origin });
    (SetUse::Ports(n.clone()), n)
}

fn merge(sorted: Vec<(Protocol, u16, u16)>) -> Vec<(Protocol, u16, u16)> {
    let mut out: Vec<(Protocol, u16, u16)> = Vec::new();
    for (proto, lo, hi) in sorted {
        match out.last_mut() {
            Some((p, _, last)) if *p == proto && u32::from(lo) <= u32::from(*last) + 1 => {
                *last = (*last).max(hi)
            }
            _ => out.push((proto, lo, hi)),
        }
    }
    out
}

/// A named port resolved on every pod that defines it, by family. Only
/// families with at least one element are returned, except IPv4 (always).
pub fn named_port(
    rs: &mut Ruleset,
    index: &PodIndex,
    port: &str,
    proto: Protocol,
) -> (SetUse, BTreeMap<Family, String>) {
    let names = named_sets(rs, index, port, proto);
    let origin = format!("named port {port}/{proto}");
    (SetUse::Named(Arc::new((port.into(), proto, origin))), names)
}

fn named_sets(
    rs: &mut Ruleset,
    index: &PodIndex,
    port: &str,
    proto: Protocol,
) -> BTreeMap<Family, String> {
    let origin = format!("named port {port}/{proto}");
    if let Some(known) = built(&rs.named_port_sets, &name("n", &origin)) {
        return known;
    }
    let reused = index.reuse.borrow_mut().named(&origin);
    let entry = reused.unwrap_or_else(|| NamedSets {
        port: port.into(),
        proto,
        sets: build_named(index, port, proto, &origin),
    });
    let names = entry
        .sets
        .iter()
        .map(|(n, set)| {
            rs.named_port_sets.insert(n.clone(), set.clone());
            (set.family, n.clone())
        })
        .collect();
    index.reuse.borrow_mut().keep_named(&origin, entry);
    names
}

pub fn build_named(
    index: &PodIndex,
    port: &str,
    proto: Protocol,
    origin: &str,
) -> Vec<(String, Arc<NamedPortSet>)> {
    let mut by_family: BTreeMap<Family, Vec<(IpAddr, Protocol, u16)>> = BTreeMap::new();
    by_family.insert(Family::V4, Vec::new());
    for pod in index.all() {
        if let Some(n) = pod.named_port(port, proto) {
            for ip in &pod.ips {
                by_family
                    .entry(Family::of(ip))
                    .or_default()
                    .push((*ip, proto, n));
            }
        }
    }
    by_family
        .into_iter()
        .map(|(family, mut elements)| {
            elements.sort();
            elements.dedup();
            let n = named_set_name(origin, family);
            let set = NamedPortSet {
                family,
                elements,
                origin: origin.into(),
            };
            (n, Arc::new(set))
        })
        .collect()
}

pub fn named_set_name(origin: &str, family: Family) -> String {
    let suffix = if family == Family::V4 { "4" } else { "6" };
    format!("{}_{suffix}", name("n", origin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_ranges_merge_per_protocol() {
        use Protocol::*;
        let m = merge(vec![
            (Tcp, 80, 80),
            (Tcp, 81, 90),
            (Tcp, 85, 86),
            (Tcp, 92, 92),
            (Udp, 80, 80),
        ]);
        assert_eq!(m, vec![(Tcp, 80, 90), (Tcp, 92, 92), (Udp, 80, 80)]);
    }
}
