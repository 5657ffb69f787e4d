use palisade_model::Direction;

use super::*;
use crate::example;
use crate::state::expected;

fn script(before: &Ruleset, change: example::Change) -> String {
    let mut after = before.clone();
    change(&mut after);
    let current = expected(before).unwrap();
    delta(&current, &after, "palisade")
        .unwrap()
        .expect("a delta")
        .text
}

/// Line index of the first line containing `needle`.
fn pos(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no {needle:?} in\n{text}"))
}

#[test]
fn nothing_differs() {
    let rs = example::ruleset();
    assert_eq!(
        delta(&expected(&rs).unwrap(), &rs, "palisade").unwrap(),
        None
    );
}

#[test]
fn a_pod_added_is_only_elements() {
    let text = script(&example::ruleset(), example::add_web_pod);
    assert!(
        text.lines()
            .all(|l| !l.contains("chain") && !l.contains("flush")),
        "{text}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn a_label_change_moves_a_pod_to_another_chain() {
    let text = script(&example::ruleset(), example::move_web_pod);
    assert!(
        pos(&text, "add chain inet palisade c_e_other") < pos(&text, "10.0.1.2 : jump c_e_other")
    );
    assert!(
        pos(&text, "delete element inet palisade egress4")
            < pos(&text, "add element inet palisade egress4")
    );
    insta::assert_snapshot!(text);
}

#[test]
fn a_policy_change_rewrites_its_chain() {
    let text = script(&example::ruleset(), example::change_db_ports);
    assert!(
        pos(&text, "flush chain inet palisade c_i_db")
            < pos(&text, "add rule inet palisade c_i_db")
    );
    assert!(
        pos(&text, "add rule inet palisade c_i_db") < pos(&text, "delete set inet palisade p_db")
    );
    assert!(!text.contains("c_e_web"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn changed_ranges_of_an_interval_set_are_flushed_and_re_added() {
    insta::assert_snapshot!(script(&example::ruleset(), example::shrink_block));
}

#[test]
fn a_policy_removed_deletes_its_chain_after_its_map_elements() {
    let text = script(&example::ruleset(), example::remove_web_policy);
    let flush = pos(&text, "flush chain inet palisade c_e_web");
    let unmap = pos(&text, "delete element inet palisade egress4");
    let delete = pos(&text, "delete chain inet palisade c_e_web");
    assert!(flush < delete && unmap < delete, "{text}");
    assert!(delete < pos(&text, "delete set inet palisade s_block"));
    assert!(delete < pos(&text, "delete counter inet palisade k_web_e0"));
    insta::assert_snapshot!(text);
}

#[test]
fn every_change_then_back_converges() {
    let mut rs = example::ruleset();
    for (name, change) in example::changes() {
        let before = rs.clone();
        change(&mut rs);
        for (from, to) in [(&before, &rs), (&rs, &before)] {
            assert!(
                delta(&expected(from).unwrap(), to, "palisade")
                    .unwrap()
                    .is_some(),
                "{name}: no delta"
            );
        }
    }
    assert!(rs.dispatch[&Direction::Egress]
        .values()
        .all(|c| c == "c_e_other"));
}

#[test]
fn drift_a_deleted_base_chain_and_element_are_restored() {
    let rs = example::ruleset();
    let mut current = expected(&rs).unwrap();
    current.chains.remove("base_fwd_ingress");
    current.maps.get_mut("ingress4").unwrap().elements.clear();
    insta::assert_snapshot!(delta(&current, &rs, "palisade").unwrap().unwrap().text);
}

#[test]
fn drift_a_retyped_set_is_recreated_with_the_chains_using_it() {
    let rs = example::ruleset();
    let mut current = expected(&rs).unwrap();
    current.sets.get_mut("p_db").unwrap().interval = false;
    current
        .chains
        .get_mut("base_in_egress")
        .unwrap()
        .hook
        .as_mut()
        .unwrap()
        .priority = 5;
    let text = delta(&current, &rs, "palisade").unwrap().unwrap().text;
    assert!(
        pos(&text, "flush chain inet palisade c_i_db")
            < pos(&text, "delete set inet palisade p_db")
    );
    assert!(pos(&text, "delete set inet palisade p_db") < pos(&text, "add set inet palisade p_db"));
    assert!(pos(&text, "add set inet palisade p_db") < pos(&text, "add rule inet palisade c_i_db"));
    insta::assert_snapshot!(text);
}

#[test]
fn drift_a_retyped_map_is_recreated_with_the_base_chains_using_it() {
    let rs = example::ruleset();
    let mut current = expected(&rs).unwrap();
    current.maps.get_mut("egress4").unwrap().key_type = "ipv6_addr : verdict".into();
    let text = delta(&current, &rs, "palisade").unwrap().unwrap().text;
    assert!(
        pos(&text, "flush chain inet palisade base_fwd_egress")
            < pos(&text, "delete map inet palisade egress4")
    );
    assert!(
        pos(&text, "flush chain inet palisade base_in_egress")
            < pos(&text, "delete map inet palisade egress4")
    );
    assert!(
        pos(&text, "add map inet palisade egress4")
            < pos(&text, "add rule inet palisade base_fwd_egress")
    );
    assert!(!text.contains("base_fwd_ingress"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn foreign_objects_in_our_table_are_removed() {
    let rs = example::ruleset();
    let mut current = expected(&rs).unwrap();
    current
        .chains
        .get_mut("c_i_db")
        .unwrap()
        .rules
        .insert(0, "foreign rule, handle 99".into());
    current.sets.insert("s_stray".into(), Default::default());
    current.counters.insert("k_stray".into());
    insta::assert_snapshot!(delta(&current, &rs, "palisade").unwrap().unwrap().text);
}

/// The IR-level delta writes exactly what the whole-table comparison writes.
#[test]
fn between_irs_equals_the_whole_table_delta() {
    for (name, change) in example::changes() {
        let before = example::ruleset();
        let mut after = before.clone();
        change(&mut after);
        let whole = delta(&expected(&before).unwrap(), &after, "palisade").unwrap();
        let fast = between(&before, &after, "palisade").unwrap();
        assert_eq!(fast, whole, "{name}");
        assert_eq!(between(&after, &after, "palisade").unwrap(), None, "{name}");
    }
}
