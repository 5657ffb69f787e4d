//! Connections and their endpoints, and their resolution against a cluster.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use palisade_model::{Cluster, ContainerPort, Pod, PodId, Protocol};

/// One end of a connection: a pod, or an address that may or may not be a pod's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    Pod(PodId),
    Addr(IpAddr),
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Pod(id) => id.fmt(f),
            Endpoint::Addr(ip) => ip.fmt(f),
        }
    }
}

/// `namespace/pod` or an IP address.
impl FromStr for Endpoint {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(Endpoint::Addr(ip));
        }
        s.parse::<PodId>()
            .map(Endpoint::Pod)
            .map_err(|_| format!("expected NAMESPACE/POD or an IP address, got {s:?}"))
    }
}

/// The destination port: a number, or a container port name resolved on the
/// destination pod (by name and protocol).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PortRef {
    Number(u16),
    Named(String),
}

impl fmt::Display for PortRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortRef::Number(n) => n.fmt(f),
            PortRef::Named(n) => f.write_str(n),
        }
    }
}

/// A connection attempt: the first packet from `from` to `to`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Connection {
    pub from: Endpoint,
    pub to: Endpoint,
    pub protocol: Protocol,
    pub port: PortRef,
}

/// Why a connection could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("no pod {0} in the input")]
    UnknownPod(PodId),
    #[error("pod {pod} defines no container port named {name:?} for {protocol}")]
    NamedPortUndefined {
        pod: PodId,
        name: String,
        protocol: Protocol,
    },
    #[error("named port {name:?} needs a destination pod; {to} is not one (use a port number)")]
    NamedPortWithoutPod { name: String, to: String },
}

/// One end, resolved: the pod that policies see (none for an external
/// address or a host-network pod) and the address on the wire.
#[derive(Debug, Clone)]
pub(crate) struct End<'a> {
    pub pod: Option<&'a Pod>,
    pub ip: Option<IpAddr>,
    /// The name used in explanations: `ns/pod`, or the address.
    pub label: String,
    /// Why no policy applies to this end, when `pod` is none.
    pub unselectable: Option<&'static str>,
}

impl End<'_> {
    /// Labels for explanations: `ns-1/busybox (labels run=busybox)`.
    pub fn describe(&self) -> String {
        match self.pod {
            Some(p) => format!("{} (labels {})", self.label, p.labels),
            None => self.label.clone(),
        }
    }

    pub fn ports(&self) -> Option<&[ContainerPort]> {
        self.pod.map(|p| p.ports.as_slice())
    }
}

/// A connection with both ends and the port resolved.
#[derive(Debug, Clone)]
pub(crate) struct Resolved<'a> {
    pub src: End<'a>,
    pub dst: End<'a>,
    pub protocol: Protocol,
    pub port: u16,
    /// Same pod on both ends: always allowed.
    pub same_pod: bool,
}

pub(crate) fn resolve<'a>(
    cluster: &'a Cluster,
    conn: &Connection,
) -> Result<Resolved<'a>, EvalError> {
    let dst = end(cluster, &conn.to, None)?;
    let src = end(cluster, &conn.from, dst.ip)?;
    let port = match &conn.port {
        PortRef::Number(n) => *n,
        PortRef::Named(name) => named_port(&dst, name, conn.protocol)?,
    };
    let same_pod = match (src.pod, dst.pod) {
        (Some(a), Some(b)) => a.id() == b.id(),
        _ => false,
    };
    Ok(Resolved {
        src,
        dst,
        protocol: conn.protocol,
        port,
        same_pod,
    })
}

impl<'a> End<'a> {
    /// A pod as an endpoint, using its address in the family of `peer_ip`.
    pub fn of_pod(pod: &'a Pod, peer_ip: Option<IpAddr>) -> Self {
        let ip = same_family(&pod.ips, peer_ip).or(pod.primary_ip());
        let label = pod.id().to_string();
        if pod.host_network {
            let why = "it is a host-network pod (pod selectors never select those)";
            return End {
                pod: None,
                ip,
                label,
                unselectable: Some(why),
            };
        }
        End {
            pod: Some(pod),
            ip,
            label,
            unselectable: None,
        }
    }
}

fn named_port(dst: &End<'_>, name: &str, protocol: Protocol) -> Result<u16, EvalError> {
    let Some(pod) = dst.pod else {
        return Err(EvalError::NamedPortWithoutPod {
            name: name.into(),
            to: dst.label.clone(),
        });
    };
    pod.named_port(name, protocol)
        .ok_or_else(|| EvalError::NamedPortUndefined {
            pod: pod.id(),
            name: name.into(),
            protocol,
        })
}

/// Resolves an endpoint. An address that belongs to a pod is that pod; a
/// pod's address is chosen in the family of `peer_ip` when it has one.
fn end<'a>(
    cluster: &'a Cluster,
    e: &Endpoint,
    peer_ip: Option<IpAddr>,
) -> Result<End<'a>, EvalError> {
    let pod = match e {
        Endpoint::Pod(id) => Some(
            cluster
                .pod(id)
                .ok_or_else(|| EvalError::UnknownPod(id.clone()))?,
        ),
        Endpoint::Addr(ip) => cluster.pod_by_ip(*ip),
    };
    let Some(pod) = pod else {
        let Endpoint::Addr(ip) = e else {
            unreachable!("pods were looked up above")
        };
        let why = "it is not a pod (no policy applies to external addresses)";
        return Ok(End {
            pod: None,
            ip: Some(*ip),
            label: ip.to_string(),
            unselectable: Some(why),
        });
    };
    let mut end = End::of_pod(pod, peer_ip);
    if let Endpoint::Addr(ip) = e {
        end.ip = Some(*ip);
    }
    Ok(end)
}

fn same_family(ips: &[IpAddr], peer: Option<IpAddr>) -> Option<IpAddr> {
    let peer = peer?;
    ips.iter()
        .copied()
        .find(|ip| ip.is_ipv4() == peer.is_ipv4())
}
