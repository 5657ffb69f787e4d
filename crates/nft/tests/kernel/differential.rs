//! The same IR through `nft -f` text into one namespace and through one
//! netlink batch into another must give IDENTICAL `nft list table` output
//! (and equal canonical read-backs), for full loads of generated clusters
//! (IPv4 and IPv6 pods, named ports, ipBlocks with except, audit chains)
//! and for deltas that add, rewrite and delete chains and rules.

use std::net::{IpAddr, Ipv6Addr};

use palisade_compile::{compile, LocalPods, Ruleset};
use palisade_model::{Cluster, PolicyMode};
use palisade_nft::netlink::{self, Batch, Op};
use palisade_nft::state::expected;
use palisade_nft::{example, ApplyError, ApplyKind, Nft, Transport};
use palisade_synth::{generate, Params};

use super::{read, setup, Netns, TABLE};

/// A generated cluster made dual-stack (every third pod also gets an IPv6
/// address) with its first namespace in audit mode.
fn cluster(pods: usize, policies: usize, seed: u64) -> Cluster {
    let mut p = Params::new(pods, policies);
    p.seed = seed;
    p.ipblocks_outside_pod_network = false;
    let mut c = generate(&p);
    let ids: Vec<_> = c.pods().map(|pod| pod.id()).collect();
    for (i, id) in ids.iter().enumerate().step_by(3) {
        let v6 = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 1, i as u16 + 1));
        c.pod_mut(id).expect("pod").ips.push(v6);
    }
    let first = c.namespaces().next().map(|n| n.name.clone());
    if let Some(ns) = first.and_then(|n| c.namespace_mut(&n)) {
        ns.mode = Some(PolicyMode::Audit);
    }
    c
}

/// `nft list table inet palisade` in `ns`.
fn listing(ns: &Netns) -> String {
    let out = ns.exec("nft", &["list", "table", "inet", TABLE]);
    String::from_utf8(out.stdout).expect("utf-8")
}

fn with(transport: Transport) -> Option<(Netns, Nft)> {
    let (ns, mut nft) = setup()?;
    nft.transport = transport;
    Some((ns, nft))
}

/// Loads `rs` both ways; returns the two namespaces (text, netlink).
fn full_both(rs: &Ruleset) -> Option<((Netns, Nft), (Netns, Nft))> {
    let text = with(Transport::Text)?;
    let nl = with(Transport::Netlink)?;
    let t = text.1.reconcile(rs).expect("text full load");
    let n = nl.1.reconcile(rs).expect("netlink full load");
    assert_eq!((t.kind, t.transport), (ApplyKind::Full, Transport::Text));
    assert_eq!((n.kind, n.transport), (ApplyKind::Full, Transport::Netlink));
    Some((text, nl))
}

fn assert_same_table(text: &(Netns, Nft), nl: &(Netns, Nft), rs: &Ruleset, what: &str) {
    let (a, b) = (listing(&text.0), listing(&nl.0));
    if a != b {
        let first = a.lines().zip(b.lines()).position(|(x, y)| x != y);
        panic!("{what}: nft list differs at line {first:?}\n--- text\n{a}\n--- netlink\n{b}");
    }
    assert!(a.contains("table inet palisade"), "{what}: {a}");
    let state = read(&nl.1);
    assert_eq!(state, read(&text.1), "{what}: canonical read-back");
    assert_eq!(state, expected(rs).unwrap(), "{what}: read-back vs IR");
}

#[test]
fn full_loads_list_identically_over_netlink_and_text() {
    let mut cases = vec![
        ("example".to_string(), example::ruleset()),
        ("interval edges".to_string(), example::interval_edges()),
        ("every rule form".to_string(), example::every_rule_form()),
    ];
    for (pods, policies, seed) in [(40, 12, 1), (150, 40, 2), (400, 90, 3), (900, 200, 4)] {
        let c = cluster(pods, policies, seed);
        cases.push((
            format!("{pods} pods / {policies} policies, seed {seed}"),
            compile(&c, &LocalPods::All),
        ));
    }
    for (what, rs) in &cases {
        let Some((text, nl)) = full_both(rs) else {
            return;
        };
        assert_same_table(&text, &nl, rs, what);
        let features = listing(&nl.0);
        if what.contains("900") {
            for needle in [
                "ip6 saddr",
                "flags interval",
                "palisade audit",
                " . th dport @",
                "ipv6_addr . ipv6_addr",
                "ip6 daddr . meta l4proto . th dport @",
                "ip6 daddr @",
            ] {
                assert!(
                    features.contains(needle),
                    "{what}: generated table lacks {needle:?}"
                );
            }
        }
    }
}

/// Changes of a generated cluster that add, rewrite and delete chains,
/// rules, counters and sets.
fn cluster_changes(c: &Cluster) -> Vec<(&'static str, Cluster)> {
    let pods: Vec<_> = c.pods().cloned().collect();
    let policies: Vec<_> = c.policies().cloned().collect();
    let mut removed = c.clone();
    removed.remove_pod(&pods[5].id());
    let mut relabelled = c.clone();
    relabelled.pod_mut(&pods[11].id()).expect("pod").labels = pods[30].labels.clone();
    let mut policy_gone = c.clone();
    policy_gone.remove_policy(&policies[3].reference());
    let mut audit_off = c.clone();
    let first = c
        .namespaces()
        .next()
        .map(|n| n.name.clone())
        .expect("a namespace");
    audit_off.namespace_mut(&first).expect("namespace").mode = None;
    let mut many = c.clone();
    for p in &policies[..policies.len() / 2] {
        many.remove_policy(&p.reference());
    }
    vec![
        ("a pod removed", removed),
        ("a pod relabelled", relabelled),
        ("a policy removed", policy_gone),
        ("audit mode turned off (chains rewritten)", audit_off),
        ("half the policies removed", many),
    ]
}

#[test]
fn deltas_with_chain_and_rule_changes_read_back_like_nft_f() {
    let base = cluster(300, 60, 7);
    let before = compile(&base, &LocalPods::All);
    let mut netlink_deltas = 0;
    for (what, after) in cluster_changes(&base) {
        let after = compile(&after, &LocalPods::All);
        let Some((text, nl)) = full_both(&before) else {
            return;
        };
        let t = text.1.reconcile_from(&before, &after).expect("text delta");
        let n = nl.1.reconcile_from(&before, &after).expect("netlink delta");
        assert_eq!(t.delta_error, None, "{what}");
        assert_eq!(n.delta_error, None, "{what}");
        assert_eq!(n.kind, ApplyKind::Delta, "{what}");
        netlink_deltas += usize::from(n.transport == Transport::Netlink);
        assert_same_table(&text, &nl, &after, what);
        // The read-back path (a delta from what the kernel holds) too.
        let t = text.1.reconcile(&before).expect("text back");
        let n = nl.1.reconcile(&before).expect("netlink back");
        assert_eq!(
            (t.kind, n.kind),
            (ApplyKind::Delta, ApplyKind::Delta),
            "{what}"
        );
        assert_eq!(n.transport, Transport::Netlink, "{what}");
        assert_same_table(&text, &nl, &before, &format!("{what}, undone"));
    }
    assert_eq!(netlink_deltas, 5, "every delta went over netlink");
    for (what, change) in example::changes() {
        let before = example::ruleset();
        let mut after = before.clone();
        change(&mut after);
        let Some((text, nl)) = full_both(&before) else {
            return;
        };
        text.1.reconcile_from(&before, &after).expect("text delta");
        let n = nl.1.reconcile_from(&before, &after).expect("netlink delta");
        assert_eq!(
            (n.transport, n.delta_error),
            (Transport::Netlink, None),
            "{what}"
        );
        assert_same_table(&text, &nl, &after, what);
    }
}

/// A delta whose chain the table no longer has: the kernel refuses the
/// batch, names the chain, and the table is exactly as it was.
#[test]
fn a_rejected_delta_batch_changes_nothing_and_names_the_chain() {
    let Some((ns, nft)) = with(Transport::Netlink) else {
        return;
    };
    let before = example::ruleset();
    nft.reconcile(&before).unwrap();
    ns.nft(
        "delete element inet palisade ingress4 { 10.0.2.1 }\n\
         delete element inet palisade ingress6 { fd00::2:1 }\n\
         flush chain inet palisade c_i_db\n\
         delete chain inet palisade c_i_db\n",
    );
    let drifted = listing(&ns);
    let mut after = before.clone();
    example::change_db_ports(&mut after);
    let batch = netlink::delta_between(&before, &after, TABLE)
        .unwrap()
        .expect("a delta");
    let err = netlink::send(Some(&ns.name), &batch).expect_err("refused");
    let text = err.to_string();
    assert!(
        text.contains("chain c_i_db") && text.contains("No such file"),
        "{text}"
    );
    assert_eq!(listing(&ns), drifted, "a refused batch must change nothing");
    // Through the public path: the refusal is reported and repaired.
    let report = nft.reconcile_from(&before, &after).unwrap();
    assert!(report.delta_error.is_some_and(|e| e.contains("c_i_db")));
    assert_eq!(read(&nft), expected(&after).unwrap());
}

/// A full replace is one transaction: when any message of it fails, the
/// previous table stays in force, whole.
#[test]
fn a_failed_full_replace_keeps_the_old_table() {
    let Some((ns, nft)) = with(Transport::Netlink) else {
        return;
    };
    let before = example::ruleset();
    nft.reconcile(&before).unwrap();
    let old = listing(&ns);
    let c = cluster(150, 40, 2);
    let full = netlink::full_load(&compile(&c, &LocalPods::All), TABLE).unwrap();
    let broken = with_tail(full, |b| {
        let key = netlink::set_key(
            &palisade_nft::element::Element::single(&[1]),
            &[palisade_nft::element::Datatype::Ipv4Addr],
        )
        .unwrap();
        b.elements(
            Op::Add,
            TABLE,
            "s_missing",
            &[key],
            "add elements to set s_missing".into(),
        );
    });
    let err = netlink::send(Some(&ns.name), &broken).expect_err("refused");
    assert!(err.to_string().contains("s_missing"), "{err}");
    assert_eq!(listing(&ns), old, "the old table must stay in force");
    assert!(matches!(
        ApplyError::from(err),
        ApplyError::Netlink(netlink::NetlinkError::Rejected { .. })
    ));
}

/// `batch` with more messages appended before its end.
fn with_tail(batch: Batch, add: impl FnOnce(&mut Batch)) -> Batch {
    let next = batch.messages.last().map_or(1, |m| m.0 + 2);
    let mut tail = Batch::new(next);
    add(&mut tail);
    let tail = tail.finish();
    let mut out = batch;
    let end = out.bytes.len() - 20;
    out.bytes.truncate(end);
    out.bytes.extend_from_slice(&tail.bytes[20..]); // without its begin
    out.messages.extend(tail.messages);
    out
}
