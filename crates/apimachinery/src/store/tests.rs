use serde_json::json;

use super::*;
use crate::table::Column;

fn res() -> Resource {
    fn schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <k8s_openapi::api::core::v1::Pod as schemars::JsonSchema>::json_schema(g)
    }
    fn cells(_: &Value, _: i64) -> Vec<Value> {
        vec![]
    }
    const COLS: &[Column] = &[];
    Resource {
        group: "",
        version: "v1",
        kind: "Pod",
        plural: "pods",
        singular: "pod",
        short_names: &["po"],
        namespaced: true,
        categories: &["all"],
        subresources: &[],
        schema,
        columns: COLS,
        cells,
    }
}

fn key(ns: &str, name: &str) -> ObjectKey {
    ObjectKey {
        kind: 0,
        namespace: ns.into(),
        name: name.into(),
    }
}

#[test]
fn create_stamps_and_refuses_a_second() {
    let (r, mut s) = (res(), Store::default());
    let e = s
        .create(
            &r,
            key("a", "web"),
            json!({"spec": {}}),
            "2026-12-07T00:00:00Z",
        )
        .unwrap();
    assert_eq!(e.ty, EventType::Added);
    assert_eq!(e.object["metadata"]["namespace"], "a");
    assert_eq!(e.object["metadata"]["generation"], 1);
    assert_eq!(resource_version(&e.object), s.revision());
    let err = s.create(&r, key("a", "web"), json!({}), "t").unwrap_err();
    assert_eq!((err.code, err.reason), (409, "AlreadyExists"));
    assert_eq!(err.message, "pods \"web\" already exists");
}

#[test]
fn update_checks_the_precondition_and_bumps_generation_on_spec_only() {
    let (r, mut s) = (res(), Store::default());
    let e = s
        .create(&r, key("a", "web"), json!({"spec": {"x": 1}}), "t")
        .unwrap();
    let rv = resource_version(&e.object);
    let stale = s
        .update(&r, key("a", "web"), json!({"spec": {"x": 2}}), Some(rv - 1))
        .unwrap_err();
    assert_eq!((stale.code, stale.reason), (409, "Conflict"));
    let e = s
        .update(
            &r,
            key("a", "web"),
            json!({"metadata": {"labels": {"a": "b"}}, "spec": {"x": 1}}),
            Some(rv),
        )
        .unwrap();
    assert_eq!(e.object["metadata"]["generation"], 1);
    assert_eq!(
        e.object["metadata"]["uid"],
        s.get(&key("a", "web")).unwrap()["metadata"]["uid"]
    );
    let e = s
        .update(&r, key("a", "web"), json!({"spec": {"x": 3}}), None)
        .unwrap();
    assert_eq!(e.object["metadata"]["generation"], 2);
}

#[test]
fn an_update_that_changes_nothing_is_no_event() {
    let (r, mut s) = (res(), Store::default());
    let e = s
        .create(&r, key("a", "w"), json!({"spec": {}}), "t")
        .unwrap();
    let before = s.revision();
    let again = s
        .update(&r, key("a", "w"), (*e.object).clone(), None)
        .unwrap();
    assert_eq!(s.revision(), before);
    assert_eq!(again.rv, before);
}

#[test]
fn lists_one_namespace_or_all() {
    let (r, mut s) = (res(), Store::default());
    for (ns, n) in [("a", "x"), ("b", "y"), ("a", "z")] {
        s.create(&r, key(ns, n), json!({}), "t").unwrap();
    }
    let names = |ns| -> Vec<String> { s.list(0, ns).map(|(k, _)| k.name.clone()).collect() };
    assert_eq!(names(Some("a")), ["x", "z"]);
    assert_eq!(names(None), ["x", "z", "y"]);
    assert_eq!(s.list(1, None).count(), 0);
}

#[test]
fn history_replays_and_expires() {
    let (r, mut s) = (res(), Store::new(3));
    let start = s.revision();
    for n in ["a", "b", "c", "d"] {
        s.create(&r, key("ns", n), json!({}), "t").unwrap();
    }
    let e = s.delete(&r, &key("ns", "a")).unwrap();
    assert_eq!(e.ty, EventType::Deleted);
    assert!(resource_version(&e.object) == e.rv);
    let err = s.since(start).unwrap_err();
    assert_eq!((err.code, err.reason), (410, "Expired"));
    let recent = s.since(s.revision() - 2).unwrap();
    assert_eq!(recent.len(), 2);
    assert!(s.since(s.revision()).unwrap().is_empty());
    s.compact(s.revision());
    assert!(s.since(s.revision() - 1).is_err());
    assert!(s.since(s.revision()).unwrap().is_empty());
}

#[test]
fn uids_differ() {
    let (r, mut s) = (res(), Store::default());
    let a = s.create(&r, key("n", "a"), json!({}), "t").unwrap();
    let b = s.create(&r, key("n", "b"), json!({}), "t").unwrap();
    assert_ne!(a.object["metadata"]["uid"], b.object["metadata"]["uid"]);
}

#[test]
fn replayed_changes_rebuild_the_store() {
    let (r, mut s) = (res(), Store::default());
    let mut log = vec![];
    log.push(
        s.create(&r, key("a", "x"), json!({"spec": {}}), "t")
            .unwrap(),
    );
    log.push(s.create(&r, key("a", "y"), json!({}), "t").unwrap());
    log.push(
        s.update(&r, key("a", "x"), json!({"spec": {"v": 2}}), None)
            .unwrap(),
    );
    log.push(s.delete(&r, &key("a", "y")).unwrap());
    let mut back = Store::default();
    for e in &log {
        let obj = (e.ty != EventType::Deleted).then(|| (*e.object).clone());
        back.replay(e.key.clone(), obj, e.rv);
    }
    assert_eq!(back.revision(), s.revision());
    let all = |st: &Store| -> Vec<(ObjectKey, Value)> {
        st.objects()
            .map(|(k, v)| (k.clone(), (**v).clone()))
            .collect()
    };
    assert_eq!(all(&back), all(&s));
    // New objects after a replay get new revisions and uids.
    let e = back.create(&r, key("a", "z"), json!({}), "t").unwrap();
    assert!(e.rv > s.revision());
}
