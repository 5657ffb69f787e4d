//! What changed between two compilations: a structural comparison of the
//! cluster with a copy of the objects the compiler saw last, or of only
//! the objects a caller names ([`Touched`]).

use std::collections::{BTreeMap, BTreeSet};

use palisade_model::{Cluster, Labels, Namespace, NetworkPolicy, Pod, PodId, PolicyRef};

/// More changed pods than this and the compiler starts afresh: checking
/// every kept set against them would cost more than rebuilding.
const MAX_CHANGED: usize = 256;

/// The objects a caller changed since the previous compilation, by key
/// (added, changed or removed); see [`crate::Compiler::compile_touched`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Touched {
    pub namespaces: BTreeSet<String>,
    pub pods: BTreeSet<PodId>,
    pub policies: BTreeSet<PolicyRef>,
}

impl Touched {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// The objects of the previous compilation.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    namespaces: BTreeMap<String, Namespace>,
    policies: BTreeMap<PolicyRef, NetworkPolicy>,
    pods: BTreeMap<PodId, Pod>,
}

/// What changed between two compilations.
#[derive(Debug, Default)]
pub(crate) struct Diff {
    /// Namespaces that changed, came or went: name, labels before and after.
    pub namespaces: Vec<(String, Labels, Labels)>,
    /// Policies that changed, came or went.
    pub policies: BTreeSet<PolicyRef>,
    /// Pods that changed, came or went: (before, after).
    pub pods: Vec<(Option<Pod>, Option<Pod>)>,
}

impl Seen {
    pub fn of(cluster: &Cluster) -> Self {
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
    pub fn update(&mut self, cluster: &Cluster) -> Option<Diff> {
        let pods = differing(self.pods.values(), cluster.pods(), |p| {
            (&p.namespace, &p.name)
        });
        if pods.len() > MAX_CHANGED {
            return None;
        }
        let pods: BTreeSet<PodId> = pods
            .into_iter()
            .map(|(a, b)| a.or(b).expect("a version").id())
            .collect();
        let namespaces = differing(self.namespaces.values(), cluster.namespaces(), |n| {
            (n.name.as_str(), "")
        });
        let namespaces: BTreeSet<String> = namespaces
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
        Some(self.record(cluster, namespaces, policies, pods))
    }

    /// Like [`Seen::update`], comparing only the objects `touched` names
    /// (and, for a namespace that is gone, everything that was in it).
    pub fn update_touched(&mut self, cluster: &Cluster, touched: &Touched) -> Option<Diff> {
        let mut touched = touched.clone();
        for ns in &touched.namespaces.clone() {
            if cluster.namespace(ns).is_none() {
                let start = PodId::new(ns, "");
                let in_ns = |id: &&PodId| id.namespace == *ns;
                let pods = self.pods.range(start.clone()..).map(|(id, _)| id);
                touched.pods.extend(pods.take_while(in_ns).cloned());
                let policies = self.policies.range(start..).map(|(id, _)| id);
                touched.policies.extend(policies.take_while(in_ns).cloned());
            }
        }
        // An object implies its namespace.
        let implied = touched.pods.iter().chain(&touched.policies);
        let implied: Vec<String> = implied.map(|id| id.namespace.clone()).collect();
        touched.namespaces.extend(implied);
        let pods: BTreeSet<PodId> = touched
            .pods
            .into_iter()
            .filter(|id| self.pods.get(id) != cluster.pod(id))
            .collect();
        if pods.len() > MAX_CHANGED {
            return None;
        }
        let namespaces = touched
            .namespaces
            .into_iter()
            .filter(|n| self.namespaces.get(n) != cluster.namespace(n))
            .collect();
        let policies = touched
            .policies
            .into_iter()
            .filter(|id| self.policies.get(id) != cluster.policy(id))
            .collect();
        Some(self.record(cluster, namespaces, policies, pods))
    }

    /// Records the new versions of the objects that changed, and what changed.
    fn record(
        &mut self,
        cluster: &Cluster,
        namespaces: BTreeSet<String>,
        policies: BTreeSet<PolicyRef>,
        pods: BTreeSet<PodId>,
    ) -> Diff {
        let mut diff = Diff::default();
        for name in namespaces {
            let old = self.namespaces.get(&name).map(|n| n.labels().clone());
            let old = old.unwrap_or_else(|| Namespace::implicit(&name).labels().clone());
            let new = cluster.namespace_labels(&name).into_owned();
            diff.namespaces.push((name.clone(), old, new));
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
        diff
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
