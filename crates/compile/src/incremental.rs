//! Compiling successive versions of a cluster: the pod-selector and
//! named-port sets (most of the compile time: they hold every matching pod
//! address of the cluster) are kept between compilations and reused unless
//! a pod that changed could be in them. A one-pod change then rebuilds the
//! few sets whose selector matches that pod, old or new version.

use std::cell::RefCell;
use std::collections::BTreeMap;

use palisade_model::{Cluster, LabelSelector, Pod, Protocol};

use crate::compile::compile_indexed;
use crate::index::PodIndex;
use crate::ir::{AddrSet, NamedPortSet, Ruleset};
use crate::local::LocalPods;

/// More changed pods than this and the cache is dropped: checking every
/// set against them would cost more than rebuilding.
const MAX_CHANGED: usize = 256;

/// A compiler that remembers the previous cluster and the sets built from
/// it. `compile` gives exactly what [`crate::compile`] gives.
#[derive(Debug, Default)]
pub struct Compiler {
    previous: Option<Cluster>,
    cache: Cache,
}

impl Compiler {
    pub fn new() -> Self {
        Self::default()
    }

    /// Compiles `cluster`, reusing the sets no changed pod can be in, and
    /// keeps `cluster` to compare the next one with.
    pub fn compile(&mut self, cluster: Cluster, local: &LocalPods) -> Ruleset {
        let cache = match &self.previous {
            Some(prev) => std::mem::take(&mut self.cache).still_valid(prev, &cluster),
            None => Cache::default(),
        };
        let index = PodIndex::with_cache(&cluster, cache);
        let rs = compile_indexed(&cluster, local, &index);
        self.cache = index.into_cache();
        self.previous = Some(cluster);
        rs
    }

    /// Forgets everything (the next compile starts from scratch).
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

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
    pub sets: Vec<(String, AddrSet)>,
}

/// The sets of one named port.
#[derive(Debug, Clone)]
pub struct NamedSets {
    pub port: String,
    pub proto: Protocol,
    pub sets: Vec<(String, NamedPortSet)>,
}

impl Cache {
    /// The entries that no difference between `prev` and `next` can affect.
    fn still_valid(mut self, prev: &Cluster, next: &Cluster) -> Self {
        if !prev.namespaces().eq(next.namespaces()) {
            return Self::default();
        }
        let Some(changed) = changed_pods(prev, next) else {
            return Self::default();
        };
        let versions: Vec<&Pod> = changed
            .iter()
            .flat_map(|(a, b)| [*a, *b])
            .flatten()
            .filter(|p| !p.host_network)
            .collect();
        self.peers.retain(|_, e| {
            !versions.iter().any(|p| {
                let in_scope = match &e.namespaces {
                    None => p.namespace == e.policy_ns,
                    Some(sel) => sel.matches(&next.namespace_labels(&p.namespace)),
                };
                in_scope && e.pods.matches(&p.labels)
            })
        });
        self.named.retain(|_, e| {
            !versions
                .iter()
                .any(|p| p.named_port(&e.port, e.proto).is_some())
        });
        self
    }
}

/// Pods that differ (old version, new version), or `None` when too many do.
fn changed_pods<'a>(
    prev: &'a Cluster,
    next: &'a Cluster,
) -> Option<Vec<(Option<&'a Pod>, Option<&'a Pod>)>> {
    let mut out = Vec::new();
    let (mut a, mut b) = (prev.pods().peekable(), next.pods().peekable());
    loop {
        let step = match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some(p), None) => (Some(*p), None),
            (None, Some(q)) => (None, Some(*q)),
            (Some(p), Some(q)) => match p.id().cmp(&q.id()) {
                std::cmp::Ordering::Less => (Some(*p), None),
                std::cmp::Ordering::Greater => (None, Some(*q)),
                std::cmp::Ordering::Equal => (Some(*p), Some(*q)),
            },
        };
        if step.0.is_some() {
            a.next();
        }
        if step.1.is_some() {
            b.next();
        }
        if step.0 != step.1 {
            out.push(step);
            if out.len() > MAX_CHANGED {
                return None;
            }
        }
    }
    Some(out)
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
