//! Shared by the integration tests: synthetic clusters with awkward pods,
//! an index over a connectivity result, and shape checks.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv6Addr};

use ipnet::IpNet;
use palisade_analyze::{Allow, Connectivity};
use palisade_model::{Cluster, Peer, PodId, Protocol};
use palisade_synth::{generate, Params};
use proptest::prelude::*;

/// A synth cluster, then some pods turned host-network, addressless
/// workloads, dual-stack or IPv6-only (deterministically from `seed`).
pub fn cluster(
    seed: u64,
    pods: usize,
    policies: usize,
    namespaces: usize,
    outside: bool,
) -> Cluster {
    let mut p = Params::new(pods, policies);
    p.seed = seed;
    p.namespaces = namespaces;
    p.ipblocks_outside_pod_network = outside;
    let mut c = generate(&p);
    let ids: Vec<PodId> = c.pods().map(|p| p.id()).collect();
    for (i, id) in ids.iter().enumerate() {
        let pod = c.pod_mut(id).expect("listed");
        let v6 = |net: u16| IpAddr::V6(Ipv6Addr::new(0xfd00, net, 0, 0, 0, 0, 0, i as u16 + 1));
        match (seed as usize).wrapping_add(i * 7) % 12 {
            0 => {
                pod.host_network = true;
                pod.ips = vec![format!("192.168.{}.10", i % 3).parse().unwrap()];
            }
            1 => {
                pod.ips.clear();
                pod.workload = Some("Deployment".into());
            }
            2 => pod.ips.push(v6(i as u16 % 3)),
            3 => pod.ips = vec![v6(i as u16 % 3)],
            4 => pod.ips.insert(0, v6(1)),
            _ => {}
        }
    }
    c
}

/// Every endpoint address.
pub fn endpoint_ips(c: &Cluster) -> BTreeSet<IpAddr> {
    c.pods().flat_map(|p| p.ips.iter().copied()).collect()
}

fn step(ip: IpAddr, up: bool) -> Option<IpAddr> {
    match ip {
        IpAddr::V4(a) => {
            let v = u32::from(a);
            let n = if up {
                v.checked_add(1)
            } else {
                v.checked_sub(1)
            };
            n.map(|n| IpAddr::V4(n.into()))
        }
        IpAddr::V6(a) => {
            let v = u128::from(a);
            let n = if up {
                v.checked_add(1)
            } else {
                v.checked_sub(1)
            };
            n.map(|n| IpAddr::V6(n.into()))
        }
    }
}

/// Addresses at, around and inside every ipBlock range, plus a few fixed
/// ones; endpoint addresses left out.
pub fn external_samples(c: &Cluster) -> Vec<IpAddr> {
    let fixed = [
        "0.0.0.0",
        "255.255.255.255",
        "8.8.8.8",
        "10.0.0.200",
        "::",
        "::1",
        "fd00::1",
        "2001:db8::1",
    ];
    let mut out: BTreeSet<IpAddr> = fixed.iter().map(|s| s.parse().unwrap()).collect();
    let rules = c.policies().flat_map(|p| p.ingress.iter().chain(&p.egress));
    for peer in rules.flat_map(|r| &r.peers) {
        let Peer::IpBlock(b) = peer else { continue };
        for (lo, hi) in b.ranges() {
            out.extend(
                [
                    Some(lo),
                    Some(hi),
                    step(lo, false),
                    step(hi, true),
                    step(lo, true),
                ]
                .into_iter()
                .flatten(),
            );
        }
    }
    let taken = endpoint_ips(c);
    out.into_iter().filter(|ip| !taken.contains(ip)).collect()
}

/// Is `port`/`protocol` in `allow`?
pub fn allowed(allow: Option<&[Allow]>, protocol: Protocol, port: u16) -> bool {
    let Some(allow) = allow else { return false };
    allow
        .iter()
        .filter(|a| a.protocol == protocol)
        .any(|a| a.ports.is_empty() || a.ports.iter().any(|[lo, hi]| (*lo..=*hi).contains(&port)))
}

/// Lookups over a connectivity result.
pub struct Index<'a> {
    pairs: BTreeMap<(&'a str, &'a str), &'a [Allow]>,
    egress: BTreeMap<&'a str, Vec<(IpNet, &'a [Allow])>>,
    ingress: BTreeMap<&'a str, Vec<(IpNet, &'a [Allow])>>,
}

impl<'a> Index<'a> {
    pub fn new(c: &'a Connectivity) -> Self {
        let mut idx = Index {
            pairs: BTreeMap::new(),
            egress: BTreeMap::new(),
            ingress: BTreeMap::new(),
        };
        for conn in &c.connections {
            let allow = conn.allow.as_slice();
            match (conn.from.parse::<IpNet>(), conn.to.parse::<IpNet>()) {
                (Err(_), Ok(net)) => idx
                    .egress
                    .entry(conn.from.as_str())
                    .or_default()
                    .push((net, allow)),
                (Ok(net), Err(_)) => idx
                    .ingress
                    .entry(conn.to.as_str())
                    .or_default()
                    .push((net, allow)),
                _ => {
                    idx.pairs
                        .insert((conn.from.as_str(), conn.to.as_str()), allow);
                }
            }
        }
        idx
    }

    pub fn pair(&self, from: &str, to: &str) -> Option<&'a [Allow]> {
        self.pairs.get(&(from, to)).copied()
    }

    fn find(list: Option<&Vec<(IpNet, &'a [Allow])>>, ip: IpAddr) -> Option<&'a [Allow]> {
        list?
            .iter()
            .find(|(net, _)| net.contains(&ip))
            .map(|(_, a)| *a)
    }

    pub fn egress(&self, endpoint: &str, ip: IpAddr) -> Option<&'a [Allow]> {
        Self::find(self.egress.get(endpoint), ip)
    }

    pub fn ingress(&self, endpoint: &str, ip: IpAddr) -> Option<&'a [Allow]> {
        Self::find(self.ingress.get(endpoint), ip)
    }

    /// Per endpoint and direction, CIDRs are disjoint and hold no endpoint address.
    pub fn check_cidrs(&self, taken: &BTreeSet<IpAddr>) -> Result<(), TestCaseError> {
        for list in self.egress.values().chain(self.ingress.values()) {
            let mut nets: Vec<IpNet> = list.iter().map(|(n, _)| *n).collect();
            nets.sort();
            for w in nets.windows(2) {
                prop_assert!(
                    !w[0].contains(&w[1].network()),
                    "{} overlaps {}",
                    w[0],
                    w[1]
                );
            }
            for ip in taken {
                prop_assert!(
                    !nets.iter().any(|n| n.contains(ip)),
                    "{} holds endpoint {}",
                    nets.len(),
                    ip
                );
            }
        }
        Ok(())
    }
}

/// Sorted, unique, no self pairs, allows normalised, CIDRs clean.
pub fn check_shape(c: &Cluster, r: &Connectivity) -> Result<(), TestCaseError> {
    prop_assert_eq!(r.endpoints.len(), c.pods().count());
    prop_assert!(r.endpoints.windows(2).all(|w| w[0].name < w[1].name));
    for w in r.connections.windows(2) {
        prop_assert!(
            (&w[0].from, &w[0].to) < (&w[1].from, &w[1].to),
            "order: {:?}",
            w
        );
    }
    for conn in &r.connections {
        prop_assert_ne!(&conn.from, &conn.to);
        prop_assert!(!conn.allow.is_empty());
        prop_assert!(conn.allow.windows(2).all(|w| w[0].protocol < w[1].protocol));
        for a in &conn.allow {
            let ok = a
                .ports
                .windows(2)
                .all(|w| u32::from(w[0][1]) + 1 < u32::from(w[1][0]));
            prop_assert!(ok && a.ports != [[1, 65535]], "{:?}", a);
        }
    }
    Index::new(r).check_cidrs(&endpoint_ips(c))
}
