//! Timings on a synthetic ruleset (printed; run with `--nocapture`).
//! `PALISADE_NFT_SCALE=N` multiplies its size (default: 5,000 pods, 500
//! chains).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Instant;

use palisade_compile::{
    AddrSet, Chain, CounterKind, Family, Match, PortSet, Provenance, Rule, Ruleset,
};
use palisade_model::{Direction, PolicyRef, Protocol};
use palisade_nft::state::expected;
use palisade_nft::{delta::delta, ApplyKind};

use super::{read, setup, TABLE};

fn pod(i: usize) -> IpAddr {
    let i = u32::try_from(i).expect("small index");
    IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i))
}

/// `pods` pod addresses spread over `chains` ingress chains; each chain
/// admits the pods of its own set on a shared port set.
fn synthetic(pods: usize, chains: usize) -> Ruleset {
    let mut rs = Ruleset::default();
    let ports = vec![
        (Protocol::Tcp, 80, 80),
        (Protocol::Tcp, 8000, 8999),
        (Protocol::Udp, 53, 53),
    ];
    rs.port_sets.insert(
        "p_web".into(),
        PortSet {
            ranges: ports,
            origin: "web ports".into(),
        },
    );
    let mut dispatch = BTreeMap::new();
    for c in 0..chains {
        let policy = PolicyRef::new("ns", &format!("p{c}"));
        let members: Vec<usize> = (c..pods).step_by(chains).collect();
        let ranges = members.iter().map(|&i| (pod(i), pod(i))).collect();
        let set = AddrSet {
            family: Family::V4,
            interval: false,
            ranges,
            origin: format!("pods of p{c}"),
        };
        rs.addr_sets.insert(format!("s_{c}"), set.into());
        let provenance = Provenance {
            policy: policy.clone(),
            direction: Direction::Ingress,
            rule: 0,
            peer: Some(0),
        };
        let matches = vec![
            Match::SrcAddr(format!("s_{c}")),
            Match::Ports("p_web".into()),
        ];
        let rule = Rule {
            family: Some(Family::V4),
            matches,
            counter: format!("k_{c}"),
            provenance,
        };
        let chain = Chain {
            direction: Direction::Ingress,
            isolated_by: vec![policy.clone()],
            rules: vec![rule],
            deny_counter: format!("k_deny_{c}"),
            audit: false,
        };
        rs.chains.insert(format!("c_{c}"), chain.into());
        let kind = CounterKind::Rule {
            policy: policy.clone(),
            direction: Direction::Ingress,
            rule: 0,
        };
        rs.counters.insert(format!("k_{c}"), kind);
        let deny = CounterKind::DefaultDeny {
            direction: Direction::Ingress,
            isolated_by: vec![policy],
            audit: false,
        };
        rs.counters.insert(format!("k_deny_{c}"), deny);
        dispatch.extend(members.iter().map(|&i| (pod(i), format!("c_{c}"))));
    }
    rs.dispatch.insert(Direction::Ingress, dispatch);
    rs
}

#[test]
fn timings_of_full_apply_and_one_element_delta() {
    let Some((ns, nft)) = setup() else { return };
    let scale: usize = std::env::var("PALISADE_NFT_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let (pods, chains) = (5_000 * scale, 500 * scale);
    let mut rs = synthetic(pods, chains);
    let full = nft.reconcile(&rs).unwrap();
    assert_eq!(full.kind, ApplyKind::Full);

    let t = Instant::now();
    ns.exec("nft", &["-j", "list", "table", "inet", TABLE]);
    let list_time = t.elapsed();
    let t = Instant::now();
    let state = read(&nft);
    let read_time = t.elapsed();
    assert_eq!(state, expected(&rs).unwrap());

    let new_pod = pod(pods);
    Arc::make_mut(rs.addr_sets.get_mut("s_0").expect("s_0"))
        .ranges
        .push((new_pod, new_pod));
    rs.dispatch
        .get_mut(&Direction::Ingress)
        .expect("ingress")
        .insert(new_pod, "c_0".into());
    let script = delta(&state, &rs, TABLE).unwrap().expect("a delta");
    let t = Instant::now();
    nft.run(&script).unwrap();
    let run_time = t.elapsed();
    assert_eq!(read(&nft), expected(&rs).unwrap());

    let known = rs.clone();
    Arc::make_mut(rs.addr_sets.get_mut("s_0").expect("s_0"))
        .ranges
        .pop();
    rs.dispatch
        .get_mut(&Direction::Ingress)
        .expect("ingress")
        .remove(&new_pod);
    let hot = nft.reconcile_from(&known, &rs).unwrap();
    assert_eq!(hot.kind, ApplyKind::Delta);
    Arc::make_mut(rs.addr_sets.get_mut("s_0").expect("s_0"))
        .ranges
        .push((new_pod, new_pod));
    rs.dispatch
        .get_mut(&Direction::Ingress)
        .expect("ingress")
        .insert(new_pod, "c_0".into());
    let reconcile = nft.reconcile(&rs).unwrap();
    assert_eq!(reconcile.kind, ApplyKind::Delta);
    println!(
        "{pods} pods ({} elements), {chains} chains: full apply {:?} ({} lines); read-back {read_time:?} (nft -j list alone {list_time:?}); \
         one-element delta: nft run {run_time:?} ({} lines), \
         reconcile_from (IR to kernel, no read-back) {:?}, reconcile with read-back {:?}",
        2 * pods + 3,
        full.duration,
        full.lines,
        script.lines(),
        hot.duration,
        reconcile.duration,
    );
}
