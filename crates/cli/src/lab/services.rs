//! Services: a cluster IP DNATed to the pods its selector matches, and a
//! DNS name in every pod's hosts file.

use std::net::SocketAddr;

use anyhow::{bail, Context, Result};
use palisade_lab::{hosts, Node, ServiceDnat, ServiceKey};
use palisade_model::{PodId, Protocol};

use super::lab_protocol;
use super::resident::Lab;
use super::state::{LabService, LabState};

fn keys(svc: &LabService) -> impl Iterator<Item = (ServiceKey, u16)> + '_ {
    svc.ports.iter().map(|(port, target, proto)| {
        (
            ServiceKey {
                cluster_ip: svc.cluster_ip,
                protocol: lab_protocol(*proto),
                port: *port,
            },
            *target,
        )
    })
}

/// `lab expose POD`: a Service selecting the pod's labels (as `kubectl expose pod` does).
pub fn expose(
    lab: &mut Lab,
    ns: &str,
    pod: &str,
    name: Option<&str>,
    (port, target): (u16, u16),
    proto: &str,
) -> Result<()> {
    let protocol: Protocol = proto.to_ascii_uppercase().parse()?;
    let pod_id = PodId::new(ns, pod);
    let labels = lab
        .state()
        .pods
        .get(&pod_id)
        .with_context(|| format!("pods {pod:?} not found in namespace {ns:?}"))?
        .labels
        .clone();
    let name = name.unwrap_or(pod);
    palisade_model::names::dns1123_label(name)
        .map_err(|e| anyhow::anyhow!("invalid service name {name:?}: {e}"))?;
    let id = PodId::new(ns, name);
    if lab.state().services.contains_key(&id) {
        bail!("services {name:?} already exists");
    }
    let cluster_ip = lab.state().allocate_service_ip();
    let svc = LabService {
        namespace: ns.into(),
        name: name.into(),
        cluster_ip,
        ports: vec![(port, target, protocol)],
        selector: labels,
    };
    lab.state().services.insert(id, svc);
    lab.commit()?;
    lab.out.say(format_args!("service/{name} exposed"));
    Ok(())
}

/// Removes a Service's DNAT now; the caller commits (which rewrites hosts files).
pub fn remove(lab: &mut Lab, id: &PodId) -> Result<()> {
    let svc = lab.state().services.remove(id).with_context(|| {
        format!(
            "services {:?} not found in namespace {:?}",
            id.name, id.namespace
        )
    })?;
    for (key, _) in keys(&svc) {
        let _ = lab.node.remove_service(&key);
    }
    Ok(())
}

/// Points every Service at the pods its selector matches now, and writes
/// every pod's hosts file with every Service's names.
pub fn sync(node: &Node, state: &LabState) -> Result<()> {
    for svc in state.services.values() {
        let endpoints = state.endpoints(svc);
        for (key, target) in keys(svc) {
            let backends: Vec<SocketAddr> = endpoints
                .iter()
                .map(|p| SocketAddr::new(p.ip, target))
                .collect();
            if backends.is_empty() {
                let _ = node.remove_service(&key);
            } else {
                node.add_service(&ServiceDnat { key, backends })
                    .with_context(|| format!("programming service {}", svc.dns_name()))?;
            }
        }
    }
    let entries: Vec<_> = state
        .services
        .values()
        .map(|s| hosts::service_entry(s.cluster_ip, &s.name, &s.namespace))
        .collect();
    for id in state
        .pods
        .iter()
        .filter(|(_, p)| p.is_real())
        .map(|(id, _)| id)
    {
        hosts::write(&node.pod_netns(&id.to_string()), &entries)
            .context("writing a pod's hosts file")?;
    }
    Ok(())
}
