//! IPv6 and dual-stack pods: every set and rule is per family, and the
//! interpreter agrees with the evaluator for both families.

use std::net::IpAddr;

use palisade_compile::{compile, interpret, Family, LocalPods, Packet};
use palisade_eval::{evaluate, Connection, Endpoint, PortRef};
use palisade_model::*;

fn pod(ns: &str, name: &str, app: &str, ips: &[&str]) -> Pod {
    let mut p = Pod::new(ns, name, Labels::from([("app", app)]), None);
    p.ips = ips.iter().map(|s| s.parse().unwrap()).collect();
    p.ports.push(ContainerPort {
        name: Some("http".into()),
        port: 8080,
        protocol: Protocol::Tcp,
    });
    p
}

fn cluster() -> Cluster {
    let mut c = Cluster::new();
    c.upsert_pod(pod("x", "web", "web", &["10.0.0.1", "fd00::1"]));
    c.upsert_pod(pod("x", "db", "db", &["10.0.0.2", "fd00::2"]));
    c.upsert_pod(pod("x", "v6only", "client", &["fd00::3"]));
    let peer = Peer::Pods {
        namespaces: None,
        pods: LabelSelector::from_labels([("app", "client")]),
    };
    let v6block = Peer::IpBlock(IpBlock::parse("fd00::/120", &["fd00::2/128"]).unwrap());
    let named = PolicyPort::new(None, Some(PortValue::Name("http".into())), None).unwrap();
    c.upsert_policy(NetworkPolicy {
        namespace: "x".into(),
        name: "web".into(),
        pod_selector: LabelSelector::from_labels([("app", "web")]),
        policy_types: PolicyTypes {
            ingress: true,
            egress: false,
        },
        ingress: vec![Rule {
            peers: vec![peer, v6block],
            ports: vec![named],
        }],
        egress: vec![],
        source: None,
        mode: None,
        unenforceable: None,
    });
    c
}

#[test]
fn both_families_decide_like_the_evaluator() {
    let c = cluster();
    let rs = compile(&c, &LocalPods::All);
    let addrs: Vec<IpAddr> = c.pods().flat_map(|p| p.ips.clone()).collect();
    for src in &addrs {
        for dst in addrs.iter().filter(|d| d.is_ipv4() == src.is_ipv4()) {
            for port in [80, 8080] {
                let conn = Connection {
                    from: Endpoint::Addr(*src),
                    to: Endpoint::Addr(*dst),
                    protocol: Protocol::Tcp,
                    port: PortRef::Number(port),
                };
                let want = evaluate(&c, &conn).unwrap().allowed;
                let got = interpret(
                    &rs,
                    &Packet {
                        src: *src,
                        dst: *dst,
                        protocol: Protocol::Tcp,
                        port,
                    },
                );
                assert_eq!(got.allowed, want, "{src} -> {dst}:{port}: {got:?}");
            }
        }
    }
}

#[test]
fn sets_are_split_by_family() {
    let rs = compile(&cluster(), &LocalPods::All);
    let v6 = |ip: &str| {
        interpret(
            &rs,
            &Packet {
                src: ip.parse().unwrap(),
                dst: "fd00::1".parse().unwrap(),
                protocol: Protocol::Tcp,
                port: 8080,
            },
        )
    };
    assert!(v6("fd00::3").allowed, "client by selector, over IPv6");
    assert!(!v6("fd00::2").allowed, "excepted from the block");
    assert!(v6("fd00::5").allowed, "non-pod address inside the v6 block");
    assert!(rs
        .addr_sets
        .values()
        .any(|s| s.family == Family::V6 && s.interval));
    assert!(rs.named_port_sets.values().any(|s| s.family == Family::V6));
}
