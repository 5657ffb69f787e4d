//! One denied (or audited) connection attempt, as the log, the HTTP API
//! (`/flows`, `/flows/stream`) and `palisade lab events` show it.

use std::net::IpAddr;

use palisade_model::Direction;
use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// Whether the kernel dropped the attempt or only audited it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Deny,
    Audit,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Deny => "deny",
            Mode::Audit => "audit",
        }
    }
}

/// One end of the connection: a pod (namespace and name) or an address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowEndpoint {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    pub ip: IpAddr,
    /// TCP, UDP and SCTP only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

impl FlowEndpoint {
    /// `ns/pod:port`, or `ip:port` for an address.
    pub fn label(&self) -> String {
        let who = match (&self.namespace, &self.pod) {
            (Some(ns), Some(pod)) => format!("{ns}/{pod}"),
            _ => match self.ip {
                IpAddr::V6(ip) if self.port.is_some() => format!("[{ip}]"),
                ip => ip.to_string(),
            },
        };
        match self.port {
            Some(p) => format!("{who}:{p}"),
            None => who,
        }
    }
}

/// The record. JSON shape (the API contract, docs/flows.md):
/// `{"time","mode","direction","protocol","src","dst","policies"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowRecord {
    pub time: Timestamp,
    pub mode: Mode,
    /// The side that denied: egress of the source or ingress of the destination.
    #[serde(with = "lower_direction")]
    pub direction: Direction,
    /// `TCP`, `UDP`, `SCTP`, `ICMP`, or another protocol's IANA number.
    pub protocol: String,
    pub src: FlowEndpoint,
    pub dst: FlowEndpoint,
    /// The policies isolating the denying side's pod (`namespace/name`).
    pub policies: Vec<String>,
}

impl FlowRecord {
    /// Whether either end is a pod of `namespace`.
    pub fn involves(&self, namespace: &str) -> bool {
        [&self.src, &self.dst]
            .iter()
            .any(|e| e.namespace.as_deref() == Some(namespace))
    }

    /// One JSON line.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a record always serialises")
    }
}

mod lower_direction {
    use palisade_model::Direction;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Direction, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(d.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Direction, D::Error> {
        match String::deserialize(d)?.as_str() {
            "egress" => Ok(Direction::Egress),
            "ingress" => Ok(Direction::Ingress),
            other => Err(serde::de::Error::custom(format!(
                "invalid direction {other:?}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> FlowRecord {
        FlowRecord {
            time: Timestamp(1_795_550_400_123),
            mode: Mode::Deny,
            direction: Direction::Ingress,
            protocol: "TCP".into(),
            src: FlowEndpoint {
                namespace: Some("ns-1".into()),
                pod: Some("busybox".into()),
                ip: "10.0.0.5".parse().unwrap(),
                port: Some(41234),
            },
            dst: FlowEndpoint {
                namespace: None,
                pod: None,
                ip: "10.0.0.6".parse().unwrap(),
                port: Some(80),
            },
            policies: vec!["ns-1/deny-all-by-default".into()],
        }
    }

    #[test]
    fn json_matches_the_api_contract_and_round_trips() {
        let r = sample();
        let json = r.to_json();
        assert_eq!(
            json,
            r#"{"time":"2026-11-24T20:00:00.123Z","mode":"deny","direction":"ingress","protocol":"TCP","src":{"namespace":"ns-1","pod":"busybox","ip":"10.0.0.5","port":41234},"dst":{"ip":"10.0.0.6","port":80},"policies":["ns-1/deny-all-by-default"]}"#
        );
        assert_eq!(serde_json::from_str::<FlowRecord>(&json).unwrap(), r);
        assert!(r.involves("ns-1") && !r.involves("ns-2"));
        assert_eq!(r.src.label(), "ns-1/busybox:41234");
        assert_eq!(r.dst.label(), "10.0.0.6:80");
    }
}
