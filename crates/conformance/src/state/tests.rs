use std::collections::BTreeMap;

use super::*;
use palisade_model::{Namespace, Pod, METADATA_NAME_LABEL};

fn standard() -> State {
    let mut state = State::default();
    for object in world::objects() {
        state.create(&object).unwrap();
    }
    state
}

fn pod_id(s: &str) -> PodId {
    s.parse().unwrap()
}

fn set(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn label_merges_and_unlabel_removes() {
    let mut s = standard();
    let target = Target::Pod(pod_id("x/b"));
    s.apply(&Mutation::Label {
        target: target.clone(),
        set: set(&[("app", "web"), ("pod", "bb")]),
    })
    .unwrap();
    let labels = &s.cluster.pod(&pod_id("x/b")).unwrap().labels;
    assert_eq!(labels, &Labels::from([("app", "web"), ("pod", "bb")]));
    s.apply(&Mutation::Unlabel {
        target,
        keys: vec!["app".into(), "absent".into()],
    })
    .unwrap();
    assert_eq!(
        s.cluster.pod(&pod_id("x/b")).unwrap().labels,
        Labels::from([("pod", "bb")])
    );
}

#[test]
fn namespace_labels_keep_the_metadata_name() {
    let mut s = standard();
    let target = Target::Namespace("y".into());
    s.apply(&Mutation::Unlabel {
        target: target.clone(),
        keys: vec!["ns".into(), METADATA_NAME_LABEL.into()],
    })
    .unwrap();
    assert_eq!(
        *s.cluster.namespace_labels("y"),
        Labels::from([(METADATA_NAME_LABEL, "y")])
    );
    s.apply(&Mutation::Label {
        target,
        set: set(&[("new-ns", "qrs")]),
    })
    .unwrap();
    assert_eq!(s.cluster.namespace_labels("y").get("new-ns"), Some("qrs"));
}

#[test]
fn added_pods_come_last_and_deleted_ones_leave_the_order() {
    let mut s = standard();
    let pod = Pod::new("a", "d", Labels::new(), None);
    s.apply(&Mutation::Add(Object::Pod(pod))).unwrap();
    assert_eq!(s.order.last(), Some(&pod_id("a/d")));
    assert_eq!(s.order.len(), 10);
    s.apply(&Mutation::Delete {
        kind: Kind::Pod,
        namespace: Some("x".into()),
        name: "b".into(),
    })
    .unwrap();
    s.apply(&Mutation::Delete {
        kind: Kind::Namespace,
        namespace: None,
        name: "z".into(),
    })
    .unwrap();
    let order: Vec<String> = s.order.iter().map(ToString::to_string).collect();
    assert_eq!(order, ["x/a", "x/c", "y/a", "y/b", "y/c", "a/d"]);
    assert_eq!(s.cluster.pods().count(), 6);
}

#[test]
fn creating_what_exists_or_touching_what_does_not_is_an_error() {
    let mut s = standard();
    let again = Object::Namespace(Namespace::new("x", Labels::new()));
    assert_eq!(
        s.apply(&Mutation::Add(again)).unwrap_err(),
        "Namespace x already exists"
    );
    let gone = Mutation::Delete {
        kind: Kind::NetworkPolicy,
        namespace: Some("x".into()),
        name: "p".into(),
    };
    assert_eq!(s.apply(&gone).unwrap_err(), "no NetworkPolicy x/p");
    let missing = Mutation::Label {
        target: Target::Pod(pod_id("q/a")),
        set: set(&[("a", "b")]),
    };
    assert_eq!(s.apply(&missing).unwrap_err(), "no pod q/a");
}

#[test]
fn an_implied_namespace_may_be_declared_later() {
    let mut s = State::default();
    s.create(&Object::Pod(Pod::new("ns-1", "p", Labels::new(), None)))
        .unwrap();
    s.create(&Object::Namespace(Namespace::new(
        "ns-1",
        Labels::from([("team", "a")]),
    )))
    .unwrap();
    assert_eq!(s.cluster.namespace_labels("ns-1").get("team"), Some("a"));
}
