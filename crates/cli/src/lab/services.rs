//! Services: a cluster IP DNATed to the pods its selector matches, and a
//! DNS name in every pod's hosts file.

use std::net::SocketAddr;

use anyhow::{Context, Result};
use palisade_lab::{hosts, Node, ServiceDnat, ServiceKey};
use palisade_model::PodId;

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
