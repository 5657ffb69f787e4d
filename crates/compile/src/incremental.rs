//! Compiling successive versions of a cluster in time proportional to the
//! change. The compiler keeps, from one compilation to the next:
//!
//! - what it saw (namespaces, policies, pods), to find what changed by a
//!   structural comparison; only changed objects are copied;
//! - the pod-selector and named-port sets (`Arc`-shared with the rulesets),
//!   patched element by element for the changed pods (old and new
//!   versions) they select and for the pods of a namespace that entered or
//!   left their namespace selector (see `cache.rs`);
//! - the subject chains with their counters and the sets they use, built
//!   again only when one of their policies changed, their audit mode
//!   changed, or a set they use gained or lost an address family;
//! - the last ruleset, patched: chains that came, went or were built
//!   again, with reference counts on the sets and counters chains share,
//!   and the dispatch maps, patched for changed pods and for the local pods
//!   of namespaces whose policies changed.
//!
//! A fresh compilation ([`crate::compile`]) runs the same code with nothing
//! kept, so both give the same ruleset (tested through every kind of change).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use palisade_model::{Cluster, NetworkPolicy, Pod, PolicyRef};

use crate::cache::{Cache, Patched};
use crate::compile::{build_chain, ChainEntry};
use crate::dispatch::Dispatch;
use crate::index::{PodGroups, PodIndex};
use crate::ir::Ruleset;
use crate::local::LocalPods;
use crate::seen::{Seen, Touched};

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
        self.compile_with(cluster, local, None)
    }

    /// Like [`Compiler::compile`], but compares only the objects `touched`
    /// names with the previous compilation instead of the whole cluster
    /// (at 10,000 pods and 1,000 policies the whole comparison costs about
    /// 3 ms): for a caller that keeps one cluster and knows what it
    /// changed. Everything that changed since the previous call must be
    /// named (naming more is fine); a removed namespace takes its pods and
    /// policies with it.
    pub fn compile_touched(
        &mut self,
        cluster: &Cluster,
        local: &LocalPods,
        touched: &Touched,
    ) -> Ruleset {
        self.compile_with(cluster, local, Some(touched))
    }

    fn compile_with(
        &mut self,
        cluster: &Cluster,
        local: &LocalPods,
        touched: Option<&Touched>,
    ) -> Ruleset {
        let state = match self.state.take() {
            Some(mut state) if state.local == *local => match state.update(cluster, touched) {
                true => state,
                false => State::fresh(cluster, local, true),
            },
            _ => State::fresh(cluster, local, true),
        };
        let rs = state.out.clone();
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
    State::fresh(cluster, local, false).out
}

#[derive(Debug)]
struct State {
    local: LocalPods,
    seen: Seen,
    /// Non-host-network pods by address (more than one only while an
    /// address is reused).
    holders: BTreeMap<IpAddr, u32>,
    groups: PodGroups,
    sets: Cache,
    /// The chains of `out`, with what they refer to.
    chains: BTreeMap<String, ChainEntry>,
    /// Chains by the pod-selector or named-port key they use.
    set_users: BTreeMap<String, BTreeSet<String>>,
    /// Names of the sets and counters of `out`, and how many chain
    /// references hold each one.
    refs: BTreeMap<String, u32>,
    dispatch: Dispatch,
    /// The ruleset of the last compilation, patched by the next one.
    out: Ruleset,
}

/// What the chains must follow after a change.
#[derive(Debug, Default)]
struct Changes {
    /// Keys whose sets changed.
    sets: BTreeMap<String, Patched>,
    policies: BTreeSet<PolicyRef>,
    /// Namespaces that changed (their mode sets the audit of chains).
    namespaces: BTreeSet<String>,
}

impl State {
    fn fresh(cluster: &Cluster, local: &LocalPods, remember: bool) -> Self {
        let mut out = Ruleset::default();
        let dispatch = Dispatch::build(cluster, local, &mut out.dispatch);
        let mut state = Self {
            local: local.clone(),
            seen: match remember {
                true => Seen::of(cluster),
                false => Seen::default(),
            },
            holders: match remember {
                true => holders(cluster.pods()),
                false => BTreeMap::new(),
            },
            groups: PodGroups::of(cluster),
            sets: Cache::default(),
            chains: BTreeMap::new(),
            set_users: BTreeMap::new(),
            refs: BTreeMap::new(),
            dispatch,
            out,
        };
        state.follow(cluster, Changes::default());
        state
    }

    /// Brings the kept state and `out` to `cluster`; false when too much
    /// changed.
    fn update(&mut self, cluster: &Cluster, touched: Option<&Touched>) -> bool {
        let diff = match touched {
            Some(touched) => self.seen.update_touched(cluster, touched),
            None => self.seen.update(cluster),
        };
        let Some(diff) = diff else {
            return false;
        };
        for (old, new) in &diff.pods {
            for ip in addresses(old) {
                if let Some(n) = self.holders.get_mut(ip) {
                    *n -= 1;
                    if *n == 0 {
                        self.holders.remove(ip);
                    }
                }
            }
            for ip in addresses(new) {
                *self.holders.entry(*ip).or_default() += 1;
            }
            old.iter().for_each(|p| self.groups.remove(p));
            new.iter().for_each(|p| self.groups.insert(p));
        }
        let mut sets = self
            .sets
            .update(&diff, cluster, &self.groups, &self.holders);
        let index = PodIndex::new(cluster, &self.groups, Cache::default());
        for (origin, patched) in sets.iter_mut() {
            if *patched == Patched::Rebuild {
                *patched = match self.sets.rebuild(origin, &index) {
                    true => Patched::Families,
                    false => Patched::Elements,
                };
            }
        }
        let namespaces = diff.policies.iter().map(|p| p.namespace.clone()).collect();
        let pods = diff.pods.iter().map(|(old, new)| match (old, new) {
            (Some(p), _) => p.id(),
            (None, Some(p)) => p.id(),
            (None, None) => unreachable!("a change has a version"),
        });
        self.dispatch.update(
            cluster,
            &self.local,
            pods,
            &namespaces,
            &mut self.out.dispatch,
        );
        let changes = Changes {
            sets,
            policies: diff.policies,
            namespaces: diff.namespaces.into_iter().map(|(n, _, _)| n).collect(),
        };
        self.follow(cluster, changes);
        true
    }

    /// Brings the chains of `out` (and their counters and sets) to what the
    /// dispatch maps use after `changes`: chains that came, went, lost a
    /// policy version or an audit mode, or use a key whose families changed
    /// are released and built again; sets whose elements changed are
    /// replaced in place.
    fn follow(&mut self, cluster: &Cluster, changes: Changes) {
        let stale = self.stale(cluster, &changes);
        for name in &stale {
            if let Some(entry) = self.chains.remove(name) {
                self.release(name, &entry);
            }
        }
        for (origin, patched) in &changes.sets {
            if *patched == Patched::Elements {
                self.refresh(origin);
            }
        }
        let groups = std::mem::take(&mut self.groups);
        let index = PodIndex::new(cluster, &groups, std::mem::take(&mut self.sets));
        for name in &stale {
            let Some((d, refs, _)) = self.dispatch.chains.get(name) else {
                continue;
            };
            let policies: Vec<&NetworkPolicy> =
                refs.iter().filter_map(|r| cluster.policy(r)).collect();
            let entry = build_chain(&mut self.out, cluster, &index, *d, &policies);
            self.hold(name, &entry);
            self.chains.insert(name.clone(), entry);
        }
        let (used, mut kept) = index.into_caches();
        self.groups = groups;
        kept.absorb(used);
        if !stale.is_empty() {
            kept.retain_used(|origin| self.set_users.contains_key(origin));
        }
        self.sets = kept;
    }

    /// The chains to release and build again (see [`State::follow`]).
    fn stale(&self, cluster: &Cluster, changes: &Changes) -> BTreeSet<String> {
        let mut stale: BTreeSet<String> = self
            .chains
            .keys()
            .filter(|n| !self.dispatch.chains.contains_key(*n))
            .chain(
                self.dispatch
                    .chains
                    .keys()
                    .filter(|n| !self.chains.contains_key(*n)),
            )
            .cloned()
            .collect();
        for (name, entry) in &self.chains {
            let refs = &entry.chain.isolated_by;
            let policy_changed = refs.iter().any(|p| changes.policies.contains(p));
            let audit_changed = refs
                .iter()
                .any(|p| changes.namespaces.contains(&p.namespace))
                && cluster.audit_only(refs.iter().filter_map(|r| cluster.policy(r)))
                    != entry.chain.audit;
            if policy_changed || audit_changed {
                stale.insert(name.clone());
            }
        }
        for (origin, patched) in &changes.sets {
            if *patched == Patched::Families {
                stale.extend(self.set_users.get(origin).into_iter().flatten().cloned());
            }
        }
        stale
    }

    /// Puts the current sets of `origin` in `out`, where `out` holds them.
    fn refresh(&mut self, origin: &str) {
        for (n, set) in self.sets.addr_sets(origin) {
            if let Some(old) = self.out.addr_sets.get_mut(n) {
                *old = set.clone();
            }
        }
        for (n, set) in self.sets.named_sets(origin) {
            if let Some(old) = self.out.named_port_sets.get_mut(n) {
                *old = set.clone();
            }
        }
    }

    /// Counts the references of a chain just put in `out`.
    fn hold(&mut self, name: &str, entry: &ChainEntry) {
        for n in entry.names() {
            *self.refs.entry(n.clone()).or_default() += 1;
        }
        for origin in entry.uses.iter().filter_map(|(u, _)| u.origin()) {
            let users = self.set_users.entry(origin.into()).or_default();
            users.insert(name.into());
        }
    }

    /// Takes a chain out of `out`, and the sets and counters nothing else uses.
    fn release(&mut self, name: &str, entry: &ChainEntry) {
        self.out.chains.remove(name);
        for n in entry.names() {
            let Some(count) = self.refs.get_mut(n) else {
                continue;
            };
            *count -= 1;
            if *count == 0 {
                self.refs.remove(n);
                self.out.addr_sets.remove(n);
                self.out.port_sets.remove(n);
                self.out.named_port_sets.remove(n);
                self.out.counters.remove(n);
            }
        }
        for origin in entry.uses.iter().filter_map(|(u, _)| u.origin()) {
            if let Some(users) = self.set_users.get_mut(origin) {
                users.remove(name);
                if users.is_empty() {
                    self.set_users.remove(origin);
                }
            }
        }
    }
}

fn addresses(pod: &Option<Pod>) -> impl Iterator<Item = &IpAddr> {
    pod.iter().filter(|p| !p.host_network).flat_map(|p| &p.ips)
}

fn holders<'a>(pods: impl Iterator<Item = &'a Pod>) -> BTreeMap<IpAddr, u32> {
    let mut out = BTreeMap::new();
    for pod in pods.filter(|p| !p.host_network) {
        for ip in &pod.ips {
            *out.entry(*ip).or_default() += 1;
        }
    }
    out
}
