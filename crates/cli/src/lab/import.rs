//! `lab import -f PATH...`: cluster STATE at scale (namespaces, pods,
//! policies from manifests, e.g. `palisade-synth --out DIR`), without a
//! network namespace per pod.
//!
//! Imported pods are state only: they keep the address of their manifest
//! (`status.podIP`) and are compiled into the ruleset exactly like the lab's
//! real pods, as peers, and as subjects too when they are on the lab's node
//! (`--local`, or a manifest `nodeName` of `lab`). Pods on other nodes are
//! peers only, as on a real node (node-local compile scope).

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Result};
use palisade_manifest::{load_paths, parse_str, Object};
use palisade_model::{Namespace, NetworkPolicy, Pod, PodId};

use palisade_apimachinery::store::resource_version;
use serde_json::{json, Value};

use super::controller::Ctx;
use super::kapi;
use super::out::Out;
use super::realize::STATE_ONLY;
use super::state::{LabPod, LabState, LAB_NODE};

/// What one import adds.
#[derive(Debug, Default)]
pub struct Batch {
    pub namespaces: Vec<Namespace>,
    pub pods: Vec<Pod>,
    pub policies: Vec<NetworkPolicy>,
}

/// Reads `files` (`-`: `stdin`, the caller's standard input); any rejected
/// object rejects the whole import. Diagnostics go to `out`.
pub fn read(files: &[PathBuf], stdin: Option<&str>, out: &mut Out) -> Result<Batch> {
    let (dash, paths): (Vec<&PathBuf>, Vec<&PathBuf>) =
        files.iter().partition(|f| f.as_os_str() == "-");
    let mut loaded = load_paths(&paths);
    if !dash.is_empty() {
        let Some(text) = stdin else {
            bail!("-f -: no standard input was sent");
        };
        loaded.extend(parse_str("<stdin>", text));
    }
    loaded.diagnostics.iter().for_each(|d| out.warn(d));
    if loaded.has_errors() {
        bail!("nothing was imported: fix the errors above");
    }
    let mut batch = Batch::default();
    for obj in loaded.objects {
        match obj {
            Object::Namespace(ns) => batch.namespaces.push(ns),
            Object::Pod(p) if p.workload.is_some() => {
                bail!(
                    "{}: lab import takes Pods with addresses, not workloads",
                    p.id()
                )
            }
            Object::Pod(p) => batch.pods.push(p),
            Object::NetworkPolicy(p) => batch.policies.push(p),
        }
    }
    Ok(batch)
}

/// Imported pods need an address, must not replace a real pod, and must not
/// take the address of another pod.
fn check(state: &LabState, batch: &Batch) -> Result<()> {
    let mut owner: BTreeMap<std::net::IpAddr, PodId> = state
        .pods
        .iter()
        .map(|(id, p)| (p.ip, id.clone()))
        .collect();
    for p in &batch.pods {
        let id = p.id();
        if p.ips.is_empty() {
            bail!("nothing was imported: pod {id} has no address (status.podIP)");
        }
        if p.host_network {
            bail!(
                "nothing was imported: pod {id} is host-network; lab import takes pod-network pods"
            );
        }
        if state.pods.get(&id).is_some_and(LabPod::is_real) {
            bail!("nothing was imported: pod {id} is already a real pod of the lab");
        }
        if let Some(other) = owner.insert(p.ips[0], id.clone()) {
            if other != id {
                bail!(
                    "nothing was imported: pod {id} has address {} of pod {other}",
                    p.ips[0]
                );
            }
        }
    }
    Ok(())
}

/// `palisade lab import`: the batch's objects created through the lab's
/// API (pods marked state-only, with their address), after checking the
/// whole batch against what the API holds; returns the last
/// resourceVersion written.
pub fn run(
    ctx: &Ctx,
    files: &[PathBuf],
    local: bool,
    stdin: Option<&str>,
    out: &mut Out,
) -> Result<u64> {
    let batch = read(files, stdin, out)?;
    let api = &ctx.api;
    let kind = |g, p| api.kind(g, "v1", p).expect("a built-in kind");
    let (nsk, podk) = (kind("", "namespaces"), kind("", "pods"));
    check(&current_state(api, podk), &batch)?;
    let counts = (
        batch.namespaces.len(),
        batch.pods.len(),
        batch.policies.len(),
    );
    let mut rv = 0;
    let mut note = |o: Result<std::sync::Arc<Value>, palisade_apimachinery::Status>| -> Result<()> {
        rv = rv.max(resource_version(o?.as_ref()));
        Ok(())
    };
    let objects = api_objects(&batch, local)?;
    for (plural, obj) in objects {
        let k = kind(
            if plural == "networkpolicies" {
                "networking.k8s.io"
            } else {
                ""
            },
            plural,
        );
        let ns = obj["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
        if k == nsk {
            match api.get(nsk, "", &name) {
                Ok(_) => note(api.modify(nsk, "", &name, false, |old| {
                    let mut new = old.clone();
                    if obj["metadata"].get("labels").is_some() {
                        new["metadata"]["labels"] = obj["metadata"]["labels"].clone();
                    }
                    Ok(new)
                }))?,
                Err(_) => note(api.create(nsk, "", obj, false))?,
            }
            continue;
        }
        let _ = api.delete(k, &ns, &name);
        note(api.create(k, &ns, obj, false))?;
    }
    out.say(format_args!(
        "imported {} namespaces, {} pods ({}), {} network policies",
        counts.0,
        counts.1,
        if local {
            "on the lab's node"
        } else {
            "on their own nodes"
        },
        counts.2
    ));
    Ok(rv)
}

/// The batch as API objects, by plural: namespaces (also those only
/// named by a pod or policy), pods marked state-only with their address
/// (on the lab's node with `local`), policies.
pub fn api_objects(batch: &Batch, local: bool) -> Result<Vec<(&'static str, Value)>> {
    let mut out = vec![];
    let mut namespaces: BTreeMap<String, Value> = BTreeMap::new();
    for ns in &batch.namespaces {
        let mut labels = ns.labels().clone();
        labels.remove(palisade_model::METADATA_NAME_LABEL);
        namespaces.insert(
            ns.name.clone(),
            json!({"metadata": {"name": ns.name, "labels": kapi::labels_json(&labels)}}),
        );
    }
    for name in batch
        .pods
        .iter()
        .map(|p| &p.namespace)
        .chain(batch.policies.iter().map(|p| &p.namespace))
    {
        namespaces
            .entry(name.clone())
            .or_insert_with(|| json!({"metadata": {"name": name}}));
    }
    out.extend(namespaces.into_values().map(|o| ("namespaces", o)));
    for p in &batch.pods {
        let node = match local {
            true => LAB_NODE.to_string(),
            false => p.node_name.clone().unwrap_or_else(|| LAB_NODE.to_string()),
        };
        let ports: Vec<Value> = p.ports.iter().map(kapi::port_json).collect();
        out.push(("pods", json!({
            "metadata": {"name": p.name, "namespace": p.namespace, "labels": kapi::labels_json(&p.labels), "annotations": {STATE_ONLY: "true"}},
            "spec": {"nodeName": node, "containers": [{"name": "state", "image": "palisade-lab/state-only", "ports": ports}]},
            "status": {"phase": "Running", "podIP": p.ips[0].to_string(), "podIPs": p.ips.iter().map(|ip| json!({"ip": ip.to_string()})).collect::<Vec<_>>()},
        })));
    }
    for (_, _, obj) in policy_objects(&batch.policies)? {
        out.push(("networkpolicies", obj));
    }
    Ok(out)
}

/// The pods the API holds, as lab state (for the batch's checks).
fn current_state(
    api: &palisade_apiserver::Api,
    podk: palisade_apimachinery::store::Kind,
) -> LabState {
    let mut s = LabState::new("check");
    for o in api.list(podk, None).0 {
        let (Some(ns), Some(name)) = (
            o["metadata"]["namespace"].as_str(),
            o["metadata"]["name"].as_str(),
        ) else {
            continue;
        };
        let Some(ip) = o
            .pointer("/status/podIP")
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
        else {
            continue;
        };
        let state_only = o
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(STATE_ONLY))
            .is_some();
        let pod = palisade_model::Pod::new(ns, name, palisade_model::Labels::new(), Some(ip));
        s.pods
            .insert(pod.id(), LabPod::from_model(&pod, state_only, None));
    }
    s
}

/// The policies as API objects: rendered as manifests by the one renderer
/// (`palisade-synth`'s) and read back as JSON.
fn policy_objects(policies: &[NetworkPolicy]) -> Result<Vec<(String, String, Value)>> {
    let mut c = palisade_model::Cluster::new();
    policies.iter().for_each(|p| c.upsert_policy(p.clone()));
    let text = palisade_synth::to_yaml(&c);
    let docs = palisade_manifest::yaml::parse(&text)
        .map_err(|e| anyhow::anyhow!("rendering the policies: {e}"))?;
    Ok(docs
        .iter()
        .filter(|d| d.get("kind").and_then(|k| k.as_str()) == Some("NetworkPolicy"))
        .map(|d| {
            let obj = super::apply::to_json(d);
            let ns = obj["metadata"]["namespace"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
            (ns, name, obj)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synth_batch() -> Batch {
        let c = palisade_synth::generate(&palisade_synth::Params::new(50, 10));
        Batch {
            namespaces: c.namespaces().cloned().collect(),
            pods: c.pods().cloned().collect(),
            policies: c.policies().cloned().collect(),
        }
    }

    #[test]
    fn an_address_clash_imports_nothing() {
        let mut s = LabState::new("t");
        let mut b = synth_batch();
        let ip = b.pods[0].ips[0];
        b.pods[1].ips = vec![ip];
        let e = check(&s, &b).unwrap_err().to_string();
        assert!(e.contains("has address"), "{e}");
        assert!(check(&s, &synth_batch()).is_ok());
        s.pods.clear();
    }
}
