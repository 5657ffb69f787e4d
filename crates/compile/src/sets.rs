//! Building the sets rules refer to, deduplicated by content key.

use std::collections::BTreeMap;
use std::net::IpAddr;

use palisade_model::{Cluster, IpBlock, LabelSelector, PolicyPort, PortSpec, Protocol};

use crate::ir::{AddrSet, Family, NamedPortSet, PortSet, Ruleset};
use crate::names::name;

/// The addresses of the pods a selector peer matches, by family.
pub fn pod_peer(
    rs: &mut Ruleset,
    cluster: &Cluster,
    namespaces: Option<&LabelSelector>,
    pods: &LabelSelector,
    policy_ns: &str,
) -> BTreeMap<Family, String> {
    let scope = match namespaces {
        None => format!("namespace {policy_ns}"),
        Some(sel) => format!("namespaces matching {sel}"),
    };
    let origin = format!("pods matching {pods} in {scope}");
    let mut by_family: BTreeMap<Family, Vec<(IpAddr, IpAddr)>> = BTreeMap::new();
    by_family.insert(Family::V4, Vec::new());
    for pod in cluster
        .pods()
        .filter(|p| !p.host_network && pods.matches(&p.labels))
    {
        let ns_ok = match namespaces {
            None => pod.namespace == policy_ns,
            Some(sel) => sel.matches(&cluster.namespace_labels(&pod.namespace)),
        };
        if ns_ok {
            for ip in &pod.ips {
                by_family
                    .entry(Family::of(ip))
                    .or_default()
                    .push((*ip, *ip));
            }
        }
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
                origin: origin.clone(),
            };
            (family, insert_addr(rs, &origin, set))
        })
        .collect()
}

/// An ipBlock as an interval set of its family.
pub fn ip_block(rs: &mut Ruleset, block: &IpBlock) -> (Family, String) {
    let ranges = block.ranges();
    let family = Family::of(&block.cidr.addr());
    let origin = format!("ipBlock {block}");
    (
        family,
        insert_addr(
            rs,
            &origin,
            AddrSet {
                family,
                interval: true,
                ranges,
                origin: origin.clone(),
            },
        ),
    )
}

fn insert_addr(rs: &mut Ruleset, key: &str, set: AddrSet) -> String {
    let suffix = match set.family {
        Family::V4 => "4",
        Family::V6 => "6",
    };
    let n = format!("{}_{suffix}", name("a", key));
    rs.addr_sets.insert(n.clone(), set);
    n
}

/// The numeric (and any-port) entries of a rule's `ports`, merged per protocol.
pub fn numeric_ports(rs: &mut Ruleset, ports: &[&PolicyPort]) -> String {
    let mut ranges: Vec<(Protocol, u16, u16)> = ports
        .iter()
        .map(|p| match p.port {
            PortSpec::Range { start, end } => (p.protocol, start, end),
            _ => (p.protocol, 0, u16::MAX),
        })
        .collect();
    ranges.sort();
    let ranges = merge(ranges);
    let origin = ports
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let key = format!("{ranges:?}");
    let n = name("p", &key);
    rs.port_sets.insert(n.clone(), PortSet { ranges, origin });
    n
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
    cluster: &Cluster,
    port: &str,
    proto: Protocol,
) -> BTreeMap<Family, String> {
    let origin = format!("named port {port}/{proto}");
    let mut by_family: BTreeMap<Family, Vec<(IpAddr, Protocol, u16)>> = BTreeMap::new();
    by_family.insert(Family::V4, Vec::new());
    for pod in cluster.pods().filter(|p| !p.host_network) {
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
            let suffix = if family == Family::V4 { "4" } else { "6" };
            let n = format!("{}_{suffix}", name("n", &origin));
            let set = NamedPortSet {
                family,
                elements,
                origin: origin.clone(),
            };
            rs.named_port_sets.insert(n.clone(), set);
            (family, n)
        })
        .collect()
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
