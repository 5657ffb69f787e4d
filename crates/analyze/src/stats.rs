//! Counting connections without listing them.
//!
//! For a source class `a`, the ingress verdict toward `a` depends on the
//! destination only through its ingress role, and the egress verdict of
//! `a`'s role only through the destination's feature in `a`'s egress view.
//! So destinations are weighed per (feature, ingress role) group, and a
//! source costs one row copy per ingress view and one visit per group, not
//! one per class.

use serde::Serialize;

use crate::engine::ClassConnectivity;
use crate::hash::FxMap;
use crate::ports::{MaskId, ALL, EMPTY};

/// Sizes of a connectivity result, computed on classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Stats {
    pub endpoints: usize,
    pub classes: usize,
    pub egress_roles: usize,
    pub ingress_roles: usize,
    /// Allowed ordered pairs of distinct endpoints.
    pub endpoint_connections: u64,
    /// Connections between an endpoint and an external CIDR (both ways).
    pub external_connections: u64,
}

impl Stats {
    /// Every connection [`ClassConnectivity::connections`] would list.
    pub fn connections(&self) -> u64 {
        self.endpoint_connections + self.external_connections
    }
}

/// Ingress roles numbered view by view ("slots"), so that what every
/// ingress role admits from one source is a concatenation of view rows.
/// The last slot is the open role.
struct Slots {
    of_role: Vec<u32>,
    /// Endpoints per slot.
    weight: Vec<u64>,
    /// Per egress view, once asked: (feature, slot, endpoints) groups.
    groups: Vec<Option<Vec<(u32, u32, u64)>>>,
}

impl ClassConnectivity {
    /// Counts connections without visiting endpoint pairs.
    pub fn stats(&self) -> Stats {
        let mut slots = self.slots();
        let mut into = vec![ALL; slots.weight.len()];
        let (mut pairs, mut external) = (0, 0);
        for a in 0..self.class_count() {
            self.fill(a as u32, &mut into);
            let own = u64::from(self.mask(a as u32, a as u32) != EMPTY);
            pairs += self.size(a) * (self.row_count(a, &into, &mut slots) - own);
            let lists = self.egress_external(a).count() + self.ingress_external(a).count();
            external += self.size(a) * lists as u64;
        }
        Stats {
            endpoints: self.endpoints.len(),
            classes: self.class_count(),
            egress_roles: self.egress.roles.len(),
            ingress_roles: self.ingress.roles.len(),
            endpoint_connections: pairs,
            external_connections: external,
        }
    }

    fn size(&self, class: usize) -> u64 {
        self.members(class).len() as u64
    }

    fn slots(&self) -> Slots {
        let side = &self.ingress;
        let mut offset = vec![0u32; side.width.len() + 1];
        for (v, w) in side.width.iter().enumerate() {
            offset[v + 1] = offset[v] + *w as u32;
        }
        let open = offset[side.width.len()];
        let of_role: Vec<u32> = (side.roles.iter())
            .map(|r| r.map_or(open, |(v, col)| offset[v as usize] + col))
            .collect();
        let mut weight = vec![0; open as usize + 1];
        for (c, r) in self.roles.iter().enumerate() {
            weight[of_role[r[1] as usize] as usize] += self.size(c);
        }
        let groups = vec![None; self.egress.views.len()];
        Slots {
            of_role,
            weight,
            groups,
        }
    }

    /// `into[slot]`: what each ingress role admits from class `a` (the
    /// last, open slot stays ALL).
    fn fill(&self, a: u32, into: &mut [MaskId]) {
        let mut at = 0;
        for (v, view) in self.ingress.views.iter().enumerate() {
            let row = self.ingress.row(v as u32, view.of_class[a as usize]);
            into[at..at + row.len()].copy_from_slice(row);
            at += row.len();
        }
    }

    /// Endpoints an endpoint of class `a` may reach, itself included when
    /// its own class pair allows.
    fn row_count(&self, a: usize, into: &[MaskId], slots: &mut Slots) -> u64 {
        let Some((v, col)) = self.egress.roles[self.roles[a][0] as usize] else {
            let open = into.iter().zip(&slots.weight).filter(|(m, _)| **m != EMPTY);
            return open.map(|(_, n)| n).sum();
        };
        let groups = slots.groups[v as usize].get_or_insert_with(|| self.groups(v, &slots.of_role));
        let allowed = groups.iter().filter(|(f, slot, _)| {
            let out = self.egress.row(v, *f)[col as usize];
            out != EMPTY && self.meet.get(out, into[*slot as usize]) != EMPTY
        });
        allowed.map(|(_, _, n)| n).sum()
    }

    /// Destinations of egress view `v` grouped by (feature, ingress slot).
    fn groups(&self, v: u32, slot_of_role: &[u32]) -> Vec<(u32, u32, u64)> {
        let of_class = &self.egress.views[v as usize].of_class;
        let mut groups: FxMap<(u32, u32), u64> = FxMap::default();
        for (b, &f) in of_class.iter().enumerate() {
            let slot = slot_of_role[self.roles[b][1] as usize];
            *groups.entry((f, slot)).or_default() += self.size(b);
        }
        let mut out: Vec<(u32, u32, u64)> =
            groups.into_iter().map(|((f, s), n)| (f, s, n)).collect();
        out.sort_unstable();
        out
    }
}
