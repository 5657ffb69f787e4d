//! Corner cases of the API, one test each.

mod common;

use common::*;
use palisade_eval::{evaluate, Connection, Endpoint, EvalError, PortRef};
use palisade_model::*;

fn allowed(c: &Cluster, from: &str, to: &str, port: u16) -> bool {
    evaluate(c, &conn(from, to, port)).unwrap().allowed
}

#[test]
fn a_pod_may_always_reach_itself() {
    let mut c = walkthrough();
    c.upsert_policy(policy("ns-1", "deny", &[], Some(vec![]), Some(vec![])));
    assert!(allowed(&c, "ns-1/busybox", "ns-1/busybox", 80));
    assert!(!allowed(&c, "ns-1/busybox", "ns-1/http-echo", 80));
}

#[test]
fn ipblock_matches_pod_ips_and_an_address_resolves_to_its_pod() {
    let mut c = walkthrough();
    let block = IpBlock::parse("10.244.1.0/24", &["10.244.1.10/32"]).unwrap();
    let rule = Rule {
        peers: vec![Peer::IpBlock(block)],
        ports: vec![],
    };
    c.upsert_policy(policy(
        "ns-1",
        "egress",
        &[("run", "busybox")],
        None,
        Some(vec![rule]),
    ));
    assert!(
        !allowed(&c, "ns-1/busybox", "ns-1/http-echo", 80),
        "excepted"
    );
    assert!(
        allowed(&c, "ns-1/busybox", "10.244.1.99", 80),
        "inside the block"
    );
    assert!(!allowed(&c, "ns-1/busybox", "192.0.2.1", 80));
    let v = evaluate(&c, &conn("ns-1/busybox", "10.244.1.10", 80)).unwrap();
    assert_eq!(v.to, "ns-1/http-echo", "a pod's address is that pod");
}

#[test]
fn selectors_never_match_external_addresses_or_host_network_pods() {
    let mut c = walkthrough();
    let mut node = pod(
        "kube-system",
        "node-agent",
        &[("run", "busybox")],
        "192.168.0.5",
    );
    node.host_network = true;
    c.upsert_pod(node);
    let rule = Rule {
        peers: vec![Peer::Pods {
            namespaces: Some(LabelSelector::everything()),
            pods: LabelSelector::everything(),
        }],
        ports: vec![],
    };
    c.upsert_policy(policy("ns-1", "from-all-pods", &[], Some(vec![rule]), None));
    assert!(!allowed(&c, "192.0.2.1", "ns-1/http-echo", 80));
    assert!(!allowed(&c, "kube-system/node-agent", "ns-1/http-echo", 80));
    assert!(allowed(&c, "ns-1/busybox", "ns-1/http-echo", 80));
}

#[test]
fn empty_from_admits_everything_including_external() {
    let mut c = walkthrough();
    let rule = Rule {
        peers: vec![],
        ports: vec![tcp(80)],
    };
    c.upsert_policy(policy("ns-1", "port-80", &[], Some(vec![rule]), None));
    assert!(allowed(&c, "203.0.113.9", "ns-1/http-echo", 80));
    assert!(!allowed(&c, "203.0.113.9", "ns-1/http-echo", 81));
}

#[test]
fn named_ports_resolve_on_the_destination() {
    let mut c = walkthrough();
    let named = PolicyPort::new(None, Some(PortValue::Name("http".into())), None).unwrap();
    let rule = Rule {
        peers: vec![],
        ports: vec![named],
    };
    c.upsert_policy(policy("ns-1", "named", &[], None, Some(vec![rule])));
    assert!(allowed(&c, "ns-1/busybox", "ns-1/http-echo", 80));
    assert!(
        !allowed(&c, "ns-1/http-echo", "ns-1/busybox", 80),
        "busybox defines no 'http'"
    );
    assert!(
        !allowed(&c, "ns-1/busybox", "192.0.2.1", 80),
        "addresses have no named ports"
    );
    let by_name = Connection {
        port: PortRef::Named("http".into()),
        ..conn("ns-1/busybox", "ns-1/http-echo", 0)
    };
    assert_eq!(evaluate(&c, &by_name).unwrap().port, 80);
    let missing = Connection {
        port: PortRef::Named("http".into()),
        ..conn("ns-1/http-echo", "ns-1/busybox", 0)
    };
    assert!(matches!(
        evaluate(&c, &missing),
        Err(EvalError::NamedPortUndefined { .. })
    ));
}

#[test]
fn namespace_selector_and_pod_selector_are_anded_within_a_peer() {
    let mut c = walkthrough();
    c.upsert_namespace(Namespace::new("other", Labels::from([("team", "a")])));
    c.upsert_pod(pod("other", "client", &[("app", "busybox")], "10.244.2.1"));
    c.upsert_pod(pod("other", "stranger", &[("app", "x")], "10.244.2.2"));
    let peer = Peer::Pods {
        namespaces: Some(selector(&[("team", "a")])),
        pods: selector(&[("app", "busybox")]),
    };
    c.upsert_policy(policy(
        "ns-1",
        "and",
        &[],
        Some(vec![Rule {
            peers: vec![peer],
            ports: vec![],
        }]),
        None,
    ));
    assert!(allowed(&c, "other/client", "ns-1/http-echo", 80));
    assert!(!allowed(&c, "other/stranger", "ns-1/http-echo", 80));
    assert!(
        !allowed(&c, "ns-1/busybox", "ns-1/http-echo", 80),
        "namespace label missing"
    );
}

#[test]
fn rules_of_a_direction_missing_from_policy_types_are_ignored() {
    let mut c = walkthrough();
    let mut p = policy("ns-1", "egress-only", &[], None, Some(vec![]));
    p.ingress = vec![Rule::default()];
    c.upsert_policy(p);
    assert!(
        !allowed(&c, "ns-1/busybox", "ns-1/http-echo", 80),
        "egress isolated, no egress rule"
    );
    assert!(
        allowed(&c, "192.0.2.1", "ns-1/http-echo", 80),
        "ingress not isolated"
    );
}

#[test]
fn unknown_pods_are_errors() {
    let c = walkthrough();
    let e = evaluate(&c, &conn("ns-1/nope", "ns-1/http-echo", 80)).unwrap_err();
    assert_eq!(e.to_string(), "no pod ns-1/nope in the input");
    assert!("ns-1".parse::<Endpoint>().is_err());
}
