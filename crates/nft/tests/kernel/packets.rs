//! Real packets: two pod namespaces joined by veth pairs to the test's
//! "node" namespace, which holds the table. A TCP connect to a closed port
//! tells allowed (the destination answers with a reset at once) from
//! dropped (silence until the timeout) without any server.

use std::collections::BTreeMap;
use std::process::Command;

use palisade_compile::{
    AddrSet, Chain, CounterKind, Family, Match, PortSet, Provenance, Rule, Ruleset,
};
use palisade_model::{Direction, PolicyRef, Protocol};
use palisade_nft::{example::ip, ApplyKind};

use super::netns::Netns;
use super::{setup, TABLE};

const A: &str = "10.0.1.1";
const B: &str = "10.0.2.1";
const GATEWAY: &str = "169.254.1.1";

/// Joins a new pod namespace with address `addr` to `node` through `link`.
fn pod(node: &Netns, link: &str, addr: &str) -> Netns {
    let pod = Netns::new();
    node.exec(
        "ip",
        &[
            "link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", &pod.name,
        ],
    );
    node.exec(
        "ip",
        &["addr", "add", &format!("{GATEWAY}/32"), "dev", link],
    );
    node.exec("ip", &["link", "set", link, "up"]);
    node.exec("ip", &["route", "add", &format!("{addr}/32"), "dev", link]);
    pod.exec("ip", &["addr", "add", &format!("{addr}/32"), "dev", "eth0"]);
    pod.exec("ip", &["link", "set", "eth0", "up"]);
    pod.exec("ip", &["route", "add", GATEWAY, "dev", "eth0"]);
    pod.exec(
        "ip",
        &["route", "add", "default", "via", GATEWAY, "dev", "eth0"],
    );
    pod
}

/// Whether a TCP SYN from `from` to `addr:port` gets an answer (a reset).
fn reaches(from: &Netns, addr: &str, port: u16) -> bool {
    let connect = format!("exec 3<>/dev/tcp/{addr}/{port}");
    let out = Command::new("ip")
        .args([
            "netns", "exec", &from.name, "timeout", "0.5", "bash", "-c", &connect,
        ])
        .output()
        .expect("run bash");
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(124) => false,
        _ if stderr.contains("Connection refused") => true,
        code => panic!("unexpected probe outcome {code:?}: {stderr}"),
    }
}

fn packets(node: &Netns, counter: &str) -> u64 {
    let out = node.exec("nft", &["-j", "list", "counter", "inet", TABLE, counter]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("counter json");
    let items = json["nftables"].as_array().expect("nftables array");
    items
        .iter()
        .find_map(|i| i["counter"]["packets"].as_u64())
        .expect("a counter")
}

/// B is isolated for ingress and admits A on the given TCP ports.
fn ruleset(ports: &[u16]) -> Ruleset {
    let mut rs = Ruleset::default();
    let policy = PolicyRef::new("ns", "b");
    let a = AddrSet {
        family: Family::V4,
        interval: false,
        ranges: vec![(ip(A), ip(A))],
        origin: "pod a".into(),
    };
    rs.addr_sets.insert("s_a".into(), a.into());
    let ranges = ports.iter().map(|&p| (Protocol::Tcp, p, p)).collect();
    rs.port_sets.insert(
        "p_b".into(),
        PortSet {
            ranges,
            origin: "ports of b".into(),
        },
    );
    let provenance = Provenance {
        policy: policy.clone(),
        direction: Direction::Ingress,
        rule: 0,
        peer: Some(0),
    };
    let matches = vec![Match::SrcAddr("s_a".into()), Match::Ports("p_b".into())];
    let rule = Rule {
        family: Some(Family::V4),
        matches,
        counter: "k_b0".into(),
        provenance,
    };
    let chain = Chain {
        direction: Direction::Ingress,
        isolated_by: vec![policy.clone()],
        rules: vec![rule],
        deny_counter: "k_deny_b".into(),
        audit: false,
    };
    rs.chains.insert("c_i_b".into(), chain.into());
    let kind = CounterKind::Rule {
        policy: policy.clone(),
        direction: Direction::Ingress,
        rule: 0,
    };
    rs.counters.insert("k_b0".into(), kind);
    let deny = CounterKind::DefaultDeny {
        direction: Direction::Ingress,
        isolated_by: vec![policy],
        audit: false,
    };
    rs.counters.insert("k_deny_b".into(), deny);
    rs.dispatch.insert(
        Direction::Ingress,
        BTreeMap::from([(ip(B), "c_i_b".to_string())]),
    );
    rs
}

/// Also isolates A for egress, allowing nothing.
fn isolate_a_egress(rs: &mut Ruleset) {
    let policy = PolicyRef::new("ns", "a");
    let chain = Chain {
        direction: Direction::Egress,
        isolated_by: vec![policy.clone()],
        rules: vec![],
        deny_counter: "k_deny_a".into(),
        audit: false,
    };
    rs.chains.insert("c_e_a".into(), chain.into());
    let deny = CounterKind::DefaultDeny {
        direction: Direction::Egress,
        isolated_by: vec![policy],
        audit: false,
    };
    rs.counters.insert("k_deny_a".into(), deny);
    rs.dispatch.insert(
        Direction::Egress,
        BTreeMap::from([(ip(A), "c_e_a".to_string())]),
    );
}

#[test]
fn packets_follow_the_policy_through_updates() {
    let Some((node, nft)) = setup() else { return };
    node.exec("sysctl", &["-qw", "net.ipv4.ip_forward=1"]);
    let a = pod(&node, "va", A);
    let b = pod(&node, "vb", B);
    assert!(reaches(&a, B, 80), "no connectivity before any policy");

    let mut rs = ruleset(&[5432]);
    assert_eq!(nft.reconcile(&rs).unwrap().kind, ApplyKind::Full);
    assert!(reaches(&a, B, 5432), "allowed port");
    assert!(!reaches(&a, B, 80), "other port");
    assert!(reaches(&b, A, 80), "A is not isolated for ingress");
    assert!(reaches(&a, GATEWAY, 80), "A may reach the node");
    let (allowed, denied) = (packets(&node, "k_b0"), packets(&node, "k_deny_b"));
    assert!(
        allowed >= 1 && denied >= 1,
        "counters: allowed {allowed}, denied {denied}"
    );

    rs = ruleset(&[80, 5432]);
    assert_eq!(nft.reconcile(&rs).unwrap().kind, ApplyKind::Delta);
    assert!(reaches(&a, B, 80), "port 80 allowed after the update");
    assert!(
        packets(&node, "k_b0") > allowed,
        "the rule counter survived the update"
    );

    isolate_a_egress(&mut rs);
    assert_eq!(nft.reconcile(&rs).unwrap().kind, ApplyKind::Delta);
    assert!(!reaches(&a, B, 5432), "A's egress allows nothing");
    assert!(
        !reaches(&a, GATEWAY, 80),
        "A's egress also applies to the node (input hook)"
    );
    assert!(reaches(&b, A, 80), "B to A is still allowed");
}
