//! Root-gated tests against the real kernel, each in a network namespace of
//! its own (never the root namespace's nftables). Without root or nft they
//! print "skipped: needs root and nft" (and fail under CI).

#[path = "kernel/differential.rs"]
mod differential;
#[path = "kernel/golden.rs"]
mod golden;
#[path = "kernel/netlink.rs"]
mod netlink;
#[path = "kernel/netns.rs"]
mod netns;
#[path = "kernel/packets.rs"]
mod packets;
#[path = "kernel/timing.rs"]
mod timing;

use netns::{kernel_available, Netns};
use palisade_compile::Ruleset;
use palisade_nft::state::expected;
use palisade_nft::{
    delta::delta, example, ApplyError, ApplyKind, Nft, Script, TableState, Transport,
};

const TABLE: &str = "palisade";

fn setup() -> Option<(Netns, Nft)> {
    if !kernel_available() {
        return None;
    }
    let ns = Netns::new();
    let nft = Nft::new(TABLE, Some(&ns.name));
    Some((ns, nft))
}

fn read(nft: &Nft) -> TableState {
    nft.read().expect("read back").expect("table present")
}

#[test]
fn full_apply_reads_back_as_expected() {
    let Some((_ns, nft)) = setup() else { return };
    let rs = example::ruleset();
    assert_eq!(nft.read().unwrap(), None);
    let report = nft.reconcile(&rs).unwrap();
    assert_eq!(report.kind, ApplyKind::Full);
    let state = read(&nft);
    assert_eq!(state, expected(&rs).unwrap());
    assert_eq!(delta(&state, &rs, TABLE).unwrap(), None);
    assert_eq!(nft.reconcile(&rs).unwrap().kind, ApplyKind::Unchanged);
}

#[test]
fn an_empty_ruleset_applies() {
    let Some((_ns, nft)) = setup() else { return };
    nft.reconcile(&Ruleset::default()).unwrap();
    assert_eq!(read(&nft), expected(&Ruleset::default()).unwrap());
}

#[test]
fn a_pod_added_is_an_element_only_delta() {
    let Some((_ns, mut nft)) = setup() else {
        return;
    };
    nft.transport = Transport::Text; // lines of the script, compared below
    let mut rs = example::ruleset();
    nft.reconcile(&rs).unwrap();
    example::add_web_pod(&mut rs);
    let script = delta(&read(&nft), &rs, TABLE).unwrap().expect("a delta");
    let statements: Vec<&str> = script
        .text
        .lines()
        .filter(|l| !l.starts_with('\t') && *l != "}")
        .collect();
    assert!(
        statements.iter().all(|l| l.starts_with("add element")),
        "{}",
        script.text
    );
    let report = nft.reconcile(&rs).unwrap();
    assert_eq!(
        (report.kind, report.lines),
        (ApplyKind::Delta, script.lines())
    );
    assert_eq!(read(&nft), expected(&rs).unwrap());
}

#[test]
fn every_change_and_its_reverse_is_a_delta_that_converges() {
    let Some((_ns, nft)) = setup() else { return };
    let mut rs = example::ruleset();
    nft.reconcile(&rs).unwrap();
    for (name, change) in example::changes() {
        let before = rs.clone();
        change(&mut rs);
        for target in [&rs, &before, &rs] {
            let report = nft
                .reconcile(target)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                (report.kind, report.delta_error.as_deref()),
                (ApplyKind::Delta, None),
                "{name}"
            );
            assert_eq!(read(&nft), expected(target).unwrap(), "{name}");
        }
    }
}

#[test]
fn drift_is_repaired() {
    let Some((ns, nft)) = setup() else { return };
    let rs = example::ruleset();
    nft.reconcile(&rs).unwrap();
    let want = expected(&rs).unwrap();
    let drifts = [
        "delete element inet palisade egress4 { 10.0.1.1 }\ndelete element inet palisade s_web4 { 10.0.1.2 }",
        "flush chain inet palisade base_fwd_ingress\ndelete chain inet palisade base_fwd_ingress",
        "flush chain inet palisade c_e_web\ndelete element inet palisade egress4 { 10.0.1.1, 10.0.1.2 }\ndelete chain inet palisade c_e_web",
        "insert rule inet palisade c_i_db accept",
        "delete rule inet palisade c_i_db handle HANDLE",
        "flush chain inet palisade c_i_db\ndelete set inet palisade p_db\nadd set inet palisade p_db { type inet_proto . inet_service; }",
        "flush chain inet palisade base_in_egress\ndelete chain inet palisade base_in_egress\nadd chain inet palisade base_in_egress { type filter hook input priority 5; policy accept; }",
        "flush set inet palisade s_block\nadd element inet palisade s_block { 10.10.0.0/16 }",
        "add set inet palisade s_stray { type ipv4_addr; }\nadd counter inet palisade k_stray",
    ];
    for drift in drifts {
        let drift = drift.replace("HANDLE", &first_rule_handle(&ns, "c_i_db"));
        ns.nft(&drift);
        assert_ne!(read(&nft), want, "drift had no effect:\n{drift}");
        let report = nft
            .reconcile(&rs)
            .unwrap_or_else(|e| panic!("repairing\n{drift}\n: {e}"));
        assert_eq!(
            (report.kind, report.delta_error),
            (ApplyKind::Delta, None),
            "{drift}"
        );
        assert_eq!(read(&nft), want, "not repaired:\n{drift}");
    }
}

fn first_rule_handle(ns: &Netns, chain: &str) -> String {
    let out = ns.exec("nft", &["-a", "list", "chain", "inet", TABLE, chain]);
    let text = String::from_utf8_lossy(&out.stdout);
    let rules = text
        .lines()
        .filter(|l| !l.contains("chain ") && !l.contains("table "));
    let handle = rules
        .filter_map(|l| l.rsplit_once("# handle "))
        .map(|(_, h)| h.trim().to_string())
        .next();
    handle.expect("a rule handle")
}

/// Appends `line`, attributed to `object`, to `script`.
fn append(script: &mut Script, object: &str, line: &str) {
    let at = script.lines() + 1;
    script.text.push_str(line);
    script.text.push('\n');
    script.spans.push((at..at + 1, object.into()));
}

#[test]
fn a_rejected_transaction_names_the_object_and_changes_nothing() {
    let Some((_ns, nft)) = setup() else { return };
    let rs = example::ruleset();
    nft.reconcile(&rs).unwrap();
    let mut next = rs.clone();
    example::add_web_pod(&mut next);
    let good = delta(&read(&nft), &next, TABLE).unwrap().expect("a delta");

    let mut missing_set = good.clone();
    let chain = "chain c_e_web (egress of pods isolated by ns-a/web)";
    append(
        &mut missing_set,
        chain,
        "add rule inet palisade c_e_web ip daddr @s_missing accept",
    );
    let mut wrong_family = good.clone();
    let set = "set s_web4 (pods matching app=web in ns-a)";
    append(
        &mut wrong_family,
        set,
        "add element inet palisade s_web4 { fd00::9 }",
    );

    for (script, object) in [(missing_set, chain), (wrong_family, set)] {
        let err = nft.run(&script).unwrap_err();
        let ApplyError::Rejected { objects, stderr } = &err else {
            panic!("{err}")
        };
        assert_eq!(objects, &[object.to_string()], "{stderr}");
        assert!(
            err.to_string()
                .starts_with(&format!("nft rejected the update at {object}:")),
            "{err}"
        );
        assert_eq!(
            read(&nft),
            expected(&rs).unwrap(),
            "a failed transaction changed the table"
        );
    }
    nft.run(&good).unwrap();
    assert_eq!(read(&nft), expected(&next).unwrap());
}

#[test]
fn delete_table_cleans_up() {
    let Some((_ns, nft)) = setup() else { return };
    nft.reconcile(&example::ruleset()).unwrap();
    nft.delete_table().unwrap();
    assert_eq!(nft.read().unwrap(), None);
    nft.delete_table().unwrap();
}

#[test]
fn captured_fixture_matches_the_kernel() {
    let Some((ns, nft)) = setup() else { return };
    nft.reconcile(&example::ruleset()).unwrap();
    let out = ns.exec("nft", &["-j", "list", "table", "inet", TABLE]);
    let live =
        palisade_nft::state::from_json(&String::from_utf8_lossy(&out.stdout), TABLE).unwrap();
    let fixture = include_str!("fixtures/example.json");
    assert_eq!(
        live,
        palisade_nft::state::from_json(fixture, TABLE).unwrap()
    );
}

#[test]
fn reconcile_from_a_known_state_skips_the_read_back() {
    let Some((_ns, nft)) = setup() else { return };
    let mut rs = example::ruleset();
    nft.reconcile(&rs).unwrap();
    for (name, change) in example::changes() {
        let known = rs.clone();
        change(&mut rs);
        let report = nft
            .reconcile_from(&known, &rs)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (report.kind, report.delta_error.as_deref()),
            (ApplyKind::Delta, None),
            "{name}"
        );
        assert_eq!(read(&nft), expected(&rs).unwrap(), "{name}");
    }
}

#[test]
fn reconcile_from_a_stale_state_falls_back_to_read_back() {
    let Some((ns, nft)) = setup() else { return };
    let before = example::ruleset();
    nft.reconcile(&before).unwrap();
    // Someone deletes the pod's map element behind our back; our delta then
    // deletes it again, which nft rejects.
    ns.nft("delete element inet palisade egress4 { 10.0.1.1 }");
    let mut after = before.clone();
    after.dispatch.values_mut().for_each(|d| {
        d.remove(&example::ip("10.0.1.1"));
    });
    example::add_web_pod(&mut after);
    let report = nft.reconcile_from(&before, &after).unwrap();
    assert_eq!(report.kind, ApplyKind::Delta);
    let rejected = report.delta_error.expect("the stale delta was rejected");
    assert!(
        rejected.contains("map egress4") && rejected.contains("No such file"),
        "{rejected}"
    );
    assert_eq!(read(&nft), expected(&after).unwrap());
}
