//! One decoded, validated Kubernetes object.

use palisade_model::{Namespace, NetworkPolicy, Pod, Source};

/// A validated object read from a manifest.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    /// A declared namespace (`kubernetes.io/metadata.name` already set).
    Namespace(Namespace),
    /// A pod, with its IPs and container ports.
    Pod(Pod),
    /// A policy, normalised (`policyTypes` defaulted).
    NetworkPolicy(NetworkPolicy),
}

impl Object {
    /// `"Namespace"`, `"Pod"` or `"NetworkPolicy"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Namespace(_) => "Namespace",
            Self::Pod(_) => "Pod",
            Self::NetworkPolicy(_) => "NetworkPolicy",
        }
    }

    /// Kind and name, unique within a cluster: `NetworkPolicy ns-1/allow`,
    /// `Pod ns-1/web`, `Namespace ns-1`.
    pub fn key(&self) -> String {
        match self {
            Self::Namespace(ns) => format!("Namespace {}", ns.name),
            Self::Pod(pod) => format!("Pod {}", pod.id()),
            Self::NetworkPolicy(np) => format!("NetworkPolicy {}", np.reference()),
        }
    }

    /// Where the object was read from.
    pub fn source(&self) -> Option<&Source> {
        match self {
            Self::Namespace(ns) => ns.source.as_ref(),
            Self::Pod(pod) => pod.source.as_ref(),
            Self::NetworkPolicy(np) => np.source.as_ref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use palisade_model::{Labels, Pod};

    use super::*;

    #[test]
    fn keys_name_kind_and_namespace() {
        let pod = Object::Pod(Pod::new("ns-1", "web", Labels::new(), None));
        assert_eq!((pod.kind(), pod.key()), ("Pod", "Pod ns-1/web".to_string()));
        let ns = Object::Namespace(Namespace::new("ns-1", Labels::new()));
        assert_eq!(ns.key(), "Namespace ns-1");
    }
}
