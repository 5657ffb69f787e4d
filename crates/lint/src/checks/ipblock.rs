//! PL009: ipBlocks that pick out part of the pod network.

use std::net::IpAddr;

use ipnet::IpNet;
use palisade_model::{IpBlock, NetworkPolicy, Peer};

use super::short_list;
use crate::catalog::IPBLOCK_POD_NETWORK;
use crate::ctx::{rules_in_force, Ctx};
use crate::{field, Finding};

pub(super) fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    if ctx.pod_cidrs.is_empty() {
        return;
    }
    for p in ctx.cluster.policies() {
        for (d, i, rule) in rules_in_force(p) {
            for (j, peer) in rule.peers.iter().enumerate() {
                let Peer::IpBlock(b) = peer else { continue };
                let overlapped = names_pods(b, &ctx.pod_cidrs);
                if !overlapped.is_empty() {
                    let field = format!("{}.ipBlock", field::peer(d, i, j));
                    out.push(finding(ctx, p, peer, b, &overlapped, field));
                }
            }
        }
    }
}

/// The pod CIDRs `b` overlaps, when it does not contain every pod CIDR of
/// its address family (a block containing the whole pod network means
/// "everywhere", not "these pods").
pub(crate) fn names_pods(b: &IpBlock, pod_cidrs: &[IpNet]) -> Vec<IpNet> {
    let ranges = b.ranges();
    let same_family = pod_cidrs.iter().filter(|n| same_family(&b.cidr, n));
    let covers_all = same_family.clone().all(|n| {
        ranges
            .iter()
            .any(|r| r.0 <= n.network() && n.broadcast() <= r.1)
    });
    if covers_all {
        return Vec::new();
    }
    same_family
        .filter(|n| ranges.iter().any(|r| overlaps(*r, n)))
        .copied()
        .collect()
}

fn same_family(a: &IpNet, b: &IpNet) -> bool {
    matches!(
        (a, b),
        (IpNet::V4(_), IpNet::V4(_)) | (IpNet::V6(_), IpNet::V6(_))
    )
}

fn overlaps((lo, hi): (IpAddr, IpAddr), n: &IpNet) -> bool {
    lo <= n.broadcast() && n.network() <= hi
}

fn finding(
    ctx: &Ctx<'_>,
    p: &NetworkPolicy,
    peer: &Peer,
    b: &IpBlock,
    overlapped: &[IpNet],
    field: String,
) -> Finding {
    let origin = if ctx.opts.pod_cidrs.is_empty() {
        "derived from pod IPs"
    } else {
        "as given"
    };
    let pods = ctx.peer_endpoints(p, peer);
    let today = if pods.is_empty() {
        String::new()
    } else {
        format!(
            "; today it matches {}",
            short_list(pods.iter().map(|e| e.id()))
        )
    };
    let message = format!(
        "ipBlock {b} overlaps the pod network {} ({origin}){today}: pod IPs change when pods are rescheduled",
        short_list(overlapped)
    );
    Finding::on_policy(&IPBLOCK_POD_NETWORK, p, field, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(cidr: &str, except: &[&str], pods: &[&str]) -> Vec<String> {
        let b = IpBlock::parse(cidr, except).unwrap();
        let pods: Vec<IpNet> = pods.iter().map(|p| p.parse().unwrap()).collect();
        names_pods(&b, &pods)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn blocks_inside_or_partly_over_the_pod_network_name_pods() {
        let pods = ["10.244.0.0/16", "fd00::/64"];
        assert_eq!(names("10.244.3.0/24", &[], &pods), ["10.244.0.0/16"]);
        assert_eq!(
            names("10.244.0.0/15", &["10.244.128.0/17"], &pods),
            ["10.244.0.0/16"]
        );
        assert_eq!(names("fd00::5/128", &[], &pods), ["fd00::/64"]);
    }

    #[test]
    fn everywhere_and_carved_out_blocks_do_not() {
        let pods = ["10.244.0.0/16", "fd00::/64"];
        assert!(names("0.0.0.0/0", &[], &pods).is_empty());
        assert!(names("10.0.0.0/8", &[], &pods).is_empty());
        assert!(names("0.0.0.0/0", &["10.244.0.0/16"], &pods).is_empty());
        assert!(names("192.0.2.0/24", &[], &pods).is_empty());
        assert!(names("::/0", &[], &pods).is_empty());
    }
}
