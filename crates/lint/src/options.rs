//! Lint options and the pod network.

use std::collections::BTreeSet;
use std::net::IpAddr;

use ipnet::IpNet;
use palisade_model::Cluster;

/// Prefix length of the derived pod network, per family: the /16 (IPv4) or
/// /64 (IPv6) around each pod IP.
const DERIVED_V4_PREFIX: u8 = 16;
const DERIVED_V6_PREFIX: u8 = 64;

/// What to check, and facts lint cannot see in manifests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Also report namespaces with pods but no default-deny ingress policy
    /// (PL010). Off by default: not every team wants one per namespace.
    pub require_default_deny: bool,
    /// The pod network (the CNI's pod CIDRs). When empty, it is derived
    /// from the pod IPs in the input with [`derive_pod_cidrs`].
    pub pod_cidrs: Vec<IpNet>,
}

impl Options {
    /// `pod_cidrs` if given, else the network derived from `cluster`.
    pub fn effective_pod_cidrs(&self, cluster: &Cluster) -> Vec<IpNet> {
        if self.pod_cidrs.is_empty() {
            derive_pod_cidrs(cluster)
        } else {
            IpNet::aggregate(&self.pod_cidrs)
        }
    }
}

/// Guesses the pod network from the pod IPs seen (host-network pods
/// excluded: theirs are node addresses): the /16 around each IPv4 pod IP
/// and the /64 around each IPv6 one, merged.
///
/// Why not the smallest prefix covering the IPs seen: two pods at
/// 10.244.1.5 and 10.244.2.7 would give 10.244.0.0/22, and the next pod,
/// on another node's /24, would fall outside. Pod networks are commonly
/// allocated as a /16 (kubeadm's 10.244.0.0/16, one /24 per node), so the
/// /16 is the better guess. Pass [`Options::pod_cidrs`] when you know better.
pub fn derive_pod_cidrs(cluster: &Cluster) -> Vec<IpNet> {
    let nets: BTreeSet<IpNet> = cluster
        .pods()
        .filter(|p| !p.host_network)
        .flat_map(|p| p.ips.iter().copied())
        .map(widen)
        .collect();
    IpNet::aggregate(&nets.into_iter().collect())
}

fn widen(ip: IpAddr) -> IpNet {
    let len = match ip {
        IpAddr::V4(_) => DERIVED_V4_PREFIX,
        IpAddr::V6(_) => DERIVED_V6_PREFIX,
    };
    IpNet::new(ip, len)
        .expect("16 and 64 are valid prefix lengths")
        .trunc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::{Labels, Pod};

    fn pod(name: &str, ip: &str, host_network: bool) -> Pod {
        let mut p = Pod::new("ns", name, Labels::new(), Some(ip.parse().unwrap()));
        p.host_network = host_network;
        p
    }

    #[test]
    fn derived_network_is_the_16_or_64_around_pod_ips_without_host_network() {
        let mut c = Cluster::new();
        c.upsert_pod(pod("a", "10.244.1.5", false));
        c.upsert_pod(pod("b", "10.244.200.7", false));
        c.upsert_pod(pod("c", "10.245.0.1", false));
        c.upsert_pod(pod("d", "fd00::1:2", false));
        c.upsert_pod(pod("node", "192.168.0.10", true));
        let nets: Vec<String> = derive_pod_cidrs(&c)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(nets, ["10.244.0.0/15", "fd00::/64"]);
    }

    #[test]
    fn given_network_wins() {
        let mut c = Cluster::new();
        c.upsert_pod(pod("a", "10.244.1.5", false));
        let opts = Options {
            pod_cidrs: vec!["10.96.0.0/12".parse().unwrap()],
            ..Options::default()
        };
        let nets = opts.effective_pod_cidrs(&c);
        assert_eq!(nets, ["10.96.0.0/12".parse::<IpNet>().unwrap()]);
    }
}
