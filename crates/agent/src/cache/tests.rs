use k8s_openapi::api::networking::v1::NetworkPolicy;
use serde_json::json;

use super::*;

fn policy(name: &str, rv: &str, cidr: &str) -> NetworkPolicy {
    serde_json::from_value(json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": "ns-1", "uid": format!("uid-{name}"),
                     "resourceVersion": rv},
        "spec": {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": cidr}}]}]}
    }))
    .unwrap()
}

fn listed(objects: Vec<NetworkPolicy>) -> Cache {
    let mut cache = Cache::default();
    cache.apply(Event::<NetworkPolicy>::Init);
    for o in objects {
        cache.apply(Event::InitApply(o));
    }
    cache
}

fn enforced(cache: &Cache) -> Vec<String> {
    let live = cache.complete().expect("complete");
    live.iter()
        .filter(|(_, e)| e.enforced.is_some())
        .map(|(k, _)| k.clone())
        .collect()
}

#[test]
fn nothing_is_complete_before_init_done() {
    let mut cache = listed(vec![policy("a", "1", "10.0.0.0/8")]);
    assert!(cache.complete().is_none());
    assert!(cache.apply(Event::<NetworkPolicy>::InitDone));
    assert_eq!(enforced(&cache), ["NetworkPolicy ns-1/a"]);
}

#[test]
fn a_relist_keeps_the_old_view_until_done_then_swaps() {
    let mut cache = listed(vec![policy("a", "1", "10.0.0.0/8")]);
    cache.apply(Event::<NetworkPolicy>::InitDone);
    cache.apply(Event::<NetworkPolicy>::Init);
    cache.apply(Event::InitApply(policy("b", "5", "10.0.0.0/8")));
    assert_eq!(
        enforced(&cache),
        ["NetworkPolicy ns-1/a"],
        "old view in force"
    );
    assert!(cache.apply(Event::<NetworkPolicy>::InitDone));
    assert_eq!(enforced(&cache), ["NetworkPolicy ns-1/b"]);
}

#[test]
fn an_unchanged_relist_is_not_a_change_and_reuses_entries() {
    let mut cache = listed(vec![policy("a", "1", "10.0.0.0/8")]);
    cache.apply(Event::<NetworkPolicy>::InitDone);
    cache.apply(Event::<NetworkPolicy>::Init);
    cache.apply(Event::InitApply(policy("a", "1", "10.0.0.0/8")));
    assert!(!cache.apply(Event::<NetworkPolicy>::InitDone));
}

#[test]
fn watch_events_change_the_live_view() {
    let mut cache = listed(vec![]);
    cache.apply(Event::<NetworkPolicy>::InitDone);
    assert!(cache.apply(Event::Apply(policy("a", "2", "10.0.0.0/8"))));
    assert!(!cache.apply(Event::Apply(policy("a", "2", "10.0.0.0/8"))));
    assert!(cache.apply(Event::Apply(policy("a", "3", "10.1.0.0/16"))));
    assert!(cache.apply(Event::Delete(policy("a", "4", "10.1.0.0/16"))));
    assert!(enforced(&cache).is_empty());
}

/// A policy with a rule palisade cannot read is enforced as isolating the
/// pods it selects and allowing nothing (before: left out, pods open).
#[test]
fn an_unenforceable_new_policy_isolates_its_pods_and_is_reported() {
    let mut cache = listed(vec![policy("good", "1", "10.0.0.0/8")]);
    cache.apply(Event::<NetworkPolicy>::InitDone);
    assert!(cache.apply(Event::Apply(policy("bad", "2", "10.0.0.0/40"))));
    let live = cache.complete().unwrap();
    assert_eq!(
        enforced(&cache),
        ["NetworkPolicy ns-1/bad", "NetworkPolicy ns-1/good"]
    );
    let bad = &live["NetworkPolicy ns-1/bad"];
    assert!(!bad.errors.is_empty());
    let Some(Object::NetworkPolicy(np)) = &bad.enforced else {
        panic!("not enforced");
    };
    let why = np.unenforceable.as_ref().expect("flagged");
    assert_eq!(why.field, "spec.ingress[0].from[0].ipBlock.cidr");
    assert!(np.policy_types.ingress && np.ingress.is_empty());
    assert_eq!(cache.unenforceable(), [("ns-1".into(), "bad".into())]);
    assert_eq!(cache.counts(), (2, 1));
}

/// Leading zeros, as Kubernetes 1.32 accepts them: enforced as written.
#[test]
fn a_policy_with_a_leading_zero_cidr_is_enforced() {
    let mut cache = listed(vec![policy("z", "1", "010.0.0.0/8")]);
    cache.apply(Event::<NetworkPolicy>::InitDone);
    let live = cache.complete().unwrap();
    let Some(Object::NetworkPolicy(np)) = &live["NetworkPolicy ns-1/z"].enforced else {
        panic!("left out: {:?}", live["NetworkPolicy ns-1/z"].errors);
    };
    assert_eq!(np.unenforceable, None);
    let want = palisade_model::IpBlock::parse("10.0.0.0/8", &[]).unwrap();
    assert_eq!(np.ingress[0].peers, [palisade_model::Peer::IpBlock(want)]);
}

/// A policy whose podSelector cannot be read at all (nothing to isolate).
fn bad_selector(name: &str, rv: &str) -> NetworkPolicy {
    serde_json::from_value(json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": "ns-1", "uid": format!("uid-{name}"),
                     "resourceVersion": rv},
        "spec": {"podSelector": {"matchExpressions": [{"key": "a", "operator": "Bogus"}]}}
    }))
    .unwrap()
}

#[test]
fn an_invalid_new_object_is_left_out_and_reported() {
    let mut cache = listed(vec![policy("good", "1", "10.0.0.0/8")]);
    cache.apply(Event::<NetworkPolicy>::InitDone);
    assert!(!cache.apply(Event::Apply(bad_selector("bad", "2"))));
    let live = cache.complete().unwrap();
    assert_eq!(enforced(&cache), ["NetworkPolicy ns-1/good"]);
    assert!(!live["NetworkPolicy ns-1/bad"].errors.is_empty());
}

#[test]
fn an_invalid_update_keeps_the_last_valid_version() {
    let mut cache = listed(vec![policy("a", "1", "10.0.0.0/8")]);
    cache.apply(Event::<NetworkPolicy>::InitDone);
    let before = cache.complete().unwrap()["NetworkPolicy ns-1/a"]
        .enforced
        .clone();
    assert!(!cache.apply(Event::Apply(bad_selector("a", "2"))));
    let entry = &cache.complete().unwrap()["NetworkPolicy ns-1/a"];
    assert_eq!(entry.enforced, before);
    assert!(!entry.errors.is_empty());
}

/// An update into an unenforceable version: the API server's current
/// selector is isolated and allowed nothing (never more than the truth).
#[test]
fn an_unenforceable_update_isolates_the_current_selection() {
    let mut cache = listed(vec![policy("a", "1", "10.0.0.0/8")]);
    cache.apply(Event::<NetworkPolicy>::InitDone);
    assert!(cache.apply(Event::Apply(policy("a", "2", "bogus"))));
    let entry = &cache.complete().unwrap()["NetworkPolicy ns-1/a"];
    let Some(Object::NetworkPolicy(np)) = &entry.enforced else {
        panic!("not enforced");
    };
    assert!(np.unenforceable.is_some() && np.ingress.is_empty());
    assert!(!entry.errors.is_empty());
}
