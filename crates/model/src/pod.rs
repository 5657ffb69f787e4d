//! Pods, as far as NetworkPolicy cares: labels, IPs and named ports.

use std::net::IpAddr;

use crate::policy::Source;
use crate::{Labels, PodId, Protocol};

/// A container port; `name` makes it usable as a named port in policies.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct ContainerPort {
    pub name: Option<String>,
    pub port: u16,
    pub protocol: Protocol,
}

/// A pod, or a workload standing for its pods (a Deployment, StatefulSet...:
/// one endpoint with the pod template's labels and ports, and no address).
/// Host-network pods share their node's address: pod selectors never select
/// them, and as peers they are only matched by `ipBlock`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pod {
    pub namespace: String,
    pub name: String,
    pub labels: Labels,
    /// `status.podIPs` (or `status.podIP`); may be empty for pods not yet scheduled.
    pub ips: Vec<IpAddr>,
    pub host_network: bool,
    pub node_name: Option<String>,
    pub ports: Vec<ContainerPort>,
    pub source: Option<Source>,
    /// `None` for a Pod; the kind (`Deployment`, `CronJob`...) for a workload.
    #[serde(default)]
    pub workload: Option<String>,
}

impl Pod {
    /// A pod with labels and one IP; the remaining fields empty.
    pub fn new(namespace: &str, name: &str, labels: Labels, ip: Option<IpAddr>) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
            labels,
            ips: ip.into_iter().collect(),
            host_network: false,
            node_name: None,
            ports: Vec::new(),
            source: None,
            workload: None,
        }
    }

    pub fn id(&self) -> PodId {
        PodId::new(&self.namespace, &self.name)
    }

    /// `Pod`, or the workload's kind.
    pub fn kind(&self) -> &str {
        self.workload.as_deref().unwrap_or("Pod")
    }

    /// The port number a named port resolves to on this pod, if it defines it.
    pub fn named_port(&self, name: &str, protocol: Protocol) -> Option<u16> {
        self.ports
            .iter()
            .find(|c| c.name.as_deref() == Some(name) && c.protocol == protocol)
            .map(|c| c.port)
    }

    /// The address other pods use by default: the first IPv4 one, else the first.
    pub fn primary_ip(&self) -> Option<IpAddr> {
        self.ips
            .iter()
            .copied()
            .find(IpAddr::is_ipv4)
            .or(self.ips.first().copied())
    }
}
