//! The analyzer agrees with the evaluator on every pair it can be asked.
//!
//! Random small clusters from palisade-synth, made harder by hand: some pods
//! become host-network (on shared node addresses), workloads without
//! address, dual-stack (either order) or IPv6-only. For every ordered pair
//! of distinct endpoints, every protocol and a set of ports at every range
//! edge policies use, `evaluate(..).allowed` must equal "the port is in the
//! computed allow". External addresses are sampled inside, outside and at
//! the edges of every ipBlock and compared both ways.

mod support;

use palisade_analyze::{connectivity, ClassConnectivity};
use palisade_eval::{evaluate, Connection, Endpoint, PortRef};
use palisade_model::{Cluster, PodId, Protocol};
use proptest::prelude::*;
use std::net::IpAddr;
use support::{allowed, external_samples, Index};

const TCP: [u16; 19] = [
    1, 53, 79, 80, 81, 443, 3868, 5432, 7999, 8000, 8080, 8100, 8101, 9000, 9090, 9099, 30000,
    32767, 65535,
];
const UDP: [u16; 5] = [1, 52, 53, 54, 65535];
const SCTP: [u16; 4] = [1, 3868, 3869, 65535];

fn samples() -> impl Iterator<Item = (Protocol, u16)> {
    let tcp = TCP.map(|p| (Protocol::Tcp, p));
    let udp = UDP.map(|p| (Protocol::Udp, p));
    let sctp = SCTP.map(|p| (Protocol::Sctp, p));
    tcp.into_iter().chain(udp).chain(sctp)
}

fn decide(c: &Cluster, from: &Endpoint, to: &Endpoint, protocol: Protocol, port: u16) -> bool {
    let conn = Connection {
        from: from.clone(),
        to: to.clone(),
        protocol,
        port: PortRef::Number(port),
    };
    evaluate(c, &conn)
        .expect("numbered ports always evaluate")
        .allowed
}

fn check_pairs(c: &Cluster, idx: &Index<'_>) -> Result<(), TestCaseError> {
    let ids: Vec<PodId> = c.pods().map(|p| p.id()).collect();
    for a in &ids {
        for b in ids.iter().filter(|b| *b != a) {
            let (ea, eb) = (Endpoint::Pod(a.clone()), Endpoint::Pod(b.clone()));
            let got = idx.pair(&a.to_string(), &b.to_string());
            for (proto, port) in samples() {
                let want = decide(c, &ea, &eb, proto, port);
                prop_assert_eq!(
                    allowed(got, proto, port),
                    want,
                    "{} -> {} {}/{}",
                    a,
                    b,
                    port,
                    proto
                );
            }
        }
    }
    Ok(())
}

fn check_external(c: &Cluster, idx: &Index<'_>, addrs: &[IpAddr]) -> Result<(), TestCaseError> {
    for a in c.pods().map(|p| p.id()) {
        let name = a.to_string();
        for &x in addrs {
            let (pod, addr) = (Endpoint::Pod(a.clone()), Endpoint::Addr(x));
            let (out, inn) = (idx.egress(&name, x), idx.ingress(&name, x));
            for (proto, port) in samples() {
                let want = decide(c, &pod, &addr, proto, port);
                prop_assert_eq!(
                    allowed(out, proto, port),
                    want,
                    "{} -> {} {}/{}",
                    a,
                    x,
                    port,
                    proto
                );
                let want = decide(c, &addr, &pod, proto, port);
                prop_assert_eq!(
                    allowed(inn, proto, port),
                    want,
                    "{} -> {} {}/{}",
                    x,
                    a,
                    port,
                    proto
                );
            }
        }
    }
    Ok(())
}

fn check_cluster(c: &Cluster) -> Result<(), TestCaseError> {
    let result = connectivity(c);
    support::check_shape(c, &result)?;
    let stats = ClassConnectivity::new(c).stats();
    prop_assert_eq!(stats.connections(), result.connections.len() as u64);
    check_groups(c, &result)?;
    let idx = Index::new(&result);
    check_pairs(c, &idx)?;
    check_external(c, &idx, &external_samples(c))
}

/// The grouped form expands to exactly the listed connections: every
/// (source, destination) of a group but an endpoint to itself, each pair
/// in one group only.
fn check_groups(c: &Cluster, result: &palisade_analyze::Connectivity) -> Result<(), TestCaseError> {
    let cc = ClassConnectivity::new(c);
    let mut expanded = Vec::new();
    for g in cc.grouped() {
        prop_assert!(!g.from.is_empty() && !g.to.is_empty() && g.allow_set != 0);
        for &from in &g.from {
            for &to in &g.to {
                if from != to {
                    let allow = cc.allow_sets()[g.allow_set].clone();
                    expanded.push((cc.name(from).to_string(), cc.name(to).to_string(), allow));
                }
            }
        }
    }
    expanded.sort();
    let listed: Vec<_> = (result.connections.iter())
        .map(|x| (x.from.clone(), x.to.clone(), x.allow.clone()))
        .collect();
    prop_assert_eq!(expanded, listed);
    Ok(())
}

/// More than 64 rules in one namespace (bitsets of several words).
#[test]
fn agrees_with_many_rules_per_namespace() {
    for seed in [1, 2] {
        let c = support::cluster(seed, 16, 90, 1, seed == 2);
        check_cluster(&c).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn agrees_with_the_evaluator(
        seed in any::<u64>(),
        pods in 4usize..20,
        policies in 1usize..12,
        namespaces in 1usize..4,
        outside in any::<bool>(),
        audit in any::<u8>(),
    ) {
        let mut c = support::cluster(seed, pods, policies, namespaces, outside);
        // Audit mode on some policies: audit-only sides are open.
        let all: Vec<_> = c.policies().cloned().collect();
        for (i, mut p) in all.into_iter().enumerate() {
            if audit & (1 << (i % 8)) != 0 && seed % 2 == 0 {
                p.mode = Some(palisade_model::PolicyMode::Audit);
                c.upsert_policy(p);
            }
        }
        check_cluster(&c)?;
    }
}
