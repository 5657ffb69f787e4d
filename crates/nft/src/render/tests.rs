use std::sync::Arc;

use palisade_compile::Match;

use super::*;
use crate::example;

#[test]
fn full_table_of_the_example() {
    let script = full(&example::ruleset(), "palisade").unwrap();
    insta::assert_snapshot!(script.text);
}

#[test]
fn spans_name_every_object() {
    let script = full(&example::ruleset(), "palisade").unwrap();
    let line_of = |needle: &str| {
        script
            .text
            .lines()
            .position(|l| l.contains(needle))
            .unwrap()
            + 1
    };
    let at = |needle: &str| script.objects_at(line_of(needle))[0].to_string();
    assert_eq!(
        at("10.10.2.0-10.10.255.255"),
        "set s_block (ipBlock 10.10.0.0/16 except 10.10.1.0/24)"
    );
    assert_eq!(
        at("@n_http4"),
        "chain c_e_web (egress of pods isolated by ns-a/web)"
    );
    assert_eq!(
        at("10.0.2.1 : jump c_i_db"),
        "map ingress4 (ingress dispatch, V4)"
    );
    assert_eq!(
        at("hook input"),
        "chain base_in_egress (input hook, egress)"
    );
    assert_eq!(
        at("counter k_deny_i_db {"),
        "counter k_deny_i_db (default deny of ingress, isolated by ns-a/db)"
    );
    assert_eq!(script.objects_at(1), ["table inet palisade"]);
}

#[test]
fn empty_ruleset_still_has_maps_and_base_chains() {
    let script = full(&Ruleset::default(), "palisade").unwrap();
    assert!(!script.text.contains("elements"));
    assert_eq!(script.text.matches("\tmap ").count(), 4);
    assert_eq!(script.text.matches("hook ").count(), 3);
}

#[test]
fn rejects_unsafe_names_and_dangling_references() {
    let mut rs = example::ruleset();
    let chain = rs.chains.remove("c_i_db").unwrap();
    rs.chains.insert("ingress".into(), chain.clone());
    assert!(matches!(
        full(&rs, "palisade"),
        Err(RenderError::InvalidName { kind: "chain", .. })
    ));

    let mut rs = example::ruleset();
    Arc::make_mut(rs.chains.get_mut("c_e_web").unwrap()).rules[0]
        .matches
        .push(Match::Ports("p_missing".into()));
    let err = full(&rs, "palisade").unwrap_err();
    assert_eq!(
        err.to_string(),
        "chain c_e_web refers to port set \"p_missing\", which the ruleset does not define"
    );

    assert!(matches!(
        full(&example::ruleset(), "pal-isade"),
        Err(RenderError::InvalidName { kind: "table", .. })
    ));
}

#[test]
fn rejects_addresses_of_the_wrong_family() {
    let mut rs = example::ruleset();
    let v6 = example::ip("fd00::9");
    Arc::make_mut(rs.addr_sets.get_mut("s_web4").unwrap())
        .ranges
        .push((v6, v6));
    let err = full(&rs, "palisade").unwrap_err();
    assert_eq!(err.to_string(), "set s_web4 is V4 but holds fd00::9");
}

#[test]
fn rejects_rules_mixing_families() {
    let mut rs = example::ruleset();
    let rule = &mut Arc::make_mut(rs.chains.get_mut("c_i_db").unwrap()).rules[0];
    rule.matches.push(Match::SrcAddr("s_web6".into()));
    assert!(matches!(
        full(&rs, "palisade"),
        Err(RenderError::MixedFamilies { .. })
    ));
}

#[test]
fn a_port_only_rule_of_one_family_names_it() {
    let mut rs = example::ruleset();
    let rule = &mut Arc::make_mut(rs.chains.get_mut("c_i_db").unwrap()).rules[0];
    rule.matches = vec![Match::Ports("p_db".into())];
    let script = full(&rs, "palisade").unwrap();
    assert!(
        script
            .text
            .contains("\t\tmeta nfproto ipv4 meta l4proto . th dport @p_db counter"),
        "{}",
        script.text
    );
}
