//! Audit mode (`palisade.dev/mode: audit`): a side isolated only by audit
//! policies accepts what it would deny and says so; one enforcing policy
//! enforces the denial; the matrix agrees with `evaluate`.

mod common;

use common::*;
use palisade_eval::{evaluate, Cell, Matrix, PortRef, SideVerdict};
use palisade_model::{Cluster, Namespace, PolicyMode, Protocol};

fn deny_all(c: &mut Cluster, name: &str, mode: Option<PolicyMode>) {
    let mut p = policy("ns-1", name, &[], Some(vec![]), None);
    p.mode = mode;
    c.upsert_policy(p);
}

#[test]
fn audit_only_isolation_allows_and_explains_the_would_be_denial() {
    let mut c = walkthrough();
    deny_all(&mut c, "deny-all-by-default", Some(PolicyMode::Audit));
    let v = evaluate(&c, &conn("ns-1/busybox", "ns-1/http-echo", 80)).unwrap();
    assert!(v.allowed);
    assert!(v.audited());
    assert!(matches!(v.ingress.verdict, SideVerdict::Audited(_)));
    let text = v.explain();
    assert!(text.contains("ALLOWED (audit: would be denied)"), "{text}");
    assert!(
        text.contains("allowed: ns-1/http-echo is isolated for ingress only by audit policy ns-1/deny-all-by-default (would be denied"),
        "{text}"
    );
}

#[test]
fn one_enforcing_policy_enforces_the_denial() {
    let mut c = walkthrough();
    deny_all(&mut c, "a-audit", Some(PolicyMode::Audit));
    deny_all(&mut c, "b-enforce", None);
    let v = evaluate(&c, &conn("ns-1/busybox", "ns-1/http-echo", 80)).unwrap();
    assert!(!v.allowed);
    assert!(!v.audited());
    assert!(matches!(v.ingress.verdict, SideVerdict::Denied(_)));
}

#[test]
fn audit_policy_rules_still_allow() {
    // An audit policy allows what it allows, also next to an enforcing one:
    // audit never denies more than enforce.
    let mut c = walkthrough();
    let mut p = allow_busybox();
    p.mode = Some(PolicyMode::Audit);
    c.upsert_policy(p);
    deny_all(&mut c, "deny-all-by-default", None);
    let id: palisade_model::PodId = "ns-1/busybox".parse().unwrap();
    c.pod_mut(&id).unwrap().labels = labels(&[("run", "busybox"), ("app", "busybox")]);
    let v = evaluate(&c, &conn("ns-1/busybox", "ns-1/http-echo", 80)).unwrap();
    assert!(v.allowed);
    assert!(!v.audited());
}

#[test]
fn namespace_annotation_applies_and_policy_annotation_overrides() {
    let mut c = walkthrough();
    let mut ns = Namespace::new("ns-1", Default::default());
    ns.mode = Some(PolicyMode::Audit);
    c.upsert_namespace(ns);
    deny_all(&mut c, "deny-all-by-default", None);
    let v = evaluate(&c, &conn("ns-1/busybox", "ns-1/http-echo", 80)).unwrap();
    assert!(v.allowed && v.audited(), "{}", v.explain());
    deny_all(&mut c, "deny-all-by-default", Some(PolicyMode::Enforce));
    let v = evaluate(&c, &conn("ns-1/busybox", "ns-1/http-echo", 80)).unwrap();
    assert!(!v.allowed, "{}", v.explain());
}

#[test]
fn matrix_agrees_with_evaluate_under_audit() {
    let mut c = walkthrough();
    deny_all(&mut c, "deny-all-by-default", Some(PolicyMode::Audit));
    let m = Matrix::build(&c, Protocol::Tcp, &PortRef::Number(80));
    for (i, from) in m.pods.iter().enumerate() {
        for (j, to) in m.pods.iter().enumerate() {
            let v = evaluate(&c, &conn(&from.to_string(), &to.to_string(), 80)).unwrap();
            assert_eq!(m.cells[i][j] == Cell::Allowed, v.allowed, "{}", v.explain());
        }
    }
}
