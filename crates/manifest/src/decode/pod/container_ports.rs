//! `spec.containers[].ports[]`: named ports and their uniqueness.

use std::collections::BTreeMap;
use std::net::IpAddr;

use palisade_model::{names, port_number, ContainerPort, Protocol};

use super::super::cursor::Fields;
use super::super::cx::{At, Cx};
use super::super::ports::protocol;
use super::super::scalar::{int, list, string};

/// Where each port name and host port was first declared in the pod.
#[derive(Debug, Default)]
struct Seen {
    names: BTreeMap<String, String>,
    host_ports: BTreeMap<(String, Protocol, u16), String>,
}

/// The container ports of every container, in order.
pub(super) fn decode(
    cx: &mut Cx<'_>,
    containers: &At<'_>,
    host_network: bool,
) -> Vec<ContainerPort> {
    let mut seen = Seen::default();
    let mut out = Vec::new();
    for container in list(cx, containers) {
        let Some(mut f) = Fields::open(cx, &container) else {
            continue;
        };
        let Some(ports) = f.get("ports") else {
            continue;
        };
        let mut own = BTreeMap::new();
        for entry in list(cx, &ports) {
            if let Some(port) = port(cx, &entry, host_network, &mut seen, &mut own) {
                out.push(port);
            }
        }
    }
    out
}

fn port(
    cx: &mut Cx<'_>,
    at: &At<'_>,
    host_network: bool,
    seen: &mut Seen,
    own: &mut BTreeMap<String, String>,
) -> Option<ContainerPort> {
    let mut f = Fields::open(cx, at)?;
    let name = f.get("name").and_then(|a| port_name(cx, &a, seen, own));
    let number = f.require(cx, "containerPort").and_then(|a| number(cx, &a));
    let protocol = match f.get("protocol") {
        Some(a) => protocol(cx, &a),
        None => Some(Protocol::Tcp),
    };
    let host_port = f.get("hostPort");
    let host_ip = f.get("hostIP").and_then(|a| host_ip(cx, &a));
    f.finish(cx);
    if let Some(a) = host_port {
        let key = (
            host_ip.unwrap_or_default(),
            protocol.unwrap_or(Protocol::Tcp),
            number,
        );
        host(cx, &a, key, host_network, seen);
    }
    Some(ContainerPort {
        name,
        port: number?,
        protocol: protocol?,
    })
}

fn number(cx: &mut Cx<'_>, at: &At<'_>) -> Option<u16> {
    let n = int(cx, at)?;
    port_number(n).map_err(|e| cx.error(at, e.to_string())).ok()
}

/// A port name: an IANA service name, unique within its container (an API
/// error) and preferably within the pod (named ports resolve to the first).
fn port_name(
    cx: &mut Cx<'_>,
    at: &At<'_>,
    seen: &mut Seen,
    own: &mut BTreeMap<String, String>,
) -> Option<String> {
    let name = string(cx, at)?;
    if let Err(reason) = names::iana_svc_name(&name) {
        cx.error(at, format!("invalid port name {name:?}: {reason}"));
    } else if let Some(first) = own.get(&name) {
        cx.error(
            at,
            format!("duplicate port name {name:?} (first at {first})"),
        );
    } else if let Some(first) = seen.names.get(&name) {
        let message = format!(
            "port name {name:?} is also used at {first}; named ports resolve to that first one"
        );
        cx.warn(at, message);
    }
    own.entry(name.clone()).or_insert_with(|| at.path.clone());
    seen.names
        .entry(name.clone())
        .or_insert_with(|| at.path.clone());
    Some(name)
}

fn host_ip(cx: &mut Cx<'_>, at: &At<'_>) -> Option<String> {
    let text = string(cx, at)?;
    if text.parse::<IpAddr>().is_err() {
        cx.error(at, format!("invalid IP address {text:?}"));
    }
    Some(text)
}

/// `hostPort`: 0 (none) or a port number, unique per host IP and protocol
/// in the pod, and equal to `containerPort` on the host network.
fn host(
    cx: &mut Cx<'_>,
    at: &At<'_>,
    (ip, protocol, container): (String, Protocol, Option<u16>),
    host_network: bool,
    seen: &mut Seen,
) {
    let Some(n) = int(cx, at) else { return };
    if n == 0 {
        return;
    }
    let Some(port) = port_number(n).map_err(|e| cx.error(at, e.to_string())).ok() else {
        return;
    };
    if host_network && container.is_some_and(|c| c != port) {
        cx.error(
            at,
            format!("hostPort {port} must equal containerPort when hostNetwork is true"),
        );
    }
    let key = (ip, protocol, port);
    if let Some(first) = seen.host_ports.get(&key) {
        cx.error(
            at,
            format!("duplicate hostPort {port}/{protocol} (first at {first})"),
        );
    } else {
        seen.host_ports.insert(key, at.path.clone());
    }
}
