//! Keeps the controller's model `Cluster` in step with the lab state in
//! place, instead of building 10,000 pods again for every command: only
//! the objects a command touched (`sync_touched`), or a walk over both
//! (sorted maps, in step) that changes only what differs (`sync`).
//! `LabState::to_cluster` is the definition; tests check they agree (and
//! debug builds check every commit).

use std::cmp::Ordering;
use std::collections::BTreeSet;

use palisade_model::{Cluster, Namespace, NetworkPolicy, ObjectRef, Pod, PodId, PolicyRef};

use super::state::{LabPod, LabState};

/// What a command changed, as far as the model is concerned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Touched {
    namespaces: BTreeSet<String>,
    pods: BTreeSet<PodId>,
    policies: BTreeSet<PolicyRef>,
    /// Too much to list (an import): walk everything.
    all: bool,
}

/// One object a command changed (added, changed or removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Touch {
    Namespace(String),
    Pod(PodId),
    Policy(PolicyRef),
    All,
}

impl Touched {
    /// What the compiler must compare (`palisade_compile::Touched`), or
    /// `None` for everything (an import).
    pub fn for_compiler(&self) -> Option<palisade_compile::Touched> {
        (!self.all).then(|| palisade_compile::Touched {
            namespaces: self.namespaces.clone(),
            pods: self.pods.clone(),
            policies: self.policies.clone(),
        })
    }

    /// Nothing was touched.
    pub fn is_empty(&self) -> bool {
        !self.all && self.namespaces.is_empty() && self.pods.is_empty() && self.policies.is_empty()
    }

    pub fn add(&mut self, t: Touch) {
        match t {
            Touch::Namespace(n) => _ = self.namespaces.insert(n),
            Touch::Pod(id) => _ = self.pods.insert(id),
            Touch::Policy(id) => _ = self.policies.insert(id),
            Touch::All => self.all = true,
        }
    }
}

/// Brings the objects in `touched` in `cluster` in line with `state`
/// (`cluster` must have been in line with the state before the command);
/// returns how many it changed.
pub fn sync_touched(state: &LabState, cluster: &mut Cluster, touched: &Touched) -> usize {
    if touched.all {
        return sync(state, cluster);
    }
    let mut changed = 0;
    for name in &touched.namespaces {
        match state.namespaces.get(name) {
            Some(labels) => {
                let ns = Namespace::new(name, labels.clone());
                if cluster.namespace(name) != Some(&ns) {
                    cluster.upsert_namespace(ns);
                    changed += 1;
                }
            }
            None => changed += usize::from(cluster.remove_namespace(name).is_some()),
        }
    }
    for id in &touched.pods {
        match state.pods.get(id) {
            Some(p) if cluster.pod(id).is_some_and(|have| same_pod(p, have)) => {}
            Some(p) => {
                cluster.upsert_pod(p.to_model());
                changed += 1;
            }
            None => changed += usize::from(cluster.remove_pod(id).is_some()),
        }
    }
    for id in &touched.policies {
        match state.policies.get(id) {
            Some(p) if cluster.policy(id) == Some(p) => {}
            Some(p) => {
                cluster.upsert_policy(p.clone());
                changed += 1;
            }
            None => changed += usize::from(cluster.remove_policy(id).is_some()),
        }
    }
    changed
}

/// Makes `cluster` equal to `state.to_cluster()`; returns how many
/// namespaces, pods and policies it changed.
pub fn sync(state: &LabState, cluster: &mut Cluster) -> usize {
    let (upsert, remove) = diff(
        state.namespaces.iter(),
        cluster.namespaces(),
        |name, have| name.as_str().cmp(&have.name),
        |name, want, have| Namespace::new(name, want.clone()) == *have,
    );
    let mut changed = upsert.len() + remove.len();
    let remove: Vec<String> = remove.into_iter().map(|n| n.name.clone()).collect();
    let upsert: Vec<Namespace> = (upsert.into_iter())
        .map(|(name, labels)| Namespace::new(name, labels.clone()))
        .collect();
    remove.iter().for_each(|n| {
        cluster.remove_namespace(n);
    });
    upsert.into_iter().for_each(|n| cluster.upsert_namespace(n));

    let (upsert, remove) = diff(
        state.pods.iter(),
        cluster.pods(),
        |id, have| by_ref(id, &have.namespace, &have.name),
        |_, want, have| same_pod(want, have),
    );
    changed += upsert.len() + remove.len();
    let upsert: Vec<Pod> = upsert.into_iter().map(|(_, p)| p.to_model()).collect();
    let remove: Vec<_> = remove.into_iter().map(Pod::id).collect();
    remove.iter().for_each(|id| {
        cluster.remove_pod(id);
    });
    upsert.into_iter().for_each(|p| cluster.upsert_pod(p));

    let (upsert, remove) = diff(
        state.policies.iter(),
        cluster.policies(),
        |id, have| by_ref(id, &have.namespace, &have.name),
        |_, want, have| want == have,
    );
    changed += upsert.len() + remove.len();
    let upsert: Vec<_> = upsert.into_iter().map(|(_, p)| p.clone()).collect();
    let remove: Vec<_> = remove.into_iter().map(NetworkPolicy::reference).collect();
    remove.iter().for_each(|id| {
        cluster.remove_policy(id);
    });
    upsert.into_iter().for_each(|p| cluster.upsert_policy(p));
    changed
}

/// `ObjectRef` order (namespace, then name), without building one.
fn by_ref(id: &ObjectRef, namespace: &str, name: &str) -> Ordering {
    (id.namespace.as_str(), id.name.as_str()).cmp(&(namespace, name))
}

/// The model pod `have` is what `want` becomes (without building it).
fn same_pod(want: &LabPod, have: &Pod) -> bool {
    want.labels == have.labels
        && have.ips.as_slice() == [want.ip]
        && want.ports == have.ports
        && have.node_name.as_deref() == Some(want.node_name())
        && !have.host_network
        && have.source.is_none()
        && have.workload.is_none()
}

/// Walks the wanted entries (sorted by key) and the values held (sorted
/// the same way, `order` comparing a key with a value): the wanted entries
/// that are new or differ, and the values held for keys no longer wanted.
fn diff<'w, 'h, K: 'w, W: 'w, H: 'h>(
    want: impl Iterator<Item = (&'w K, &'w W)>,
    have: impl Iterator<Item = &'h H>,
    order: impl Fn(&K, &H) -> Ordering,
    same: impl Fn(&K, &W, &H) -> bool,
) -> (Vec<(&'w K, &'w W)>, Vec<&'h H>) {
    let (mut want, mut have) = (want.peekable(), have.peekable());
    let (mut upsert, mut remove) = (Vec::new(), Vec::new());
    loop {
        let step = match (want.peek(), have.peek()) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some((k, _)), Some(h)) => order(k, h),
        };
        match step {
            Ordering::Less => upsert.push(want.next().expect("peeked")),
            Ordering::Greater => remove.push(have.next().expect("peeked")),
            Ordering::Equal => {
                let (k, w) = want.next().expect("peeked");
                if !same(k, w, have.next().expect("peeked")) {
                    upsert.push((k, w));
                }
            }
        }
    }
    (upsert, remove)
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::{Labels, PodId};

    fn synth_state() -> LabState {
        let c = palisade_synth::generate(&palisade_synth::Params::new(200, 30));
        let mut s = LabState::new("t");
        for ns in c.namespaces() {
            let mut labels = ns.labels().clone();
            labels.remove(palisade_model::METADATA_NAME_LABEL);
            s.namespaces.insert(ns.name.clone(), labels);
        }
        for p in c.pods() {
            let node = p
                .node_name
                .clone()
                .filter(|n| n != super::super::state::LAB_NODE);
            s.pods.insert(p.id(), LabPod::from_model(p, true, node));
        }
        for p in c.policies() {
            s.policies.insert(p.reference(), p.clone());
        }
        s
    }

    type Step = Box<dyn Fn(&mut LabState)>;

    /// Every kind of change a lab command makes, one after another: the
    /// cluster updated in place equals the one built from scratch.
    #[test]
    fn in_place_equals_built_from_scratch() {
        let mut s = synth_state();
        let mut c = Cluster::new();
        assert!(sync(&s, &mut c) > 0);
        assert_eq!(c, s.to_cluster());
        assert_eq!(sync(&s, &mut c), 0, "nothing changed, nothing touched");
        let steps: Vec<Step> = vec![
            Box::new(|s| {
                let p = s.pods.values_mut().nth(7).unwrap();
                p.labels.insert("probe", "allowed").unwrap();
            }),
            Box::new(|s| {
                let p = s.pods.values_mut().nth(9).unwrap();
                p.node = None;
            }),
            Box::new(|s| {
                let id = s.pods.keys().nth(3).unwrap().clone();
                s.pods.remove(&id);
            }),
            Box::new(|s| {
                s.namespaces
                    .insert("fresh".into(), Labels::from([("team", "a")]));
                let ip = s.allocate_pod_ip();
                let mut p = s.pods.values().next().unwrap().clone();
                (p.namespace, p.name, p.ip) = ("fresh".into(), "web".into(), ip);
                s.pods.insert(PodId::new("fresh", "web"), p);
            }),
            Box::new(|s| {
                let id = s.policies.keys().nth(2).unwrap().clone();
                s.policies.remove(&id);
                let mut p = s.policies.values().next().unwrap().clone();
                p.name = "copy".into();
                s.policies.insert(p.reference(), p);
            }),
            Box::new(|s| {
                s.namespaces
                    .get_mut("fresh")
                    .unwrap()
                    .insert("team", "b")
                    .unwrap();
            }),
            Box::new(|s| {
                s.namespaces.remove("fresh");
                s.pods.retain(|id, _| id.namespace != "fresh");
            }),
        ];
        for (i, step) in steps.iter().enumerate() {
            step(&mut s);
            assert!(sync(&s, &mut c) > 0, "step {i} changed something");
            assert_eq!(c, s.to_cluster(), "after step {i}");
        }
    }

    /// Only the touched objects are looked at, and that is enough.
    #[test]
    fn touched_objects_brought_in_line() {
        let mut s = synth_state();
        let mut c = s.to_cluster();
        let pod = s.pods.keys().nth(5).unwrap().clone();
        let gone = s.pods.keys().nth(6).unwrap().clone();
        let policy = s.policies.keys().nth(1).unwrap().clone();
        let ns = s.namespaces.keys().next().unwrap().clone();
        s.pods
            .get_mut(&pod)
            .unwrap()
            .labels
            .insert("x", "y")
            .unwrap();
        s.pods.remove(&gone);
        s.policies.remove(&policy);
        s.namespaces
            .get_mut(&ns)
            .unwrap()
            .insert("team", "z")
            .unwrap();
        let mut touched = Touched::default();
        touched.add(Touch::Pod(pod.clone()));
        assert_eq!(sync_touched(&s, &mut c, &touched), 1);
        assert_ne!(c, s.to_cluster(), "the rest was not looked at");
        for t in [
            Touch::Pod(gone),
            Touch::Policy(policy),
            Touch::Namespace(ns),
        ] {
            touched.add(t);
        }
        assert_eq!(sync_touched(&s, &mut c, &touched), 3);
        assert_eq!(c, s.to_cluster());
    }
}
