//! `diff`: exact at (from, to, protocol, port), by address for CIDRs.

mod support;

use std::net::IpAddr;

use palisade_analyze::diff::diff;
use palisade_analyze::{connectivity, Allow, Connection, Connectivity};
use palisade_model::Protocol;
use proptest::prelude::*;
use support::{allowed, Index};

fn conn(from: &str, to: &str, allow: Vec<Allow>) -> Connection {
    Connection {
        from: from.into(),
        to: to.into(),
        allow,
    }
}

fn tcp(ports: &[[u16; 2]]) -> Vec<Allow> {
    vec![Allow {
        protocol: Protocol::Tcp,
        ports: ports.to_vec(),
    }]
}

fn of(connections: Vec<Connection>) -> Connectivity {
    Connectivity {
        connections,
        ..Connectivity::default()
    }
}

#[test]
fn identical_sides_have_no_diff() {
    let c = of(vec![conn("a/x", "a/y", tcp(&[[80, 80]]))]);
    assert!(diff(&c, &c).is_empty());
    let json = serde_json::to_string(&diff(&c, &c)).unwrap();
    assert_eq!(json, r#"{"added":[],"removed":[]}"#);
}

#[test]
fn narrowed_ports_are_removed_range_by_range() {
    let before = of(vec![conn("a/x", "a/y", tcp(&[]))]);
    let after = of(vec![conn("a/x", "a/y", tcp(&[[80, 80]]))]);
    let d = diff(&before, &after);
    assert!(d.added.is_empty());
    assert_eq!(
        d.removed,
        [conn("a/x", "a/y", tcp(&[[1, 79], [81, 65535]]))]
    );
    let back = diff(&after, &before);
    assert_eq!(back.added, d.removed);
}

#[test]
fn endpoints_on_one_side_only_bring_all_their_connections() {
    let before = of(vec![]);
    let after = of(vec![
        conn("a/new", "a/y", tcp(&[[443, 443]])),
        conn("a/new", "0.0.0.0/0", tcp(&[])),
    ]);
    let d = diff(&before, &after);
    let mut want = after.connections.clone();
    want.sort();
    assert_eq!(d.added, want);
    assert!(d.removed.is_empty());
}

#[test]
fn cidrs_are_compared_by_address() {
    let whole = of(vec![conn("a/x", "0.0.0.0/0", tcp(&[]))]);
    let halves = of(vec![
        conn("a/x", "0.0.0.0/1", tcp(&[])),
        conn("a/x", "128.0.0.0/1", tcp(&[])),
    ]);
    assert!(diff(&whole, &halves).is_empty());
    let before = of(vec![conn("10.0.0.0/8", "a/x", tcp(&[]))]);
    let after = of(vec![
        conn("10.0.0.0/9", "a/x", tcp(&[])),
        conn("10.128.0.0/9", "a/x", tcp(&[[22, 22]])),
    ]);
    let d = diff(&before, &after);
    assert!(d.added.is_empty());
    assert_eq!(
        d.removed,
        [conn("10.128.0.0/9", "a/x", tcp(&[[1, 21], [23, 65535]]))]
    );
}

const PORTS: [(Protocol, u16); 7] = [
    (Protocol::Tcp, 1),
    (Protocol::Tcp, 80),
    (Protocol::Tcp, 443),
    (Protocol::Tcp, 8080),
    (Protocol::Tcp, 9090),
    (Protocol::Udp, 53),
    (Protocol::Sctp, 3868),
];

/// For every sampled port: in `added` iff allowed after and not before.
fn check(
    b: Option<&[Allow]>,
    a: Option<&[Allow]>,
    added: Option<&[Allow]>,
    removed: Option<&[Allow]>,
) -> Result<(), TestCaseError> {
    for (proto, port) in PORTS {
        let (was, is) = (allowed(b, proto, port), allowed(a, proto, port));
        prop_assert_eq!(allowed(added, proto, port), is && !was);
        prop_assert_eq!(allowed(removed, proto, port), was && !is);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn diff_is_exact_on_samples(seed in any::<u64>(), pods in 4usize..14, policies in 1usize..8, more in 1usize..6) {
        let before_c = support::cluster(seed, pods, policies, 2, false);
        let mut after_c = support::cluster(seed, pods, policies + more, 2, false);
        let gone = after_c.pods().next().map(|p| p.id()).unwrap();
        after_c.remove_pod(&gone);
        let (before, after) = (connectivity(&before_c), connectivity(&after_c));
        let d = diff(&before, &after);
        let (ib, ia) = (Index::new(&before), Index::new(&after));
        let (plus, minus) = (of(d.added.clone()), of(d.removed.clone()));
        let (plus, minus) = (Index::new(&plus), Index::new(&minus));
        let names: Vec<String> = before_c.pods().map(|p| p.id().to_string()).collect();
        let mut addrs = support::external_samples(&before_c);
        addrs.retain(|x| !support::endpoint_ips(&after_c).contains(x));
        for x in &names {
            for y in names.iter().filter(|y| *y != x) {
                check(ib.pair(x, y), ia.pair(x, y), plus.pair(x, y), minus.pair(x, y))?;
            }
            for &ip in &addrs {
                let ip: IpAddr = ip;
                check(ib.egress(x, ip), ia.egress(x, ip), plus.egress(x, ip), minus.egress(x, ip))?;
                check(ib.ingress(x, ip), ia.ingress(x, ip), plus.ingress(x, ip), minus.ingress(x, ip))?;
            }
        }
    }
}
