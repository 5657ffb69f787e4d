//! What differs between two IRs, found by comparing the IR objects
//! themselves (sets, chains, counters, dispatch entries) instead of
//! rebuilding and comparing the whole kernel state. A one-pod change at
//! 10,000 pods touches a handful of sets and one or two map elements; only
//! those are then turned into nft objects (see [`crate::delta::between`]).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use palisade_compile::{Family, Ruleset};
use palisade_model::Direction;

use crate::layout::{map_name, MAPS};

/// Names of the objects that differ (added, removed or changed) between
/// two IRs. The fixed layout (base chains) never differs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changed {
    pub sets: BTreeSet<String>,
    pub chains: BTreeSet<String>,
    pub counters: BTreeSet<String>,
    /// Dispatch maps with an element added, removed or retargeted.
    pub maps: BTreeSet<&'static str>,
    /// Families whose hairpin set changed (a dispatched address came or went).
    pub hairpin: BTreeSet<Family>,
}

impl Changed {
    /// Compares `old` and `new` object by object.
    pub fn between(old: &Ruleset, new: &Ruleset) -> Self {
        let mut sets = differing(&old.addr_sets, &new.addr_sets);
        sets.extend(differing(&old.port_sets, &new.port_sets));
        sets.extend(differing(&old.named_port_sets, &new.named_port_sets));
        let mut maps = BTreeSet::new();
        // One comparison per direction first: most updates leave a
        // direction's elements as they are (10,000 each at every pod local).
        let same: BTreeMap<Direction, bool> = [Direction::Egress, Direction::Ingress]
            .into_iter()
            .map(|d| (d, old.dispatch.get(&d) == new.dispatch.get(&d)))
            .collect();
        for (direction, family) in MAPS {
            if !same[&direction]
                && !dispatch(old, direction, family).eq(dispatch(new, direction, family))
            {
                maps.insert(map_name(direction, family));
            }
        }
        // Same keys in every dispatch map (a relabel): same hairpin pairs.
        let same_keys = maps.is_empty()
            || MAPS
                .iter()
                .all(|(d, _)| match (old.dispatch.get(d), new.dispatch.get(d)) {
                    (Some(a), Some(b)) => a.keys().eq(b.keys()),
                    (a, b) => a.is_none() && b.is_none(),
                });
        let hairpin = match same_keys {
            true => BTreeSet::new(),
            false => [Family::V4, Family::V6]
                .into_iter()
                .filter(|f| dispatched(old, *f) != dispatched(new, *f))
                .collect(),
        };
        Self {
            sets,
            chains: differing(&old.chains, &new.chains),
            counters: differing(&old.counters, &new.counters),
            maps,
            hairpin,
        }
    }

    /// Whether nothing differs.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    pub(crate) fn sets(&self) -> &BTreeSet<String> {
        &self.sets
    }

    pub(crate) fn chains(&self) -> &BTreeSet<String> {
        &self.chains
    }

    pub(crate) fn counters(&self) -> &BTreeSet<String> {
        &self.counters
    }
}

/// Which objects [`crate::desired::Desired`] builds: all, or only changed ones.
#[derive(Debug)]
pub(crate) enum Only<'a> {
    All,
    Changed(&'a Changed),
}

impl Only<'_> {
    /// The entries of `all` to build: every one, or those `names` lists.
    pub fn pick<'m, T>(
        &self,
        all: &'m BTreeMap<String, T>,
        names: fn(&Changed) -> &BTreeSet<String>,
    ) -> Box<dyn Iterator<Item = (&'m String, &'m T)> + 'm> {
        match self {
            Only::All => Box::new(all.iter()),
            Only::Changed(c) => {
                let picked: Vec<_> = names(c)
                    .iter()
                    .filter_map(|n| all.get_key_value(n))
                    .collect();
                Box::new(picked.into_iter())
            }
        }
    }

    pub fn map(&self, name: &str) -> bool {
        match self {
            Only::All => true,
            Only::Changed(c) => c.maps.contains(name),
        }
    }

    pub fn hairpin(&self, family: Family) -> bool {
        match self {
            Only::All => true,
            Only::Changed(c) => c.hairpin.contains(&family),
        }
    }
}

/// Names in one map and not the other, or with different values.
fn differing<T: PartialEq>(
    old: &BTreeMap<String, T>,
    new: &BTreeMap<String, T>,
) -> BTreeSet<String> {
    let changed = new
        .iter()
        .filter(|(n, v)| old.get(*n) != Some(*v))
        .map(|(n, _)| n.clone());
    let gone = old.keys().filter(|n| !new.contains_key(*n)).cloned();
    changed.chain(gone).collect()
}

fn dispatch(
    rs: &Ruleset,
    direction: Direction,
    family: Family,
) -> impl Iterator<Item = (&IpAddr, &String)> {
    rs.dispatch
        .get(&direction)
        .into_iter()
        .flatten()
        .filter(move |(ip, _)| Family::of(ip) == family)
}

/// The addresses the hairpin set of `family` holds.
fn dispatched(rs: &Ruleset, family: Family) -> BTreeSet<&IpAddr> {
    rs.dispatch
        .values()
        .flat_map(|m| m.keys())
        .filter(|ip| Family::of(ip) == family)
        .collect()
}
