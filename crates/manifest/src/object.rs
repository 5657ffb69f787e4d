//! One decoded, validated Kubernetes object.

use palisade_model::{Namespace, NetworkPolicy, Pod, Source};

/// A validated object read from a manifest.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    /// A declared namespace (`kubernetes.io/metadata.name` already set).
    Namespace(Namespace),
    /// A pod, with its IPs and container ports; or a workload (Deployment,
    /// CronJob...) standing for its pods: `Pod::workload` names its kind,
    /// labels and ports come from its pod template, and it has no IPs.
    Pod(Pod),
    /// A policy, normalised (`policyTypes` defaulted).
    NetworkPolicy(NetworkPolicy),
}

impl Object {
    /// `"Namespace"`, `"Pod"`, `"NetworkPolicy"`, or a workload's kind
    /// (`"Deployment"`, `"CronJob"`...).
    pub fn kind(&self) -> &str {
        match self {
            Self::Namespace(_) => "Namespace",
            Self::Pod(pod) => pod.kind(),
            Self::NetworkPolicy(_) => "NetworkPolicy",
        }
    }

    /// Kind and name, unique within a cluster: `NetworkPolicy ns-1/allow`,
    /// `Pod ns-1/web`, `Deployment ns-1/web`, `Namespace ns-1`.
    pub fn key(&self) -> String {
        match self {
            Self::Namespace(ns) => format!("Namespace {}", ns.name),
            Self::Pod(pod) => format!("{} {}", pod.kind(), pod.id()),
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

    #[test]
    fn workloads_are_keyed_by_their_own_kind() {
        let mut pod = Pod::new("ns-1", "web", Labels::new(), None);
        pod.workload = Some("Deployment".into());
        let deployment = Object::Pod(pod);
        assert_eq!(deployment.kind(), "Deployment");
        assert_eq!(deployment.key(), "Deployment ns-1/web");
    }
}
