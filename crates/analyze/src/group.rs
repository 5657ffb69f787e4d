//! Connections grouped for people, computed on classes: "these sources may
//! open these ports to these destinations", without listing pairs.

use std::collections::HashMap;

use crate::engine::ClassConnectivity;
use crate::expand::End;
use crate::ports::{MaskId, EMPTY};

/// Sources that may open the same ports (`allow_set`, an index into
/// [`ClassConnectivity::allow_sets`]) to the same destinations. Every
/// (source, destination) pair of a group is an allowed connection, except
/// an endpoint to itself, which a group may list (a pod may always reach
/// itself); every allowed connection is in exactly one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group<'a> {
    /// Endpoints (ascending numbers) and CIDRs, in no particular order.
    pub from: Vec<End<'a>>,
    /// Endpoints in ascending number, then CIDRs sorted by text.
    pub to: Vec<End<'a>>,
    pub allow_set: usize,
}

/// What a group is keyed by: its ports and destinations (classes and CIDRs).
type Key<'a> = (MaskId, Vec<u32>, Vec<&'a str>);

impl ClassConnectivity {
    /// Every allowed connection, grouped by (ports, destinations): a few
    /// lines per class instead of one per pair. Costs classes x classes
    /// table lookups, not endpoints x endpoints.
    pub fn grouped(&self) -> Vec<Group<'_>> {
        let mut g = Grouper::default();
        let n = self.classes.len() as u32;
        let mut by_mask: HashMap<MaskId, (Vec<u32>, Vec<&str>)> = HashMap::new();
        for a in 0..n {
            by_mask.clear();
            let members = &self.classes.members[a as usize];
            for b in 0..n {
                let m = self.mask(a, b);
                // A lone endpoint is not listed as its own destination.
                if m != EMPTY && !(a == b && members.len() == 1) {
                    by_mask.entry(m).or_default().0.push(b);
                }
            }
            let profile = self.external.egress[self.roles[a as usize][0] as usize];
            for (cidr, m) in &self.external.lists[profile as usize] {
                by_mask.entry(*m).or_default().1.push(cidr);
            }
            for (m, (classes, cidrs)) in by_mask.drain() {
                let from = members.iter().map(|&e| End::Endpoint(e as usize));
                g.add((m, classes, cidrs), from);
            }
        }
        // From outside: per source CIDR, the classes whose ingress admits it.
        let mut admitted: HashMap<(&str, u32), MaskId> = HashMap::new();
        for (p, list) in self.external.lists.iter().enumerate() {
            for (cidr, m) in list {
                admitted.insert((cidr.as_str(), p as u32), *m);
            }
        }
        let mut cidrs: Vec<&str> = admitted.keys().map(|(c, _)| *c).collect();
        cidrs.sort_unstable();
        cidrs.dedup();
        let ingress_profiles: Vec<u32> = (0..n as usize)
            .map(|b| self.external.ingress[self.roles[b][1] as usize])
            .collect();
        let mut by_mask: HashMap<MaskId, Vec<u32>> = HashMap::new();
        for cidr in cidrs {
            by_mask.clear();
            for (b, p) in ingress_profiles.iter().enumerate() {
                if let Some(m) = admitted.get(&(cidr, *p)) {
                    by_mask.entry(*m).or_default().push(b as u32);
                }
            }
            for (m, classes) in by_mask.drain() {
                g.add((m, classes, Vec::new()), std::iter::once(End::Cidr(cidr)));
            }
        }
        let mut out: Vec<Group<'_>> = (g.groups.into_iter())
            .map(|((m, classes, cidrs), from)| {
                let mut to: Vec<End<'_>> = (classes.iter())
                    .flat_map(|&b| self.classes.members[b as usize].iter())
                    .map(|&e| End::Endpoint(e as usize))
                    .collect();
                to.sort_unstable_by_key(|e| match e {
                    End::Endpoint(i) => *i,
                    End::Cidr(_) => usize::MAX,
                });
                to.extend(cidrs.into_iter().map(End::Cidr));
                Group {
                    from,
                    to,
                    allow_set: m as usize,
                }
            })
            .collect();
        out.sort_unstable_by(|x, y| (x.allow_set, &x.to).cmp(&(y.allow_set, &y.to)));
        out
    }
}

/// Groups by key, in order of first appearance.
#[derive(Default)]
struct Grouper<'a> {
    index: HashMap<Key<'a>, usize>,
    groups: Vec<(Key<'a>, Vec<End<'a>>)>,
}

impl<'a> Grouper<'a> {
    fn add(&mut self, key: Key<'a>, from: impl Iterator<Item = End<'a>>) {
        let at = match self.index.get(&key) {
            Some(at) => *at,
            None => {
                self.index.insert(key.clone(), self.groups.len());
                self.groups.push((key, Vec::new()));
                self.groups.len() - 1
            }
        };
        self.groups[at].1.extend(from);
    }
}
