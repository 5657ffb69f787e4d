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

/// Removes a Service from the state; the caller commits (which replaces
/// the Service table and rewrites hosts files).
pub fn remove(lab: &mut Lab, id: &PodId) -> Result<()> {
    lab.state().services.remove(id).with_context(|| {
        format!(
            "services {:?} not found in namespace {:?}",
            id.name, id.namespace
        )
    })?;
    Ok(())
}

/// Every Service port with at least one endpoint, as DNAT.
fn dnats(state: &LabState) -> Vec<ServiceDnat> {
    let mut out = vec![];
    for svc in state.services.values() {
        let endpoints = state.endpoints(svc);
        for (key, target) in keys(svc) {
            let backends: Vec<SocketAddr> = endpoints
                .iter()
                .map(|p| SocketAddr::new(p.ip, target))
                .collect();
            if !backends.is_empty() {
                out.push(ServiceDnat { key, backends });
            }
        }
    }
    out
}

/// Replaces the node's Service table with every Service of the state (one
/// transaction: a table flushed or deleted behind the lab's back comes
/// back whole) and returns the table as listed afterwards (what a drift
/// check compares with).
pub fn sync_table(node: &Node, state: &LabState) -> Result<String> {
    node.replace_services(&dnats(state))
        .context("programming the Service table")?;
    node.list_services()
        .context("listing the Service table just programmed")
}

/// The hosts-file entries: every Service's names.
fn entries(state: &LabState) -> Vec<hosts::HostsEntry> {
    state
        .services
        .values()
        .map(|s| hosts::service_entry(s.cluster_ip, &s.name, &s.namespace))
        .collect()
}

fn real_pods(state: &LabState) -> impl Iterator<Item = &PodId> {
    state
        .pods
        .iter()
        .filter(|(_, p)| p.is_real())
        .map(|(id, _)| id)
}

/// Writes every pod's hosts file with every Service's names.
pub fn write_hosts(node: &Node, state: &LabState) -> Result<()> {
    let entries = entries(state);
    for id in real_pods(state) {
        hosts::write(&node.pod_netns(&id.to_string()), &entries)
            .context("writing a pod's hosts file")?;
    }
    Ok(())
}

/// Rewrites the hosts files that differ from what they should hold
/// (edited, truncated or removed behind the lab's back); the pods whose
/// file was repaired.
pub fn repair_hosts(node: &Node, state: &LabState) -> Result<Vec<PodId>> {
    let entries = entries(state);
    let want = hosts::render(&entries);
    let mut repaired = vec![];
    for id in real_pods(state) {
        let netns = node.pod_netns(&id.to_string());
        if std::fs::read_to_string(hosts::hosts_path(&netns))
            .ok()
            .as_deref()
            != Some(&want)
        {
            hosts::write(&netns, &entries).context("writing a pod's hosts file")?;
            repaired.push(id.clone());
        }
    }
    Ok(repaired)
}
