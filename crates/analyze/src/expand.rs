//! Expanding classes back to endpoint connections, lazily and in order.

use std::collections::BTreeMap;

use crate::engine::ClassConnectivity;
use crate::ports::{MaskId, EMPTY};
use crate::{Allow, Connection};

/// One end of a connection, by reference: an endpoint's number (its index
/// in [`ClassConnectivity::endpoints`]) or an external CIDR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum End<'a> {
    Endpoint(usize),
    Cidr(&'a str),
}

/// One `from` of the output: an endpoint number, or an external CIDR with
/// the (ingress profile, ports) pairs that admit it.
#[derive(Debug)]
enum Source<'a> {
    Endpoint(usize),
    Cidr(&'a str, Vec<(u32, MaskId)>),
}

/// The sources of every allowed connection, in output order, each
/// addressable by its number: [`Sources::visit`] lists one source's
/// connections. Writers of very large outputs use it to produce the rows
/// of different sources on different threads and still write them in
/// order.
#[derive(Debug)]
pub struct Sources<'a> {
    cc: &'a ClassConnectivity,
    list: Vec<Source<'a>>,
}

impl Sources<'_> {
    /// The number of sources (endpoints, then external CIDRs merged in
    /// text order).
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// True when there is no source at all (no endpoint, no CIDR).
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Calls `f(from, to, allow_set)` for every allowed connection out of
    /// source number `i`, sorted by `to`. `allow_set` indexes
    /// [`ClassConnectivity::allow_sets`].
    pub fn visit(&self, i: usize, f: &mut dyn FnMut(End<'_>, End<'_>, usize)) {
        let mut emit = |from: End<'_>, to: End<'_>, m: MaskId| f(from, to, m as usize);
        match &self.list[i] {
            Source::Endpoint(a) => out_of_endpoint(self.cc, *a, &mut emit),
            Source::Cidr(cidr, admits) => out_of_cidr(self.cc, cidr, admits, &mut emit),
        }
    }
}

/// Every allowed connection of a [`ClassConnectivity`], sorted by
/// (`from`, `to`). Built one source at a time: memory stays proportional
/// to the endpoints, not to the pairs.
#[derive(Debug)]
pub struct Connections<'a> {
    sources: Sources<'a>,
    next: usize,
    buf: std::vec::IntoIter<Connection>,
}

impl ClassConnectivity {
    /// Every allowed connection, sorted; self pairs are left out.
    pub fn connections(&self) -> Connections<'_> {
        Connections {
            sources: self.sources(),
            next: 0,
            buf: Vec::new().into_iter(),
        }
    }

    /// The sources of the output, for writers that visit them out of
    /// order or in parallel (see [`Sources`]).
    pub fn sources(&self) -> Sources<'_> {
        Sources {
            cc: self,
            list: sources(self),
        }
    }

    /// Every distinct set of allowed ports, indexed by the `allow_set`
    /// numbers that [`Sources::visit`] gives. Set 0 is empty.
    pub fn allow_sets(&self) -> &[Vec<Allow>] {
        &self.allows
    }

    /// The text of a connection end: an endpoint's `namespace/name`, or
    /// the CIDR.
    pub fn name<'a>(&'a self, end: End<'a>) -> &'a str {
        match end {
            End::Endpoint(i) => &self.endpoints[i].name,
            End::Cidr(c) => c,
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

type Emit<'e> = dyn FnMut(End<'_>, End<'_>, MaskId) + 'e;

/// The connections of endpoint `a`, to endpoints and CIDRs in order.
fn out_of_endpoint(cc: &ClassConnectivity, a: usize, emit: &mut Emit<'_>) {
    let ca = cc.classes.of_endpoint[a];
    let from = End::Endpoint(a);
    let profile = cc.external.egress[cc.roles[ca as usize][0] as usize];
    let mut ext = cc.external.lists[profile as usize].iter().peekable();
    for (b, e) in cc.endpoints.iter().enumerate() {
        while let Some((cidr, m)) = ext.next_if(|(c, _)| c.as_str() < e.name.as_str()) {
            emit(from, End::Cidr(cidr), *m);
        }
        let m = cc.mask(ca, cc.classes.of_endpoint[b]);
        if b != a && m != EMPTY {
            emit(from, End::Endpoint(b), m);
        }
    }
    ext.for_each(|(cidr, m)| emit(from, End::Cidr(cidr), *m));
}

/// The connections from an external CIDR, to endpoints in order.
fn out_of_cidr(cc: &ClassConnectivity, cidr: &str, admits: &[(u32, MaskId)], emit: &mut Emit<'_>) {
    for (b, _) in cc.endpoints.iter().enumerate() {
        let role = cc.roles[cc.classes.of_endpoint[b] as usize][1];
        let profile = cc.external.ingress[role as usize];
        if let Ok(at) = admits.binary_search_by_key(&profile, |(p, _)| *p) {
            emit(End::Cidr(cidr), End::Endpoint(b), admits[at].1);
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
            if self.next == self.sources.len() {
                return None;
            }
            let cc = self.sources.cc;
            let mut batch = Vec::new();
            self.sources.visit(self.next, &mut |from, to, m| {
                batch.push(Connection {
                    from: cc.name(from).to_string(),
                    to: cc.name(to).to_string(),
                    allow: cc.allows[m].clone(),
                });
            });
            self.next += 1;
            self.buf = batch.into_iter();
        }
    }
}
