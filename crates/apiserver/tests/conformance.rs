//! API conformance with kube-rs as the client, over HTTPS against a real
//! server in this process (`common::TestServer`): the verbs, the
//! `resourceVersion` rules and the errors, selectors, the three patch
//! types, watches (from a list, from 0, selectors, 410 Gone and the
//! watcher's relist), the controllers (deployments, namespaces,
//! endpoints), authentication and dry runs.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{eventually, TestServer};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Endpoints, Namespace, Pod, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{
    DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::core::Status as KubeStatus;
use kube::runtime::{reflector, watcher, WatchStreamExt};
use kube::{Api, Client, ResourceExt};
use palisade_apimachinery::store::Store;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(10);

fn obj<T: DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("a valid object")
}

fn pod(name: &str, labels: Value) -> Pod {
    obj(json!({
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": "main", "image": "busybox"}]},
    }))
}

async fn namespace(client: &Client, name: &str) -> Namespace {
    Api::<Namespace>::all(client.clone())
        .create(
            &PostParams::default(),
            &obj(json!({"metadata": {"name": name}})),
        )
        .await
        .expect("namespace created")
}

/// The `Status` of a failed call.
fn status(e: kube::Error) -> Box<KubeStatus> {
    match e {
        kube::Error::Api(s) => s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn names<K: kube::Resource>(items: &[K]) -> BTreeSet<String> {
    items
        .iter()
        .map(|o| o.meta().name.clone().unwrap_or_default())
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn rv<K: kube::Resource>(o: &K) -> u64 {
    o.meta()
        .resource_version
        .as_deref()
        .expect("a resourceVersion")
        .parse()
        .expect("a numeric resourceVersion")
}

/// Create, get, list, replace, delete of one kind, `name` in `ns`.
async fn crud<K>(api: Api<K>, object: K, change: impl Fn(&mut K))
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::Serialize + DeserializeOwned,
{
    let name = object.meta().name.clone().expect("a name");
    let created = api
        .create(&PostParams::default(), &object)
        .await
        .expect("create");
    assert_eq!(created.meta().name.as_deref(), Some(name.as_str()));
    assert!(created.meta().uid.is_some(), "uid stamped");
    assert!(
        created.meta().creation_timestamp.is_some(),
        "creationTimestamp stamped"
    );
    let got = api.get(&name).await.expect("get");
    assert_eq!(rv(&got), rv(&created));
    let list = api.list(&ListParams::default()).await.expect("list");
    assert!(names(&list.items).contains(&name));
    let list_rv: u64 = list
        .metadata
        .resource_version
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        list_rv >= rv(&created),
        "a list's resourceVersion is at least its items'"
    );
    // Read, change, replace; a controller writing status in between makes
    // the replace a 409 Conflict, and the client reads again.
    let mut attempts = 0;
    let (got, replaced) = loop {
        attempts += 1;
        let got = api.get(&name).await.expect("get");
        let mut next = got.clone();
        change(&mut next);
        match api.replace(&name, &PostParams::default(), &next).await {
            Ok(r) => break (got, r),
            Err(kube::Error::Api(s)) if s.code == 409 && attempts < 5 => continue,
            Err(e) => panic!("replace: {e:?}"),
        }
    };
    assert!(
        rv(&replaced) > rv(&got),
        "a replace moves the resourceVersion on"
    );
    assert_eq!(
        replaced.meta().uid,
        created.meta().uid,
        "uid kept across replace"
    );
    api.delete(&name, &DeleteParams::default())
        .await
        .expect("delete");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crud_of_namespace_pod_service_networkpolicy_deployment() {
    let s = TestServer::start().await;
    let c = s.client.clone();
    let relabel = |meta: &mut k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        meta.labels
            .get_or_insert_default()
            .insert("changed".into(), "yes".into());
    };

    // Namespace: created, then deleted (Terminating, then gone).
    crud(
        Api::<Namespace>::all(c.clone()),
        obj(json!({"metadata": {"name": "crud-ns"}})),
        |n| relabel(&mut n.metadata),
    )
    .await;
    let nss = Api::<Namespace>::all(c.clone());
    eventually("the namespace gone", WAIT, || async {
        nss.get_opt("crud-ns")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;

    namespace(&c, "crud").await;
    crud(
        Api::<Pod>::namespaced(c.clone(), "crud"),
        pod("web", json!({"app": "web"})),
        |p| relabel(&mut p.metadata),
    )
    .await;
    crud(
        Api::<Service>::namespaced(c.clone(), "crud"),
        obj(json!({"metadata": {"name": "web"},
                   "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}})),
        |s| relabel(&mut s.metadata),
    )
    .await;
    crud(
        Api::<NetworkPolicy>::namespaced(c.clone(), "crud"),
        obj(json!({"metadata": {"name": "deny"},
                   "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})),
        |p| relabel(&mut p.metadata),
    )
    .await;
    crud(
        Api::<Deployment>::namespaced(c.clone(), "crud"),
        obj(json!({"metadata": {"name": "web"},
                   "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web"}},
                            "template": {"metadata": {"labels": {"app": "web"}},
                                         "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}})),
        |d| relabel(&mut d.metadata),
    )
    .await;
    for (what, found) in [
        (
            "pod",
            Api::<Pod>::namespaced(c.clone(), "crud")
                .get_opt("web")
                .await
                .unwrap()
                .is_some(),
        ),
        (
            "service",
            Api::<Service>::namespaced(c.clone(), "crud")
                .get_opt("web")
                .await
                .unwrap()
                .is_some(),
        ),
        (
            "deployment",
            Api::<Deployment>::namespaced(c.clone(), "crud")
                .get_opt("web")
                .await
                .unwrap()
                .is_some(),
        ),
    ] {
        assert!(!found, "the {what} was deleted");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_versions_and_errors() {
    let s = TestServer::start().await;
    let c = s.client.clone();
    namespace(&c, "rv").await;
    let pods = Api::<Pod>::namespaced(c.clone(), "rv");
    let before = pods.list(&ListParams::default()).await.unwrap();
    let before_rv: u64 = before.metadata.resource_version.unwrap().parse().unwrap();
    let created = pods
        .create(&PostParams::default(), &pod("a", json!({})))
        .await
        .unwrap();
    assert!(rv(&created) > before_rv);
    let after = pods.list(&ListParams::default()).await.unwrap();
    let after_rv: u64 = after.metadata.resource_version.unwrap().parse().unwrap();
    assert_eq!(
        after_rv,
        rv(&created),
        "the list's resourceVersion is the last write's"
    );

    // Replace with a stale resourceVersion: 409 Conflict.
    let mut first = created.clone();
    first.labels_mut().insert("x".into(), "1".into());
    let updated = pods
        .replace("a", &PostParams::default(), &first)
        .await
        .unwrap();
    assert!(rv(&updated) > rv(&created));
    let mut stale = created.clone();
    stale.labels_mut().insert("x".into(), "2".into());
    let e = status(
        pods.replace("a", &PostParams::default(), &stale)
            .await
            .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (409, "Conflict"), "{e:?}");
    assert!(
        e.message.contains("the object has been modified"),
        "{}",
        e.message
    );
    assert_eq!(
        pods.get("a").await.unwrap().labels()["x"],
        "1",
        "the stale write changed nothing"
    );

    // Create twice: 409 AlreadyExists.
    let e = status(
        pods.create(&PostParams::default(), &pod("a", json!({})))
            .await
            .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (409, "AlreadyExists"), "{e:?}");
    assert_eq!(e.message, "pods \"a\" already exists");
    assert_eq!(e.details.as_ref().map(|d| d.name.as_str()), Some("a"));

    // Missing: 404 NotFound (get, replace, delete, patch).
    let e = status(pods.get("nope").await.unwrap_err());
    assert_eq!((e.code, e.reason.as_str()), (404, "NotFound"));
    assert_eq!(e.message, "pods \"nope\" not found");
    let e = status(
        pods.delete("nope", &DeleteParams::default())
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 404);
    let e = status(
        pods.patch(
            "nope",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"a": "b"}}})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e.code, 404);
    // A namespaced object in a namespace that does not exist.
    let e = status(
        Api::<Pod>::namespaced(c.clone(), "absent")
            .create(&PostParams::default(), &pod("a", json!({})))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 404);
    assert_eq!(e.message, "namespaces \"absent\" not found");

    // A bad name: 422 Invalid with the field cause.
    let e = status(
        pods.create(&PostParams::default(), &pod("Bad_Name", json!({})))
            .await
            .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (422, "Invalid"), "{e:?}");
    assert!(
        e.message
            .starts_with("Pod \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\""),
        "{}",
        e.message
    );
    let d = e.details.expect("details");
    assert_eq!((d.name.as_str(), d.kind.as_str()), ("Bad_Name", "Pod"));
    assert_eq!(d.causes.len(), 1);
    assert_eq!(d.causes[0].field, "metadata.name");
    assert_eq!(d.causes[0].reason, "FieldValueInvalid");
    let e = status(
        Api::<Namespace>::all(c.clone())
            .create(
                &PostParams::default(),
                &obj(json!({"metadata": {"name": "has.dot"}})),
            )
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 422, "a namespace name is a DNS label (no dots)");
    assert_eq!(e.details.unwrap().causes[0].field, "metadata.name");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_and_field_selectors_on_lists() {
    let s = TestServer::start().await;
    let c = s.client.clone();
    namespace(&c, "sel").await;
    namespace(&c, "other").await;
    let pods = Api::<Pod>::namespaced(c.clone(), "sel");
    for (name, labels) in [
        ("a", json!({"app": "web", "tier": "front"})),
        ("b", json!({"app": "web", "tier": "back"})),
        ("c", json!({"app": "db"})),
        ("d", json!({})),
    ] {
        pods.create(&PostParams::default(), &pod(name, labels))
            .await
            .unwrap();
    }
    Api::<Pod>::namespaced(c.clone(), "other")
        .create(&PostParams::default(), &pod("a", json!({"app": "web"})))
        .await
        .unwrap();
    for name in ["a", "c"] {
        pods.patch_status(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"phase": "Running"}})),
        )
        .await
        .unwrap();
    }
    let labels = |sel: &'static str| {
        let pods = pods.clone();
        async move {
            names(
                &pods
                    .list(&ListParams::default().labels(sel))
                    .await
                    .unwrap()
                    .items,
            )
        }
    };
    assert_eq!(labels("app=web").await, set(&["a", "b"]));
    assert_eq!(labels("app==web").await, set(&["a", "b"]));
    assert_eq!(
        labels("app!=web").await,
        set(&["c", "d"]),
        "!= matches objects without the label"
    );
    assert_eq!(labels("tier in (front,back)").await, set(&["a", "b"]));
    assert_eq!(labels("tier notin (front)").await, set(&["b", "c", "d"]));
    assert_eq!(labels("tier").await, set(&["a", "b"]));
    assert_eq!(labels("!tier").await, set(&["c", "d"]));
    assert_eq!(labels("app=web,tier=back").await, set(&["b"]));
    assert_eq!(
        labels("app in (web,db),tier notin (front)").await,
        set(&["b", "c"])
    );

    let fields = |sel: &'static str| {
        let pods = pods.clone();
        async move {
            names(
                &pods
                    .list(&ListParams::default().fields(sel))
                    .await
                    .unwrap()
                    .items,
            )
        }
    };
    assert_eq!(fields("metadata.name=b").await, set(&["b"]));
    assert_eq!(fields("metadata.name!=b").await, set(&["a", "c", "d"]));
    assert_eq!(fields("status.phase=Running").await, set(&["a", "c"]));
    assert_eq!(fields("status.phase!=Running").await, set(&["b", "d"]));
    assert_eq!(
        names(
            &pods
                .list(
                    &ListParams::default()
                        .labels("app=web")
                        .fields("status.phase=Running")
                )
                .await
                .unwrap()
                .items
        ),
        set(&["a"])
    );
    let all = Api::<Pod>::all(c.clone());
    let in_ns = |sel: &'static str| {
        let all = all.clone();
        async move {
            all.list(&ListParams::default().fields(sel))
                .await
                .unwrap()
                .items
                .iter()
                .map(|p| format!("{}/{}", p.namespace().unwrap(), p.name_any()))
                .collect::<BTreeSet<_>>()
        }
    };
    assert_eq!(in_ns("metadata.namespace=other").await, set(&["other/a"]));
    assert_eq!(in_ns("metadata.name=a").await, set(&["other/a", "sel/a"]));
    assert_eq!(
        in_ns("metadata.namespace=sel,metadata.name=a").await,
        set(&["sel/a"])
    );

    // A selector that does not parse: 400.
    let e = status(
        pods.list(&ListParams::default().labels("app in (web"))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 400, "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_json_and_strategic_patches() {
    let s = TestServer::start().await;
    let c = s.client.clone();
    namespace(&c, "patch").await;
    let pods = Api::<Pod>::namespaced(c.clone(), "patch");
    let p: Pod = obj(json!({
        "metadata": {"name": "web", "labels": {"app": "web", "remove-me": "x"}},
        "spec": {"containers": [
            {"name": "web", "image": "nginx:1", "ports": [{"containerPort": 80}]},
            {"name": "sidecar", "image": "envoy:1"},
        ]},
    }));
    let created = pods.create(&PostParams::default(), &p).await.unwrap();
    let pp = PatchParams::default();

    // Merge: labels added, one removed by null.
    let merged = pods
        .patch(
            "web",
            &pp,
            &Patch::Merge(json!({"metadata": {"labels": {"tier": "front", "remove-me": null}}})),
        )
        .await
        .unwrap();
    assert_eq!(
        merged.labels().get("tier").map(String::as_str),
        Some("front")
    );
    assert!(!merged.labels().contains_key("remove-me"));
    assert_eq!(merged.labels()["app"], "web");
    assert!(rv(&merged) > rv(&created));

    // JSON patch: test, add, replace, remove.
    let ops: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/metadata/labels/app", "value": "web"},
        {"op": "add", "path": "/metadata/labels/json", "value": "yes"},
        {"op": "replace", "path": "/spec/containers/1/image", "value": "envoy:2"},
        {"op": "remove", "path": "/metadata/labels/tier"},
    ]))
    .unwrap();
    let patched = pods
        .patch("web", &pp, &Patch::Json::<()>(ops))
        .await
        .unwrap();
    assert_eq!(patched.labels()["json"], "yes");
    assert!(!patched.labels().contains_key("tier"));
    assert_eq!(
        patched.spec.as_ref().unwrap().containers[1]
            .image
            .as_deref(),
        Some("envoy:2")
    );
    // A failing test operation: nothing changes, an error comes back.
    let failing: json_patch::Patch =
        serde_json::from_value(json!([{"op": "test", "path": "/metadata/labels/app", "value": "db"},
                                      {"op": "add", "path": "/metadata/labels/never", "value": "x"}]))
        .unwrap();
    let e = status(
        pods.patch("web", &pp, &Patch::Json::<()>(failing))
            .await
            .unwrap_err(),
    );
    assert!(e.code == 422 || e.code == 409 || e.code == 400, "{e:?}");
    assert!(!pods
        .get("web")
        .await
        .unwrap()
        .labels()
        .contains_key("never"));

    // Strategic merge: containers merged by name (one changed, one added,
    // the untouched one kept), a label removed by null.
    let strategic = pods
        .patch(
            "web",
            &pp,
            &Patch::Strategic(json!({
                "metadata": {"labels": {"json": null, "strategic": "yes"}},
                "spec": {"containers": [
                    {"name": "sidecar", "image": "envoy:3"},
                    {"name": "logger", "image": "fluentbit:1"},
                ]},
            })),
        )
        .await
        .unwrap();
    let containers = &strategic.spec.as_ref().unwrap().containers;
    let by_name: Vec<(&str, &str)> = containers
        .iter()
        .map(|c| (c.name.as_str(), c.image.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(by_name.len(), 3, "{by_name:?}");
    assert!(by_name.contains(&("web", "nginx:1")), "{by_name:?}");
    assert!(by_name.contains(&("sidecar", "envoy:3")), "{by_name:?}");
    assert!(by_name.contains(&("logger", "fluentbit:1")), "{by_name:?}");
    let web = containers.iter().find(|c| c.name == "web").unwrap();
    assert_eq!(
        web.ports.as_ref().map(Vec::len),
        Some(1),
        "the untouched container keeps its ports"
    );
    assert!(!strategic.labels().contains_key("json"));
    assert_eq!(strategic.labels()["strategic"], "yes");
    assert_eq!(strategic.labels()["app"], "web");

    // A strategic $patch: delete directive removes one container by name.
    let deleted = pods
        .patch(
            "web",
            &pp,
            &Patch::Strategic(
                json!({"spec": {"containers": [{"name": "logger", "$patch": "delete"}]}}),
            ),
        )
        .await
        .unwrap();
    let left: BTreeSet<String> = deleted
        .spec
        .unwrap()
        .containers
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(left, set(&["web", "sidecar"]));

    // A merge patch carrying a stale resourceVersion: 409.
    let e = status(
        pods.patch(
            "web",
            &pp,
            &Patch::Merge(json!({"metadata": {"resourceVersion": created.resource_version(), "labels": {"z": "1"}}})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (409, "Conflict"));
}

/// The next `n` watch events as `(TYPE, name)`.
async fn next_events<S>(stream: &mut S, n: usize) -> Vec<(String, String)>
where
    S: futures::Stream<Item = kube::Result<WatchEvent<Pod>>> + Unpin,
{
    let mut out = vec![];
    while out.len() < n {
        let e = tokio::time::timeout(WAIT, stream.next())
            .await
            .expect("a watch event in time")
            .expect("the watch still open")
            .expect("a watch event");
        let (ty, p) = match e {
            WatchEvent::Added(p) => ("ADDED", p),
            WatchEvent::Modified(p) => ("MODIFIED", p),
            WatchEvent::Deleted(p) => ("DELETED", p),
            WatchEvent::Bookmark(_) => continue,
            WatchEvent::Error(s) => (
                "ERROR",
                obj(json!({"metadata": {"name": format!("{} {}", s.code, s.reason)}})),
            ),
        };
        out.push((ty.to_string(), p.name_any()));
    }
    out
}

fn ev(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches() {
    let s = TestServer::start().await;
    let c = s.client.clone();
    namespace(&c, "w").await;
    let pods = Api::<Pod>::namespaced(c.clone(), "w");
    pods.create(&PostParams::default(), &pod("old", json!({"app": "web"})))
        .await
        .unwrap();

    // From a list's resourceVersion: the changes after it, in order.
    let list = pods.list(&ListParams::default()).await.unwrap();
    let from = list.metadata.resource_version.unwrap();
    let mut w = pods
        .watch(&WatchParams::default(), &from)
        .await
        .unwrap()
        .boxed();
    // With RV 0: the current objects first, as synthetic ADDED.
    let mut w0 = pods
        .watch(&WatchParams::default(), "0")
        .await
        .unwrap()
        .boxed();
    assert_eq!(next_events(&mut w0, 1).await, ev(&[("ADDED", "old")]));
    // With a label selector: objects leaving it are DELETED.
    let mut wsel = pods
        .watch(&WatchParams::default().labels("app=web"), &from)
        .await
        .unwrap()
        .boxed();

    pods.create(&PostParams::default(), &pod("new", json!({"app": "web"})))
        .await
        .unwrap();
    pods.patch(
        "new",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"v": "2"}}})),
    )
    .await
    .unwrap();
    pods.patch(
        "old",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"app": "db"}}})),
    )
    .await
    .unwrap();
    pods.delete("new", &DeleteParams::default()).await.unwrap();
    pods.patch(
        "old",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"app": "web"}}})),
    )
    .await
    .unwrap();

    assert_eq!(
        next_events(&mut w, 5).await,
        ev(&[
            ("ADDED", "new"),
            ("MODIFIED", "new"),
            ("MODIFIED", "old"),
            ("DELETED", "new"),
            ("MODIFIED", "old")
        ])
    );
    assert_eq!(
        next_events(&mut w0, 5).await,
        ev(&[
            ("ADDED", "new"),
            ("MODIFIED", "new"),
            ("MODIFIED", "old"),
            ("DELETED", "new"),
            ("MODIFIED", "old")
        ])
    );
    assert_eq!(
        next_events(&mut wsel, 5).await,
        ev(&[
            ("ADDED", "new"),
            ("MODIFIED", "new"),
            ("DELETED", "old"),
            ("DELETED", "new"),
            ("ADDED", "old")
        ]),
        "leaving the selector is DELETED, entering it ADDED"
    );

    // A watch from a resourceVersion in the middle replays what came after.
    let mid = {
        let p = pods.get("old").await.unwrap();
        rv(&p) - 1
    };
    let mut replay = pods
        .watch(&WatchParams::default(), &mid.to_string())
        .await
        .unwrap()
        .boxed();
    assert_eq!(
        next_events(&mut replay, 1).await,
        ev(&[("MODIFIED", "old")])
    );

    // A watch with a field selector on the name (what `kubectl get pod NAME -w` sends).
    let mut wname = pods
        .watch(&WatchParams::default().fields("metadata.name=old"), "0")
        .await
        .unwrap()
        .boxed();
    assert_eq!(next_events(&mut wname, 1).await, ev(&[("ADDED", "old")]));
    pods.create(&PostParams::default(), &pod("third", json!({})))
        .await
        .unwrap();
    pods.delete("old", &DeleteParams::default()).await.unwrap();
    assert_eq!(next_events(&mut wname, 1).await, ev(&[("DELETED", "old")]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_from_a_compacted_resource_version_is_gone_and_the_watcher_relists() {
    let s = TestServer::with_store(Store::new(8)).await;
    let c = s.client.clone();
    namespace(&c, "gone").await;
    let pods = Api::<Pod>::namespaced(c.clone(), "gone");
    let first = pods
        .create(&PostParams::default(), &pod("p0", json!({})))
        .await
        .unwrap();
    for i in 1..20 {
        pods.create(&PostParams::default(), &pod(&format!("p{i}"), json!({})))
            .await
            .unwrap();
    }
    let mut w = pods
        .watch(&WatchParams::default(), &rv(&first).to_string())
        .await
        .unwrap()
        .boxed();
    let e = tokio::time::timeout(WAIT, w.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    match e {
        WatchEvent::Error(s) => {
            assert_eq!((s.code, s.reason.as_str()), (410, "Expired"), "{s:?}");
            assert!(
                s.message.contains("too old resource version"),
                "{}",
                s.message
            );
        }
        other => panic!("expected 410 Gone, got {other:?}"),
    }

    // kube's watcher: watches of one second; while one runs, 20 writes out
    // of its scope compact the history past its resourceVersion, so its
    // next watch gets 410 and it lists again.
    let (reader, writer) = reflector::store::<Pod>();
    let cfg = watcher::Config::default().timeout(1);
    let mut stream = reflector(writer, watcher(pods.clone(), cfg)).boxed();
    let mut seen: Vec<String> = vec![];
    let mut inits = 0;
    let ns_kind = s.api.kind("", "v1", "namespaces").unwrap();
    let mut noise = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no relist after 410; saw {seen:?}"
        );
        let item = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .expect("the watcher yields")
            .expect("the watcher runs");
        let label = match &item {
            Ok(watcher::Event::Init) => "init".to_string(),
            Ok(watcher::Event::InitApply(_)) => "init-apply".to_string(),
            Ok(watcher::Event::InitDone) => "init-done".to_string(),
            Ok(watcher::Event::Apply(p)) => format!("apply {}", p.name_any()),
            Ok(watcher::Event::Delete(p)) => format!("delete {}", p.name_any()),
            Err(watcher::Error::WatchError(s)) => format!("error {}", s.code),
            Err(e) => format!("other error {e}"),
        };
        if seen.last() != Some(&label) {
            seen.push(label.clone());
        }
        if label == "init-done" {
            inits += 1;
            if inits == 1 {
                // In the first watch: one change in scope, then noise.
                pods.create(&PostParams::default(), &pod("late", json!({})))
                    .await
                    .unwrap();
            } else {
                break;
            }
        }
        if label == "apply late" {
            for _ in 0..20 {
                noise += 1;
                s.api
                    .create(
                        ns_kind,
                        "",
                        json!({"metadata": {"name": format!("noise-{noise}")}}),
                        false,
                    )
                    .unwrap();
            }
        }
    }
    let gone_at = seen
        .iter()
        .position(|l| l == "error 410")
        .expect("a 410 from the resumed watch");
    assert!(
        seen[gone_at..].starts_with(&["error 410".to_string(), "init".to_string()]),
        "{seen:?}"
    );
    assert_eq!(
        reader.state().len(),
        21,
        "the relisted store holds every pod"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watcher_and_reflector_stay_in_sync() {
    let s = TestServer::start().await;
    let c = s.client.clone();
    namespace(&c, "refl").await;
    let pods = Api::<Pod>::namespaced(c.clone(), "refl");
    pods.create(
        &PostParams::default(),
        &pod("before", json!({"app": "web"})),
    )
    .await
    .unwrap();
    let (reader, writer) = reflector::store::<Pod>();
    let stream = reflector(
        writer,
        watcher(pods.clone(), watcher::Config::default().labels("app=web")),
    );
    let driver = tokio::spawn(
        stream
            .default_backoff()
            .applied_objects()
            .for_each(|_| async {}),
    );
    tokio::time::timeout(WAIT, reader.wait_until_ready())
        .await
        .unwrap()
        .unwrap();
    let state = |reader: reflector::Store<Pod>| async move {
        reader
            .state()
            .iter()
            .map(|p| p.name_any())
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(state(reader.clone()).await, set(&["before"]));
    for i in 0..5 {
        pods.create(
            &PostParams::default(),
            &pod(&format!("p{i}"), json!({"app": "web"})),
        )
        .await
        .unwrap();
    }
    pods.create(&PostParams::default(), &pod("other", json!({"app": "db"})))
        .await
        .unwrap();
    pods.delete("p1", &DeleteParams::default()).await.unwrap();
    pods.delete("before", &DeleteParams::default())
        .await
        .unwrap();
    pods.patch(
        "p3",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"app": "db"}}})),
    )
    .await
    .unwrap();
    pods.patch(
        "other",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"app": "web"}}})),
    )
    .await
    .unwrap();
    let want = set(&["p0", "p2", "p4", "other"]);
    eventually("the reflector in sync", WAIT, || {
        let reader = reader.clone();
        let want = want.clone();
        async move { (state(reader).await == want).then_some(()) }
    })
    .await;
    let p4 = reader
        .get(&reflector::ObjectRef::new("p4").within("refl"))
        .expect("p4 in the reflector");
    assert_eq!(rv(p4.as_ref()), rv(&pods.get("p4").await.unwrap()));
    driver.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployments_make_pods_and_scale() {
    let s = TestServer::start().await;
    let c = s.client.clone();
    namespace(&c, "apps").await;
    let deploys = Api::<Deployment>::namespaced(c.clone(), "apps");
    let pods = Api::<Pod>::namespaced(c.clone(), "apps");
    let d: Deployment = obj(json!({
        "metadata": {"name": "web"},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx"}]}}},
    }));
    let created = deploys.create(&PostParams::default(), &d).await.unwrap();
    let three = eventually("3 pods", WAIT, || async {
        let l = pods
            .list(&ListParams::default().labels("app=web"))
            .await
            .unwrap();
        (l.items.len() == 3).then_some(l.items)
    })
    .await;
    let rs_api = Api::<k8s_openapi::api::apps::v1::ReplicaSet>::namespaced(c.clone(), "apps");
    let rss = rs_api.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(rss.len(), 1);
    let rs = &rss[0];
    let rs_name = rs.name_any();
    let hash = rs.labels()["pod-template-hash"].clone();
    assert_eq!(rs_name, format!("web-{hash}"));
    let rs_owner = &rs.owner_references()[0];
    assert_eq!(
        (rs_owner.kind.as_str(), rs_owner.name.as_str()),
        ("Deployment", "web")
    );
    assert_eq!(Some(&rs_owner.uid), created.metadata.uid.as_ref());
    assert_eq!(rs_owner.controller, Some(true));
    const ALPHABET: &str = "bcdfghjklmnpqrstvwxz2456789";
    assert!(
        !hash.is_empty() && hash.chars().all(|ch| ALPHABET.contains(ch)),
        "{hash}"
    );
    let mut seen = BTreeSet::new();
    for p in &three {
        let name = p.name_any();
        let suffix = name
            .strip_prefix(&format!("web-{hash}-"))
            .unwrap_or_else(|| panic!("{name} is not web-{hash}-XXXXX"));
        assert_eq!(suffix.len(), 5, "{name}");
        assert!(suffix.chars().all(|ch| ALPHABET.contains(ch)), "{name}");
        assert_eq!(p.labels()["pod-template-hash"], hash);
        assert_eq!(p.labels()["app"], "web");
        let owner = &p.owner_references()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.name.as_str()),
            ("ReplicaSet", rs_name.as_str())
        );
        assert_eq!(Some(&owner.uid), rs.metadata.uid.as_ref());
        assert_eq!(owner.controller, Some(true));
        assert_eq!(
            p.metadata.generate_name.as_deref(),
            Some(format!("{rs_name}-").as_str())
        );
        seen.insert(name);
    }
    assert_eq!(seen.len(), 3);

    // The status follows.
    eventually("deployment status replicas 3", WAIT, || async {
        let d = deploys.get("web").await.unwrap();
        (d.status.and_then(|s| s.replicas) == Some(3)).then_some(())
    })
    .await;

    // Scale to 1 through the scale subresource.
    let scale = deploys.get_scale("web").await.unwrap();
    assert_eq!(scale.spec.as_ref().and_then(|s| s.replicas), Some(3));
    assert_eq!(
        scale.status.as_ref().and_then(|s| s.selector.as_deref()),
        Some("app=web")
    );
    let scaled = deploys
        .patch_scale(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 1}})),
        )
        .await
        .unwrap();
    assert_eq!(scaled.spec.and_then(|s| s.replicas), Some(1));
    let one = eventually("1 pod", WAIT, || async {
        let l = pods.list(&ListParams::default()).await.unwrap();
        (l.items.len() == 1).then_some(l.items)
    })
    .await;
    assert!(
        seen.contains(&one[0].name_any()),
        "a pod kept, not a new one"
    );
    assert_eq!(deploys.get("web").await.unwrap().spec.replicas, Some(1));
    eventually("the replica set scaled", WAIT, || async {
        let rs = rs_api.get(&rs_name).await.unwrap();
        (rs.spec.replicas == Some(1)).then_some(())
    })
    .await;
    // A negative scale is invalid.
    let e = status(
        deploys
            .patch_scale(
                "web",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"replicas": -1}})),
            )
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 422);

    // Deleting the deployment takes its replica set and pods.
    deploys
        .delete("web", &DeleteParams::default())
        .await
        .unwrap();
    eventually("no pods", WAIT, || async {
        pods.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
            .then_some(())
    })
    .await;
    assert!(rs_api
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_namespace_removes_what_it_holds() {
    let s = TestServer::start().await;
    let c = s.client.clone();
    namespace(&c, "doomed").await;
    namespace(&c, "kept").await;
    let pods = Api::<Pod>::namespaced(c.clone(), "doomed");
    for i in 0..3 {
        pods.create(
            &PostParams::default(),
            &pod(&format!("p{i}"), json!({"app": "web"})),
        )
        .await
        .unwrap();
    }
    Api::<Pod>::namespaced(c.clone(), "kept")
        .create(&PostParams::default(), &pod("p0", json!({})))
        .await
        .unwrap();
    Api::<Service>::namespaced(c.clone(), "doomed")
        .create(
            &PostParams::default(),
            &obj(json!({"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})),
        )
        .await
        .unwrap();
    Api::<NetworkPolicy>::namespaced(c.clone(), "doomed")
        .create(
            &PostParams::default(),
            &obj(json!({"metadata": {"name": "deny"}, "spec": {"podSelector": {}}})),
        )
        .await
        .unwrap();
    Api::<Deployment>::namespaced(c.clone(), "doomed")
        .create(
            &PostParams::default(),
            &obj(json!({"metadata": {"name": "d"},
                        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "d"}},
                                 "template": {"metadata": {"labels": {"app": "d"}},
                                              "spec": {"containers": [{"name": "d", "image": "nginx"}]}}}})),
        )
        .await
        .unwrap();
    eventually("the deployment's pods", WAIT, || async {
        (pods.list(&ListParams::default()).await.unwrap().items.len() == 5).then_some(())
    })
    .await;

    let nss = Api::<Namespace>::all(c.clone());
    let gone = nss
        .delete("doomed", &DeleteParams::default())
        .await
        .unwrap();
    let ns = gone.left().expect("the namespace, Terminating");
    assert_eq!(
        ns.status.and_then(|s| s.phase).as_deref(),
        Some("Terminating")
    );
    eventually("the namespace removed", WAIT, || async {
        nss.get_opt("doomed").await.unwrap().is_none().then_some(())
    })
    .await;
    let left_in = |ns: &'static str| {
        let c = c.clone();
        async move {
            let p = Api::<Pod>::namespaced(c.clone(), ns)
                .list(&ListParams::default())
                .await
                .unwrap()
                .items
                .len();
            let s = Api::<Service>::namespaced(c.clone(), ns)
                .list(&ListParams::default())
                .await
                .unwrap()
                .items
                .len();
            let n = Api::<NetworkPolicy>::namespaced(c.clone(), ns)
                .list(&ListParams::default())
                .await
                .unwrap()
                .items
                .len();
            let d = Api::<Deployment>::namespaced(c.clone(), ns)
                .list(&ListParams::default())
                .await
                .unwrap()
                .items
                .len();
            let r = Api::<k8s_openapi::api::apps::v1::ReplicaSet>::namespaced(c.clone(), ns)
                .list(&ListParams::default())
                .await
                .unwrap()
                .items
                .len();
            let e = Api::<Endpoints>::namespaced(c.clone(), ns)
                .list(&ListParams::default())
                .await
                .unwrap()
                .items
                .len();
            [p, s, n, d, r, e]
        }
    };
    // Nothing comes back (the replica set controller does not recreate pods).
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(left_in("doomed").await, [0; 6]);
    assert_eq!(left_in("kept").await, [1, 0, 0, 0, 0, 0]);
    let e = status(
        pods.create(&PostParams::default(), &pod("late", json!({})))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_follow_the_service_selector() {
    let s = TestServer::start().await;
    let c = s.client.clone();
    namespace(&c, "ep").await;
    let pods = Api::<Pod>::namespaced(c.clone(), "ep");
    let eps = Api::<Endpoints>::namespaced(c.clone(), "ep");
    for (name, app) in [("p1", "web"), ("p2", "web"), ("p3", "other")] {
        let p: Pod = obj(json!({
            "metadata": {"name": name, "labels": {"app": app}},
            "spec": {"containers": [{"name": "main", "image": "nginx",
                                     "ports": [{"name": "http", "containerPort": 8080}]}]},
        }));
        pods.create(&PostParams::default(), &p).await.unwrap();
    }
    Api::<Service>::namespaced(c.clone(), "ep")
        .create(
            &PostParams::default(),
            &obj(json!({"metadata": {"name": "web"},
                        "spec": {"selector": {"app": "web"},
                                 "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}})),
        )
        .await
        .unwrap();
    let ready = |ip: &str| {
        Patch::Merge(json!({"status": {"phase": "Running", "podIP": ip,
                                       "conditions": [{"type": "Ready", "status": "True"}]}}))
    };
    let ips = |eps: Api<Endpoints>| async move {
        let e = eps.get_opt("web").await.unwrap()?;
        let subsets = e.subsets.unwrap_or_default();
        let ips: Vec<String> = subsets
            .iter()
            .flat_map(|s| s.addresses.iter().flatten().map(|a| a.ip.clone()))
            .collect();
        let ports: Vec<i32> = subsets
            .iter()
            .flat_map(|s| s.ports.iter().flatten().map(|p| p.port))
            .collect();
        Some((ips, ports))
    };
    // No ready pod yet: the Endpoints exist, empty.
    eventually("empty endpoints", WAIT, || {
        let eps = eps.clone();
        async move { ips(eps).await.filter(|(i, _)| i.is_empty()) }
    })
    .await;
    let pp = PatchParams::default();
    pods.patch_status("p1", &pp, &ready("10.244.0.11"))
        .await
        .unwrap();
    pods.patch_status("p3", &pp, &ready("10.244.0.13"))
        .await
        .unwrap();
    let wait_for = |want: Vec<&'static str>| {
        let eps = eps.clone();
        async move {
            let want: Vec<String> = want.into_iter().map(String::from).collect();
            eventually(&format!("endpoints {want:?}"), WAIT, || {
                let eps = eps.clone();
                let want = want.clone();
                async move { ips(eps).await.filter(|(i, _)| *i == want) }
            })
            .await
        }
    };
    let (_, ports) = wait_for(vec!["10.244.0.11"]).await;
    assert_eq!(
        ports,
        vec![8080],
        "the named targetPort resolved on the pod"
    );
    pods.patch_status("p2", &pp, &ready("10.244.0.12"))
        .await
        .unwrap();
    wait_for(vec!["10.244.0.11", "10.244.0.12"]).await;
    // p1 leaves the selector; p2 stops being ready.
    pods.patch(
        "p1",
        &pp,
        &Patch::Merge(json!({"metadata": {"labels": {"app": "db"}}})),
    )
    .await
    .unwrap();
    wait_for(vec!["10.244.0.12"]).await;
    pods.patch_status(
        "p2",
        &pp,
        &Patch::Merge(json!({"status": {"conditions": [{"type": "Ready", "status": "False"}]}})),
    )
    .await
    .unwrap();
    wait_for(vec![]).await;
    // p3 joins by a label change.
    pods.patch(
        "p3",
        &pp,
        &Patch::Merge(json!({"metadata": {"labels": {"app": "web"}}})),
    )
    .await
    .unwrap();
    wait_for(vec!["10.244.0.13"]).await;
    let e = eps.get("web").await.unwrap();
    let target = e.subsets.unwrap()[0].addresses.as_ref().unwrap()[0]
        .target_ref
        .clone()
        .unwrap();
    assert_eq!(
        (target.kind.as_deref(), target.name.as_deref()),
        (Some("Pod"), Some("p3"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_is_unauthorized() {
    let s = TestServer::start().await;
    let wrong = s.client_with_token(&"0".repeat(64)).await;
    let e = status(
        Api::<Namespace>::all(wrong.clone())
            .list(&ListParams::default())
            .await
            .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (401, "Unauthorized"), "{e:?}");
    let e = status(
        Api::<Namespace>::all(wrong)
            .create(
                &PostParams::default(),
                &obj(json!({"metadata": {"name": "x"}})),
            )
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 401);
    let short = s.client_with_token("short").await;
    assert_eq!(
        status(short.apiserver_version().await.unwrap_err()).code,
        401
    );
    assert!(s
        .api
        .kind("", "v1", "namespaces")
        .is_some_and(|k| s.api.get(k, "", "x").is_err()));
    // The right token works.
    assert_eq!(s.client.apiserver_version().await.unwrap().minor, "32");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_stores_nothing() {
    let s = TestServer::start().await;
    let c = s.client.clone();
    let dry = PostParams {
        dry_run: true,
        ..Default::default()
    };
    let nss = Api::<Namespace>::all(c.clone());
    let ns = nss
        .create(&dry, &obj(json!({"metadata": {"name": "dry"}})))
        .await
        .unwrap();
    assert_eq!(ns.name_any(), "dry");
    assert!(
        nss.get_opt("dry").await.unwrap().is_none(),
        "a dry-run create stores nothing"
    );
    namespace(&c, "dry").await;
    let revision = || s.api.store().revision();
    let pods = Api::<Pod>::namespaced(c.clone(), "dry");
    let before = revision();
    let p = pods
        .create(&dry, &pod("web", json!({"app": "web"})))
        .await
        .unwrap();
    assert_eq!(p.name_any(), "web");
    assert!(pods.get_opt("web").await.unwrap().is_none());
    assert_eq!(revision(), before, "no write at all");

    let real = pods
        .create(&PostParams::default(), &pod("web", json!({"app": "web"})))
        .await
        .unwrap();
    let before = revision();
    // Dry-run create of an existing name still fails as a real one would.
    assert_eq!(
        status(pods.create(&dry, &pod("web", json!({}))).await.unwrap_err()).code,
        409
    );
    let mut changed = real.clone();
    changed.labels_mut().insert("app".into(), "db".into());
    let replaced = pods.replace("web", &dry, &changed).await.unwrap();
    assert_eq!(
        replaced.labels()["app"],
        "db",
        "the dry-run reply shows the change"
    );
    let dry_patch = PatchParams {
        dry_run: true,
        ..Default::default()
    };
    let patched = pods
        .patch(
            "web",
            &dry_patch,
            &Patch::Merge(json!({"metadata": {"labels": {"tier": "x"}}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.labels()["tier"], "x");
    assert_eq!(
        revision(),
        before,
        "dry runs of replace and patch write nothing"
    );
    let stored = pods.get("web").await.unwrap();
    assert_eq!(rv(&stored), rv(&real));
    assert_eq!(stored.labels()["app"], "web");
    assert!(!stored.labels().contains_key("tier"));
    // dryRun=All on the query string of a DELETE (what curl would send).
    let req = http::Request::delete("/api/v1/namespaces/dry/pods/web?dryRun=All")
        .body(Vec::new())
        .unwrap();
    let text = c.request_text(req).await.unwrap();
    assert!(text.contains("\"name\":\"web\""), "{text}");
    assert!(pods.get_opt("web").await.unwrap().is_some());
    assert_eq!(revision(), before);
}

/// kube-rs (and kubectl `delete --dry-run=server`) send the dry run of a
/// DELETE in the body, as `DeleteOptions.dryRun: ["All"]`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_delete_in_delete_options_stores_nothing() {
    let s = TestServer::start().await;
    let c = s.client.clone();
    namespace(&c, "dry").await;
    let pods = Api::<Pod>::namespaced(c.clone(), "dry");
    pods.create(&PostParams::default(), &pod("web", json!({})))
        .await
        .unwrap();
    let before = s.api.store().revision();
    let dry = DeleteParams {
        dry_run: true,
        ..Default::default()
    };
    pods.delete("web", &dry).await.unwrap();
    assert!(
        pods.get_opt("web").await.unwrap().is_some(),
        "a dry-run delete deleted the pod"
    );
    let nss = Api::<Namespace>::all(c.clone());
    nss.delete("dry", &dry).await.unwrap();
    let ns = nss.get("dry").await.unwrap();
    assert_ne!(
        ns.status.and_then(|s| s.phase).as_deref(),
        Some("Terminating")
    );
    assert_eq!(s.api.store().revision(), before);
}

/// Upstream closes a watch after its ERROR event (410 Expired): nothing
/// follows it, not a BOOKMARK and not later events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_ends_after_its_410_error() {
    let s = TestServer::with_store(Store::new(4)).await;
    let c = s.client.clone();
    namespace(&c, "gone").await;
    let pods = Api::<Pod>::namespaced(c.clone(), "gone");
    let first = pods
        .create(&PostParams::default(), &pod("p0", json!({})))
        .await
        .unwrap();
    for i in 1..10 {
        pods.create(&PostParams::default(), &pod(&format!("p{i}"), json!({})))
            .await
            .unwrap();
    }
    for bookmarks in [false, true] {
        let wp = WatchParams {
            bookmarks,
            ..Default::default()
        };
        let mut w = pods
            .watch(&wp, &rv(&first).to_string())
            .await
            .unwrap()
            .boxed();
        let e = tokio::time::timeout(WAIT, w.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert!(
            matches!(e, WatchEvent::Error(ref s) if s.code == 410),
            "{e:?}"
        );
        pods.create(
            &PostParams::default(),
            &pod(&format!("after-{bookmarks}"), json!({})),
        )
        .await
        .unwrap();
        let after = tokio::time::timeout(Duration::from_secs(3), w.next()).await;
        assert!(
            matches!(after, Ok(None)),
            "bookmarks={bookmarks}: the watch goes on after its ERROR: {after:?}"
        );
    }
}

/// A namespace being deleted carries `metadata.deletionTimestamp` (what
/// clients and kubectl read as "being deleted", with `Terminating`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminating_namespace_has_a_deletion_timestamp() {
    let s = TestServer::start().await;
    let c = s.client.clone();
    namespace(&c, "doomed").await;
    let gone = Api::<Namespace>::all(c.clone())
        .delete("doomed", &DeleteParams::default())
        .await
        .unwrap();
    let ns = gone.left().expect("the namespace");
    assert_eq!(
        ns.status.and_then(|s| s.phase).as_deref(),
        Some("Terminating")
    );
    assert!(
        ns.metadata.deletion_timestamp.is_some(),
        "no deletionTimestamp"
    );
}
