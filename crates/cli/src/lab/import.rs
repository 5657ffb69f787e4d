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

use super::out::Out;
use super::resident::{Lab, Touch};
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

/// Adds `batch` to `state` (checked first: nothing changes on error).
/// `local` puts every imported pod on the lab's node.
pub fn add(state: &mut LabState, batch: Batch, local: bool) -> Result<()> {
    check(state, &batch)?;
    for ns in &batch.namespaces {
        state.add_namespace(ns);
    }
    for p in batch.pods {
        state.namespaces.entry(p.namespace.clone()).or_default();
        let node = match local {
            true => None,
            false => p.node_name.clone().filter(|n| n != LAB_NODE),
        };
        state
            .pods
            .insert(p.id(), LabPod::from_model(&p, true, node));
    }
    for p in batch.policies {
        state.namespaces.entry(p.namespace.clone()).or_default();
        state.policies.insert(p.reference(), p);
    }
    Ok(())
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

/// `palisade lab import`.
pub fn run(lab: &mut Lab, files: &[PathBuf], local: bool) -> Result<()> {
    let batch = read(files, lab.caller.stdin.as_deref(), &mut lab.out)?;
    let counts = (
        batch.namespaces.len(),
        batch.pods.len(),
        batch.policies.len(),
    );
    add(lab.state(), batch, local)?;
    lab.touch(Touch::All);
    lab.commit()?;
    lab.out.say(format_args!(
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
    Ok(())
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
    fn imported_pods_are_state_only_and_keep_their_nodes() {
        let mut s = LabState::new("t");
        add(&mut s, synth_batch(), false).unwrap();
        assert_eq!((s.pods.len(), s.policies.len()), (50, 10));
        assert!(s.pods.values().all(|p| p.state_only && p.node.is_some()));
        let c = s.to_cluster();
        assert_eq!(c.pods().count(), 50);
        let mut local = LabState::new("t");
        add(&mut local, synth_batch(), true).unwrap();
        assert!(local.pods.values().all(|p| p.node.is_none()));
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<LabState>(&json).unwrap(), s);
    }

    #[test]
    fn an_address_clash_imports_nothing() {
        let mut s = LabState::new("t");
        let mut b = synth_batch();
        let ip = b.pods[0].ips[0];
        b.pods[1].ips = vec![ip];
        let e = add(&mut s, b, false).unwrap_err().to_string();
        assert!(e.contains("has address"), "{e}");
        assert!(s.pods.is_empty() && s.policies.is_empty());
    }
}
