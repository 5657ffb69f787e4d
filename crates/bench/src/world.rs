//! The benchmark's cluster: `palisade-synth` state plus two probe pods.
//!
//! The synthetic cluster (`Params::new(pods, policies)`, default seed) is
//! pure state: its pods have addresses in 10.0.0.0/8 and no network
//! namespace. The `bench` namespace adds a `client` and a `server` pod, the
//! only real ones, and [`PROBE_POLICIES`] select them, so their packets go
//! through real subject chains whose peer sets also hold synthetic pods:
//!
//! - `default-deny` isolates both probe pods for ingress and egress;
//! - `server-ingress` lets `web` pods of every namespace, then the client,
//!   reach the server on [`CONN_PORT`] and [`IPERF_PORT`];
//! - `client-egress` lets the client reach `api` pods of every namespace,
//!   then the server, on those ports and [`CONTROL_PORT`].
//!
//! [`CONTROL_PORT`] on the server is open only when [`ALLOW_LABELLED`] is in
//! force and the client carries [`PROBE_LABEL`], or when [`ALLOW_CONTROL`]
//! is applied: the control-path benchmark flips those.

use std::net::IpAddr;

use palisade_manifest::{parse_str, Object};
use palisade_model::{Cluster, Labels, Namespace, NetworkPolicy, Pod, PodId, PolicyRef};
use palisade_synth::Params;

/// The namespace of the probe pods.
pub const NS: &str = "bench";
/// The connection-rate server's port.
pub const CONN_PORT: u16 = 7000;
/// The control-path prober's port (closed by default).
pub const CONTROL_PORT: u16 = 7001;
/// iperf3's port.
pub const IPERF_PORT: u16 = 5201;
/// The label that opens [`CONTROL_PORT`] while [`ALLOW_LABELLED`] is in force.
pub const PROBE_LABEL: (&str, &str) = ("probe", "allowed");

/// The policies selecting the probe pods (see the module docs).
pub const PROBE_POLICIES: &str = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: bench}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: server-ingress, namespace: bench}
spec:
  podSelector: {matchLabels: {role: server}}
  ingress:
  - from:
    - namespaceSelector: {}
      podSelector: {matchLabels: {app: web}}
    - podSelector: {matchLabels: {role: client}}
    ports: [{port: 7000}, {port: 5201}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: client-egress, namespace: bench}
spec:
  podSelector: {matchLabels: {role: client}}
  policyTypes: [Egress]
  egress:
  - to:
    - namespaceSelector: {}
      podSelector: {matchLabels: {app: api}}
    - podSelector: {matchLabels: {role: server}}
    ports: [{port: 7000}, {port: 5201}, {port: 7001}]
";

/// In force during the label trials: [`CONTROL_PORT`] from pods labelled [`PROBE_LABEL`].
pub const ALLOW_LABELLED: &str = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-labelled}
spec:
  podSelector: {matchLabels: {role: server}}
  ingress:
  - from:
    - podSelector: {matchLabels: {probe: allowed}}
    ports: [{port: 7001}]
";

/// Applied and deleted by the apply/delete trials: [`CONTROL_PORT`] from the client.
pub const ALLOW_CONTROL: &str = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-control}
spec:
  podSelector: {matchLabels: {role: server}}
  ingress:
  - from:
    - podSelector: {matchLabels: {role: client}}
    ports: [{port: 7001}]
";

/// The benchmark's cluster and the facts the harness needs about it.
#[derive(Debug, Clone)]
pub struct World {
    pub cluster: Cluster,
    pub client: PodId,
    pub server: PodId,
    /// Every policy in creation order: the synthetic ones, then the probe
    /// policies (what a linear rule list appends, in that order).
    pub order: Vec<PolicyRef>,
}

/// Errors in the built-in manifests (a bug, reported rather than hidden).
#[derive(Debug, thiserror::Error)]
#[error("built-in manifest {name}: {message}")]
pub struct ManifestError {
    pub name: &'static str,
    pub message: String,
}

/// Parses one of the built-in policy manifests; `ns` fills a missing namespace.
pub fn policies(
    name: &'static str,
    text: &str,
    ns: &str,
) -> Result<Vec<NetworkPolicy>, ManifestError> {
    let loaded = parse_str(name, text);
    if let Some(d) = loaded.diagnostics.iter().find(|d| d.is_error()) {
        return Err(ManifestError {
            name,
            message: d.to_string(),
        });
    }
    Ok(loaded
        .objects
        .into_iter()
        .filter_map(|o| match o {
            Object::NetworkPolicy(mut p) => {
                if p.namespace.is_empty() || p.namespace == "default" {
                    p.namespace = ns.to_string();
                }
                Some(p)
            }
            _ => None,
        })
        .collect())
}

/// The labels of the probe pods.
pub fn probe_labels(role: &str) -> Labels {
    Labels::from([("role", role), ("app", &*format!("bench-{role}"))])
}

/// Which synthetic pods share the probe pods' node (and so are subjects of
/// its ruleset: node-local compile scope). palisade-synth spreads pods over
/// 16 nodes, `node-0` to `node-15`, round robin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Only the probe pods are local.
    ProbesOnly,
    /// The pods of synth's `node-0` (one in 16) are local too: a node of a
    /// 16-node cluster.
    OneNode,
    /// Every synthetic pod is local (one node holding the whole cluster).
    All,
}

/// Builds the world: `pods` synthetic pods and `policies` synthetic
/// policies, plus the probe pods at `client_ip` / `server_ip` on
/// `probe_node`; `scope` says which synthetic pods are on `probe_node` too.
pub fn build(
    pods: usize,
    policies: usize,
    (client_ip, server_ip): (IpAddr, IpAddr),
    probe_node: &str,
    scope: Scope,
) -> Result<World, ManifestError> {
    let mut cluster = palisade_synth::generate(&Params::new(pods, policies));
    let ids: Vec<PodId> = cluster.pods().map(Pod::id).collect();
    for id in ids {
        if let Some(p) = cluster.pod_mut(&id) {
            let local = match scope {
                Scope::ProbesOnly => false,
                Scope::OneNode => p.node_name.as_deref() == Some("node-0"),
                Scope::All => true,
            };
            if local {
                p.node_name = Some(probe_node.to_string());
            }
        }
    }
    let mut order: Vec<PolicyRef> = cluster.policies().map(NetworkPolicy::reference).collect();
    cluster.upsert_namespace(Namespace::new(NS, Labels::new()));
    let mut add_pod = |name: &str, ip: IpAddr| {
        let mut pod = Pod::new(NS, name, probe_labels(name), Some(ip));
        pod.node_name = Some(probe_node.to_string());
        cluster.upsert_pod(pod);
        PodId::new(NS, name)
    };
    let client = add_pod("client", client_ip);
    let server = add_pod("server", server_ip);
    for p in self::policies("probe policies", PROBE_POLICIES, NS)? {
        order.push(p.reference());
        cluster.upsert_policy(p);
    }
    Ok(World {
        cluster,
        client,
        server,
        order,
    })
}

/// A TCP packet from the client to the server on `port`.
pub fn probe_packet(w: &World, port: u16) -> Option<palisade_compile::Packet> {
    let ip = |id: &PodId| w.cluster.pod(id).and_then(|p| p.ips.first().copied());
    Some(palisade_compile::Packet {
        src: ip(&w.client)?,
        dst: ip(&w.server)?,
        protocol: palisade_model::Protocol::Tcp,
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_compile::{compile, interpret, LocalPods};

    pub(crate) fn small() -> World {
        let ips = (
            "10.244.1.10".parse().unwrap(),
            "10.244.1.11".parse().unwrap(),
        );
        build(200, 20, ips, "lab", Scope::All).unwrap()
    }

    #[test]
    fn probe_ports_are_allowed_and_the_control_port_is_not() {
        let w = small();
        assert_eq!(w.order.len(), 23);
        let rs = compile(&w.cluster, &LocalPods::All);
        let allowed = |port| interpret(&rs, &probe_packet(&w, port).unwrap()).allowed;
        assert!(allowed(CONN_PORT));
        assert!(allowed(IPERF_PORT));
        assert!(!allowed(CONTROL_PORT));
    }

    #[test]
    fn the_control_policies_open_the_control_port() {
        let mut w = small();
        for p in policies("allow-control", ALLOW_CONTROL, NS).unwrap() {
            w.cluster.upsert_policy(p);
        }
        let rs = compile(&w.cluster, &LocalPods::All);
        assert!(interpret(&rs, &probe_packet(&w, CONTROL_PORT).unwrap()).allowed);
    }
}
