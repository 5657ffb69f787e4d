//! Pods on a node reach each other over TCP, UDP and SCTP, and the node's
//! netfilter (forward hook) decides: a `drop` there turns exactly that probe
//! into `Blocked`.

mod common;

use std::time::Duration;

use common::{ip, outcomes, Lab};
use palisade_lab::probe::DEFAULT_TIMEOUT;
use palisade_lab::{probe_many, Outcome::*, ProbeError, ProbeSpec, Protocol};

#[test]
fn helper() {
    common::helper_main();
}

/// TCP, UDP and SCTP probes from `src` to `dst_ip:port` in `dst`.
fn three(src: &str, dst: &str, dst_ip: &str, port: u16) -> Vec<ProbeSpec> {
    Protocol::ALL
        .iter()
        .map(|&p| ProbeSpec::new(src, ip(dst_ip), p, port).to_netns(dst))
        .collect()
}

#[test]
fn pods_reach_each_other_until_the_node_drops() {
    if !common::gate() {
        return;
    }
    let mut lab = Lab::new();
    let a = lab.node.add_pod("x/a", &[ip("10.0.1.1")]).unwrap();
    let b = lab.node.add_pod("x/b", &[ip("10.0.1.2")]).unwrap();
    lab.start_helper(&b.netns, "serve");
    let specs = three(&a.netns, &b.netns, "10.0.1.2", 80);
    assert_eq!(
        outcomes(probe_many(&specs, DEFAULT_TIMEOUT)),
        [Reached, Reached, Reached]
    );

    lab.node_nft("table inet plt-test { chain deny { type filter hook forward priority 0; meta l4proto udp drop; }; }");
    assert_eq!(
        outcomes(probe_many(&specs, DEFAULT_TIMEOUT)),
        [Reached, Blocked, Reached]
    );

    lab.node_nft("add rule inet plt-test deny sctp dport 80 drop");
    assert_eq!(
        outcomes(probe_many(&specs, DEFAULT_TIMEOUT)),
        [Reached, Blocked, Blocked]
    );
    let other_port = three(&a.netns, &b.netns, "10.0.1.2", 81);
    assert_eq!(
        outcomes(probe_many(&other_port, DEFAULT_TIMEOUT)),
        [Reached, Blocked, Reached]
    );
}

#[test]
fn a_closed_port_is_an_error_not_a_denial() {
    if !common::gate() {
        return;
    }
    let mut lab = Lab::new();
    let a = lab.node.add_pod("x/a", &[ip("10.0.1.1")]).unwrap();
    let b = lab.node.add_pod("x/b", &[ip("10.0.1.2")]).unwrap();
    lab.start_helper(&b.netns, "serve");
    let closed = three(&a.netns, &b.netns, "10.0.1.2", 82);
    let results = probe_many(&closed[..2], Duration::from_secs(1));
    for result in results {
        assert!(
            matches!(result, Err(ProbeError::PortClosed { .. })),
            "{result:?}"
        );
    }
    // SCTP has no server to refuse: an INIT that arrives is Reached, whatever the port.
    assert_eq!(
        outcomes(probe_many(&closed[2..], DEFAULT_TIMEOUT)),
        [Reached]
    );
}

#[test]
fn dual_stack_pods_reach_over_ipv6() {
    if !common::gate() {
        return;
    }
    let mut lab = Lab::new();
    let a = lab
        .node
        .add_pod("x/a", &[ip("10.0.1.1"), ip("fd00:10::1")])
        .unwrap();
    let b = lab
        .node
        .add_pod("x/b", &[ip("10.0.1.2"), ip("fd00:10::2")])
        .unwrap();
    lab.start_helper(&b.netns, "serve");
    let specs = three(&a.netns, &b.netns, "fd00:10::2", 81);
    assert_eq!(
        outcomes(probe_many(&specs, DEFAULT_TIMEOUT)),
        [Reached, Reached, Reached]
    );
    lab.node_nft("table ip6 plt-test { chain deny { type filter hook forward priority 0; meta l4proto tcp drop; }; }");
    assert_eq!(
        outcomes(probe_many(&specs, DEFAULT_TIMEOUT)),
        [Blocked, Reached, Reached]
    );
    let v4 = three(&a.netns, &b.netns, "10.0.1.2", 81);
    assert_eq!(
        outcomes(probe_many(&v4, DEFAULT_TIMEOUT)),
        [Reached, Reached, Reached]
    );
}
