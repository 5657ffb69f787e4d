//! The analyzer's result, as printed by `palisade connectivity -o json`.

use palisade_model::Protocol;
use serde::{Deserialize, Serialize};

/// An endpoint: a pod, or a workload standing for its pods.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Endpoint {
    /// `namespace/name`.
    pub name: String,
    /// `Pod`, `Deployment`, `StatefulSet`, ...
    pub kind: String,
    pub namespace: String,
    /// Empty for workloads and pods not yet scheduled.
    pub ips: Vec<String>,
}

/// What one connection allows, for one protocol. An empty `ports` list
/// means every port of the protocol; otherwise sorted, disjoint, inclusive
/// `[first, last]` ranges.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Allow {
    pub protocol: Protocol,
    pub ports: Vec<[u16; 2]>,
}

/// One allowed connection. `from`/`to` are `namespace/name` of an endpoint,
/// or a CIDR for addresses outside every endpoint (grouped ranges).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Connection {
    pub from: String,
    pub to: String,
    pub allow: Vec<Allow>,
}

/// The whole answer: `{"endpoints": [...], "connections": [...]}`, sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connectivity {
    pub endpoints: Vec<Endpoint>,
    pub connections: Vec<Connection>,
    /// Notes for people, e.g. that endpoints without addresses are matched
    /// by ipBlocks only as external addresses. Not part of the JSON shape
    /// the issue fixes, so skipped when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}
