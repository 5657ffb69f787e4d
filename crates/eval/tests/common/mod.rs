//! Small builders for evaluator tests.
#![allow(dead_code)]

use palisade_eval::{Connection, Endpoint, PortRef};
use palisade_model::*;

pub fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn pod(ns: &str, name: &str, l: &[(&str, &str)], ip: &str) -> Pod {
    Pod::new(ns, name, labels(l), Some(ip.parse().unwrap()))
}

pub fn selector(l: &[(&str, &str)]) -> LabelSelector {
    let m = l
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    LabelSelector::new(m, vec![]).unwrap()
}

pub fn pods_peer(l: &[(&str, &str)]) -> Peer {
    Peer::Pods {
        namespaces: None,
        pods: selector(l),
    }
}

pub fn tcp(port: u16) -> PolicyPort {
    PolicyPort::new(None, Some(PortValue::Number(port.into())), None).unwrap()
}

pub fn policy(
    ns: &str,
    name: &str,
    sel: &[(&str, &str)],
    ingress: Option<Vec<Rule>>,
    egress: Option<Vec<Rule>>,
) -> NetworkPolicy {
    NetworkPolicy {
        namespace: ns.into(),
        name: name.into(),
        pod_selector: selector(sel),
        policy_types: PolicyTypes {
            ingress: ingress.is_some(),
            egress: egress.is_some(),
        },
        ingress: ingress.unwrap_or_default(),
        egress: egress.unwrap_or_default(),
        source: None,
        mode: None,
        unenforceable: None,
    }
}

pub fn conn(from: &str, to: &str, port: u16) -> Connection {
    Connection {
        from: from.parse::<Endpoint>().unwrap(),
        to: to.parse::<Endpoint>().unwrap(),
        protocol: Protocol::Tcp,
        port: PortRef::Number(port),
    }
}

/// The walkthrough: ns-1 with http-echo and busybox (run=busybox only).
pub fn walkthrough() -> Cluster {
    let mut c = Cluster::new();
    c.upsert_namespace(Namespace::new("ns-1", Labels::new()));
    let mut echo = pod(
        "ns-1",
        "http-echo",
        &[("run", "http-echo"), ("app", "http-echo")],
        "10.244.1.10",
    );
    echo.ports.push(ContainerPort {
        name: Some("http".into()),
        port: 80,
        protocol: Protocol::Tcp,
    });
    c.upsert_pod(echo);
    c.upsert_pod(pod("ns-1", "busybox", &[("run", "busybox")], "10.244.1.11"));
    c
}

pub fn allow_busybox() -> NetworkPolicy {
    let rule = Rule {
        peers: vec![pods_peer(&[("app", "busybox")])],
        ports: vec![],
    };
    policy(
        "ns-1",
        "allow",
        &[("app", "http-echo")],
        Some(vec![rule]),
        None,
    )
}
