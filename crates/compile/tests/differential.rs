//! The compiled IR decides every packet exactly like the evaluator.
//!
//! Random clusters from palisade-synth (every API feature: selectors with
//! expressions, namespace selectors, ipBlocks with except over pod and
//! external addresses, port ranges, named ports, UDP/SCTP, egress) are
//! compiled with every pod local, then every ordered pod pair and some
//! external addresses are decided by both. Random policies and namespaces
//! are put in audit mode: both must then agree on the verdict AND on which
//! side logs an audit record.

use std::net::IpAddr;

use palisade_compile::{compile, interpret, LocalPods, Packet, Step};
use palisade_eval::{evaluate, Connection, Endpoint, PortRef};
use palisade_model::{Cluster, PolicyMode, Protocol};
use palisade_synth::{generate, Params};
use proptest::prelude::*;

const PORTS: [u16; 6] = [53, 80, 443, 3868, 8080, 9090];
const EXTERNAL: [&str; 4] = ["192.168.1.10", "172.16.5.5", "203.0.113.7", "10.0.0.200"];

fn cluster(seed: u64, pods: usize, policies: usize, outside: bool) -> Cluster {
    let mut p = Params::new(pods, policies);
    p.seed = seed;
    p.namespaces = 3;
    p.ipblocks_outside_pod_network = outside;
    generate(&p)
}

/// Puts the policies whose bit is set in `audit` (by position), and the
/// namespaces whose bit is set in `ns_audit`, in audit mode; policy bit 7
/// forces enforce on the first policy (overriding its namespace).
fn with_modes(mut c: Cluster, audit: u8, ns_audit: u8) -> Cluster {
    let policies: Vec<_> = c.policies().cloned().collect();
    for (i, mut p) in policies.into_iter().enumerate() {
        p.mode = match (i, audit & (1 << (i % 7)) != 0, audit & 0x80 != 0) {
            (0, _, true) => Some(PolicyMode::Enforce),
            (_, true, _) => Some(PolicyMode::Audit),
            _ => None,
        };
        c.upsert_policy(p);
    }
    let names: Vec<String> = c.namespaces().map(|n| n.name.clone()).collect();
    for (i, name) in names.iter().enumerate() {
        if ns_audit & (1 << (i % 8)) != 0 {
            c.namespace_mut(name).unwrap().mode = Some(PolicyMode::Audit);
        }
    }
    c
}

fn check(
    c: &Cluster,
    from: Endpoint,
    to: Endpoint,
    src: IpAddr,
    dst: IpAddr,
) -> Result<(), TestCaseError> {
    let rs = compile(c, &LocalPods::All);
    for protocol in Protocol::ALL {
        for port in PORTS {
            let conn = Connection {
                from: from.clone(),
                to: to.clone(),
                protocol,
                port: PortRef::Number(port),
            };
            let want = evaluate(c, &conn).unwrap();
            let got = interpret(
                &rs,
                &Packet {
                    src,
                    dst,
                    protocol,
                    port,
                },
            );
            prop_assert_eq!(got.allowed, want.allowed, "{:?}\n{}", got, want.explain());
            // Audit: the IR logs an audit record exactly where the
            // evaluator says a side would deny but only audits.
            let audited = |s: &Option<Step>| matches!(s, Some(Step::Audited { .. }));
            prop_assert_eq!(
                (audited(&Some(got.egress.clone())), audited(&got.ingress)),
                (
                    want.egress.verdict.audited().is_some() && !want.same_pod,
                    want.ingress.verdict.audited().is_some()
                        && !want.same_pod
                        && want.egress.verdict.allows()
                ),
                "{:?}\n{}",
                got,
                want.explain()
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn ir_agrees_with_evaluator(seed in any::<u64>(), pods in 4usize..14, policies in 1usize..10, outside in any::<bool>(), audit in any::<u8>(), ns_audit in any::<u8>()) {
        let (audit, ns_audit) = match seed % 3 { 0 => (0, 0), _ => (audit, ns_audit) };
        let c = with_modes(cluster(seed, pods, policies, outside), audit, ns_audit);
        let all: Vec<_> = c.pods().filter(|p| !p.ips.is_empty()).cloned().collect();
        for a in &all {
            for b in &all {
                let (src, dst) = (a.primary_ip().unwrap(), b.primary_ip().unwrap());
                check(&c, Endpoint::Pod(a.id()), Endpoint::Pod(b.id()), src, dst)?;
            }
            for ext in EXTERNAL {
                let ip: IpAddr = ext.parse().unwrap();
                if c.pod_by_ip(ip).is_some() { continue; }
                check(&c, Endpoint::Pod(a.id()), Endpoint::Addr(ip), a.primary_ip().unwrap(), ip)?;
                check(&c, Endpoint::Addr(ip), Endpoint::Pod(a.id()), ip, a.primary_ip().unwrap())?;
            }
        }
    }
}

#[test]
fn compilation_is_deterministic() {
    let c = cluster(7, 40, 20, false);
    assert_eq!(compile(&c, &LocalPods::All), compile(&c, &LocalPods::All));
}

#[test]
fn only_local_pods_are_dispatched() {
    let c = cluster(3, 30, 15, false);
    let first = c.pods().next().unwrap().id();
    let rs = compile(&c, &LocalPods::Pods([first.clone()].into()));
    let ip = c.pod(&first).unwrap().primary_ip().unwrap();
    for map in rs.dispatch.values() {
        assert!(map.keys().all(|k| *k == ip), "{map:?}");
    }
}
