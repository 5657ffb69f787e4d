//! Denied-flow records, as the agent's `/flows` endpoint and the lab's
//! `events.jsonl` carry them, and the `/flows` query.
//!
//! One record per denied (or, in audit mode, would-be denied) connection
//! attempt, at the final verdict:
//!
//! ```json
//! {"time":"2026-11-24T20:00:00.123Z","mode":"deny","direction":"ingress","protocol":"TCP",
//!  "src":{"namespace":"ns-1","pod":"busybox","ip":"10.0.0.5","port":41234},
//!  "dst":{"namespace":"ns-1","pod":"http-echo","ip":"10.0.0.6","port":80},
//!  "policies":["ns-1/deny-all-by-default"]}
//! ```

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::time::parse_time;

/// `deny`: dropped; `audit`: logged only (a policy in audit mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Deny,
    Audit,
}

/// The side whose policies denied: the source's egress or the destination's ingress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlowDirection {
    Egress,
    Ingress,
}

/// The protocol of the attempt (ICMP has no ports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FlowProtocol {
    #[serde(rename = "TCP")]
    Tcp,
    #[serde(rename = "UDP")]
    Udp,
    #[serde(rename = "SCTP")]
    Sctp,
    #[serde(rename = "ICMP")]
    Icmp,
}

/// One end: a pod (namespace and name) or a bare address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowEnd {
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub pod: Option<String>,
    pub ip: IpAddr,
    #[serde(default)]
    pub port: Option<u16>,
}

impl FlowEnd {
    /// Whether this end is a pod of namespace `ns`.
    fn in_namespace(&self, ns: &str) -> bool {
        self.namespace.as_deref() == Some(ns)
    }
}

/// One denied connection attempt, attributed to the policies that isolated
/// the denying side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowRecord {
    /// RFC 3339, UTC, milliseconds: `2026-11-24T20:00:00.123Z`.
    pub time: String,
    pub mode: Mode,
    pub direction: FlowDirection,
    pub protocol: FlowProtocol,
    pub src: FlowEnd,
    pub dst: FlowEnd,
    /// `namespace/name` of each isolating policy of the denying side.
    pub policies: Vec<String>,
}

impl FlowRecord {
    /// Milliseconds since the Unix epoch, if `time` is valid RFC 3339.
    pub fn unix_ms(&self) -> Option<i64> {
        parse_time(&self.time)
    }
}

/// The filters of `GET /flows` and `GET /flows/stream`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowQuery {
    /// Only records with an end in this namespace.
    pub namespace: Option<String>,
    /// Only records at or after this time (Unix ms).
    pub since: Option<i64>,
    /// At most this many records: the newest ones.
    pub limit: Option<usize>,
}

/// A query parameter that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error(
        "since: expected an RFC 3339 time (2026-11-24T20:00:00Z) or Unix milliseconds, got {0:?}"
    )]
    Since(String),
    #[error("limit: expected a non-negative number, got {0:?}")]
    Limit(String),
}

impl FlowQuery {
    /// From decoded `key=value` pairs; unknown keys are ignored.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Self, QueryError> {
        let mut q = FlowQuery::default();
        for (k, v) in pairs {
            match k.as_str() {
                "namespace" if !v.is_empty() => q.namespace = Some(v.clone()),
                "since" if !v.is_empty() => q.since = Some(parse_since(v)?),
                "limit" if !v.is_empty() => {
                    q.limit = Some(v.parse().map_err(|_| QueryError::Limit(v.clone()))?)
                }
                _ => {}
            }
        }
        Ok(q)
    }

    /// Whether `r` passes the namespace and since filters.
    pub fn matches(&self, r: &FlowRecord) -> bool {
        let ns_ok = self
            .namespace
            .as_deref()
            .is_none_or(|ns| r.src.in_namespace(ns) || r.dst.in_namespace(ns));
        let since_ok = self
            .since
            .is_none_or(|since| r.unix_ms().is_some_and(|t| t >= since));
        ns_ok && since_ok
    }

    /// The records of `all` (oldest first) that pass, oldest first, the
    /// newest `limit` of them.
    pub fn select(&self, all: impl IntoIterator<Item = FlowRecord>) -> Vec<FlowRecord> {
        let mut kept: Vec<FlowRecord> = all.into_iter().filter(|r| self.matches(r)).collect();
        if let Some(limit) = self.limit {
            let skip = kept.len().saturating_sub(limit);
            kept.drain(..skip);
        }
        kept
    }
}

/// `since`: Unix milliseconds, or an RFC 3339 time.
fn parse_since(v: &str) -> Result<i64, QueryError> {
    if let Ok(ms) = v.parse::<i64>() {
        return Ok(ms);
    }
    parse_time(v).ok_or_else(|| QueryError::Since(v.into()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn record(time: &str, src_ns: Option<&str>, dst_ns: &str) -> FlowRecord {
        FlowRecord {
            time: time.into(),
            mode: Mode::Deny,
            direction: FlowDirection::Ingress,
            protocol: FlowProtocol::Tcp,
            src: FlowEnd {
                namespace: src_ns.map(Into::into),
                pod: src_ns.map(|_| "busybox".into()),
                ip: "10.244.1.11".parse().unwrap(),
                port: Some(41234),
            },
            dst: FlowEnd {
                namespace: Some(dst_ns.into()),
                pod: Some("http-echo".into()),
                ip: "10.244.1.10".parse().unwrap(),
                port: Some(80),
            },
            policies: vec![format!("{dst_ns}/deny-all-by-default")],
        }
    }

    #[test]
    fn the_contract_record_round_trips() {
        let text = r#"{"time":"2026-11-24T20:00:00.123Z","mode":"deny","direction":"egress","protocol":"TCP","src":{"namespace":"ns-1","pod":"busybox","ip":"10.0.0.5","port":41234},"dst":{"namespace":null,"pod":null,"ip":"192.0.2.1","port":80},"policies":["ns-1/deny-all-by-default"]}"#;
        let r: FlowRecord = serde_json::from_str(text).unwrap();
        assert_eq!(r.dst.pod, None);
        assert_eq!(r.direction, FlowDirection::Egress);
        assert_eq!(r.unix_ms(), Some(1_795_550_400_123));
        assert_eq!(serde_json::to_string(&r).unwrap(), text);
    }

    #[test]
    fn absent_ends_fields_and_icmp_are_accepted() {
        let text = r#"{"time":"2026-11-24T20:00:00Z","mode":"audit","direction":"ingress","protocol":"ICMP","src":{"ip":"192.0.2.1"},"dst":{"namespace":"a","pod":"p","ip":"10.0.0.6"},"policies":[]}"#;
        let r: FlowRecord = serde_json::from_str(text).unwrap();
        assert_eq!((r.mode, r.protocol), (Mode::Audit, FlowProtocol::Icmp));
        assert_eq!(r.src.port, None);
    }

    #[test]
    fn query_filters_by_namespace_since_and_limit() {
        let all = vec![
            record("2026-11-24T20:00:00Z", Some("a"), "a"),
            record("2026-11-24T20:00:01Z", None, "b"),
            record("2026-11-24T20:00:02Z", Some("a"), "b"),
            record("2026-11-24T20:00:03Z", Some("c"), "c"),
        ];
        let pairs = |s: &[(&str, &str)]| {
            s.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        let q = FlowQuery::from_pairs(&pairs(&[("namespace", "b")])).unwrap();
        let times: Vec<_> = q.select(all.clone()).into_iter().map(|r| r.time).collect();
        assert_eq!(times, ["2026-11-24T20:00:01Z", "2026-11-24T20:00:02Z"]);
        let q = FlowQuery::from_pairs(&pairs(&[("since", "2026-11-24T20:00:01Z")])).unwrap();
        assert_eq!(q.select(all.clone()).len(), 3);
        let since_ms = q.since.unwrap().to_string();
        let q = FlowQuery::from_pairs(&pairs(&[("since", &since_ms), ("limit", "1")])).unwrap();
        let last = q.select(all.clone());
        assert_eq!(last.len(), 1);
        assert_eq!(
            last[0].time, "2026-11-24T20:00:03Z",
            "limit keeps the newest"
        );
    }

    #[test]
    fn bad_query_values_are_errors() {
        let bad = [("since", "yesterday"), ("limit", "-1")];
        for (k, v) in bad {
            let err = FlowQuery::from_pairs(&[(k.into(), v.into())]).unwrap_err();
            assert!(err.to_string().starts_with(k), "{err}");
        }
    }
}
