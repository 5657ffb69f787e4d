//! The difference between two connectivities: what became allowed and
//! what stopped being allowed.
//!
//! Compared per (from, to, protocol, port): a port allowed after but not
//! before is *added*, the reverse *removed*; ranges are split exactly. Each
//! entry is a [`Connection`] whose `allow` holds only the changed ports.
//! Endpoints present on one side only simply have all their connections
//! added or removed. Connections with external addresses are compared by
//! address, not by CIDR text, so regrouping the same addresses into other
//! CIDRs is no change.

mod external;
mod portset;

use std::collections::BTreeMap;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::{Connection, Connectivity};
use external::Cidrs;
use portset::PortSet;

/// Connections added and removed, each sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diff {
    pub added: Vec<Connection>,
    pub removed: Vec<Connection>,
}

impl Diff {
    /// True when both versions allow exactly the same connections.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

/// Which end of an external connection the endpoint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum End {
    /// endpoint -> CIDR
    From,
    /// CIDR -> endpoint
    To,
}

/// One side, split: endpoint pairs, and external CIDRs per endpoint and end.
#[derive(Debug, Default)]
struct Split<'a> {
    pairs: BTreeMap<(&'a str, &'a str), PortSet>,
    external: BTreeMap<(&'a str, End), Cidrs>,
}

fn split(c: &Connectivity) -> Split<'_> {
    let mut s = Split::default();
    for conn in &c.connections {
        let ports = PortSet::from_allows(&conn.allow);
        let (from, to) = (conn.from.as_str(), conn.to.as_str());
        match (from.parse::<IpNet>(), to.parse::<IpNet>()) {
            (Err(_), Ok(net)) => s
                .external
                .entry((from, End::From))
                .or_default()
                .push((net, ports)),
            (Ok(net), Err(_)) => s
                .external
                .entry((to, End::To))
                .or_default()
                .push((net, ports)),
            _ => {
                let entry = s.pairs.entry((from, to)).or_default();
                *entry = entry.union(&ports);
            }
        }
    }
    s
}

/// What `after` allows that `before` did not (`added`), and the reverse.
pub fn diff(before: &Connectivity, after: &Connectivity) -> Diff {
    let (b, a) = (split(before), split(after));
    let mut d = Diff::default();
    let none = PortSet::default();
    let keys: std::collections::BTreeSet<_> = b.pairs.keys().chain(a.pairs.keys()).collect();
    for &(from, to) in keys {
        let (pb, pa) = (b.pairs.get(&(from, to)), a.pairs.get(&(from, to)));
        let (pb, pa) = (pb.unwrap_or(&none), pa.unwrap_or(&none));
        push(&mut d.added, from, to, pa.minus(pb));
        push(&mut d.removed, from, to, pb.minus(pa));
    }
    let empty = Cidrs::new();
    let keys: std::collections::BTreeSet<_> = b.external.keys().chain(a.external.keys()).collect();
    for &(endpoint, end) in keys {
        let cb = b.external.get(&(endpoint, end)).unwrap_or(&empty);
        let ca = a.external.get(&(endpoint, end)).unwrap_or(&empty);
        let (added, removed) = external::diff(cb, ca);
        push_external(&mut d.added, endpoint, end, added);
        push_external(&mut d.removed, endpoint, end, removed);
    }
    d.added.sort_unstable();
    d.removed.sort_unstable();
    d
}

fn push(out: &mut Vec<Connection>, from: &str, to: &str, ports: PortSet) {
    if !ports.is_empty() {
        out.push(Connection {
            from: from.into(),
            to: to.into(),
            allow: ports.to_allows(),
        });
    }
}

fn push_external(out: &mut Vec<Connection>, endpoint: &str, end: End, cidrs: Cidrs) {
    for (net, ports) in cidrs {
        let net = net.to_string();
        match end {
            End::From => push(out, endpoint, &net, ports),
            End::To => push(out, &net, endpoint, ports),
        }
    }
}
