//! The standard world most cases start from (`world: standard`).
//!
//! Namespaces `x`, `y`, `z`, labelled `ns: <name>`; in each, pods `a`, `b`,
//! `c`, labelled `pod: <name>`, at `10.0.<namespace index>.<pod index>`
//! (1-based), each serving ports 80 and 81 on TCP, UDP and SCTP under the
//! container port names `serve-<port>-<protocol>`.

use std::net::{IpAddr, Ipv4Addr};

use palisade_manifest::Object;
use palisade_model::{ContainerPort, Labels, Namespace, Pod, Protocol};

/// The standard namespaces, in order.
pub const NAMESPACES: [&str; 3] = ["x", "y", "z"];

/// The standard pods of each namespace, in order.
pub const PODS: [&str; 3] = ["a", "b", "c"];

/// The ports every standard pod serves.
pub const PORTS: [u16; 2] = [80, 81];

/// The address of pod number `pod` (1-based) in namespace number `ns` (1-based).
pub fn pod_ip(ns: u8, pod: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, ns, pod))
}

/// `serve-80-tcp`, ..., `serve-81-sctp`, in that order (TCP, UDP, SCTP; 80, 81).
pub fn serving_ports() -> Vec<ContainerPort> {
    let mut out = Vec::new();
    for protocol in Protocol::ALL {
        for port in PORTS {
            let name = format!("serve-{port}-{}", protocol.as_str().to_ascii_lowercase());
            out.push(ContainerPort {
                name: Some(name),
                port,
                protocol,
            });
        }
    }
    out
}

/// Namespaces `x`, `y`, `z`, labelled `ns: <name>` (and, by construction,
/// `kubernetes.io/metadata.name: <name>`).
pub fn namespaces() -> Vec<Namespace> {
    NAMESPACES
        .iter()
        .map(|ns| Namespace::new(ns, Labels::from([("ns", *ns)])))
        .collect()
}

/// The nine pods, in table order `x/a`, `x/b`, ..., `z/c`.
pub fn pods() -> Vec<Pod> {
    let mut out = Vec::new();
    for (ns_index, ns) in (1..).zip(NAMESPACES) {
        for (pod_index, name) in (1..).zip(PODS) {
            let labels = Labels::from([("pod", name)]);
            let mut pod = Pod::new(ns, name, labels, Some(pod_ip(ns_index, pod_index)));
            pod.ports = serving_ports();
            out.push(pod);
        }
    }
    out
}

/// The namespaces, then the pods, in creation order.
pub fn objects() -> Vec<Object> {
    let namespaces = namespaces().into_iter().map(Object::Namespace);
    namespaces
        .chain(pods().into_iter().map(Object::Pod))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nine_pods_in_table_order_with_their_addresses() {
        let pods = pods();
        let ids: Vec<String> = pods.iter().map(|p| p.id().to_string()).collect();
        assert_eq!(
            ids,
            ["x/a", "x/b", "x/c", "y/a", "y/b", "y/c", "z/a", "z/b", "z/c"]
        );
        assert_eq!(pods[0].ips, [pod_ip(1, 1)]);
        assert_eq!(pods[5].ips, ["10.0.2.3".parse::<IpAddr>().unwrap()]);
        assert_eq!(pods[8].labels, Labels::from([("pod", "c")]));
    }

    #[test]
    fn every_pod_serves_both_ports_on_every_protocol_by_name() {
        for pod in pods() {
            assert_eq!(pod.ports.len(), 6);
            assert_eq!(pod.named_port("serve-80-tcp", Protocol::Tcp), Some(80));
            assert_eq!(pod.named_port("serve-81-udp", Protocol::Udp), Some(81));
            assert_eq!(pod.named_port("serve-80-sctp", Protocol::Sctp), Some(80));
            assert_eq!(pod.named_port("serve-80-tcp", Protocol::Udp), None);
        }
    }

    #[test]
    fn namespaces_carry_ns_and_metadata_name_labels() {
        let y = &namespaces()[1];
        assert_eq!(y.name, "y");
        assert_eq!(y.labels().get("ns"), Some("y"));
        assert_eq!(
            y.labels().get(palisade_model::METADATA_NAME_LABEL),
            Some("y")
        );
        assert_eq!(objects().len(), 12);
    }
}
