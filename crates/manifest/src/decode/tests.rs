//! Document-level decoding: kinds, apiVersions, lists, sources.

use palisade_model::{LabelSelector, PolicyTypes, Source, METADATA_NAME_LABEL};

use super::testutil::{clean, diag, expect, load, only, policy};
use crate::{Object, Severity};

#[test]
fn a_valid_policy_decodes_with_its_source_and_defaults() {
    let text = format!(
        "# comment\n---\n{}",
        policy("  podSelector: {matchLabels: {app: web}}\n  egress: [{}]\n")
    );
    let l = load(&text);
    clean(&l);
    let Object::NetworkPolicy(np) = only(&l) else {
        panic!("not a policy")
    };
    assert_eq!((np.namespace.as_str(), np.name.as_str()), ("ns-1", "np"));
    assert_eq!(
        np.pod_selector,
        LabelSelector::from_labels([("app", "web")])
    );
    assert_eq!(
        np.policy_types,
        PolicyTypes {
            ingress: true,
            egress: true
        }
    );
    assert_eq!(
        np.source,
        Some(Source {
            file: "t.yaml".into(),
            line: 3
        })
    );
}

#[test]
fn a_document_must_be_a_mapping() {
    let l = load("- a\n- b\n");
    expect(
        &l,
        "",
        Severity::Error,
        1,
        "expected a Kubernetes object (a mapping with apiVersion and kind), found list",
    );
}

#[test]
fn kind_is_required() {
    let l = load("apiVersion: v1\nmetadata: {name: x}\n");
    expect(
        &l,
        "kind",
        Severity::Error,
        1,
        "missing required field \"kind\"",
    );
}

#[test]
fn api_version_is_required() {
    let l = load("kind: NetworkPolicy\nmetadata: {name: x}\nspec: {podSelector: {}}\n");
    expect(
        &l,
        "apiVersion",
        Severity::Error,
        1,
        "missing required field \"apiVersion\" (expected \"networking.k8s.io/v1\")",
    );
    assert_eq!(
        diag(&l, "apiVersion").object.as_deref(),
        Some("NetworkPolicy default/x")
    );
    assert!(l.objects.is_empty());
}

#[test]
fn a_wrong_api_version_names_the_expected_one() {
    let l = load("apiVersion: apps/v1\nkind: Pod\nmetadata: {name: x}\n");
    expect(
        &l,
        "apiVersion",
        Severity::Error,
        1,
        "unsupported apiVersion \"apps/v1\" for Pod (expected \"v1\")",
    );
}

#[test]
fn other_kinds_are_skipped_with_a_notice() {
    let l = load("apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: ns}\nspec: {x: 1}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n");
    let notices: Vec<(Severity, &str)> = l
        .diagnostics
        .iter()
        .map(|d| (d.severity, d.message.as_str()))
        .collect();
    let expected = [
        (
            Severity::Notice,
            "skipped Service v1 ns/web (not used by NetworkPolicy evaluation)",
        ),
        (
            Severity::Notice,
            "skipped ConfigMap v1 cfg (not used by NetworkPolicy evaluation)",
        ),
    ];
    assert_eq!(notices, expected);
    assert!(!l.has_errors() && l.objects.is_empty());
}

#[test]
fn unknown_top_level_fields_are_warnings() {
    let l = load("apiVersion: v1\nkind: Namespace\nmetadata: {name: ns-1}\nmetdata: {}\n");
    expect(
        &l,
        "metdata",
        Severity::Warning,
        4,
        "unknown field \"metdata\" (did you mean \"metadata\"?)",
    );
    assert_eq!(l.objects.len(), 1);
}

#[test]
fn namespaces_carry_their_name_label() {
    let l = load("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns-1\n  labels: {team: a}\n");
    let Object::Namespace(ns) = only(&l) else {
        panic!("not a namespace")
    };
    assert_eq!(ns.labels().get(METADATA_NAME_LABEL), Some("ns-1"));
    assert_eq!(ns.labels().get("team"), Some("a"));
    assert!(ns.declared);
}

#[test]
fn a_namespace_on_a_namespace_is_ignored_with_a_warning() {
    let l = load("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns-1\n  namespace: other\n");
    expect(
        &l,
        "metadata.namespace",
        Severity::Warning,
        5,
        "cluster-scoped",
    );
    assert_eq!(only(&l).key(), "Namespace ns-1");
}

#[test]
fn a_json_list_is_decoded_item_by_item() {
    let json = r#"{
  "apiVersion": "v1",
  "kind": "List",
  "items": [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns-1"}},
    {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
     "metadata": {"name": "bad", "namespace": "ns-1"},
     "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 0}]}]}}
  ]
}"#;
    let l = crate::parse_str("list.json", json);
    expect(
        &l,
        "items[1].spec.ingress[0].ports[0].port",
        Severity::Error,
        8,
        "port number 0 out of range",
    );
    assert_eq!(only(&l).key(), "Namespace ns-1");
    assert_eq!(
        only(&l).source(),
        Some(&Source {
            file: "list.json".into(),
            line: 5
        })
    );
}

#[test]
fn typed_list_items_may_omit_kind_and_api_version() {
    let l = load(
        "apiVersion: v1\nkind: PodList\nitems:\n  - metadata: {name: a}\n  - metadata: {name: b}\n",
    );
    clean(&l);
    let keys: Vec<String> = l.objects.iter().map(Object::key).collect();
    assert_eq!(keys, ["Pod default/a", "Pod default/b"]);
}

#[test]
fn the_display_form_locates_the_problem() {
    let text = policy(
        "  podSelector: {}\n  ingress:\n    - from:\n        - ipBlock: {cidr: 10.0.0.0/33}\n",
    );
    let l = crate::parse_str("bad.yaml", &text);
    let d = diag(&l, "spec.ingress[0].from[0].ipBlock.cidr");
    let shown = d.to_string();
    let expected = "bad.yaml:10:27: error: NetworkPolicy ns-1/np: spec.ingress[0].from[0].ipBlock.cidr: invalid CIDR \"10.0.0.0/33\": ";
    assert!(shown.starts_with(expected), "{shown}");
}

#[test]
fn a_repeated_object_in_a_list_is_an_error_on_the_repeat() {
    let item = "  - {apiVersion: v1, kind: Namespace, metadata: {name: ns-1}}\n";
    let l = load(&format!("apiVersion: v1\nkind: List\nitems:\n{item}{item}"));
    let d = diag(&l, "");
    assert_eq!((d.severity, d.line), (Severity::Error, 5));
    assert_eq!(
        d.message,
        "duplicate Namespace ns-1, first defined at t.yaml:4"
    );
    assert_eq!(l.objects.len(), 1);
}

#[test]
fn list_items_must_be_objects() {
    let l = load("apiVersion: v1\nkind: List\nitems:\n  - 42\n");
    expect(&l, "items[0]", Severity::Error, 4, "found integer 42");
}

#[test]
fn an_invalid_namespace_name_is_reported_not_fatal() {
    let l = load("apiVersion: v1\nkind: Namespace\nmetadata: {name: \"ns 1\"}\n");
    expect(
        &l,
        "metadata.name",
        Severity::Error,
        3,
        "invalid Namespace name \"ns 1\"",
    );
}

#[test]
fn mode_annotation_on_policy_and_namespace() {
    let text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns-1\n  annotations:\n    palisade.dev/mode: audit\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: np\n  namespace: ns-1\n  annotations: {palisade.dev/mode: enforce}\nspec:\n  podSelector: {}\n";
    let l = load(text);
    clean(&l);
    let [Object::Namespace(ns), Object::NetworkPolicy(np)] = l.objects.as_slice() else {
        panic!("expected a namespace and a policy")
    };
    assert_eq!(ns.mode, Some(palisade_model::PolicyMode::Audit));
    assert_eq!(np.mode, Some(palisade_model::PolicyMode::Enforce));
}

#[test]
fn invalid_mode_annotation_is_a_located_warning_and_stays_enforced() {
    let text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: np\n  namespace: ns-1\n  annotations:\n    palisade.dev/mode: Audit\nspec:\n  podSelector: {}\n";
    let l = load(text);
    expect(
        &l,
        "metadata.annotations[palisade.dev/mode]",
        Severity::Warning,
        7,
        "expected \"audit\" or \"enforce\"",
    );
    let Object::NetworkPolicy(np) = only(&l) else {
        panic!("not a policy")
    };
    assert_eq!(np.mode, None);
}
