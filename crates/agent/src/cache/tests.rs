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

#[test]
fn an_invalid_new_object_is_left_out_and_reported() {
    let mut cache = listed(vec![policy("good", "1", "10.0.0.0/8")]);
    cache.apply(Event::<NetworkPolicy>::InitDone);
    assert!(!cache.apply(Event::Apply(policy("bad", "2", "10.0.0.0/40"))));
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
    assert!(!cache.apply(Event::Apply(policy("a", "2", "bogus"))));
    let entry = &cache.complete().unwrap()["NetworkPolicy ns-1/a"];
    assert_eq!(entry.enforced, before);
    assert!(!entry.errors.is_empty());
}
