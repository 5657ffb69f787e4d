//! A bounded, in-memory ring of the latest records, with sequence numbers
//! so streams can follow it.

use std::collections::VecDeque;

use crate::record::FlowRecord;

/// `/flows` filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Only records with a pod of this namespace at either end.
    pub namespace: Option<String>,
    /// Only records at or after this time (unix milliseconds).
    pub since_ms: Option<u64>,
    /// At most this many: the newest matching ones (still oldest first).
    pub limit: Option<usize>,
}

impl Query {
    /// From the decoded `key=value` pairs of a query string: `namespace`,
    /// `since` (unix milliseconds or RFC 3339) and `limit`, all optional
    /// (an empty value is absent). Anything else is an error naming the
    /// parameter, for a `400` reply.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Query, String> {
        let mut q = Query::default();
        for (key, value) in pairs {
            if value.is_empty() {
                continue;
            }
            match key.as_str() {
                "namespace" => q.namespace = Some(value.clone()),
                "since" => {
                    q.since_ms = Some(crate::parse_since(value).map_err(|e| format!("since: {e}"))?)
                }
                "limit" => {
                    let n = value
                        .parse()
                        .map_err(|_| format!("limit: expected a number, got {value:?}"))?;
                    q.limit = Some(n);
                }
                other => {
                    return Err(format!(
                        "unknown parameter {other:?} (namespace, since, limit)"
                    ))
                }
            }
        }
        Ok(q)
    }

    pub fn matches(&self, r: &FlowRecord) -> bool {
        self.namespace.as_deref().is_none_or(|ns| r.involves(ns))
            && self.since_ms.is_none_or(|t| r.time.0 >= t)
    }

    /// The records of `all` (oldest first) that match: oldest first, the
    /// newest `limit` of them.
    pub fn select<'a>(&self, all: impl IntoIterator<Item = &'a FlowRecord>) -> Vec<FlowRecord> {
        let kept: Vec<&FlowRecord> = all.into_iter().filter(|r| self.matches(r)).collect();
        let skip = self.limit.map_or(0, |n| kept.len().saturating_sub(n));
        kept.into_iter().skip(skip).cloned().collect()
    }
}

/// The last `capacity` records, oldest first.
#[derive(Debug)]
pub struct Ring {
    capacity: usize,
    records: VecDeque<FlowRecord>,
    /// Sequence number of the next record pushed (the first is 0).
    next_seq: u64,
}

impl Ring {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            records: VecDeque::new(),
            next_seq: 0,
        }
    }

    /// Appends, dropping the oldest record when full; returns its sequence number.
    pub fn push(&mut self, r: FlowRecord) -> u64 {
        if self.records.len() == self.capacity {
            self.records.pop_front();
        }
        self.records.push_back(r);
        self.next_seq += 1;
        self.next_seq - 1
    }

    /// Records matching `q`, oldest first.
    pub fn query(&self, q: &Query) -> Vec<FlowRecord> {
        q.select(&self.records)
    }

    /// Records with sequence number `>= seq` (those still held), and the
    /// sequence number to ask for next.
    pub fn since_seq(&self, seq: u64) -> (Vec<FlowRecord>, u64) {
        let first = self.next_seq - self.records.len() as u64;
        let skip = seq.saturating_sub(first) as usize;
        (
            self.records.iter().skip(skip).cloned().collect(),
            self.next_seq,
        )
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{FlowEndpoint, Mode};
    use crate::time::Timestamp;
    use palisade_model::Direction;

    fn rec(t: u64, ns: &str) -> FlowRecord {
        let end = |ns: Option<&str>| FlowEndpoint {
            namespace: ns.map(Into::into),
            pod: ns.map(|_| "p".into()),
            ip: "10.0.0.1".parse().unwrap(),
            port: None,
        };
        FlowRecord {
            time: Timestamp(t),
            mode: Mode::Deny,
            direction: Direction::Egress,
            protocol: "ICMP".into(),
            src: end(Some(ns)),
            dst: end(None),
            policies: vec![],
        }
    }

    #[test]
    fn bounded_filtered_oldest_first() {
        let mut r = Ring::new(3);
        for (t, ns) in [(1, "a"), (2, "b"), (3, "a"), (4, "a")] {
            r.push(rec(t, ns));
        }
        assert_eq!(r.len(), 3, "the oldest fell out");
        let times = |q: Query| r.query(&q).iter().map(|x| x.time.0).collect::<Vec<_>>();
        assert_eq!(times(Query::default()), [2, 3, 4]);
        let ns_a = Query {
            namespace: Some("a".into()),
            ..Query::default()
        };
        assert_eq!(times(ns_a.clone()), [3, 4]);
        let since = Query {
            since_ms: Some(3),
            ..Query::default()
        };
        assert_eq!(times(since), [3, 4]);
        let limit = Query {
            limit: Some(1),
            ..ns_a
        };
        assert_eq!(times(limit), [4], "the newest, oldest first");
    }

    #[test]
    fn sequence_numbers_follow_the_ring() {
        let mut r = Ring::new(2);
        assert_eq!(r.since_seq(0), (vec![], 0));
        for t in 0..3 {
            r.push(rec(t, "a"));
        }
        let (got, next) = r.since_seq(0);
        assert_eq!((got.len(), next), (2, 3), "record 0 fell out");
        let (got, next) = r.since_seq(2);
        assert_eq!((got[0].time.0, next), (2, 3));
        assert_eq!(r.since_seq(3).0, vec![]);
    }

    #[test]
    fn query_parameters() {
        let pairs = |s: &[(&str, &str)]| {
            s.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        let q = Query::from_pairs(&pairs(&[
            ("namespace", "ns-1"),
            ("since", "2026-11-24T20:00:00Z"),
            ("limit", "5"),
        ]))
        .unwrap();
        assert_eq!(q.namespace.as_deref(), Some("ns-1"));
        assert_eq!(q.since_ms, Some(1_795_550_400_000));
        assert_eq!(q.limit, Some(5));
        let ms = Query::from_pairs(&pairs(&[("since", "1795550400000")])).unwrap();
        assert_eq!(ms.since_ms, Some(1_795_550_400_000));
        assert_eq!(
            Query::from_pairs(&pairs(&[("namespace", ""), ("limit", "")])).unwrap(),
            Query::default(),
            "empty values are absent"
        );
        for (k, v) in [("since", "yesterday"), ("limit", "-1"), ("colour", "red")] {
            let err = Query::from_pairs(&pairs(&[(k, v)])).unwrap_err();
            assert!(err.contains(k), "{err}");
        }
    }
}
