//! The JSON views of `/api/...`, computed from a [`Cluster`] snapshot by
//! the analyzer (graph) and the evaluator (explain). Pure: no I/O.

use palisade_eval::{Connection, Endpoint, PortRef, Verdict};
use palisade_model::{
    Cluster, ContainerPort, Direction, Labels, NetworkPolicy, Pod, Protocol, Rule,
};
use serde::Serialize;

mod graph;

pub use graph::{allow_text, graph_view, EdgeView, ExternalView, GraphView, NodeView, MAX_EDGES};

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
    #[error("no namespace {0} in the cluster")]
    NoNamespace(String),
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
        let port = if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
            match port.parse::<u16>() {
                Ok(0) => return Err(ApiError::Invalid("port: 0 is not a port".into())),
                Ok(n) => PortRef::Number(n),
                Err(_) => {
                    let why = format!("port: {port} is out of range (1-65535)");
                    return Err(ApiError::Invalid(why));
                }
            }
        } else if is_port_name(port) {
            PortRef::Named(port.to_string())
        } else {
            let why = format!("port: {port:?} is neither a port number (1-65535) nor a port name");
            return Err(ApiError::Invalid(why));
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

/// A container port name as Kubernetes validates it (IANA_SVC_NAME): 1-15
/// lowercase letters, digits and inner single hyphens, at least one letter.
fn is_port_name(s: &str) -> bool {
    let b = s.as_bytes();
    (1..=15).contains(&b.len())
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && b.iter().any(|c| c.is_ascii_lowercase())
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
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
