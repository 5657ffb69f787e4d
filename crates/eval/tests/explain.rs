//! Golden explanations: what `palisade check` prints, rule by rule.

mod common;

use common::*;
use palisade_eval::evaluate;
use palisade_model::{Labels, PolicyRef, Rule};

#[test]
fn walkthrough_denied_names_the_isolating_policy() {
    let mut c = walkthrough();
    c.upsert_policy(allow_busybox());
    let v = evaluate(&c, &conn("ns-1/busybox", "ns-1/http-echo", 80)).unwrap();
    assert!(!v.allowed);
    assert_eq!(
        v.ingress.summary(),
        "ns-1/http-echo is isolated for ingress by ns-1/allow and no rule of it matches source ns-1/busybox (labels run=busybox)"
    );
    insta::assert_snapshot!(v.explain());
}

#[test]
fn walkthrough_allowed_after_label_names_rule_and_peer() {
    let mut c = walkthrough();
    c.upsert_policy(allow_busybox());
    let id: palisade_model::PodId = "ns-1/busybox".parse().unwrap();
    c.pod_mut(&id).unwrap().labels = labels(&[("run", "busybox"), ("app", "busybox")]);
    let v = evaluate(&c, &conn("ns-1/busybox", "ns-1/http-echo", 80)).unwrap();
    assert!(v.allowed);
    insta::assert_snapshot!(v.explain());
}

#[test]
fn deny_all_has_no_rules_and_explains_it() {
    let mut c = walkthrough();
    c.upsert_policy(policy(
        "ns-1",
        "deny-all-by-default",
        &[],
        Some(vec![]),
        None,
    ));
    let v = evaluate(&c, &conn("ns-1/busybox", "ns-1/http-echo", 80)).unwrap();
    assert!(!v.allowed);
    insta::assert_snapshot!(v.explain());
}

#[test]
fn port_mismatch_and_multiple_policies() {
    let mut c = walkthrough();
    let rule = Rule {
        peers: vec![],
        ports: vec![tcp(8080)],
    };
    c.upsert_policy(policy(
        "ns-1",
        "a-ports",
        &[("app", "http-echo")],
        Some(vec![rule]),
        None,
    ));
    c.upsert_policy(allow_busybox());
    let v = evaluate(&c, &conn("ns-1/busybox", "ns-1/http-echo", 80)).unwrap();
    let refs: Vec<PolicyRef> = vec![
        "ns-1/a-ports".parse().unwrap(),
        "ns-1/allow".parse().unwrap(),
    ];
    match &v.ingress.verdict {
        palisade_eval::SideVerdict::Denied(d) => assert_eq!(d.isolated_by, refs),
        other => panic!("expected a denial, got {other:?}"),
    }
    insta::assert_snapshot!(v.explain());
}

#[test]
fn external_source_and_json_shape() {
    let mut c = walkthrough();
    c.upsert_namespace(palisade_model::Namespace::new("other", Labels::new()));
    let v = evaluate(&c, &conn("192.0.2.10", "ns-1/http-echo", 80)).unwrap();
    assert!(v.allowed);
    insta::assert_snapshot!(v.explain());
    insta::assert_json_snapshot!(v);
}

/// A policy palisade cannot enforce isolates the pods it selects and allows
/// nothing; the explanation says so, naming the field.
#[test]
fn unenforceable_policy_is_a_deny_and_says_why() {
    let mut c = walkthrough();
    let mut np = policy("ns-1", "x", &[("app", "http-echo")], Some(vec![]), None);
    np.unenforceable = Some(palisade_model::Unenforceable {
        field: "spec.ingress[0].from[0].ipBlock.cidr".into(),
        reason: "invalid CIDR \"10.0.0.0/33\"".into(),
    });
    c.upsert_policy(np);
    let v = evaluate(&c, &conn("ns-1/busybox", "ns-1/http-echo", 80)).unwrap();
    assert!(!v.allowed);
    let text = v.explain();
    assert!(
        text.contains("ns-1/x ingress: isolated by ns-1/x, which palisade cannot enforce (field spec.ingress[0].from[0].ipBlock.cidr: invalid CIDR \"10.0.0.0/33\"): nothing allowed"),
        "{text}"
    );
}
