//! The JSON views of `/api/...`, computed from a [`Cluster`] snapshot by
//! the analyzer (graph) and the evaluator (explain). Pure: no I/O.

use std::collections::BTreeMap;

use palisade_analyze::{Allow, ClassConnectivity};
use palisade_eval::{Connection, Endpoint, PortRef, Verdict};
use palisade_model::{
    Cluster, ContainerPort, Direction, Labels, NetworkPolicy, Pod, Protocol, Rule,
};
use serde::Serialize;

/// Edges listed at most in one graph; the rest is counted, not drawn.
pub const MAX_EDGES: usize = 5_000;

/// `GET /api/cluster`: namespaces, pods and policies.
#[derive(Debug, Serialize)]
pub struct ClusterView {
    /// Changes whenever the cluster does (the page polls it).
    pub version: u64,
    pub namespaces: Vec<NamespaceView>,
    pub pods: Vec<PodView>,
    pub policies: Vec<PolicyView>,
}

#[derive(Debug, Serialize)]
pub struct NamespaceView {
    pub name: String,
    pub labels: Labels,
}

#[derive(Debug, Serialize)]
pub struct PodView {
    pub namespace: String,
    pub name: String,
    /// `Pod`, or the workload kind.
    pub kind: String,
    pub labels: Labels,
    pub ips: Vec<String>,
    pub host_network: bool,
    pub ports: Vec<ContainerPort>,
}

#[derive(Debug, Serialize)]
pub struct PolicyView {
    pub namespace: String,
    pub name: String,
    /// The podSelector as text (`app=web`, `<all pods>`...).
    pub pod_selector: String,
    /// The effective policyTypes.
    pub policy_types: Vec<Direction>,
    pub ingress: Vec<RuleView>,
    pub egress: Vec<RuleView>,
}

/// One rule, as text: each peer and each port entry.
#[derive(Debug, Serialize)]
pub struct RuleView {
    /// Empty: every peer.
    pub peers: Vec<String>,
    /// Empty: every port.
    pub ports: Vec<String>,
}

/// The cluster as the page lists it.
pub fn cluster_view(c: &Cluster, version: u64) -> ClusterView {
    ClusterView {
        version,
        namespaces: c
            .namespaces()
            .map(|n| NamespaceView {
                name: n.name.clone(),
                labels: n.labels().clone(),
            })
            .collect(),
        pods: c.pods().map(pod_view).collect(),
        policies: c.policies().map(policy_view).collect(),
    }
}

fn pod_view(p: &Pod) -> PodView {
    PodView {
        namespace: p.namespace.clone(),
        name: p.name.clone(),
        kind: p.kind().to_string(),
        labels: p.labels.clone(),
        ips: p.ips.iter().map(ToString::to_string).collect(),
        host_network: p.host_network,
        ports: p.ports.clone(),
    }
}

fn policy_view(p: &NetworkPolicy) -> PolicyView {
    let types = [Direction::Ingress, Direction::Egress];
    PolicyView {
        namespace: p.namespace.clone(),
        name: p.name.clone(),
        pod_selector: p.pod_selector.to_string(),
        policy_types: types
            .into_iter()
            .filter(|&d| p.policy_types.contains(d))
            .collect(),
        ingress: p.ingress.iter().map(rule_view).collect(),
        egress: p.egress.iter().map(rule_view).collect(),
    }
}

fn rule_view(r: &Rule) -> RuleView {
    RuleView {
        peers: r.peers.iter().map(ToString::to_string).collect(),
        ports: r.ports.iter().map(ToString::to_string).collect(),
    }
}

/// `GET /api/graph`: who may reach whom, from the analyzer.
#[derive(Debug, Serialize)]
pub struct GraphView {
    pub version: u64,
    /// Endpoints (pods and workloads) as `namespace/name`, sorted.
    pub nodes: Vec<NodeView>,
    /// Allowed connections between endpoints (self pairs omitted: always allowed).
    pub edges: Vec<EdgeView>,
    /// Allowed connections between an endpoint and addresses outside every
    /// endpoint, one entry per endpoint, direction and allowed ports.
    pub external: Vec<ExternalView>,
    /// Endpoint connections not listed because of [`MAX_EDGES`].
    pub omitted: usize,
}

#[derive(Debug, Serialize)]
pub struct NodeView {
    pub id: String,
    pub namespace: String,
    pub name: String,
    pub kind: String,
}

#[derive(Debug, Serialize)]
pub struct EdgeView {
    pub from: String,
    pub to: String,
    pub allow: Vec<Allow>,
    /// `TCP 80, 8080-8090; UDP any`.
    pub text: String,
}

/// An endpoint's allowed connections to (`egress`) or from (`ingress`) the
/// outside, with the same ports for every CIDR listed.
#[derive(Debug, Serialize)]
pub struct ExternalView {
    pub endpoint: String,
    pub direction: Direction,
    /// The analyzer's grouped CIDRs (`0.0.0.0/0` minus pod addresses is many).
    pub cidrs: Vec<String>,
    pub allow: Vec<Allow>,
    pub text: String,
}

/// The connectivity graph of `c`: at most [`MAX_EDGES`] endpoint edges
/// (listing stops there; the rest is counted on classes), and every
/// endpoint's connections with the outside, grouped.
pub fn graph_view(c: &Cluster, version: u64) -> GraphView {
    let cc = ClassConnectivity::new(c);
    let nodes: Vec<NodeView> = cc.endpoints().iter().map(node_view).collect();
    let is_node = |s: &str| nodes.binary_search_by(|n| n.id.as_str().cmp(s)).is_ok();
    let mut edges = Vec::new();
    for conn in cc.connections() {
        if edges.len() == MAX_EDGES {
            break;
        }
        if is_node(&conn.from) && is_node(&conn.to) {
            let text = allow_text(&conn.allow);
            edges.push(EdgeView {
                from: conn.from,
                to: conn.to,
                allow: conn.allow,
                text,
            });
        }
    }
    let listed = edges.len() as u64;
    GraphView {
        version,
        omitted: (cc.stats().endpoint_connections - listed) as usize,
        external: external_views(&cc),
        nodes,
        edges,
    }
}

fn node_view(e: &palisade_analyze::Endpoint) -> NodeView {
    NodeView {
        id: e.name.clone(),
        namespace: e.namespace.clone(),
        name: e.name.split_once('/').map_or(&*e.name, |(_, n)| n).into(),
        kind: e.kind.clone(),
    }
}

/// Per endpoint and direction, the outside CIDRs grouped by allowed ports,
/// from the class-level lists (no pair is listed).
fn external_views(cc: &ClassConnectivity) -> Vec<ExternalView> {
    let mut groups: BTreeMap<(&str, Direction, &[Allow]), Vec<String>> = BTreeMap::new();
    for (i, e) in cc.endpoints().iter().enumerate() {
        let class = cc.class_of(i);
        let egress = cc.egress_external(class).map(|x| (Direction::Egress, x));
        let ingress = cc.ingress_external(class).map(|x| (Direction::Ingress, x));
        for (d, (cidr, allow)) in egress.chain(ingress) {
            let key = (e.name.as_str(), d, allow);
            groups.entry(key).or_default().push(cidr.to_string());
        }
    }
    let view =
        |((endpoint, direction, allow), cidrs): ((&str, Direction, &[Allow]), _)| ExternalView {
            endpoint: endpoint.to_string(),
            direction,
            cidrs,
            allow: allow.to_vec(),
            text: allow_text(allow),
        };
    groups.into_iter().map(view).collect()
}

/// `TCP 80, 8080-8090; UDP any`.
pub fn allow_text(allow: &[Allow]) -> String {
    let one = |a: &Allow| {
        let ports = match a.ports.as_slice() {
            [] => "any".to_string(),
            ranges => ranges
                .iter()
                .map(|[lo, hi]| match lo == hi {
                    true => lo.to_string(),
                    false => format!("{lo}-{hi}"),
                })
                .collect::<Vec<_>>()
                .join(", "),
        };
        format!("{} {ports}", a.protocol)
    };
    allow.iter().map(one).collect::<Vec<_>>().join("; ")
}

/// `GET /api/pod?namespace=NS&name=NAME`: the pod and the policies that
/// select it, per direction (empty: not isolated for that direction).
#[derive(Debug, Serialize)]
pub struct PodDetails {
    pub pod: PodView,
    pub ingress: Vec<String>,
    pub egress: Vec<String>,
}

/// A request the API could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("missing query parameter {0:?}")]
    Missing(&'static str),
    #[error("{0}")]
    Invalid(String),
    #[error("no pod {0} in the cluster")]
    NoPod(String),
    #[error("the cluster is not known yet (the agent has not finished its first list, or the lab is down)")]
    NotReady,
}

pub fn pod_details(c: &Cluster, namespace: &str, name: &str) -> Result<PodDetails, ApiError> {
    let id = palisade_model::PodId::new(namespace, name);
    let pod = c.pod(&id).ok_or_else(|| ApiError::NoPod(id.to_string()))?;
    let selecting = |d| -> Vec<String> {
        if pod.host_network {
            return Vec::new();
        }
        let isolating = c.isolating(&pod.namespace, &pod.labels, d);
        isolating.map(|p| p.reference().to_string()).collect()
    };
    Ok(PodDetails {
        ingress: selecting(Direction::Ingress),
        egress: selecting(Direction::Egress),
        pod: pod_view(pod),
    })
}

/// `GET /api/explain`: the evaluator's verdict and its explanation.
#[derive(Debug, Serialize)]
pub struct Explanation {
    pub allowed: bool,
    /// The text `palisade check` prints.
    pub text: String,
    pub verdict: Verdict,
}

/// The query of `/api/explain`: `from`, `to` (`NS/POD` or an address),
/// `port` (number or container port name), `protocol` (default TCP).
#[derive(Debug, Clone, Default)]
pub struct ExplainQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub port: Option<String>,
    pub protocol: Option<String>,
}

impl ExplainQuery {
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut q = ExplainQuery::default();
        for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
            let slot = match k.as_str() {
                "from" => &mut q.from,
                "to" => &mut q.to,
                "port" => &mut q.port,
                "protocol" => &mut q.protocol,
                _ => continue,
            };
            *slot = Some(v.clone());
        }
        q
    }

    fn connection(&self) -> Result<Connection, ApiError> {
        let end = |v: &Option<String>, key| -> Result<Endpoint, ApiError> {
            let text = v.as_deref().ok_or(ApiError::Missing(key))?;
            text.parse()
                .map_err(|e: String| ApiError::Invalid(format!("{key}: {e}")))
        };
        let port = self.port.as_deref().ok_or(ApiError::Missing("port"))?;
        let port = match port.parse::<u16>() {
            Ok(0) => return Err(ApiError::Invalid("port: 0 is not a port".into())),
            Ok(n) => PortRef::Number(n),
            Err(_) => PortRef::Named(port.to_string()),
        };
        let protocol = self
            .protocol
            .as_deref()
            .unwrap_or("TCP")
            .to_ascii_uppercase();
        let protocol: Protocol = protocol
            .parse()
            .map_err(|e| ApiError::Invalid(format!("protocol: {e}")))?;
        Ok(Connection {
            from: end(&self.from, "from")?,
            to: end(&self.to, "to")?,
            protocol,
            port,
        })
    }
}

pub fn explain(c: &Cluster, q: &ExplainQuery) -> Result<Explanation, ApiError> {
    let conn = q.connection()?;
    let verdict =
        palisade_eval::evaluate(c, &conn).map_err(|e| ApiError::Invalid(e.to_string()))?;
    Ok(Explanation {
        allowed: verdict.allowed,
        text: verdict.explain(),
        verdict,
    })
}

#[cfg(test)]
pub(crate) mod tests;
