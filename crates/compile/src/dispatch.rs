//! The dispatch maps (local pod address -> subject chain) and the subject
//! chains they use, kept between compilations and patched for the pods a
//! change touches.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use palisade_model::{Cluster, Direction, Labels, Pod, PodId, PolicyRef};

use crate::compile::chain_name;
use crate::local::LocalPods;

const DIRECTIONS: [Direction; 2] = [Direction::Egress, Direction::Ingress];

/// A subject chain: its name and isolating policies (sorted).
type ChainId = (String, Vec<PolicyRef>);

/// What the local pods dispatch to.
#[derive(Debug, Default)]
pub struct Dispatch {
    /// Every local pod: its addresses and its chain per direction
    /// (egress, ingress); `None` where it is not isolated.
    pods: BTreeMap<PodId, (Vec<IpAddr>, [Option<String>; 2])>,
    /// Local pods by address (several only while an address is reused).
    owners: BTreeMap<IpAddr, Vec<PodId>>,
    /// The subject chains some local pod uses: direction, isolating
    /// policies, and how many (pod, direction) pairs use it.
    pub chains: BTreeMap<String, (Direction, Vec<PolicyRef>, usize)>,
}

/// The maps, as [`crate::Ruleset::dispatch`] holds them.
pub type Maps = BTreeMap<Direction, BTreeMap<IpAddr, String>>;

/// The chains of pods with the same namespace and labels, found once per compilation.
type Groups<'c> = BTreeMap<(&'c str, &'c Labels), [Option<ChainId>; 2]>;

impl Dispatch {
    /// Every local pod of `cluster`; fills `maps`.
    pub fn build(cluster: &Cluster, local: &LocalPods, maps: &mut Maps) -> Self {
        let mut this = Self::default();
        let mut groups = Groups::new();
        let mut ips = BTreeSet::new();
        for pod in cluster.pods().filter(|p| local.contains(p)) {
            this.add(cluster, pod, &mut groups);
            ips.extend(pod.ips.iter().copied());
        }
        this.refresh(ips, maps);
        this
    }

    /// Patches for the pods with these ids (changed, added or removed),
    /// and every local pod of `namespaces` (whose policies changed).
    pub fn update(
        &mut self,
        cluster: &Cluster,
        local: &LocalPods,
        changed: impl IntoIterator<Item = PodId>,
        namespaces: &BTreeSet<String>,
        maps: &mut Maps,
    ) {
        let mut ids: BTreeSet<PodId> = changed.into_iter().collect();
        for ns in namespaces {
            let start = PodId::new(ns, "");
            let in_ns = self.pods.range(start..).map(|(id, _)| id);
            ids.extend(in_ns.take_while(|id| id.namespace == *ns).cloned());
        }
        let mut groups = Groups::new();
        let mut ips = BTreeSet::new();
        for id in &ids {
            if let Some((old_ips, _)) = self.remove(id) {
                ips.extend(old_ips);
            }
            if let Some(pod) = cluster.pod(id).filter(|p| local.contains(p)) {
                self.add(cluster, pod, &mut groups);
                ips.extend(pod.ips.iter().copied());
            }
        }
        self.refresh(ips, maps);
    }

    fn add<'c>(&mut self, cluster: &'c Cluster, pod: &'c Pod, groups: &mut Groups<'c>) {
        let key = (pod.namespace.as_str(), &pod.labels);
        let group = groups.entry(key).or_insert_with(|| {
            DIRECTIONS.map(|d| {
                let refs: Vec<PolicyRef> = cluster
                    .isolating(&pod.namespace, &pod.labels, d)
                    .map(|p| p.reference())
                    .collect();
                (!refs.is_empty()).then(|| (chain_name(d, &refs), refs))
            })
        });
        let mut names = [None, None];
        for (i, chain) in group.iter().enumerate() {
            let Some((name, refs)) = chain else { continue };
            let user = self
                .chains
                .entry(name.clone())
                .or_insert_with(|| (DIRECTIONS[i], refs.clone(), 0));
            user.2 += 1;
            names[i] = Some(name.clone());
        }
        let id = pod.id();
        for ip in &pod.ips {
            let owners = self.owners.entry(*ip).or_default();
            if let Err(at) = owners.binary_search(&id) {
                owners.insert(at, id.clone());
            }
        }
        self.pods.insert(id, (pod.ips.clone(), names));
    }

    fn remove(&mut self, id: &PodId) -> Option<(Vec<IpAddr>, [Option<String>; 2])> {
        let (ips, names) = self.pods.remove(id)?;
        for name in names.iter().flatten() {
            if let Some(user) = self.chains.get_mut(name) {
                user.2 -= 1;
                if user.2 == 0 {
                    self.chains.remove(name);
                }
            }
        }
        for ip in &ips {
            if let Some(owners) = self.owners.get_mut(ip) {
                owners.retain(|o| o != id);
                if owners.is_empty() {
                    self.owners.remove(ip);
                }
            }
        }
        Some((ips, names))
    }

    /// Sets the map elements of `ips` as a fresh compilation would: the
    /// chain of the last local pod (by id) with that address that is
    /// isolated for the direction.
    fn refresh(&self, ips: BTreeSet<IpAddr>, maps: &mut Maps) {
        for (i, d) in DIRECTIONS.iter().enumerate() {
            let map = maps.entry(*d).or_default();
            for ip in &ips {
                let owners = self.owners.get(ip).into_iter().flatten();
                let chain = owners.rev().find_map(|id| self.pods[id].1[i].as_ref());
                match chain {
                    Some(chain) => map.insert(*ip, chain.clone()),
                    None => map.remove(ip),
                };
            }
        }
    }
}
