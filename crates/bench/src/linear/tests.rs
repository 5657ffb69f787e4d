use std::collections::BTreeSet;

use palisade_compile::{compile, interpret as ir, LocalPods, Packet};
use palisade_model::{PolicyRef, Protocol};

use super::*;
use crate::world::{self, World};

fn small() -> World {
    let ips = (
        "10.244.1.10".parse().unwrap(),
        "10.244.1.11".parse().unwrap(),
    );
    world::build(150, 30, ips, "lab", world::Scope::All).unwrap()
}

fn probe_policies(w: &World) -> BTreeSet<PolicyRef> {
    w.order
        .iter()
        .filter(|p| p.namespace == world::NS)
        .cloned()
        .collect()
}

/// The uncapped list decides every pod pair and port exactly as the IR does.
#[test]
fn uncapped_list_agrees_with_the_compiled_ruleset() {
    let w = small();
    let rs = compile(&w.cluster, &LocalPods::All);
    let list = build(&rs, &w.order, &probe_policies(&w), usize::MAX);
    assert!(!list.capped());
    assert_eq!(list.uncapped_accepts, list.accepts as u64);
    let addrs: Vec<_> = w
        .cluster
        .pods()
        .filter_map(|p| p.ips.first().copied())
        .collect();
    let ports = [
        (Protocol::Tcp, 80),
        (Protocol::Tcp, 8080),
        (Protocol::Tcp, 9090),
        (Protocol::Udp, 53),
        (Protocol::Sctp, 3868),
        (Protocol::Tcp, 7000),
    ];
    let mut checked = 0;
    for (i, &src) in addrs.iter().enumerate() {
        for &dst in addrs.iter().skip(i % 23).step_by(23) {
            if src == dst {
                continue;
            }
            for &(protocol, port) in &ports {
                let p = Packet {
                    src,
                    dst,
                    protocol,
                    port,
                };
                assert_eq!(interpret(&list, &p), ir(&rs, &p).allowed, "{p:?}");
                checked += 1;
            }
        }
    }
    assert!(checked > 3_000, "{checked}");
}

/// A capped list keeps every probe rule, so the probes' verdicts stay exact,
/// and says how much it left out.
#[test]
fn capped_list_is_exact_for_the_probe_pods() {
    let w = small();
    let rs = compile(&w.cluster, &LocalPods::All);
    let list = build(&rs, &w.order, &probe_policies(&w), 100);
    assert!(list.capped());
    assert!(list.accepts > 100 && list.accepts < 200, "{}", list.accepts);
    for port in [world::CONN_PORT, world::IPERF_PORT, world::CONTROL_PORT, 22] {
        let p = world::probe_packet(&w, port).unwrap();
        assert_eq!(interpret(&list, &p), ir(&rs, &p).allowed, "port {port}");
    }
    // The probe rules come last among the accepts: the probe walks all others.
    let client = Some((p_src(&w), p_src(&w)));
    let first = list.egress.iter().position(|r| r.src == client).unwrap();
    assert!(list.egress[..first]
        .iter()
        .all(|r| r.accept && r.src != client));
}

fn p_src(w: &World) -> std::net::IpAddr {
    world::probe_packet(w, 1).unwrap().src
}

#[test]
fn renders_one_line_per_rule() {
    let w = small();
    let rs = compile(&w.cluster, &LocalPods::All);
    let list = build(&rs, &w.order, &probe_policies(&w), 50);
    let text = render(&list);
    let rules = text
        .lines()
        .filter(|l| l.ends_with("accept") || l.ends_with("drop"))
        .count();
    // + the two `ct state` lines (the base chains' policy lines end in `accept;`).
    assert_eq!(rules, list.rules() + 2);
    assert!(
        text.contains(
            "ip saddr 10.244.1.10 ip daddr 10.244.1.11 meta l4proto tcp th dport 7000 accept"
        ),
        "{text}"
    );
}
