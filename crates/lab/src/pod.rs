//! Wiring a pod (or the external host) to the node with a veth pair.
//!
//! Pod side: `eth0` with the pod's addresses as /32 (/128), a default route via
//! the link-local gateway and a permanent neighbour entry for it. Node side: the
//! host veth up, a host route and a permanent neighbour entry per pod address.
//! Static neighbours make the first probe as fast as the thousandth.

use std::fmt::Write as _;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::cmd;
use crate::hosts;
use crate::names::{self, GATEWAY_MAC, GATEWAY_V4, GATEWAY_V6, POD_IF};
use crate::netns;
use crate::node::{Node, NodeError};

/// A pod's network as the lab wired it (serializable, for the lab state).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodNet {
    /// The pod key, e.g. `x/a`.
    pub key: String,
    /// The pod's netns name.
    pub netns: String,
    /// The host-side veth, inside the node netns.
    pub host_if: String,
    /// The pod-side interface (always `eth0`).
    pub pod_if: String,
    /// The MAC address of the pod's `eth0`.
    pub mac: String,
    /// The pod's addresses.
    pub ips: Vec<IpAddr>,
}

/// Creates `netns` and wires it to the node under `key`.
pub(crate) fn wire(node: &Node, key: &str, ns: &str, ips: &[IpAddr]) -> Result<PodNet, NodeError> {
    if netns::exists(ns) {
        return Err(NodeError::Exists(ns.to_owned()));
    }
    let pod = PodNet {
        key: key.to_owned(),
        netns: ns.to_owned(),
        host_if: names::host_veth(node.prefix(), key),
        pod_if: POD_IF.to_owned(),
        mac: names::pod_mac(node.prefix(), key),
        ips: ips.to_vec(),
    };
    netns::create(ns)?;
    configure(&node.netns(), &pod).inspect_err(|_| {
        let _ = cmd::run("ip", &["-n", &node.netns(), "link", "del", &pod.host_if]);
        let _ = netns::delete(ns);
    })?;
    Ok(pod)
}

/// Kills what runs in the pod, deletes its veth (and so its routes), netns and hosts dir.
pub(crate) fn unwire(node: &Node, key: &str, ns: &str) -> Result<(), NodeError> {
    let host_if = names::host_veth(node.prefix(), key);
    if netns::exists(ns) {
        crate::node::kill_all_in(ns)?;
    }
    let link_gone = cmd::run("ip", &["-n", &node.netns(), "link", "del", &host_if]);
    let netns_gone = netns::delete(ns);
    hosts::remove(ns).map_err(|source| NodeError::Io {
        context: format!("removing hosts of {ns}"),
        source,
    })?;
    match (link_gone, netns_gone) {
        (Err(_), Err(e)) => Err(e.into()),
        _ => Ok(()),
    }
}

/// Adds `ip` to the pod side and routes it from the node.
pub(crate) fn add_address(node: &Node, key: &str, ns: &str, ip: IpAddr) -> Result<(), NodeError> {
    let host_if = names::host_veth(node.prefix(), key);
    let mac = names::pod_mac(node.prefix(), key);
    cmd::run_with_input(
        "ip",
        &["-n", ns, "-batch", "-"],
        Some(&address_line("add", ip)),
    )?;
    let node_side = node_route_lines(&host_if, &mac, ip);
    cmd::run_with_input(
        "ip",
        &["-n", &node.netns(), "-batch", "-"],
        Some(&node_side),
    )?;
    Ok(())
}

/// Removes an address added by [`add_address`] (its route goes with the neighbour entry).
pub(crate) fn remove_address(
    node: &Node,
    key: &str,
    ns: &str,
    ip: IpAddr,
) -> Result<(), NodeError> {
    let host_if = names::host_veth(node.prefix(), key);
    let node_side = format!(
        "route del {}/{} dev {host_if}\nneigh del {ip} dev {host_if}\n",
        ip,
        max_len(ip)
    );
    cmd::run_with_input(
        "ip",
        &["-n", &node.netns(), "-batch", "-"],
        Some(&node_side),
    )?;
    cmd::run_with_input(
        "ip",
        &["-n", ns, "-batch", "-"],
        Some(&address_line("del", ip)),
    )?;
    Ok(())
}

fn configure(node_ns: &str, pod: &PodNet) -> Result<(), NodeError> {
    let veth = [
        "-n",
        node_ns,
        "link",
        "add",
        &pod.host_if,
        "address",
        GATEWAY_MAC,
        "type",
        "veth",
        "peer",
        "name",
        &pod.pod_if,
        "address",
        &pod.mac,
        "netns",
        &pod.netns,
    ];
    cmd::run("ip", &veth)?;
    cmd::run_with_input(
        "ip",
        &["-n", &pod.netns, "-batch", "-"],
        Some(&pod_side_batch(pod)),
    )?;
    cmd::run_with_input(
        "ip",
        &["-n", node_ns, "-batch", "-"],
        Some(&node_side_batch(pod)),
    )?;
    Ok(())
}

/// `ip -batch` lines for the pod side.
pub(crate) fn pod_side_batch(pod: &PodNet) -> String {
    let eth = &pod.pod_if;
    let mut out = format!("link set lo up\nlink set {eth} up\n");
    for &ip in &pod.ips {
        out.push_str(&address_line("add", ip));
    }
    let _ = writeln!(out, "route add {GATEWAY_V4} dev {eth} scope link");
    let _ = writeln!(out, "route add default via {GATEWAY_V4} dev {eth}");
    let _ = writeln!(
        out,
        "neigh add {GATEWAY_V4} lladdr {GATEWAY_MAC} dev {eth} nud permanent"
    );
    let _ = writeln!(out, "route add default via {GATEWAY_V6} dev {eth}");
    let _ = writeln!(
        out,
        "neigh add {GATEWAY_V6} lladdr {GATEWAY_MAC} dev {eth} nud permanent"
    );
    out
}

/// `ip -batch` lines for the node side.
pub(crate) fn node_side_batch(pod: &PodNet) -> String {
    let mut out = format!("link set {} up\n", pod.host_if);
    for &ip in &pod.ips {
        out.push_str(&node_route_lines(&pod.host_if, &pod.mac, ip));
    }
    out
}

fn node_route_lines(host_if: &str, mac: &str, ip: IpAddr) -> String {
    let len = max_len(ip);
    format!(
        "route add {ip}/{len} dev {host_if}\nneigh add {ip} lladdr {mac} dev {host_if} nud permanent\n"
    )
}

fn address_line(verb: &str, ip: IpAddr) -> String {
    let nodad = if ip.is_ipv6() && verb == "add" {
        " nodad"
    } else {
        ""
    };
    format!("addr {verb} {ip}/{} dev {POD_IF}{nodad}\n", max_len(ip))
}

fn max_len(ip: IpAddr) -> u8 {
    if ip.is_ipv4() {
        32
    } else {
        128
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod() -> PodNet {
        PodNet {
            key: "x/a".into(),
            netns: "lab-pod-x_a".into(),
            host_if: "pv0123456789ab".into(),
            pod_if: "eth0".into(),
            mac: "02:01:02:03:04:05".into(),
            ips: vec!["10.0.1.1".parse().unwrap(), "fd00::1".parse().unwrap()],
        }
    }

    #[test]
    fn pod_side_has_addresses_gateway_and_neighbours() {
        let batch = pod_side_batch(&pod());
        assert!(batch.contains("addr add 10.0.1.1/32 dev eth0\n"));
        assert!(batch.contains("addr add fd00::1/128 dev eth0 nodad\n"));
        assert!(batch.contains("route add default via 169.254.1.1 dev eth0\n"));
        assert!(batch.contains("neigh add fe80::1 lladdr ee:ee:ee:ee:ee:ee dev eth0 nud permanent"));
    }

    #[test]
    fn node_side_routes_each_address() {
        let batch = node_side_batch(&pod());
        assert!(batch.starts_with("link set pv0123456789ab up\n"));
        assert!(batch.contains("route add 10.0.1.1/32 dev pv0123456789ab\n"));
        assert!(batch.contains("neigh add fd00::1 lladdr 02:01:02:03:04:05 dev pv0123456789ab"));
    }
}
