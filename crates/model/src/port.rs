//! Protocols and the `ports` entries of policy rules.

use std::fmt;
use std::str::FromStr;

use crate::names;
use crate::pod::ContainerPort;

/// A layer-4 protocol NetworkPolicy can name.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    pub const ALL: [Protocol; 3] = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tcp => "TCP",
            Self::Udp => "UDP",
            Self::Sctp => "SCTP",
        }
    }
}

impl FromStr for Protocol {
    type Err = PortError;
    /// Exactly `TCP`, `UDP` or `SCTP`, as the API requires.
    fn from_str(s: &str) -> Result<Self, PortError> {
        match s {
            "TCP" => Ok(Self::Tcp),
            "UDP" => Ok(Self::Udp),
            "SCTP" => Ok(Self::Sctp),
            other => Err(PortError::UnknownProtocol(other.into())),
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a port entry was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    #[error("unsupported protocol {0:?} (expected TCP, UDP or SCTP)")]
    UnknownProtocol(String),
    #[error("port number {0} out of range 1-65535")]
    OutOfRange(i64),
    #[error("invalid port name {name:?}: {reason}")]
    BadName { name: String, reason: String },
    #[error("endPort requires port to be set")]
    EndPortWithoutPort,
    #[error("endPort must not be set when port is a named port ({0:?})")]
    EndPortWithNamedPort(String),
    #[error("endPort {end} must be greater than or equal to port {start}")]
    EndPortBelowPort { start: u16, end: u16 },
}

/// What a `ports` entry says about the destination port.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum PortSpec {
    /// No `port`: every port of the protocol.
    Any,
    /// `port`, or `port`..=`endPort`.
    Range { start: u16, end: u16 },
    /// A named port, resolved on each destination pod by name AND protocol.
    Named(String),
}

/// The raw `port` field: an int-or-string.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PortValue {
    Number(i64),
    Name(String),
}

/// One validated `ports` entry of a rule.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct PolicyPort {
    pub protocol: Protocol,
    pub port: PortSpec,
}

/// Checks a port number is within 1-65535.
pub fn port_number(n: i64) -> Result<u16, PortError> {
    u16::try_from(n)
        .ok()
        .filter(|p| *p != 0)
        .ok_or(PortError::OutOfRange(n))
}

impl PolicyPort {
    /// Validates an entry the way the API server does. A missing protocol means TCP.
    pub fn new(
        protocol: Option<Protocol>,
        port: Option<PortValue>,
        end_port: Option<i64>,
    ) -> Result<Self, PortError> {
        let protocol = protocol.unwrap_or(Protocol::Tcp);
        let port = match (port, end_port) {
            (None, None) => PortSpec::Any,
            (None, Some(_)) => return Err(PortError::EndPortWithoutPort),
            (Some(PortValue::Name(n)), end) => {
                names::iana_svc_name(&n).map_err(|reason| PortError::BadName {
                    name: n.clone(),
                    reason,
                })?;
                if end.is_some() {
                    return Err(PortError::EndPortWithNamedPort(n));
                }
                PortSpec::Named(n)
            }
            (Some(PortValue::Number(p)), end) => {
                let start = port_number(p)?;
                let end = end.map(port_number).transpose()?.unwrap_or(start);
                if end < start {
                    return Err(PortError::EndPortBelowPort { start, end });
                }
                PortSpec::Range { start, end }
            }
        };
        Ok(Self { protocol, port })
    }

    /// Does this entry admit a connection to `port`/`protocol` on a
    /// destination with `dst_ports` (None for a non-pod address)?
    pub fn matches(
        &self,
        protocol: Protocol,
        port: u16,
        dst_ports: Option<&[ContainerPort]>,
    ) -> bool {
        if self.protocol != protocol {
            return false;
        }
        match &self.port {
            PortSpec::Any => true,
            PortSpec::Range { start, end } => (*start..=*end).contains(&port),
            PortSpec::Named(name) => dst_ports.is_some_and(|ports| {
                ports.iter().any(|c| {
                    c.name.as_deref() == Some(name) && c.protocol == protocol && c.port == port
                })
            }),
        }
    }
}

/// `80/TCP`, `8000-9000/UDP`, `http/TCP`, `*/SCTP`.
impl fmt::Display for PolicyPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.port {
            PortSpec::Any => write!(f, "any port/{}", self.protocol),
            PortSpec::Range { start, end } if start == end => {
                write!(f, "{start}/{}", self.protocol)
            }
            PortSpec::Range { start, end } => write!(f, "{start}-{end}/{}", self.protocol),
            PortSpec::Named(n) => write!(f, "{n}/{}", self.protocol),
        }
    }
}

#[cfg(test)]
mod tests;
