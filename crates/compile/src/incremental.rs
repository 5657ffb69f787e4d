//! Compiling successive versions of a cluster in time proportional to the
//! change. The compiler keeps, from one compilation to the next:
//!
//! - what it saw (namespaces, policies, pods), to find what changed by a
//!   structural comparison; only changed objects are copied;
//! - the pod-selector and named-port sets (`Arc`-shared with the rulesets),
//!   reused unless a changed pod (old or new version) could be in them, or
//!   a changed namespace's labels (old or new) match their namespace
//!   selector;
//! - the subject chains with their counters and the sets they use, reused
//!   unless one of their policies changed, their audit mode changed, or a
//!   set they use gained or lost an address family;
//! - the dispatch maps, patched for changed pods and for the local pods of
//!   namespaces whose policies changed.
//!
//! A fresh compilation ([`crate::compile`]) runs the same code with nothing
//! kept, so both give the same ruleset (tested through every kind of change).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use palisade_model::{
    Cluster, LabelSelector, Labels, Namespace, NetworkPolicy, Pod, PodId, PolicyRef, Protocol,
};

use crate::compile::{build_chain, ChainEntry};
use crate::dispatch::Dispatch;
use crate::index::PodIndex;
use crate::ir::{AddrSet, NamedPortSet, Ruleset};
use crate::local::LocalPods;

/// More changed pods than this and the compiler starts afresh: checking
/// every kept set against them would cost more than rebuilding.
const MAX_CHANGED: usize = 256;

/// A compiler that remembers the previous compilation. `compile` gives
/// exactly what [`crate::compile`] gives; after a small change it costs
/// time proportional to the change (see the module documentation).
#[derive(Debug, Default)]
pub struct Compiler {
    state: Option<State>,
}

impl Compiler {
    pub fn new() -> Self {
        Self::default()
    }

    /// Compiles `cluster` for `local`, reusing what the changes since the
    /// previous call leave valid. The caller keeps its cluster: only the
    /// objects that changed are copied.
    pub fn compile(&mut self, cluster: &Cluster, local: &LocalPods) -> Ruleset {
        let mut state = match self.state.take() {
            Some(mut state) if state.local == *local => match state.update(cluster) {
                true => state,
                false => State::fresh(cluster, local, true),
            },
            _ => State::fresh(cluster, local, true),
        };
        let rs = state.assemble(cluster);
        self.state = Some(state);
        rs
    }

    /// Forgets everything (the next compile starts from scratch).
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

/// [`crate::compile`]: a compilation with nothing kept.
pub(crate) fn compile_once(cluster: &Cluster, local: &LocalPods) -> Ruleset {
    State::fresh(cluster, local, false).assemble(cluster)
}

#[derive(Debug)]
struct State {
    local: LocalPods,
    seen: Seen,
    sets: Cache,
    chains: BTreeMap<String, ChainEntry>,
    dispatch: Dispatch,
}

impl State {
    fn fresh(cluster: &Cluster, local: &LocalPods, remember: bool) -> Self {
        Self {
            local: local.clone(),
            seen: match remember {
                true => Seen::of(cluster),
                false => Seen::default(),
            },
            sets: Cache::default(),
            chains: BTreeMap::new(),
            dispatch: Dispatch::build(cluster, local),
        }
    }

    /// Brings the kept state to `cluster`; false when too much changed.
    fn update(&mut self, cluster: &Cluster) -> bool {
        let Some(diff) = self.seen.update(cluster) else {
            return false;
        };
        self.sets.invalidate(&diff, cluster);
        self.chains.retain(|_, e| {
            !e.chain
                .isolated_by
                .iter()
                .any(|p| diff.policies.contains(p))
        });
        let namespaces = diff.policies.iter().map(|p| p.namespace.clone()).collect();
        let pods = diff.pods.iter().map(|(old, new)| match (old, new) {
            (Some(p), _) => p.id(),
            (None, Some(p)) => p.id(),
            (None, None) => unreachable!("a change has a version"),
        });
        self.dispatch
            .update(cluster, &self.local, pods, &namespaces);
        true
    }

    /// The ruleset: every chain the dispatch maps use, reused or built,
    /// with its counters and sets.
    fn assemble(&mut self, cluster: &Cluster) -> Ruleset {
        let index = PodIndex::with_cache(cluster, std::mem::take(&mut self.sets));
        let mut rs = Ruleset {
            dispatch: self.dispatch.maps.clone(),
            ..Ruleset::default()
        };
        let mut chains = BTreeMap::new();
        for (name, (d, refs, _)) in &self.dispatch.chains {
            let policies: Vec<&NetworkPolicy> =
                refs.iter().filter_map(|r| cluster.policy(r)).collect();
            let audit = cluster.audit_only(policies.iter().copied());
            let entry = match self.chains.remove(name) {
                Some(e) if e.replay(&mut rs, &index, name, audit) => e,
                _ => build_chain(&mut rs, cluster, &index, *d, &policies),
            };
            chains.insert(name.clone(), entry);
        }
        self.chains = chains;
        self.sets = index.into_cache();
        rs
    }
}

/// The objects of the previous compilation.
#[derive(Debug, Default)]
struct Seen {
    namespaces: BTreeMap<String, Namespace>,
    policies: BTreeMap<PolicyRef, NetworkPolicy>,
    pods: BTreeMap<PodId, Pod>,
}

/// What changed between two compilations.
#[derive(Debug, Default)]
struct Diff {
    /// Labels (before, after) of namespaces that changed, came or went.
    namespaces: Vec<(Labels, Labels)>,
    /// Policies that changed, came or went.
    policies: BTreeSet<PolicyRef>,
    /// Pods that changed, came or went: (before, after).
    pods: Vec<(Option<Pod>, Option<Pod>)>,
}

impl Seen {
    fn of(cluster: &Cluster) -> Self {
        Self {
            namespaces: cluster
                .namespaces()
                .map(|n| (n.name.clone(), n.clone()))
                .collect(),
            policies: cluster
                .policies()
                .map(|p| (p.reference(), p.clone()))
                .collect(),
            pods: cluster.pods().map(|p| (p.id(), p.clone())).collect(),
        }
    }

    /// Records `cluster` and returns what changed, or `None` (and records
    /// nothing) when more than [`MAX_CHANGED`] pods did.
    fn update(&mut self, cluster: &Cluster) -> Option<Diff> {
        let pods = differing(self.pods.values(), cluster.pods(), |p| {
            (&p.namespace, &p.name)
        });
        if pods.len() > MAX_CHANGED {
            return None;
        }
        let pods: Vec<PodId> = pods
            .into_iter()
            .map(|(a, b)| a.or(b).expect("a version").id())
            .collect();
        let namespaces = differing(self.namespaces.values(), cluster.namespaces(), |n| {
            (n.name.as_str(), "")
        });
        let namespaces: Vec<String> = namespaces
            .into_iter()
            .map(|(a, b)| a.or(b).expect("a version").name.clone())
            .collect();
        let policies = differing(self.policies.values(), cluster.policies(), |p| {
            (p.namespace.as_str(), p.name.as_str())
        });
        let policies: BTreeSet<PolicyRef> = policies
            .into_iter()
            .map(|(a, b)| a.or(b).expect("a version").reference())
            .collect();
        let mut diff = Diff::default();
        for name in namespaces {
            let old = self.namespaces.get(&name).map(|n| n.labels().clone());
            let old = old.unwrap_or_else(|| Namespace::implicit(&name).labels().clone());
            diff.namespaces
                .push((old, cluster.namespace_labels(&name).into_owned()));
            replace(&mut self.namespaces, name.clone(), cluster.namespace(&name));
        }
        for id in &policies {
            replace(&mut self.policies, id.clone(), cluster.policy(id));
        }
        diff.policies = policies;
        for id in pods {
            let new = cluster.pod(&id).cloned();
            let old = replace(&mut self.pods, id, new.as_ref());
            diff.pods.push((old, new));
        }
        Some(diff)
    }
}

/// Puts a copy of `new` under `key` (or removes it); returns what was there.
fn replace<K: Ord, V: Clone>(map: &mut BTreeMap<K, V>, key: K, new: Option<&V>) -> Option<V> {
    match new {
        Some(v) => map.insert(key, v.clone()),
        None => map.remove(&key),
    }
}

/// The objects that differ between two sequences sorted by `key`: (old,
/// new), either `None` where the object is missing.
fn differing<'a, V: PartialEq + 'a, K: Ord + 'a>(
    old: impl Iterator<Item = &'a V>,
    new: impl Iterator<Item = &'a V>,
    key: impl Fn(&'a V) -> K,
) -> Vec<(Option<&'a V>, Option<&'a V>)> {
    let mut out = Vec::new();
    let (mut a, mut b) = (old.peekable(), new.peekable());
    loop {
        let step = match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some(p), None) => (Some(*p), None),
            (None, Some(q)) => (None, Some(*q)),
            (Some(p), Some(q)) => match key(p).cmp(&key(q)) {
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
        }
    }
    out
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
    pub sets: Vec<(String, Arc<AddrSet>)>,
}

/// The sets of one named port.
#[derive(Debug, Clone)]
pub struct NamedSets {
    pub port: String,
    pub proto: Protocol,
    pub sets: Vec<(String, Arc<NamedPortSet>)>,
}

impl Cache {
    /// Drops the entries a difference can affect: a changed pod (old or
    /// new version) in scope and selected, a changed namespace whose old or
    /// new labels the namespace selector matches, a changed pod that
    /// defines the named port.
    fn invalidate(&mut self, diff: &Diff, next: &Cluster) {
        let versions: Vec<&Pod> = diff
            .pods
            .iter()
            .flat_map(|(a, b)| [a.as_ref(), b.as_ref()])
            .flatten()
            .filter(|p| !p.host_network)
            .collect();
        self.peers.retain(|_, e| {
            let namespace_moved = e.namespaces.as_ref().is_some_and(|sel| {
                diff.namespaces
                    .iter()
                    .any(|(old, new)| sel.matches(old) || sel.matches(new))
            });
            !namespace_moved
                && !versions.iter().any(|p| {
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
