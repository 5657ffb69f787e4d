use std::collections::BTreeSet;
use std::net::IpAddr;

use palisade_model::{Cluster, LabelSelector, NetworkPolicy, Peer, PortSpec, Protocol, Rule};

use super::*;

fn small() -> Params {
    Params::new(300, 120)
}

fn all_rules(np: &NetworkPolicy) -> impl Iterator<Item = &Rule> {
    np.ingress.iter().chain(&np.egress)
}

fn all_peers(c: &Cluster) -> Vec<&Peer> {
    c.policies()
        .flat_map(all_rules)
        .flat_map(|r| &r.peers)
        .collect()
}

#[test]
fn params_new_picks_defaults() {
    let p = Params::new(5_000, 1_000);
    assert_eq!((p.namespaces, p.pods, p.policies), (50, 5_000, 1_000));
    assert_eq!(Params::new(10, 0).namespaces, 1);
    assert_eq!(Params::new(0, 0).namespace_count(), 1);
    let empty = Params {
        namespaces: 0,
        ..Params::new(0, 0)
    };
    assert_eq!(empty.namespace_count(), 0);
}

#[test]
fn same_seed_same_cluster_other_seed_other_cluster() {
    let p = small();
    assert_eq!(generate(&p), generate(&p));
    assert_eq!(to_yaml(&generate(&p)), to_yaml(&generate(&p)));
    let other = Params { seed: 1, ..small() };
    assert_ne!(generate(&p), generate(&other));
}

#[test]
fn sizes_match_params() {
    for (pods, policies, namespaces) in
        [(0, 0, 0), (1, 0, 1), (0, 5, 1), (300, 120, 3), (250, 7, 9)]
    {
        let p = Params {
            namespaces,
            ..Params::new(pods, policies)
        };
        let c = generate(&p);
        assert_eq!(c.pods().count(), pods, "{p:?}");
        assert_eq!(c.policies().count(), policies, "{p:?}");
        assert_eq!(c.namespaces().count(), p.namespace_count(), "{p:?}");
        assert!(c.namespaces().all(|ns| ns.declared), "{p:?}");
    }
}

#[test]
fn more_policies_leave_the_pods_alone() {
    let few = generate(&Params::new(200, 10));
    let many = generate(&Params::new(200, 50));
    assert!(few.pods().eq(many.pods()));
}

#[test]
fn pod_ips_are_unique_and_in_ten_slash_eight() {
    let c = generate(&Params::new(2_000, 0));
    let ips: BTreeSet<IpAddr> = c.pods().flat_map(|p| p.ips.clone()).collect();
    assert_eq!(ips.len(), 2_000);
    let ten = palisade_model::parse_cidr("10.0.0.0/8").unwrap();
    assert!(ips.iter().all(|ip| ten.contains(ip)));
}

#[test]
fn ipblocks_stay_outside_the_pod_network_when_asked() {
    let c = generate(&Params::new(300, 400));
    let blocks: Vec<_> = all_peers(&c)
        .into_iter()
        .filter_map(|p| match p {
            Peer::IpBlock(b) => Some(b),
            Peer::Pods { .. } => None,
        })
        .collect();
    assert!(!blocks.is_empty());
    let allowed =
        ["172.16.0.0/12", "192.168.0.0/16"].map(|s| palisade_model::parse_cidr(s).unwrap());
    for b in blocks {
        assert!(allowed.iter().any(|net| net.contains(&b.cidr)), "{b}");
    }
}

#[test]
fn ipblocks_may_cover_pods_when_allowed() {
    let p = Params {
        ipblocks_outside_pod_network: false,
        ..Params::new(300, 400)
    };
    let c = generate(&p);
    let covers_a_pod = |peer: &&Peer| match peer {
        Peer::IpBlock(b) => c.pods().any(|pod| b.contains(pod.ips[0])),
        Peer::Pods { .. } => false,
    };
    assert!(all_peers(&c).iter().any(covers_a_pod));
}

/// Every feature the generator promises appears in a cluster of modest size.
#[test]
fn policies_mix_every_feature() {
    let c = generate(&small());
    let features = features(&c);
    let expected = [
        "default-deny ingress",
        "default-deny egress",
        "egress rules",
        "explicit policyTypes",
        "defaulted policyTypes",
        "pod peer",
        "namespace peer",
        "combined peer",
        "ipBlock except",
        "In",
        "NotIn",
        "Exists",
        "DoesNotExist",
        "numeric port",
        "endPort",
        "named port",
        "UDP",
        "SCTP",
        "any port",
        "every peer",
        "every port",
    ];
    for f in expected {
        assert!(features.contains(f), "no {f:?} in {features:?}");
    }
}

fn features(c: &Cluster) -> BTreeSet<&'static str> {
    let mut f = BTreeSet::new();
    for np in c.policies() {
        policy_features(np, &mut f);
        for r in all_rules(np) {
            rule_features(r, &mut f);
        }
    }
    f
}

fn policy_features(np: &NetworkPolicy, f: &mut BTreeSet<&'static str>) {
    let defaulted =
        np.policy_types == palisade_model::PolicyTypes::defaulted(!np.egress.is_empty());
    f.insert(if defaulted {
        "defaulted policyTypes"
    } else {
        "explicit policyTypes"
    });
    if np.pod_selector.is_everything() && np.policy_types.ingress && np.ingress.is_empty() {
        f.insert("default-deny ingress");
    }
    if np.pod_selector.is_everything() && np.policy_types.egress && np.egress.is_empty() {
        f.insert("default-deny egress");
    }
    if np.policy_types.egress && !np.egress.is_empty() {
        f.insert("egress rules");
    }
    selector_features(&np.pod_selector, f);
}

fn selector_features(s: &LabelSelector, f: &mut BTreeSet<&'static str>) {
    f.extend(s.match_expressions.iter().map(|r| r.operator.as_str()));
}

fn rule_features(r: &Rule, f: &mut BTreeSet<&'static str>) {
    if r.peers.is_empty() {
        f.insert("every peer");
    }
    if r.ports.is_empty() {
        f.insert("every port");
    }
    for p in &r.peers {
        if let Peer::Pods { namespaces, pods } = p {
            selector_features(pods, f);
            namespaces.iter().for_each(|ns| selector_features(ns, f));
        }
        f.insert(match p {
            Peer::Pods {
                namespaces: None, ..
            } => "pod peer",
            Peer::Pods {
                namespaces: Some(_),
                pods,
            } if pods.is_everything() => "namespace peer",
            Peer::Pods { .. } => "combined peer",
            Peer::IpBlock(b) if !b.except.is_empty() => "ipBlock except",
            Peer::IpBlock(_) => "ipBlock",
        });
    }
    for p in &r.ports {
        f.insert(match &p.port {
            PortSpec::Any => "any port",
            PortSpec::Range { start, end } if start == end => "numeric port",
            PortSpec::Range { .. } => "endPort",
            PortSpec::Named(_) => "named port",
        });
        if p.protocol != Protocol::Tcp {
            f.insert(if p.protocol == Protocol::Udp {
                "UDP"
            } else {
                "SCTP"
            });
        }
    }
}
