//! The finite space PL007 compares verdicts on: one representative per
//! class of peers and of ports that no policy can tell apart.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipnet::IpNet;
use palisade_model::{Cluster, Direction, NetworkPolicy, Peer, PortSpec, Protocol};

use crate::ctx::Ctx;

/// A peer as policies see it: a pod with one of its addresses (or none,
/// for a workload), a host-network pod's address, or an external address.
#[derive(Debug, Clone, Copy)]
pub(super) struct PeerRep<'c> {
    /// `None` for an address no selector can match.
    pub pod: Option<&'c palisade_model::Pod>,
    pub ip: Option<IpAddr>,
}

/// Every endpoint (once per address), every host-network pod address, and
/// one external address per ipBlock atom.
pub(super) fn peer_reps<'c>(ctx: &Ctx<'c>) -> Vec<PeerRep<'c>> {
    let mut out = Vec::new();
    for e in &ctx.endpoints {
        let ips: Vec<Option<IpAddr>> = match e.ips.as_slice() {
            [] => vec![None],
            ips => ips.iter().copied().map(Some).collect(),
        };
        out.extend(ips.into_iter().map(|ip| PeerRep { pod: Some(e), ip }));
    }
    let hosts = ctx.cluster.pods().filter(|p| p.host_network);
    let host_ips = hosts.flat_map(|p| p.ips.iter().copied());
    out.extend(host_ips.map(|ip| PeerRep {
        pod: None,
        ip: Some(ip),
    }));
    let external = external_reps(ctx.cluster);
    out.extend(external.into_iter().map(|ip| PeerRep {
        pod: None,
        ip: Some(ip),
    }));
    out
}

/// One address not owned by any pod in each atom of the partition of the
/// address space by every ipBlock `cidr` and `except` boundary. Within an
/// atom, every ipBlock either contains all addresses or none.
pub(super) fn external_reps(cluster: &Cluster) -> Vec<IpAddr> {
    let owned: BTreeSet<IpAddr> = cluster.pods().flat_map(|p| p.ips.iter().copied()).collect();
    let nets = block_nets(cluster);
    let mut out = Vec::new();
    for v4 in [true, false] {
        let max = if v4 { u128::from(u32::MAX) } else { u128::MAX };
        let mut points = BTreeSet::from([0u128]);
        for net in nets.iter().filter(|n| matches!(n, IpNet::V4(_)) == v4) {
            let (lo, hi) = bounds(net);
            points.insert(lo);
            points.extend(hi.checked_add(1).filter(|n| *n <= max));
        }
        let starts: Vec<u128> = points.into_iter().collect();
        for (i, lo) in starts.iter().enumerate() {
            let hi = starts.get(i + 1).map_or(max, |next| next - 1);
            out.extend(free_addr(*lo, hi, v4, &owned));
        }
    }
    out
}

/// Every `cidr` and `except` of every ipBlock peer of every policy.
fn block_nets(cluster: &Cluster) -> BTreeSet<IpNet> {
    let rules = cluster
        .policies()
        .flat_map(|p| p.ingress.iter().chain(&p.egress));
    let blocks = rules.flat_map(|r| &r.peers).filter_map(|peer| match peer {
        Peer::IpBlock(b) => Some(b),
        Peer::Pods { .. } => None,
    });
    blocks
        .flat_map(|b| std::iter::once(b.cidr).chain(b.except.iter().copied()))
        .collect()
}

fn bounds(net: &IpNet) -> (u128, u128) {
    match net {
        IpNet::V4(n) => (
            u32::from(n.network()).into(),
            u32::from(n.broadcast()).into(),
        ),
        IpNet::V6(n) => (n.network().into(), n.broadcast().into()),
    }
}

/// The first address of `[lo, hi]` no pod owns, if any.
fn free_addr(lo: u128, hi: u128, v4: bool, owned: &BTreeSet<IpAddr>) -> Option<IpAddr> {
    let tries = (owned.len() as u128).saturating_add(1);
    let last = hi.min(lo.saturating_add(tries));
    (lo..=last)
        .map(|a| to_addr(a, v4))
        .find(|a| !owned.contains(a))
}

fn to_addr(v: u128, v4: bool) -> IpAddr {
    match u32::try_from(v) {
        Ok(n) if v4 => IpAddr::V4(n.into()),
        _ => IpAddr::V6(v.into()),
    }
}

/// Representative ports, per protocol.
pub(super) type PortReps = BTreeMap<Protocol, BTreeSet<u16>>;

/// Per protocol, one port per interval on which every port entry of
/// `policies` (direction `d`) is constant: port 1, each range's start
/// and end + 1, and each named port's resolutions `n` and `n + 1`
/// (`resolve` gives the numbers a name resolves to on the destinations).
pub(super) fn port_reps(
    policies: &[&NetworkPolicy],
    d: Direction,
    resolve: impl Fn(&str, Protocol) -> Vec<u16>,
) -> PortReps {
    let mut out: PortReps = Protocol::ALL
        .iter()
        .map(|p| (*p, BTreeSet::from([1])))
        .collect();
    let rules = policies.iter().flat_map(|p| p.rules(d).unwrap_or_default());
    for pp in rules.flat_map(|r| &r.ports) {
        let set = out.entry(pp.protocol).or_default();
        match &pp.port {
            PortSpec::Any => {}
            PortSpec::Range { start, end } => {
                set.insert(*start);
                set.extend(end.checked_add(1));
            }
            PortSpec::Named(name) => {
                for n in resolve(name, pp.protocol) {
                    set.insert(n);
                    set.extend(n.checked_add(1));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::{
        IpBlock, LabelSelector, Labels, Pod, PolicyPort, PolicyTypes, PortValue, Rule,
    };

    fn policy(peers: Vec<Peer>, ports: Vec<PolicyPort>) -> NetworkPolicy {
        NetworkPolicy {
            namespace: "ns".into(),
            name: "p".into(),
            pod_selector: LabelSelector::everything(),
            policy_types: PolicyTypes::defaulted(false),
            ingress: vec![Rule { peers, ports }],
            egress: Vec::new(),
            source: None,
            mode: None,
            unenforceable: None,
        }
    }

    #[test]
    fn one_free_address_per_atom() {
        let mut c = Cluster::new();
        let block = IpBlock::parse("10.0.0.0/30", &["10.0.0.0/31"]).unwrap();
        c.upsert_policy(policy(vec![Peer::IpBlock(block)], Vec::new()));
        // 10.0.0.2 belongs to a pod: the atom 10.0.0.2-3 is represented by .3.
        let ip = Some("10.0.0.2".parse().unwrap());
        c.upsert_pod(Pod::new("ns", "a", Labels::new(), ip));
        let reps: Vec<String> = external_reps(&c).iter().map(ToString::to_string).collect();
        assert_eq!(reps, ["0.0.0.0", "10.0.0.0", "10.0.0.3", "10.0.0.4", "::"]);
    }

    #[test]
    fn port_edges_of_ranges_and_named_ports() {
        let range = PolicyPort::new(None, Some(PortValue::Number(80)), Some(90)).unwrap();
        let named = PolicyPort::new(None, Some(PortValue::Name("http".into())), None).unwrap();
        let max = PolicyPort::new(None, Some(PortValue::Number(65535)), None).unwrap();
        let p = policy(Vec::new(), vec![range, named, max]);
        let reps = port_reps(&[&p], Direction::Ingress, |_, _| vec![8080]);
        let tcp: Vec<u16> = reps[&Protocol::Tcp].iter().copied().collect();
        assert_eq!(tcp, [1, 80, 91, 8080, 8081, 65535]);
        assert_eq!(reps[&Protocol::Udp].len(), 1);
    }
}
