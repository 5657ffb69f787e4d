use serde_json::json;

use super::*;
use crate::example;
use crate::state::expected;

const FIXTURE: &str = include_str!("../../tests/fixtures/example.json");

fn table(objects: Vec<Value>) -> String {
    let mut all = vec![json!({"table": {"family": "inet", "name": "t", "handle": 1}})];
    all.extend(objects);
    json!({ "nftables": all }).to_string()
}

fn read(objects: Vec<Value>) -> TableState {
    from_json(&table(objects), "t").unwrap().unwrap()
}

#[test]
fn kernel_output_of_the_example_reads_back_as_expected() {
    let got = from_json(FIXTURE, "palisade").unwrap().unwrap();
    assert_eq!(got, expected(&example::ruleset()).unwrap());
}

#[test]
fn another_table_is_absent() {
    assert_eq!(from_json(FIXTURE, "other").unwrap(), None);
}

#[test]
fn prefixes_ranges_and_singles_read_as_merged_ranges() {
    let state = read(vec![
        json!({"set": {"family": "inet", "table": "t", "name": "s_a", "type": "ipv4_addr",
        "flags": ["interval"], "elem": [
            {"prefix": {"addr": "10.0.0.0", "len": 24}},
            {"range": ["10.0.1.0", "10.0.1.9"]},
            "10.0.1.10",
            {"elem": {"val": "192.168.0.1", "comment": "x"}}]}}),
    ]);
    let set = &state.sets["s_a"];
    assert!(set.interval);
    let want: Vec<Element> = vec![
        Element(vec![(0x0a00_0000, 0x0a00_010a)]),
        Element::single(&[0xc0a8_0001]),
    ];
    assert_eq!(set.elements, want.into_iter().collect());
}

#[test]
fn concatenations_may_hold_ranges_and_prefixes() {
    let state = read(vec![
        json!({"set": {"family": "inet", "table": "t", "name": "n_a",
        "type": ["ipv6_addr", "inet_proto", "inet_service"], "flags": "interval",
        "elem": [{"concat": [{"prefix": {"addr": "fd00::", "len": 127}}, "sctp", {"range": [80, 81]}]}]}}),
    ]);
    let want = Element(vec![
        (0xfd00 << 112, (0xfd00 << 112) + 1),
        (132, 132),
        (80, 81),
    ]);
    assert_eq!(state.sets["n_a"].elements, [want].into_iter().collect());
}

#[test]
fn maps_rules_and_chains() {
    let state = read(vec![
        json!({"map": {"family": "inet", "table": "t", "name": "egress6", "type": "ipv6_addr", "map": "verdict",
            "elem": [["fd00:0::1", {"jump": {"target": "c_x"}}], ["fd00::2", {"accept": null}]]}}),
        json!({"chain": {"family": "inet", "table": "t", "name": "base_x", "type": "filter", "hook": "input",
            "prio": -5, "policy": "drop"}}),
        json!({"rule": {"family": "inet", "table": "t", "chain": "base_x", "handle": 7, "comment": "ours #0123456789ab", "expr": []}}),
        json!({"rule": {"family": "inet", "table": "t", "chain": "base_x", "handle": 8, "expr": []}}),
        json!({"rule": {"family": "inet", "table": "other", "chain": "base_x", "handle": 9, "expr": []}}),
    ]);
    let map = &state.maps["egress6"];
    assert_eq!(map.key_type, "ipv6_addr : verdict");
    assert_eq!(map.elements["fd00::1"], "c_x");
    assert_eq!(map.elements["fd00::2"], "verdict {\"accept\":null}");
    let chain = &state.chains["base_x"];
    assert_eq!(chain.rules, ["0123456789ab", "foreign rule, handle 8"]);
    let hook = chain.hook.as_ref().unwrap();
    assert_eq!(
        (hook.hook.as_str(), hook.priority, hook.policy.as_str()),
        ("input", -5, "drop")
    );
}

#[test]
fn sets_of_foreign_types_are_kept_without_elements() {
    let state = read(vec![
        json!({"set": {"family": "inet", "table": "t", "name": "s_mac", "type": "ether_addr",
        "elem": ["aa:bb:cc:dd:ee:ff"]}}),
    ]);
    assert_eq!(state.sets["s_mac"].key_type, "ether_addr");
    assert!(state.sets["s_mac"].elements.is_empty());
}

#[test]
fn malformed_output_is_an_error() {
    assert!(matches!(from_json("{", "t"), Err(ParseError::Json(_))));
    assert!(matches!(
        from_json("{}", "t"),
        Err(ParseError::Shape { .. })
    ));
    let bad = table(vec![
        json!({"set": {"family": "inet", "table": "t", "name": "s_a", "type": "ipv4_addr",
        "elem": [{"weird": 1}]}}),
    ]);
    let err = from_json(&bad, "t").unwrap_err();
    assert_eq!(
        err.to_string(),
        "unexpected nft JSON in set s_a: cannot read {\"weird\":1} as ipv4_addr"
    );
}
