//! Expanding classes back to endpoint connections, lazily and in order.

use std::collections::BTreeMap;

use crate::engine::ClassConnectivity;
use crate::ports::{MaskId, EMPTY};
use crate::Connection;

/// One `from` of the output: an endpoint number, or an external CIDR with
/// the (ingress profile, ports) pairs that admit it.
#[derive(Debug)]
enum Source<'a> {
    Endpoint(usize),
    Cidr(&'a str, Vec<(u32, MaskId)>),
}

/// Every allowed connection of a [`ClassConnectivity`], sorted by
/// (`from`, `to`). Built one source at a time: memory stays proportional
/// to the endpoints, not to the pairs.
#[derive(Debug)]
pub struct Connections<'a> {
    cc: &'a ClassConnectivity,
    sources: std::vec::IntoIter<Source<'a>>,
    buf: std::vec::IntoIter<Connection>,
}

impl ClassConnectivity {
    /// Every allowed connection, sorted; self pairs are left out.
    pub fn connections(&self) -> Connections<'_> {
        Connections {
            cc: self,
            sources: sources(self).into_iter(),
            buf: Vec::new().into_iter(),
        }
    }

    fn conn(&self, from: &str, to: &str, mask: MaskId) -> Connection {
        Connection {
            from: from.to_string(),
            to: to.to_string(),
            allow: self.allows[mask as usize].clone(),
        }
    }
}

/// Endpoints and external ingress CIDRs, merged in text order.
fn sources(cc: &ClassConnectivity) -> Vec<Source<'_>> {
    let mut cidrs: BTreeMap<&str, Vec<(u32, MaskId)>> = BTreeMap::new();
    let mut profiles: Vec<u32> = (cc.roles.iter())
        .map(|r| cc.external.ingress[r[1] as usize])
        .collect();
    profiles.sort_unstable();
    profiles.dedup();
    for p in profiles {
        for (cidr, m) in &cc.external.lists[p as usize] {
            cidrs.entry(cidr.as_str()).or_default().push((p, *m));
        }
    }
    let mut out = Vec::with_capacity(cc.endpoints.len() + cidrs.len());
    let mut cidrs = cidrs.into_iter().peekable();
    for (i, e) in cc.endpoints.iter().enumerate() {
        while let Some((cidr, admits)) = cidrs.next_if(|(c, _)| *c < e.name.as_str()) {
            out.push(Source::Cidr(cidr, admits));
        }
        out.push(Source::Endpoint(i));
    }
    out.extend(cidrs.map(|(c, a)| Source::Cidr(c, a)));
    out
}

impl ClassConnectivity {
    /// Calls `f(from, to, allow)` for every allowed connection, in the same
    /// order as [`ClassConnectivity::connections`], without allocating a
    /// [`Connection`] per row: for writers of very large outputs.
    pub fn for_each_connection(&self, mut f: impl FnMut(&str, &str, &[crate::Allow])) {
        for source in sources(self) {
            let mut emit = |from: &str, to: &str, m: MaskId| f(from, to, &self.allows[m as usize]);
            match source {
                Source::Endpoint(a) => out_of_endpoint(self, a, &mut emit),
                Source::Cidr(cidr, admits) => out_of_cidr(self, cidr, &admits, &mut emit),
            }
        }
    }
}

/// The connections of endpoint `a`, to endpoints and CIDRs in order.
fn out_of_endpoint(cc: &ClassConnectivity, a: usize, emit: &mut dyn FnMut(&str, &str, MaskId)) {
    let ca = cc.classes.of_endpoint[a];
    let from = cc.endpoints[a].name.as_str();
    let profile = cc.external.egress[cc.roles[ca as usize][0] as usize];
    let mut ext = cc.external.lists[profile as usize].iter().peekable();
    for (b, e) in cc.endpoints.iter().enumerate() {
        while let Some((cidr, m)) = ext.next_if(|(c, _)| c.as_str() < e.name.as_str()) {
            emit(from, cidr, *m);
        }
        let m = cc.mask(ca, cc.classes.of_endpoint[b]);
        if b != a && m != EMPTY {
            emit(from, &e.name, m);
        }
    }
    ext.for_each(|(cidr, m)| emit(from, cidr, *m));
}

/// The connections from an external CIDR, to endpoints in order.
fn out_of_cidr(
    cc: &ClassConnectivity,
    cidr: &str,
    admits: &[(u32, MaskId)],
    emit: &mut dyn FnMut(&str, &str, MaskId),
) {
    for (b, e) in cc.endpoints.iter().enumerate() {
        let role = cc.roles[cc.classes.of_endpoint[b] as usize][1];
        let profile = cc.external.ingress[role as usize];
        if let Ok(at) = admits.binary_search_by_key(&profile, |(p, _)| *p) {
            emit(cidr, &e.name, admits[at].1);
        }
    }
}

impl Iterator for Connections<'_> {
    type Item = Connection;

    fn next(&mut self) -> Option<Connection> {
        loop {
            if let Some(c) = self.buf.next() {
                return Some(c);
            }
            let cc = self.cc;
            let mut batch = Vec::new();
            let mut emit = |from: &str, to: &str, m: MaskId| batch.push(cc.conn(from, to, m));
            match self.sources.next()? {
                Source::Endpoint(a) => out_of_endpoint(cc, a, &mut emit),
                Source::Cidr(cidr, admits) => out_of_cidr(cc, cidr, &admits, &mut emit),
            }
            self.buf = batch.into_iter();
        }
    }
}
