//! NetworkPolicy, normalised: policyTypes defaulted, peers and ports validated.

use std::fmt;
use std::str::FromStr;

use crate::{IpBlock, LabelSelector, PolicyMode, PolicyPort};

/// Where an object was read from, for explanations and diagnostics.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Source {
    pub file: String,
    pub line: usize,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// `namespace/name` of a namespaced object (pods, policies).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    pub namespace: String,
    pub name: String,
}

impl ObjectRef {
    pub fn new(namespace: &str, name: &str) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

impl serde::Serialize for ObjectRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ObjectRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Parses `namespace/name`.
impl FromStr for ObjectRef {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once('/') {
            Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => {
                Ok(Self::new(ns, name))
            }
            _ => Err(format!("expected NAMESPACE/NAME, got {s:?}")),
        }
    }
}

/// Traffic direction, from the point of view of the selected pod.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ingress => "ingress",
            Self::Egress => "egress",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The effective `policyTypes`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub struct PolicyTypes {
    pub ingress: bool,
    pub egress: bool,
}

impl PolicyTypes {
    /// The API default when `policyTypes` is absent: Ingress, plus Egress iff
    /// there are egress rules.
    pub fn defaulted(has_egress_rules: bool) -> Self {
        Self {
            ingress: true,
            egress: has_egress_rules,
        }
    }

    pub fn contains(self, d: Direction) -> bool {
        match d {
            Direction::Ingress => self.ingress,
            Direction::Egress => self.egress,
        }
    }
}

/// One element of `from` / `to`.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Peer {
    /// Pods matching `pods` in the namespaces matching `namespaces`
    /// (`None`: the policy's own namespace). Never matches external addresses
    /// or host-network pods.
    Pods {
        namespaces: Option<LabelSelector>,
        pods: LabelSelector,
    },
    /// Addresses, pod IPs included.
    IpBlock(IpBlock),
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::Pods {
                namespaces: None,
                pods,
            } => write!(f, "pods matching {pods} in the policy's namespace"),
            Peer::Pods {
                namespaces: Some(ns),
                pods,
            } => {
                write!(f, "pods matching {pods} in namespaces matching {ns}")
            }
            Peer::IpBlock(b) => write!(f, "ipBlock {b}"),
        }
    }
}

/// One ingress or egress rule. An empty `peers` list means every peer
/// (external addresses included); an empty `ports` list means every port.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Rule {
    pub peers: Vec<Peer>,
    pub ports: Vec<PolicyPort>,
}

/// A validated NetworkPolicy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NetworkPolicy {
    pub namespace: String,
    pub name: String,
    pub pod_selector: LabelSelector,
    pub policy_types: PolicyTypes,
    /// Kept even when Ingress is not in `policy_types` (then they are ignored), for lint.
    pub ingress: Vec<Rule>,
    pub egress: Vec<Rule>,
    pub source: Option<Source>,
    /// `palisade.dev/mode` of the policy itself (`None`: the namespace's
    /// mode, else enforce); see [`crate::Cluster::policy_mode`].
    #[serde(default)]
    pub mode: Option<PolicyMode>,
    /// Set when the object has a rule palisade cannot read (the API server
    /// accepted it, palisade's validation did not): the policy is then
    /// kept as its `podSelector` and `policyTypes` with no rules, so the
    /// pods it selects are isolated in the directions it declares and
    /// nothing is allowed (fail closed). See [`Unenforceable`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unenforceable: Option<Unenforceable>,
}

/// Why palisade cannot enforce a policy's rules: the first field it
/// rejected (`spec.ingress[0].from[0].ipBlock.cidr`) and the error.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Unenforceable {
    pub field: String,
    pub reason: String,
}

impl fmt::Display for Unenforceable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field {}: {}", self.field, self.reason)
    }
}

impl NetworkPolicy {
    pub fn reference(&self) -> PolicyRef {
        PolicyRef::new(&self.namespace, &self.name)
    }

    /// The rules in force for `d`: `None` when `d` is not in policyTypes
    /// (the policy neither isolates nor allows in that direction).
    pub fn rules(&self, d: Direction) -> Option<&[Rule]> {
        let rules = match d {
            Direction::Ingress => &self.ingress,
            Direction::Egress => &self.egress,
        };
        self.policy_types.contains(d).then_some(rules.as_slice())
    }
}

/// A NetworkPolicy's `namespace/name`.
pub type PolicyRef = ObjectRef;
