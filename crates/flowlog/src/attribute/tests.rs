use palisade_compile::{compile, LocalPods};
use palisade_model::{LabelSelector, Labels, NetworkPolicy, Pod, PolicyTypes};

use super::*;

fn cluster() -> Cluster {
    let mut c = Cluster::new();
    let ip = |s: &str| Some(s.parse().unwrap());
    c.upsert_pod(Pod::new(
        "ns-1",
        "busybox",
        Labels::from([("run", "busybox")]),
        ip("10.0.0.5"),
    ));
    c.upsert_pod(Pod::new(
        "ns-1",
        "http-echo",
        Labels::from([("run", "http-echo")]),
        ip("10.0.0.6"),
    ));
    c.upsert_policy(NetworkPolicy {
        namespace: "ns-1".into(),
        name: "deny-all-by-default".into(),
        pod_selector: LabelSelector::everything(),
        policy_types: PolicyTypes::defaulted(false),
        ingress: vec![],
        egress: vec![],
        source: None,
        mode: None,
        unenforceable: None,
    });
    c
}

/// The IPv4 SYN of `packet::tests` (10.0.0.5:41234 -> 10.0.0.6:80).
fn syn() -> Vec<u8> {
    vec![
        0x45, 0, 0, 60, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 5, 10, 0, 0, 6, 0xa1, 0x12, 0, 80,
    ]
}

#[test]
fn a_deny_is_attributed_to_the_isolating_policy_and_the_pods() {
    let c = cluster();
    let rs = compile(&c, &LocalPods::All);
    let (chain, _) = rs
        .chains
        .iter()
        .find(|(_, ch)| ch.direction == Direction::Ingress)
        .unwrap();
    let a = Attributor::from_state(&c, &rs);
    let p = LoggedPacket {
        group: 1,
        hw_protocol: 0x0800,
        prefix: Some(palisade_nft::flowlog::prefix(chain, false)),
        payload: syn(),
        timestamp_ms: None,
    };
    let (r, _) = a.record(&p, 1_795_550_400_123).unwrap().unwrap();
    assert_eq!(
        r.to_json(),
        r#"{"time":"2026-11-24T20:00:00.123Z","mode":"deny","direction":"ingress","protocol":"TCP","src":{"namespace":"ns-1","pod":"busybox","ip":"10.0.0.5","port":41234},"dst":{"namespace":"ns-1","pod":"http-echo","ip":"10.0.0.6","port":80},"policies":["ns-1/deny-all-by-default"]}"#
    );
    // After an update that removes the chain, it is still known (previous
    // generation); a foreign prefix is not ours.
    let mut a2 = a.clone();
    a2.update(&c, &Ruleset::default());
    assert_eq!(a2.record(&p, 0).unwrap().unwrap().0.policies.len(), 1);
    let foreign = LoggedPacket {
        prefix: Some("iptables-drop".into()),
        ..p
    };
    assert_eq!(a.record(&foreign, 0).unwrap(), None);
}
