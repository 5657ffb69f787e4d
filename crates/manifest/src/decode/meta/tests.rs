//! `metadata`: names, namespaces, labels, annotations, unknown fields.

use super::super::testutil::{clean, diag, expect, load, only};
use crate::Severity;

fn pod_meta(meta: &str) -> String {
    format!("apiVersion: v1\nkind: Pod\nmetadata:\n{meta}")
}

#[test]
fn metadata_is_required() {
    let l = load("apiVersion: v1\nkind: Pod\nspec: {}\n");
    expect(
        &l,
        "metadata",
        Severity::Error,
        1,
        "missing required field \"metadata\"",
    );
}

#[test]
fn name_is_required() {
    let l = load(&pod_meta("  namespace: ns-1\n"));
    expect(
        &l,
        "metadata.name",
        Severity::Error,
        4,
        "missing required field \"name\"",
    );
    assert_eq!(diag(&l, "metadata.name").column, 3);
}

#[test]
fn namespace_names_are_dns_labels() {
    let l = load("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a.b\n");
    expect(
        &l,
        "metadata.name",
        Severity::Error,
        4,
        "invalid Namespace name \"a.b\"",
    );
}

#[test]
fn pod_names_are_dns_subdomains() {
    let l = load(&pod_meta("  name: a.b\n"));
    clean(&l);
    let l = load(&pod_meta("  name: Web_1\n"));
    expect(
        &l,
        "metadata.name",
        Severity::Error,
        4,
        "invalid Pod name \"Web_1\"",
    );
    assert_eq!(
        diag(&l, "metadata.name").object.as_deref(),
        Some("Pod default/Web_1")
    );
}

#[test]
fn a_name_must_be_a_string() {
    let l = load(&pod_meta("  name: 42\n"));
    expect(
        &l,
        "metadata.name",
        Severity::Error,
        4,
        "expected a string, found integer 42",
    );
}

#[test]
fn namespaces_are_dns_labels() {
    let l = load(&pod_meta("  name: p\n  namespace: Prod\n"));
    expect(
        &l,
        "metadata.namespace",
        Severity::Error,
        5,
        "invalid namespace \"Prod\"",
    );
}

#[test]
fn pods_default_to_the_default_namespace() {
    let l = load(&pod_meta("  name: p\n"));
    assert_eq!(only(&l).key(), "Pod default/p");
}

#[test]
fn label_values_must_be_strings() {
    let l = load(&pod_meta("  name: p\n  labels:\n    version: 1\n"));
    let d = diag(&l, "metadata.labels[version]");
    assert_eq!((d.severity, d.line, d.column), (Severity::Error, 6, 14));
    assert_eq!(
        d.message,
        "expected a string, found integer 1; quote the value to keep it a string"
    );
    assert!(l.objects.is_empty());
}

#[test]
fn label_keys_are_validated() {
    let l = load(&pod_meta("  name: p\n  labels: {\"bad key\": x}\n"));
    expect(
        &l,
        "metadata.labels[bad key]",
        Severity::Error,
        5,
        "invalid label key \"bad key\"",
    );
}

#[test]
fn label_values_are_validated() {
    let l = load(&pod_meta("  name: p\n  labels: {app: -web}\n"));
    expect(
        &l,
        "metadata.labels[app]",
        Severity::Error,
        5,
        "invalid label value \"-web\" for key \"app\"",
    );
}

#[test]
fn unquoted_yaml11_booleans_are_warned_about() {
    let l = load(&pod_meta(
        "  name: p\n  labels: {enabled: y, quoted: 'n'}\n",
    ));
    let d = diag(&l, "metadata.labels[enabled]");
    assert_eq!((d.severity, d.line), (Severity::Warning, 5));
    assert_eq!(
        d.message,
        "kubectl (YAML 1.1) reads unquoted 'y' as a boolean; quote it"
    );
    assert_eq!(l.objects.len(), 1, "a warning keeps the object");
}

#[test]
fn annotations_must_be_strings() {
    let l = load(&pod_meta("  name: p\n  annotations: {replicas: 3}\n"));
    expect(
        &l,
        "metadata.annotations[replicas]",
        Severity::Error,
        5,
        "found integer 3; quote the value",
    );
}

#[test]
fn known_object_meta_fields_are_accepted() {
    let fields = "  uid: 1-2\n  resourceVersion: '7'\n  generation: 2\n  creationTimestamp: null\n  finalizers: [a]\n  managedFields: []\n  ownerReferences: []\n";
    let l = load(&pod_meta(&format!("  name: p\n{fields}")));
    clean(&l);
}

#[test]
fn unknown_metadata_fields_are_warnings() {
    let l = load(&pod_meta("  name: p\n  label: {app: web}\n"));
    expect(
        &l,
        "metadata.label",
        Severity::Warning,
        5,
        "unknown field \"label\" (did you mean \"labels\"?)",
    );
}
