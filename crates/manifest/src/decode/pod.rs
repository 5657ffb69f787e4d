//! Pods: labels, `spec.hostNetwork`, `spec.nodeName`, container ports and
//! `status.podIP(s)`. Other Pod fields are legitimate and left alone.

mod container_ports;
mod status;

use palisade_model::{names, ContainerPort, Pod};

use super::cursor::Fields;
use super::cx::{At, Cx};
use super::meta::Meta;
use super::scalar::{boolean, string};

/// What palisade reads from a pod `spec` (also a workload's pod template).
#[derive(Debug, Default)]
pub(super) struct Spec {
    pub host_network: bool,
    pub node_name: Option<String>,
    pub ports: Vec<ContainerPort>,
}

/// Decodes a Pod's `spec` and `status`, keeping what NetworkPolicy needs.
pub(crate) fn decode(cx: &mut Cx<'_>, top: &mut Fields<'_>, meta: &Meta) -> Option<Pod> {
    let spec = top.get("spec").map(|a| spec(cx, &a)).unwrap_or_default();
    let ips = top
        .get("status")
        .map(|a| status::ips(cx, &a))
        .unwrap_or_default();
    Some(Pod {
        namespace: meta.namespace.clone(),
        name: meta.name.clone()?,
        labels: meta.labels.clone(),
        ips,
        host_network: spec.host_network,
        node_name: spec.node_name,
        ports: spec.ports,
        source: None,
        workload: None,
    })
}

/// Reads the fields palisade uses; the many others are not reported.
pub(super) fn spec(cx: &mut Cx<'_>, at: &At<'_>) -> Spec {
    let Some(mut f) = Fields::open(cx, at) else {
        return Spec::default();
    };
    let host_network = f
        .get("hostNetwork")
        .and_then(|a| boolean(cx, &a))
        .unwrap_or(false);
    let node_name = f.get("nodeName").and_then(|a| node_name(cx, &a));
    let ports = match f.get("containers") {
        Some(a) => container_ports::decode(cx, &a, host_network),
        None => Vec::new(),
    };
    Spec {
        host_network,
        node_name,
        ports,
    }
}

fn node_name(cx: &mut Cx<'_>, at: &At<'_>) -> Option<String> {
    let name = string(cx, at)?;
    if let Err(reason) = names::dns1123_subdomain(&name) {
        cx.error(at, format!("invalid node name {name:?}: {reason}"));
    }
    Some(name)
}

#[cfg(test)]
mod tests;
