//! NetworkPolicy spec: unknown fields, podSelector, policyTypes, rules.

use palisade_model::{LabelSelector, Peer, PolicyTypes};

use super::super::testutil::{clean, expect, load, only, policy};
use crate::{Object, Severity};

fn decoded(spec: &str) -> palisade_model::NetworkPolicy {
    let l = load(&policy(spec));
    match only(&l) {
        Object::NetworkPolicy(np) => np.clone(),
        other => panic!("not a policy: {other:?}"),
    }
}

#[test]
fn misspelt_spec_fields_are_warnings_with_a_suggestion() {
    let l = load(&policy("  podSelector: {}\n  ingres:\n    - {}\n"));
    expect(
        &l,
        "spec.ingres",
        Severity::Warning,
        8,
        "unknown field \"ingres\" (did you mean \"ingress\"?)",
    );
}

#[test]
fn misspelt_rule_fields_are_warnings() {
    let l = load(&policy("  podSelector: {}\n  ingress:\n    - form: []\n"));
    expect(
        &l,
        "spec.ingress[0].form",
        Severity::Warning,
        9,
        "unknown field \"form\" (did you mean \"from\"?)",
    );
}

#[test]
fn peers_under_the_other_direction_are_warnings() {
    let l = load(&policy(
        "  podSelector: {}\n  egress:\n    - from: [{podSelector: {}}]\n",
    ));
    let message = "\"from\" is for ingress rules; egress rules list their peers under \"to\"";
    expect(&l, "spec.egress[0].from", Severity::Warning, 9, message);
}

#[test]
fn a_missing_pod_selector_is_a_warning_and_selects_everything() {
    let l = load(&policy("  policyTypes: [Ingress]\n"));
    expect(
        &l,
        "spec.podSelector",
        Severity::Warning,
        7,
        "missing podSelector",
    );
    let Object::NetworkPolicy(np) = only(&l) else {
        panic!("not a policy")
    };
    assert_eq!(np.pod_selector, LabelSelector::everything());
}

#[test]
fn policy_types_must_be_ingress_or_egress() {
    let l = load(&policy(
        "  podSelector: {}\n  policyTypes: [Ingress, egress]\n",
    ));
    let message = "unsupported policy type \"egress\" (expected \"Ingress\" or \"Egress\"); did you mean \"Egress\"?";
    expect(&l, "spec.policyTypes[1]", Severity::Error, 8, message);
    assert!(l.objects.is_empty());
}

#[test]
fn at_most_two_policy_types() {
    let l = load(&policy(
        "  podSelector: {}\n  policyTypes: [Ingress, Egress, Ingress]\n",
    ));
    expect(
        &l,
        "spec.policyTypes",
        Severity::Error,
        8,
        "may not specify more than two policyTypes (found 3)",
    );
}

#[test]
fn absent_policy_types_are_defaulted_from_egress_rules() {
    assert_eq!(
        decoded("  podSelector: {}\n").policy_types,
        PolicyTypes::defaulted(false)
    );
    let np = decoded("  podSelector: {}\n  egress: [{}]\n");
    assert_eq!(
        np.policy_types,
        PolicyTypes {
            ingress: true,
            egress: true
        }
    );
    let np = decoded("  podSelector: {}\n  policyTypes: []\n  egress: []\n");
    assert_eq!(
        np.policy_types,
        PolicyTypes {
            ingress: true,
            egress: false
        }
    );
}

#[test]
fn listed_policy_types_are_kept() {
    let np = decoded("  podSelector: {}\n  policyTypes: [Egress]\n  ingress: [{}]\n");
    assert_eq!(
        np.policy_types,
        PolicyTypes {
            ingress: false,
            egress: true
        }
    );
    assert_eq!(
        np.ingress.len(),
        1,
        "rules of an unlisted direction are kept for lint"
    );
}

#[test]
fn rules_pair_peers_and_ports() {
    let np = decoded("  podSelector: {}\n  egress:\n    - to: [{namespaceSelector: {}}]\n      ports: [{port: 53, protocol: UDP}]\n");
    let rule = &np.egress[0];
    let all_namespaces = Peer::Pods {
        namespaces: Some(LabelSelector::everything()),
        pods: LabelSelector::everything(),
    };
    assert_eq!(rule.peers, vec![all_namespaces]);
    assert_eq!(rule.ports[0].to_string(), "53/UDP");
}

#[test]
fn rules_must_be_a_list() {
    let l = load(&policy("  podSelector: {}\n  ingress:\n    from: []\n"));
    expect(
        &l,
        "spec.ingress",
        Severity::Error,
        9,
        "expected a list, found mapping",
    );
}

#[test]
fn status_is_ignored() {
    let l = load(&format!(
        "{}status: {{conditions: []}}\n",
        policy("  podSelector: {}\n")
    ));
    clean(&l);
}

#[test]
fn a_missing_spec_is_a_warning() {
    let l = load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\n");
    expect(
        &l,
        "spec",
        Severity::Warning,
        1,
        "isolates every pod of the namespace for ingress",
    );
    assert_eq!(l.objects.len(), 1);
}

/// A rule palisade rejects leaves the policy's selector and types: it is
/// kept, unenforceable, with no rules (the pods it selects are isolated and
/// nothing is allowed); the rule's error is still reported.
#[test]
fn a_policy_with_a_rejected_rule_is_kept_unenforceable() {
    let text = policy(
        "  podSelector: {matchLabels: {app: db}}\n  ingress:\n    - from:\n        - ipBlock: {cidr: 10.0.0.0/33}\n  egress:\n    - {}\n",
    );
    let l = load(&text);
    assert!(l.has_errors(), "the rule's error is still reported");
    let field = "spec.ingress[0].from[0].ipBlock.cidr";
    expect(&l, field, Severity::Error, 10, "invalid CIDR");
    expect(
        &l,
        "spec",
        Severity::Warning,
        7,
        "palisade cannot enforce this policy",
    );
    let np = match only(&l) {
        Object::NetworkPolicy(np) => np.clone(),
        other => panic!("not a policy: {other:?}"),
    };
    let why = np.unenforceable.as_ref().expect("flagged");
    assert_eq!(why.field, field);
    assert!(why.reason.contains("invalid CIDR"), "{why}");
    assert_eq!(np.pod_selector, LabelSelector::from_labels([("app", "db")]));
    assert_eq!(
        np.policy_types,
        PolicyTypes {
            ingress: true,
            egress: true
        },
        "defaulted from the egress list as written"
    );
    assert!(
        np.ingress.is_empty() && np.egress.is_empty(),
        "allows nothing"
    );
}

#[test]
fn a_policy_with_a_bad_selector_or_type_is_still_rejected() {
    for spec in [
        "  podSelector: {matchLabels: {'a b': x}}\n  ingress:\n    - from:\n        - ipBlock: {cidr: x}\n",
        "  podSelector: {}\n  policyTypes: [Ingres]\n  ingress:\n    - from:\n        - ipBlock: {cidr: x}\n",
    ] {
        let l = load(&policy(spec));
        assert!(l.objects.is_empty(), "{spec}: {:?}", l.objects);
    }
}
