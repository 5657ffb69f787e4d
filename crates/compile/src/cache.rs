//! The pod-selector and named-port sets kept between compilations: after
//! a change, a set no changed pod (old or new version) is in stays as it
//! is, a set one is in is patched element by element, and so is a set
//! whose namespace selector a changed namespace enters or leaves (the
//! namespace's selected pods come or go).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use palisade_model::{Cluster, LabelSelector, Pod, Protocol};

use crate::index::{PodGroups, PodIndex};
use crate::ir::{AddrSet, Family, NamedPortSet};
use crate::seen::Diff;
use crate::sets::{build_named, build_peer};

/// Sets built in one compilation, by origin (their content key).
#[derive(Debug, Default)]
pub struct Cache {
    peers: BTreeMap<String, PeerSets>,
    named: BTreeMap<String, NamedSets>,
}

/// The sets of one pod-selector peer, and what they depend on.
#[derive(Debug, Clone)]
pub struct PeerSets {
    pub namespaces: Option<LabelSelector>,
    pub pods: LabelSelector,
    pub policy_ns: String,
    pub sets: Vec<(String, Arc<AddrSet>)>,
}

/// The sets of one named port.
#[derive(Debug, Clone)]
pub struct NamedSets {
    pub port: String,
    pub proto: Protocol,
    pub sets: Vec<(String, Arc<NamedPortSet>)>,
}

/// What a change did to the sets of one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Patched {
    /// Elements changed; the same families have sets.
    Elements,
    /// A family's set came or went: the rules that use the key change.
    Families,
    /// Must be built again from the pods (see [`Cache::update`]).
    Rebuild,
}

impl Cache {
    /// Brings the sets to the cluster after `diff` (see the module
    /// documentation) and returns the keys whose sets changed. `holders`
    /// counts the non-host-network pods of `next` by address: an address
    /// a changed pod gave up is removed from a set only when no unchanged
    /// pod holds it too (else the set is built again, which is rare: an
    /// address reused while its old pod lingers).
    pub(crate) fn update(
        &mut self,
        diff: &Diff,
        next: &Cluster,
        groups: &PodGroups,
        holders: &BTreeMap<IpAddr, u32>,
    ) -> BTreeMap<String, Patched> {
        let selectable = |p: &Option<Pod>| p.clone().filter(|p| !p.host_network);
        let versions: Vec<(Option<Pod>, Option<Pod>)> = diff
            .pods
            .iter()
            .map(|(a, b)| (selectable(a), selectable(b)))
            .collect();
        let held_elsewhere = |ip: &IpAddr| {
            let changed = versions
                .iter()
                .filter(|(_, b)| b.as_ref().is_some_and(|p| p.ips.contains(ip)))
                .count();
            holders.get(ip).is_some_and(|n| *n as usize > changed)
        };
        let mut out = BTreeMap::new();
        for (origin, e) in &mut self.peers {
            // Namespaces that entered (true) or left the namespace selector.
            let flipped: Vec<(&str, bool)> = match &e.namespaces {
                None => Vec::new(),
                Some(sel) => diff
                    .namespaces
                    .iter()
                    .filter(|(_, old, new)| sel.matches(old) != sel.matches(new))
                    .map(|(name, _, new)| (name.as_str(), sel.matches(new)))
                    .collect(),
            };
            let patched = match (flipped.is_empty(), versions.is_empty()) {
                (true, _) => e.patch(&versions, next, held_elsewhere),
                (false, true) => e.flip(&flipped, groups, holders),
                // Pods and namespaces changed at once: build again.
                (false, false) => Some(Patched::Rebuild),
            };
            if let Some(p) = patched {
                out.insert(origin.clone(), p);
            }
        }
        for (origin, e) in &mut self.named {
            if let Some(p) = e.patch(&versions, held_elsewhere) {
                out.insert(origin.clone(), p);
            }
        }
        out
    }

    /// Builds the sets of `origin` again from the pods; whether the
    /// families that have a set changed.
    pub(crate) fn rebuild(&mut self, origin: &str, index: &PodIndex) -> bool {
        if let Some(e) = self.peers.get_mut(origin) {
            let sets = build_peer(index, e.namespaces.as_ref(), &e.pods, &e.policy_ns, origin);
            let families = |s: &[(String, Arc<AddrSet>)]| -> Vec<Family> {
                s.iter().map(|(_, s)| s.family).collect()
            };
            let changed = families(&sets) != families(&e.sets);
            e.sets = sets;
            return changed;
        }
        if let Some(e) = self.named.get_mut(origin) {
            let sets = build_named(index, &e.port, e.proto, origin);
            let families = |s: &[(String, Arc<NamedPortSet>)]| -> Vec<Family> {
                s.iter().map(|(_, s)| s.family).collect()
            };
            let changed = families(&sets) != families(&e.sets);
            e.sets = sets;
            return changed;
        }
        false
    }

    /// Keeps only the keys `used` holds.
    pub(crate) fn retain_used(&mut self, used: impl Fn(&str) -> bool) {
        self.peers.retain(|k, _| used(k));
        self.named.retain(|k, _| used(k));
    }

    /// The sets of a key, by name.
    pub(crate) fn addr_sets(&self, origin: &str) -> impl Iterator<Item = (&String, &Arc<AddrSet>)> {
        self.peers
            .get(origin)
            .into_iter()
            .flat_map(|e| e.sets.iter().map(|(n, s)| (n, s)))
    }

    pub(crate) fn named_sets(
        &self,
        origin: &str,
    ) -> impl Iterator<Item = (&String, &Arc<NamedPortSet>)> {
        self.named
            .get(origin)
            .into_iter()
            .flat_map(|e| e.sets.iter().map(|(n, s)| (n, s)))
    }

    /// Moves every entry of `other` in (replacing).
    pub(crate) fn absorb(&mut self, other: Cache) {
        self.peers.extend(other.peers);
        self.named.extend(other.named);
    }
}

/// The addresses of the old versions and of the new versions for which
/// `select` is true.
fn addresses(
    versions: &[(Option<Pod>, Option<Pod>)],
    select: impl Fn(&Pod) -> bool,
) -> (Vec<IpAddr>, Vec<IpAddr>) {
    let of = |p: &Option<Pod>| -> Vec<IpAddr> {
        p.iter()
            .filter(|p| select(p))
            .flat_map(|p| p.ips.clone())
            .collect()
    };
    let old = versions.iter().flat_map(|(a, _)| of(a)).collect();
    let new = versions.iter().flat_map(|(_, b)| of(b)).collect();
    (old, new)
}

/// Removes `gone` and adds `new` in a sorted, deduplicated list.
fn patch_sorted<T: Ord + Clone>(elements: &mut Vec<T>, gone: &[T], new: &[T]) {
    for x in gone {
        if let Ok(at) = elements.binary_search(x) {
            elements.remove(at);
        }
    }
    for x in new {
        if let Err(at) = elements.binary_search(x) {
            elements.insert(at, x.clone());
        }
    }
}

impl PeerSets {
    fn selects(&self, p: &Pod, next: &Cluster) -> bool {
        let in_scope = match &self.namespaces {
            None => p.namespace == self.policy_ns,
            Some(sel) => sel.matches(&next.namespace_labels(&p.namespace)),
        };
        in_scope && self.pods.matches(&p.labels)
    }

    /// Patches the sets for the changed pods (`None`: nothing changed).
    fn patch(
        &mut self,
        versions: &[(Option<Pod>, Option<Pod>)],
        next: &Cluster,
        held_elsewhere: impl Fn(&IpAddr) -> bool,
    ) -> Option<Patched> {
        let (old, new) = addresses(versions, |p| self.selects(p, next));
        let gone: Vec<IpAddr> = old.into_iter().filter(|ip| !new.contains(ip)).collect();
        if gone.iter().any(held_elsewhere) {
            return Some(Patched::Rebuild);
        }
        self.apply(&gone, &new)
    }

    /// Patches the sets for namespaces that entered (`true`) or left the
    /// namespace selector, none of whose pods changed.
    fn flip(
        &mut self,
        flipped: &[(&str, bool)],
        groups: &PodGroups,
        holders: &BTreeMap<IpAddr, u32>,
    ) -> Option<Patched> {
        let (mut gone, mut new) = (Vec::new(), Vec::new());
        for (ns, entered) in flipped {
            let ips = groups.matching_in(ns, &self.pods).copied();
            match entered {
                true => new.extend(ips),
                false => gone.extend(ips),
            }
        }
        // An address another pod holds too may stay: build again.
        if gone
            .iter()
            .any(|ip| holders.get(ip).is_some_and(|n| *n > 1))
        {
            return Some(Patched::Rebuild);
        }
        self.apply(&gone, &new)
    }

    /// Removes `gone` and adds `new` (addresses).
    fn apply(&mut self, gone: &[IpAddr], new: &[IpAddr]) -> Option<Patched> {
        if gone.is_empty() && new.is_empty() {
            return None;
        }
        let before = self.sets.len();
        let origin = self.sets[0].1.origin.clone();
        for family in [Family::V4, Family::V6] {
            let pair = |ips: &[IpAddr]| -> Vec<(IpAddr, IpAddr)> {
                ips.iter()
                    .filter(|ip| Family::of(ip) == family)
                    .map(|ip| (*ip, *ip))
                    .collect()
            };
            let (gone, new) = (pair(gone), pair(new));
            if gone.is_empty() && new.is_empty() {
                continue;
            }
            let at = match self.sets.iter().position(|(_, s)| s.family == family) {
                Some(at) => at,
                None => {
                    let set = AddrSet {
                        family,
                        interval: false,
                        ranges: Vec::new(),
                        origin: origin.clone(),
                    };
                    let name = crate::sets::addr_set_name(&origin, family);
                    self.sets.push((name, Arc::new(set)));
                    self.sets.len() - 1
                }
            };
            patch_sorted(&mut Arc::make_mut(&mut self.sets[at].1).ranges, &gone, &new);
        }
        // The IPv4 set always exists, the IPv6 one only with elements.
        self.sets
            .retain(|(_, s)| s.family == Family::V4 || !s.ranges.is_empty());
        Some(match self.sets.len() == before {
            true => Patched::Elements,
            false => Patched::Families,
        })
    }
}

impl NamedSets {
    /// Patches the sets for the changed pods (`None`: nothing changed).
    fn patch(
        &mut self,
        versions: &[(Option<Pod>, Option<Pod>)],
        held_elsewhere: impl Fn(&IpAddr) -> bool,
    ) -> Option<Patched> {
        let elements = |p: &Option<Pod>| -> Vec<(IpAddr, Protocol, u16)> {
            let Some(pod) = p else { return Vec::new() };
            let Some(port) = pod.named_port(&self.port, self.proto) else {
                return Vec::new();
            };
            pod.ips.iter().map(|ip| (*ip, self.proto, port)).collect()
        };
        let old: Vec<_> = versions.iter().flat_map(|(a, _)| elements(a)).collect();
        let new: Vec<_> = versions.iter().flat_map(|(_, b)| elements(b)).collect();
        let gone: Vec<_> = old.into_iter().filter(|x| !new.contains(x)).collect();
        if gone.iter().any(|(ip, _, _)| held_elsewhere(ip)) {
            return Some(Patched::Rebuild);
        }
        if gone.is_empty() && new.is_empty() {
            return None;
        }
        let before = self.sets.len();
        let origin = self.sets[0].1.origin.clone();
        for family in [Family::V4, Family::V6] {
            let of = |xs: &[(IpAddr, Protocol, u16)]| -> Vec<(IpAddr, Protocol, u16)> {
                xs.iter()
                    .filter(|x| Family::of(&x.0) == family)
                    .copied()
                    .collect()
            };
            let (gone, new) = (of(&gone), of(&new));
            if gone.is_empty() && new.is_empty() {
                continue;
            }
            let at = match self.sets.iter().position(|(_, s)| s.family == family) {
                Some(at) => at,
                None => {
                    let set = NamedPortSet {
                        family,
                        elements: Vec::new(),
                        origin: origin.clone(),
                    };
                    let name = crate::sets::named_set_name(&origin, family);
                    self.sets.push((name, Arc::new(set)));
                    self.sets.len() - 1
                }
            };
            patch_sorted(
                &mut Arc::make_mut(&mut self.sets[at].1).elements,
                &gone,
                &new,
            );
        }
        self.sets
            .retain(|(_, s)| s.family == Family::V4 || !s.elements.is_empty());
        Some(match self.sets.len() == before {
            true => Patched::Elements,
            false => Patched::Families,
        })
    }
}

/// The cache as the sets code sees it during one compilation: entries still
/// valid from the previous one, and those used (or built) in this one.
#[derive(Debug, Default)]
pub struct Reuse {
    pub old: Cache,
    pub used: Cache,
}

impl Reuse {
    /// A still-valid entry, taken out: hand it back with [`Reuse::keep_peer`].
    pub fn peer(&mut self, origin: &str) -> Option<PeerSets> {
        self.old.peers.remove(origin)
    }

    pub fn keep_peer(&mut self, origin: &str, e: PeerSets) {
        self.used.peers.insert(origin.into(), e);
    }

    /// A still-valid entry, taken out: hand it back with [`Reuse::keep_named`].
    pub fn named(&mut self, origin: &str) -> Option<NamedSets> {
        self.old.named.remove(origin)
    }

    pub fn keep_named(&mut self, origin: &str, e: NamedSets) {
        self.used.named.insert(origin.into(), e);
    }
}

/// Shared by [`PodIndex`]: one compilation's reuse state.
pub type ReuseCell = RefCell<Reuse>;
