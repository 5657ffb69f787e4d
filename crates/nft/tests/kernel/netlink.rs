//! Netlink element deltas against `nft -f`: the same change applied both
//! ways, in two namespaces, must read back identically (and as the IR
//! wants); a rejected batch must change nothing.

use palisade_compile::{Family, Ruleset};
use palisade_model::Direction;
use palisade_nft::state::expected;
use palisade_nft::{example, ApplyKind, Nft, Transport};

use super::{read, setup, Netns, TABLE};

type Change = fn(&mut Ruleset);

fn add_v6_pod(rs: &mut Ruleset) {
    let pod = example::ip("fd00::1:2");
    std::sync::Arc::make_mut(rs.addr_sets.get_mut("s_web6").expect("s_web6"))
        .ranges
        .push((pod, pod));
    rs.dispatch
        .entry(Direction::Egress)
        .or_default()
        .insert(pod, "c_e_web".into());
}

fn remove_pods(rs: &mut Ruleset) {
    for pod in ["10.0.1.1", "fd00::1:1"].map(example::ip) {
        rs.addr_sets
            .values_mut()
            .for_each(|s| std::sync::Arc::make_mut(s).ranges.retain(|r| r.0 != pod));
        rs.dispatch.values_mut().for_each(|d| {
            d.remove(&pod);
        });
    }
}

/// A pod's egress moves to another existing chain: a retargeted map key.
fn retarget(rs: &mut Ruleset) {
    let (pod, chain) = {
        let ingress = &rs.dispatch[&Direction::Ingress];
        let (pod, chain) = ingress.iter().next().expect("an ingress pod");
        (*pod, chain.clone())
    };
    let egress = rs.dispatch.entry(Direction::Egress).or_default();
    let other = egress
        .iter()
        .find(|(ip, _)| Family::of(ip) == Family::of(&pod))
        .map(|(_, c)| c.clone())
        .expect("an egress chain");
    rs.dispatch
        .get_mut(&Direction::Ingress)
        .expect("ingress")
        .insert(pod, other.clone());
    let _ = chain;
    // the chain kinds must match direction for the IR to make sense; both
    // are subject chains, which is all the kernel checks.
}

/// A named-port element (addr . proto . port, a concatenation) added and
/// one removed.
fn named_port_elements(rs: &mut Ruleset) {
    let set = std::sync::Arc::make_mut(rs.named_port_sets.get_mut("n_http4").expect("n_http4"));
    set.elements
        .push((example::ip("10.0.2.9"), palisade_model::Protocol::Tcp, 8081));
    set.elements.remove(0);
    set.elements.sort();
}

const ELEMENT_CHANGES: [(&str, Change); 5] = [
    ("a pod added", example::add_web_pod),
    ("an IPv6 pod added", add_v6_pod),
    ("pods removed (IPv4 and IPv6)", remove_pods),
    ("a map element retargeted", retarget),
    ("named-port elements", named_port_elements),
];

fn applied(
    transport: Transport,
    before: &Ruleset,
    after: &Ruleset,
) -> Option<(Netns, Nft, ApplyKind, Transport)> {
    let (ns, mut nft) = setup()?;
    nft.transport = transport;
    nft.reconcile(before).expect("full load");
    let report = nft.reconcile_from(before, after).expect("delta");
    assert_eq!(report.delta_error, None);
    Some((ns, nft, report.kind, report.transport))
}

#[test]
fn netlink_element_deltas_read_back_like_nft_f() {
    let mut changes: Vec<(&str, Change)> = ELEMENT_CHANGES.to_vec();
    changes.extend(example::changes());
    for (name, change) in changes {
        let before = example::ruleset();
        let mut after = before.clone();
        change(&mut after);
        let Some((_a, text, kind, carried)) = applied(Transport::Text, &before, &after) else {
            return;
        };
        assert_eq!(
            (kind, carried),
            (ApplyKind::Delta, Transport::Text),
            "{name}"
        );
        let Some((_b, nl, kind, carried)) = applied(Transport::Netlink, &before, &after) else {
            return;
        };
        assert_eq!(kind, ApplyKind::Delta, "{name}");
        if ELEMENT_CHANGES.iter().any(|(n, _)| *n == name) {
            assert_eq!(carried, Transport::Netlink, "{name}: an element-only delta");
        }
        let state = read(&nl);
        assert_eq!(state, read(&text), "{name}: netlink and nft -f differ");
        assert_eq!(state, expected(&after).unwrap(), "{name}");
    }
}

#[test]
fn a_rejected_batch_changes_nothing() {
    let Some((ns, nft)) = setup() else { return };
    let before = example::ruleset();
    nft.reconcile(&before).unwrap();
    // The batch adds 10.0.1.3 and deletes 10.0.1.1, whose map element was
    // already deleted behind our back: the kernel must refuse the whole batch.
    ns.nft("delete element inet palisade egress4 { 10.0.1.1 }");
    let drifted = read(&nft);
    let mut after = before.clone();
    example::add_web_pod(&mut after);
    after.dispatch.values_mut().for_each(|d| {
        d.remove(&example::ip("10.0.1.1"));
    });
    let cur = expected(&before).unwrap();
    let want_changed = palisade_nft::incremental::Changed::between(&before, &after);
    assert!(!want_changed.maps.is_empty());
    let batch = palisade_nft::netlink::batch_between(&before, &after, TABLE)
        .expect("an element-only batch");
    let err = palisade_nft::netlink::send(Some(&ns.name), &batch).expect_err("rejected");
    let text = err.to_string();
    assert!(
        text.contains("delete elements of map egress4") && text.contains("No such file"),
        "{text}"
    );
    assert_eq!(read(&nft), drifted, "a rejected batch must change nothing");
    assert_ne!(read(&nft), cur);
}

/// One-pod changes of a synthetic cluster (every pod local, so a change is
/// elements only unless a chain appears or goes): netlink and `nft -f`
/// leave the same table.
#[test]
fn synthetic_pod_changes_read_back_like_nft_f() {
    use palisade_compile::{compile, LocalPods};
    use palisade_synth::{generate, Params};
    let cluster = generate(&Params::new(300, 60));
    let pods: Vec<_> = cluster.pods().cloned().collect();
    let mut netlink_used = 0;
    for (i, pod) in pods.iter().enumerate().step_by(61) {
        let mut removed = cluster.clone();
        removed.remove_pod(&pod.id());
        let mut relabelled = cluster.clone();
        relabelled.pod_mut(&pod.id()).expect("pod").labels =
            pods[(i + 7) % pods.len()].labels.clone();
        for (what, after) in [("removed", removed), ("relabelled", relabelled)] {
            let (before, after) = (
                compile(&cluster, &LocalPods::All),
                compile(&after, &LocalPods::All),
            );
            let Some((_a, text, ..)) = applied(Transport::Text, &before, &after) else {
                return;
            };
            let Some((_b, nl, _, carried)) = applied(Transport::Netlink, &before, &after) else {
                return;
            };
            netlink_used += usize::from(carried == Transport::Netlink);
            let state = read(&nl);
            assert_eq!(state, read(&text), "{} {what}", pod.id());
            assert_eq!(state, expected(&after).unwrap(), "{} {what}", pod.id());
        }
    }
    assert!(netlink_used > 0, "some of the changes were element-only");
}

/// The largest table palisade makes (10,000 pods all local: ~450,000
/// elements) is one transaction: here 450,000 addresses in one set, one
/// batch of about 7 MB through one `sendto` (the send buffer is raised to
/// fit), committed whole.
#[test]
fn a_table_of_450k_elements_loads_in_one_batch() {
    use palisade_compile::AddrSet;
    let Some((ns, nft)) = setup() else { return };
    let addrs: Vec<_> = (0..450_000u32)
        .map(|i| std::net::IpAddr::V4((0x0a00_0000 + i).into()))
        .collect();
    let mut rs = example::ruleset();
    let set = AddrSet {
        family: Family::V4,
        interval: false,
        ranges: addrs.iter().map(|a| (*a, *a)).collect(),
        origin: "450,000 pods".into(),
    };
    rs.addr_sets.insert("s_big".into(), set.into());
    let batch = palisade_nft::netlink::full_load(&rs, TABLE).unwrap();
    assert!(batch.bytes.len() > 4 << 20, "{} bytes", batch.bytes.len());
    palisade_nft::netlink::send(Some(&ns.name), &batch).expect("one batch");
    for probe in ["10.0.0.0", "10.3.111.31", "10.6.221.207"] {
        let out = ns.exec(
            "nft",
            &[
                "get",
                "element",
                "inet",
                TABLE,
                "s_big",
                &format!("{{ {probe} }}"),
            ],
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(probe),
            "{probe}"
        );
    }
    let _ = nft;
}

/// Sockets are kept per namespace: a namespace deleted and made again
/// under the same name must get a new socket, so the update lands in the
/// new namespace, not in the old one the kept socket still points to.
#[test]
fn a_namespace_made_again_under_its_name_gets_a_new_socket() {
    if !super::netns::kernel_available() {
        return;
    }
    let name = format!("pal-nfttest-{}-again", std::process::id());
    let nft = Nft::new(TABLE, Some(&name));
    let rs = example::ruleset();
    for round in 0..2 {
        super::netns::run("ip", &["netns", "add", &name]);
        let report = nft.reconcile(&rs);
        let listed = super::netns::run("ip", &["netns", "exec", &name, "nft", "list", "tables"]);
        super::netns::run("ip", &["netns", "del", &name]);
        let report = report.expect("load");
        assert_eq!(
            (report.kind, report.transport),
            (ApplyKind::Full, Transport::Netlink),
            "round {round}"
        );
        assert!(
            String::from_utf8_lossy(&listed.stdout).contains("table inet palisade"),
            "round {round}: the table is in the namespace of that name"
        );
    }
}
