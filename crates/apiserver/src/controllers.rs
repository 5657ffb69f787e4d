//! What a cluster's controller manager does for the kinds the lab serves,
//! over the in-process [`Api`] (so its writes are admitted, validated and
//! watched like any other):
//!
//! - deletion: dependents (by `ownerReferences`) go with their owner
//!   unless the delete orphans them; a namespace is marked `Terminating`,
//!   emptied, then removed;
//! - a Deployment owns one ReplicaSet per pod template
//!   (`NAME-<pod-template-hash>`); the current one is scaled to
//!   `spec.replicas`, the others removed; status follows the pods;
//! - a ReplicaSet keeps `spec.replicas` pods made from its template
//!   (`generateName: NAME-`, labels plus `pod-template-hash`);
//! - a Service with a selector has Endpoints and an EndpointSlice that
//!   list its ready pods.
//!
//! Level-triggered: each change marks the objects it concerns and they are
//! brought in line from what the store holds now.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use palisade_apimachinery::selector::{self, LabelSelector};
use palisade_apimachinery::status::Result;
use palisade_apimachinery::store::{EventType, Kind};
use palisade_apimachinery::{time, Status};
use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;

use crate::api::Api;
use crate::names;

fn kind(api: &Api, group: &str, plural: &str) -> Option<Kind> {
    let version = "v1";
    api.kind(group, version, plural)
}

fn meta<'a>(o: &'a Value, field: &str) -> &'a str {
    o["metadata"][field].as_str().unwrap_or("")
}

/// `DELETE` of one object: a namespace starts terminating; anything else
/// goes now, with its dependents unless `propagationPolicy` is `Orphan`.
pub fn delete(
    api: &Api,
    kind_: Kind,
    namespace: &str,
    name: &str,
    options: &Value,
    dry_run: bool,
) -> Result<Arc<Value>> {
    let r = *api.resource(kind_);
    if dry_run {
        return api.get(kind_, namespace, name);
    }
    if r.group.is_empty() && r.plural == "namespaces" {
        return api.begin_deletion(kind_, "", name, |o| {
            o["status"]["phase"] = json!("Terminating")
        });
    }
    let gone = api.delete(kind_, namespace, name)?;
    if options["propagationPolicy"] != "Orphan" {
        delete_dependents(api, meta(&gone, "uid"), namespace);
    }
    Ok(gone)
}

/// Deletes every object of `namespace` (and cluster-scoped ones when it
/// is empty) owned by `uid`, and theirs.
fn delete_dependents(api: &Api, uid: &str, namespace: &str) {
    if uid.is_empty() {
        return;
    }
    let owned: Vec<(Kind, String)> = {
        let store = api.store();
        (0..api.registry.resources().len())
            .flat_map(|k| {
                store
                    .list(k, Some(namespace))
                    .filter(|(_, o)| owned_by(o, uid))
                    .map(move |(key, _)| (k, key.name.clone()))
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    for (k, name) in owned {
        if let Ok(gone) = api.delete(k, namespace, &name) {
            delete_dependents(api, meta(&gone, "uid"), namespace);
        }
    }
}

fn owned_by(o: &Value, uid: &str) -> bool {
    o.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| refs.iter().any(|r| r["uid"] == uid))
}

fn owner_ref(owner: &Value, controller: bool) -> Value {
    json!({
        "apiVersion": owner["apiVersion"], "kind": owner["kind"],
        "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
        "controller": controller, "blockOwnerDeletion": true,
    })
}

/// The controlling owner of `o` of kind `k`, as `(namespace, name)`.
fn controller_of(o: &Value, kind_name: &str) -> Option<String> {
    o.pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r["kind"] == kind_name && r["controller"] == true)
        .and_then(|r| r["name"].as_str())
        .map(str::to_string)
}

/// What needs bringing in line.
#[derive(Debug, Default)]
struct Dirty {
    namespaces: BTreeSet<String>,
    deployments: BTreeSet<(String, String)>,
    replica_sets: BTreeSet<(String, String)>,
    services: BTreeSet<(String, String)>,
    /// Namespaces whose every Service is to be checked (a pod changed).
    service_namespaces: BTreeSet<String>,
}

impl Dirty {
    fn is_empty(&self) -> bool {
        self.namespaces.is_empty()
            && self.deployments.is_empty()
            && self.replica_sets.is_empty()
            && self.services.is_empty()
            && self.service_namespaces.is_empty()
    }
}

struct Kinds {
    namespaces: Kind,
    pods: Kind,
    services: Kind,
    endpoints: Option<Kind>,
    slices: Option<Kind>,
    deployments: Option<Kind>,
    replica_sets: Option<Kind>,
}

/// Runs the controllers until the API is dropped.
pub async fn run(api: Arc<Api>) {
    let (Some(namespaces), Some(pods), Some(services)) = (
        kind(&api, "", "namespaces"),
        kind(&api, "", "pods"),
        kind(&api, "", "services"),
    ) else {
        return;
    };
    let k = Kinds {
        namespaces,
        pods,
        services,
        endpoints: kind(&api, "", "endpoints"),
        slices: kind(&api, "discovery.k8s.io", "endpointslices"),
        deployments: kind(&api, "apps", "deployments"),
        replica_sets: kind(&api, "apps", "replicasets"),
    };
    let mut sub = api.subscribe();
    // Whatever is stored already (a restarted server) is checked once.
    let mut dirty = everything(&api, &k);
    loop {
        if !dirty.is_empty() {
            sync(&api, &k, std::mem::take(&mut dirty));
        }
        match sub.recv().await {
            Ok(e) => mark(
                &k,
                &e.key.kind,
                &e.key.namespace,
                &e.key.name,
                e.ty,
                &e.object,
                &mut dirty,
            ),
            Err(RecvError::Lagged(_)) => dirty = everything(&api, &k),
            Err(RecvError::Closed) => return,
        }
        // Take what else is queued before working (bursts are one pass).
        loop {
            match sub.try_recv() {
                Ok(e) => mark(
                    &k,
                    &e.key.kind,
                    &e.key.namespace,
                    &e.key.name,
                    e.ty,
                    &e.object,
                    &mut dirty,
                ),
                Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => {
                    dirty = everything(&api, &k)
                }
                Err(_) => break,
            }
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

fn everything(api: &Api, k: &Kinds) -> Dirty {
    let mut d = Dirty::default();
    let store = api.store();
    for (key, o) in store.list(k.namespaces, None) {
        if o.pointer("/status/phase") == Some(&json!("Terminating")) {
            d.namespaces.insert(key.name.clone());
        }
    }
    for (kind_, set) in [
        (k.deployments, &mut d.deployments),
        (k.replica_sets, &mut d.replica_sets),
    ] {
        if let Some(kind_) = kind_ {
            set.extend(
                store
                    .list(kind_, None)
                    .map(|(key, _)| (key.namespace.clone(), key.name.clone())),
            );
        }
    }
    d.services.extend(
        store
            .list(k.services, None)
            .map(|(key, _)| (key.namespace.clone(), key.name.clone())),
    );
    d
}

fn mark(k: &Kinds, kind_: &Kind, ns: &str, name: &str, ty: EventType, o: &Value, d: &mut Dirty) {
    let key = (ns.to_string(), name.to_string());
    if *kind_ == k.namespaces && o.pointer("/status/phase") == Some(&json!("Terminating")) {
        d.namespaces.insert(name.to_string());
    } else if Some(*kind_) == k.deployments {
        d.deployments.insert(key);
    } else if Some(*kind_) == k.replica_sets {
        d.replica_sets.insert(key);
        if let Some(owner) = controller_of(o, "Deployment") {
            d.deployments.insert((ns.to_string(), owner));
        }
    } else if *kind_ == k.pods {
        if let Some(owner) = controller_of(o, "ReplicaSet") {
            d.replica_sets.insert((ns.to_string(), owner));
        }
        d.service_namespaces.insert(ns.to_string());
    } else if *kind_ == k.services {
        d.services.insert(key);
    }
    // Namespaces being emptied are checked again whenever something in
    // them goes.
    if ty == EventType::Deleted && !ns.is_empty() {
        d.namespaces.insert(ns.to_string());
    }
}

fn sync(api: &Api, k: &Kinds, d: Dirty) {
    let report = |what: &str, r: Result<()>| {
        if let Err(e) = r {
            eprintln!("controller: {what}: {e}");
        }
    };
    for ns in &d.namespaces {
        report(&format!("namespace {ns}"), namespace(api, k, ns));
    }
    for (ns, name) in &d.deployments {
        report(
            &format!("deployment {ns}/{name}"),
            deployment(api, k, ns, name),
        );
    }
    for (ns, name) in &d.replica_sets {
        report(
            &format!("replicaset {ns}/{name}"),
            replica_set(api, k, ns, name),
        );
    }
    let mut services = d.services;
    for ns in &d.service_namespaces {
        let (items, _) = api.list(k.services, Some(ns));
        services.extend(
            items
                .iter()
                .map(|s| (ns.clone(), meta(s, "name").to_string())),
        );
    }
    for (ns, name) in &services {
        report(
            &format!("endpoints of service {ns}/{name}"),
            endpoints(api, k, ns, name),
        );
    }
}

/// A terminating namespace: delete what it holds; once empty, remove it.
fn namespace(api: &Api, k: &Kinds, name: &str) -> Result<()> {
    let Ok(ns) = api.get(k.namespaces, "", name) else {
        return Ok(());
    };
    if ns.pointer("/status/phase") != Some(&json!("Terminating")) {
        return Ok(());
    }
    for (kind_, r) in api.registry.resources().iter().enumerate() {
        if !r.namespaced {
            continue;
        }
        let (items, _) = api.list(kind_, Some(name));
        for o in items {
            let _ = api.delete(kind_, name, meta(&o, "name"));
        }
    }
    match api.delete(k.namespaces, "", name) {
        Err(e) if e.code != 404 => return Err(e),
        _ => {}
    }
    Ok(())
}

fn replicas(o: &Value) -> i64 {
    o.pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

fn ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

fn selector_of(o: &Value) -> Result<LabelSelector> {
    selector::from_label_selector(o.pointer("/spec/selector").unwrap_or(&json!({})))
        .map_err(|e| Status::bad_request(e.to_string()))
}

fn deployment(api: &Api, k: &Kinds, ns: &str, name: &str) -> Result<()> {
    let (Some(dk), Some(rk)) = (k.deployments, k.replica_sets) else {
        return Ok(());
    };
    let Ok(dep) = api.get(dk, ns, name) else {
        return Ok(());
    };
    let template = dep.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let hash = names::template_hash(&template, 0);
    let rs_name = format!("{name}-{hash}");
    let (owned, _) = api.list(rk, Some(ns));
    let owned: Vec<Arc<Value>> = owned
        .into_iter()
        .filter(|rs| owned_by(rs, meta(&dep, "uid")))
        .collect();
    let want = replicas(&dep);
    let current = owned.iter().find(|rs| meta(rs, "name") == rs_name).cloned();
    match current {
        None => {
            let mut t = template.clone();
            t["metadata"]["labels"]["pod-template-hash"] = json!(hash);
            let mut sel = dep.pointer("/spec/selector").cloned().unwrap_or(json!({}));
            sel["matchLabels"]["pod-template-hash"] = json!(hash);
            let labels = t["metadata"]["labels"].clone();
            let rs = json!({
                "metadata": {
                    "name": rs_name, "namespace": ns, "labels": labels,
                    "annotations": {"deployment.kubernetes.io/revision": "1",
                                    "deployment.kubernetes.io/desired-replicas": want.to_string(),
                                    "deployment.kubernetes.io/max-replicas": (want + 1).to_string()},
                    "ownerReferences": [owner_ref(&dep, true)],
                },
                "spec": {"replicas": want, "selector": sel, "template": t},
            });
            api.create(rk, ns, rs, false)?;
        }
        Some(rs) if replicas(&rs) != want => {
            api.modify(rk, ns, &rs_name, false, |o| {
                let mut o = o.clone();
                o["spec"]["replicas"] = json!(want);
                o["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] =
                    json!(want.to_string());
                Ok(o)
            })?;
        }
        Some(_) => {}
    }
    // Older templates: gone (a Recreate-like rollout).
    for old in owned.iter().filter(|rs| meta(rs, "name") != rs_name) {
        let gone = api.delete(rk, ns, meta(old, "name"))?;
        delete_dependents(api, meta(&gone, "uid"), ns);
    }
    // Status from the pods of the current template.
    let (pods, _) = api.list(k.pods, Some(ns));
    let mine: Vec<&Arc<Value>> = pods
        .iter()
        .filter(|p| p["metadata"]["labels"]["pod-template-hash"] == json!(hash))
        .filter(|p| selector_of(&dep).is_ok_and(|s| s.matches_object(p)))
        .collect();
    let n = mine.len() as i64;
    let r = mine.iter().filter(|p| ready(p)).count() as i64;
    let generation = dep
        .pointer("/metadata/generation")
        .cloned()
        .unwrap_or(json!(1));
    let available = r >= want;
    let now = time::rfc3339(time::now());
    let status = json!({
        "observedGeneration": generation, "replicas": n, "updatedReplicas": n,
        "readyReplicas": r, "availableReplicas": r, "unavailableReplicas": (want - r).max(0),
        "conditions": [
            {"type": "Available", "status": if available { "True" } else { "False" },
             "reason": if available { "MinimumReplicasAvailable" } else { "MinimumReplicasUnavailable" },
             "message": if available { "Deployment has minimum availability." } else { "Deployment does not have minimum availability." },
             "lastUpdateTime": now, "lastTransitionTime": now},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
             "message": format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
             "lastUpdateTime": now, "lastTransitionTime": now},
        ],
    });
    set_status(api, dk, ns, name, status)
}

/// Writes `status` unless only its timestamps would change.
fn set_status(api: &Api, kind_: Kind, ns: &str, name: &str, status: Value) -> Result<()> {
    let strip = |v: &Value| {
        let mut v = v.clone();
        for c in v["conditions"].as_array_mut().into_iter().flatten() {
            c.as_object_mut().map(|m| {
                m.remove("lastUpdateTime");
                m.remove("lastTransitionTime")
            });
        }
        v
    };
    let current = api.get(kind_, ns, name)?;
    if strip(&current["status"]) == strip(&status) {
        return Ok(());
    }
    api.modify(kind_, ns, name, false, |o| {
        let mut o = o.clone();
        o["status"] = status;
        Ok(o)
    })?;
    Ok(())
}

fn replica_set(api: &Api, k: &Kinds, ns: &str, name: &str) -> Result<()> {
    let Some(rk) = k.replica_sets else {
        return Ok(());
    };
    let Ok(rs) = api.get(rk, ns, name) else {
        return Ok(());
    };
    let sel = selector_of(&rs)?;
    let (pods, _) = api.list(k.pods, Some(ns));
    let mine: Vec<&Arc<Value>> = pods
        .iter()
        .filter(|p| owned_by(p, meta(&rs, "uid")) && sel.matches_object(p))
        .collect();
    let want = replicas(&rs);
    let have = mine.len() as i64;
    for _ in have..want {
        let mut t = rs.pointer("/spec/template").cloned().unwrap_or(json!({}));
        let m = t["metadata"].as_object_mut().cloned().unwrap_or_default();
        let mut metadata = json!(m);
        metadata["generateName"] = json!(format!("{name}-"));
        metadata["namespace"] = json!(ns);
        metadata["ownerReferences"] = json!([owner_ref(&rs, true)]);
        t["metadata"] = metadata;
        api.create(k.pods, ns, t, false)?;
    }
    // Extra pods: the newest go first.
    let mut extra: Vec<&&Arc<Value>> = mine.iter().collect();
    extra.sort_by_key(|p| std::cmp::Reverse(meta(p, "creationTimestamp").to_string()));
    for p in extra.into_iter().take((have - want).max(0) as usize) {
        api.delete(k.pods, ns, meta(p, "name"))?;
    }
    let (pods, _) = api.list(k.pods, Some(ns));
    let mine: Vec<&Arc<Value>> = pods
        .iter()
        .filter(|p| owned_by(p, meta(&rs, "uid")))
        .collect();
    let r = mine.iter().filter(|p| ready(p)).count() as i64;
    let status = json!({
        "replicas": mine.len(), "fullyLabeledReplicas": mine.len(), "readyReplicas": r,
        "availableReplicas": r,
        "observedGeneration": rs.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
    });
    set_status(api, rk, ns, name, status)
}

/// The port a Service port reaches on a pod: a number, or a container
/// port's name resolved on that pod.
fn target_port(svc_port: &Value, pod: &Value) -> Option<i64> {
    match &svc_port["targetPort"] {
        Value::Number(n) => n.as_i64(),
        Value::String(name) => pod
            .pointer("/spec/containers")?
            .as_array()?
            .iter()
            .flat_map(|c| c["ports"].as_array().into_iter().flatten())
            .find(|p| p["name"] == json!(name))
            .and_then(|p| p["containerPort"].as_i64()),
        _ => svc_port["port"].as_i64(),
    }
}

fn endpoints(api: &Api, k: &Kinds, ns: &str, name: &str) -> Result<()> {
    let Ok(svc) = api.get(k.services, ns, name) else {
        return Ok(());
    };
    let Some(sel) = svc.pointer("/spec/selector").and_then(Value::as_object) else {
        return Ok(());
    };
    let sel = selector::from_label_selector(&json!({"matchLabels": sel}))
        .map_err(|e| Status::bad_request(e.to_string()))?;
    let (pods, _) = api.list(k.pods, Some(ns));
    let ports: Vec<Value> = svc
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut backends: Vec<(&Arc<Value>, String)> = pods
        .iter()
        .filter(|p| sel.matches_object(p) && ready(p))
        .filter_map(|p| Some((p, p.pointer("/status/podIP")?.as_str()?.to_string())))
        .collect();
    backends.sort_by(|a, b| a.1.cmp(&b.1));
    let port_entry = |p: &Value, pod: Option<&Value>| {
        let mut e = json!({"port": pod.and_then(|pod| target_port(p, pod)).or_else(|| p["port"].as_i64()),
                           "protocol": p["protocol"].as_str().unwrap_or("TCP")});
        if let Some(n) = p["name"].as_str() {
            e["name"] = json!(n);
        }
        e
    };
    let first_pod = backends.first().map(|b| b.0.as_ref());
    let ep_ports: Vec<Value> = ports.iter().map(|p| port_entry(p, first_pod)).collect();
    let addresses: Vec<Value> = backends
        .iter()
        .map(|(p, ip)| json!({"ip": ip, "nodeName": p.pointer("/spec/nodeName"),
            "targetRef": {"kind": "Pod", "namespace": ns, "name": meta(p, "name"), "uid": meta(p, "uid")}}))
        .collect();
    let subsets = if addresses.is_empty() {
        json!([])
    } else {
        json!([{"addresses": addresses, "ports": ep_ports}])
    };
    let labels = svc
        .pointer("/metadata/labels")
        .cloned()
        .unwrap_or(json!({}));
    if let Some(ek) = k.endpoints {
        upsert(
            api,
            ek,
            ns,
            name,
            json!({"metadata": {"name": name, "namespace": ns, "labels": labels}, "subsets": subsets}),
            "subsets",
        )?;
    }
    if let Some(sk) = k.slices {
        let mut slice_labels = labels.clone();
        slice_labels["kubernetes.io/service-name"] = json!(name);
        slice_labels["endpointslice.kubernetes.io/managed-by"] = json!("palisade-lab");
        let eps: Vec<Value> = backends
            .iter()
            .map(|(p, ip)| json!({"addresses": [ip], "conditions": {"ready": true, "serving": true, "terminating": false},
                "nodeName": p.pointer("/spec/nodeName"),
                "targetRef": {"kind": "Pod", "namespace": ns, "name": meta(p, "name"), "uid": meta(p, "uid")}}))
            .collect();
        let slice = json!({
            "metadata": {"name": name, "namespace": ns, "labels": slice_labels,
                         "ownerReferences": [owner_ref(&svc, true)]},
            "addressType": "IPv4", "endpoints": eps, "ports": ep_ports,
        });
        upsert(api, sk, ns, name, slice, "endpoints")?;
    }
    Ok(())
}

/// Creates or replaces `obj` when its `field` (and ports) differ from the stored one.
fn upsert(api: &Api, kind_: Kind, ns: &str, name: &str, obj: Value, field: &str) -> Result<()> {
    match api.get(kind_, ns, name) {
        Err(_) => {
            api.create(kind_, ns, obj, false)?;
        }
        Ok(cur) if cur[field] != obj[field] || cur["ports"] != obj["ports"] => {
            api.modify(kind_, ns, name, false, |o| {
                let mut o = o.clone();
                o[field] = obj[field].clone();
                if obj.get("ports").is_some() {
                    o["ports"] = obj["ports"].clone();
                }
                Ok(o)
            })?;
        }
        Ok(_) => {}
    }
    Ok(())
}
