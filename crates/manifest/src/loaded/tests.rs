//! Merging loads: duplicates, errors, building the cluster.

use palisade_model::{Labels, Namespace, Pod, PodId, Source};

use super::*;

fn pod(name: &str, file: &str, line: usize) -> Object {
    let mut p = Pod::new("ns-1", name, Labels::new(), None);
    p.source = Some(Source {
        file: file.into(),
        line,
    });
    Object::Pod(p)
}

fn loaded(objects: Vec<Object>) -> Loaded {
    Loaded {
        objects,
        diagnostics: Vec::new(),
    }
}

#[test]
fn a_duplicate_is_an_error_and_the_first_is_kept() {
    let mut all = loaded(vec![pod("a", "a.yaml", 3)]);
    all.extend(loaded(vec![pod("a", "b.yaml", 7), pod("b", "b.yaml", 9)]));
    assert_eq!(all.objects.len(), 2);
    assert_eq!(
        all.objects[0].source().map(|s| s.file.as_str()),
        Some("a.yaml")
    );
    let d = &all.diagnostics[0];
    assert_eq!(
        d.to_string(),
        "b.yaml:7:1: error: Pod ns-1/a: duplicate Pod ns-1/a, first defined at a.yaml:3"
    );
    assert!(all.has_errors());
}

#[test]
fn to_cluster_adds_namespaces_pods_and_policies() {
    let mut ns = Namespace::new("ns-1", Labels::from([("team", "a")]));
    ns.source = Some(Source {
        file: "n.yaml".into(),
        line: 1,
    });
    let all = loaded(vec![
        pod("a", "a.yaml", 1),
        Object::Namespace(ns),
        pod("a", "b.yaml", 1),
    ]);
    let cluster = all.to_cluster();
    assert_eq!(
        cluster.namespace_labels("ns-1").get("team"),
        Some("a"),
        "declared namespace kept"
    );
    let first = cluster
        .pod(&PodId::new("ns-1", "a"))
        .and_then(|p| p.source.clone());
    assert_eq!(
        first.map(|s| s.file),
        Some("a.yaml".into()),
        "first of a duplicate wins"
    );
    assert!(!all.has_errors());
}
