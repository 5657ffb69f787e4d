//! Label selectors in policies.

use palisade_model::{Operator, Requirement};

use super::super::testutil::{diag, expect, load, only, policy};
use crate::{Object, Severity};

fn with_selector(selector: &str) -> String {
    policy(&format!("  podSelector:\n{selector}"))
}

#[test]
fn match_expressions_decode() {
    let l = load(&with_selector(
        "    matchExpressions:\n      - {key: tier, operator: In, values: [web, api]}\n",
    ));
    let Object::NetworkPolicy(np) = only(&l) else {
        panic!("not a policy")
    };
    let r = Requirement::new("tier", Operator::In, vec!["api".into(), "web".into()]);
    assert_eq!(np.pod_selector.match_expressions, vec![r.expect("valid")]);
}

#[test]
fn match_label_values_must_be_strings() {
    let l = load(&with_selector("    matchLabels: {enabled: true}\n"));
    expect(
        &l,
        "spec.podSelector.matchLabels[enabled]",
        Severity::Error,
        8,
        "found boolean true; quote the value to keep it a string",
    );
}

#[test]
fn match_label_values_are_validated() {
    let l = load(&with_selector("    matchLabels: {app: 'a b'}\n"));
    expect(
        &l,
        "spec.podSelector.matchLabels[app]",
        Severity::Error,
        8,
        "invalid label value \"a b\"",
    );
}

#[test]
fn unknown_operators_are_errors() {
    let l = load(&with_selector(
        "    matchExpressions:\n      - {key: tier, operator: in, values: [web]}\n",
    ));
    let field = "spec.podSelector.matchExpressions[0].operator";
    expect(
        &l,
        field,
        Severity::Error,
        9,
        "unknown operator \"in\" (expected In, NotIn, Exists or DoesNotExist)",
    );
}

#[test]
fn in_requires_values() {
    let l = load(&with_selector(
        "    matchExpressions:\n      - key: tier\n        operator: NotIn\n",
    ));
    let field = "spec.podSelector.matchExpressions[0].values";
    expect(
        &l,
        field,
        Severity::Error,
        9,
        "operator NotIn requires a non-empty values list",
    );
}

#[test]
fn exists_takes_no_values() {
    let l = load(&with_selector(
        "    matchExpressions:\n      - {key: tier, operator: Exists, values: [a]}\n",
    ));
    let field = "spec.podSelector.matchExpressions[0].values";
    expect(
        &l,
        field,
        Severity::Error,
        9,
        "operator Exists must not have values",
    );
}

#[test]
fn expression_keys_are_validated() {
    let l = load(&with_selector(
        "    matchExpressions:\n      - {key: -tier, operator: Exists}\n",
    ));
    let field = "spec.podSelector.matchExpressions[0].key";
    expect(&l, field, Severity::Error, 9, "invalid label key \"-tier\"");
}

#[test]
fn expression_values_are_validated_and_typed() {
    let l = load(&with_selector(
        "    matchExpressions:\n      - {key: v, operator: In, values: [1, 'a b']}\n",
    ));
    let path = "spec.podSelector.matchExpressions[0].values";
    expect(
        &l,
        &format!("{path}[0]"),
        Severity::Error,
        9,
        "expected a string, found integer 1; quote the value",
    );
    expect(
        &l,
        &format!("{path}[1]"),
        Severity::Error,
        9,
        "invalid label value \"a b\" for key \"v\"",
    );
}

#[test]
fn a_missing_operator_is_an_error() {
    let l = load(&with_selector("    matchExpressions:\n      - {key: v}\n"));
    let d = diag(&l, "spec.podSelector.matchExpressions[0].operator");
    assert_eq!((d.line, d.column), (9, 9));
}

#[test]
fn unknown_selector_fields_are_warnings() {
    let l = load(&with_selector("    matchLabel: {app: web}\n"));
    let field = "spec.podSelector.matchLabel";
    expect(
        &l,
        field,
        Severity::Warning,
        8,
        "unknown field \"matchLabel\" (did you mean \"matchLabels\"?)",
    );
}

#[test]
fn values_must_be_a_list() {
    let l = load(&with_selector(
        "    matchExpressions:\n      - {key: v, operator: In, values: web}\n",
    ));
    let field = "spec.podSelector.matchExpressions[0].values";
    expect(
        &l,
        field,
        Severity::Error,
        9,
        "expected a list, found string \"web\"",
    );
}
