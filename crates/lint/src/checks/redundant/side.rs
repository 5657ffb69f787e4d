//! One side (a class of subjects, one direction) with and without a policy.

use std::collections::{BTreeMap, BTreeSet};

use palisade_model::{
    ContainerPort, Direction, NetworkPolicy, Pod, PolicyRef, PortSpec, Protocol, Rule,
};

use super::space::{port_reps, PeerRep, PortReps};
use super::table::{PeerTable, Rules};
use crate::ctx::Ctx;

/// Subjects of `policy` that no policy can tell apart for direction `d`:
/// same other isolating policies and, for ingress, the same container
/// ports (named ports resolve on the destination, which is the subject).
#[derive(Debug)]
pub(super) struct Class<'c> {
    pub d: Direction,
    pub policy: &'c NetworkPolicy,
    /// The other policies isolating the subjects for `d` (minus removed ones).
    pub others: Vec<&'c NetworkPolicy>,
    pub subjects: Vec<&'c Pod>,
}

/// Groups the subjects of `p` for direction `d` into classes.
pub(super) fn classes<'c>(
    ctx: &Ctx<'c>,
    p: &'c NetworkPolicy,
    d: Direction,
    subjects: &[&'c Pod],
    removed: &BTreeSet<PolicyRef>,
) -> Vec<Class<'c>> {
    type Key = (Vec<PolicyRef>, Vec<ContainerPort>);
    let mut groups: BTreeMap<Key, Class<'c>> = BTreeMap::new();
    let is_p = |o: &NetworkPolicy| o.namespace == p.namespace && o.name == p.name;
    for s in subjects {
        let others: Vec<&NetworkPolicy> = ctx
            .cluster
            .isolating(&s.namespace, &s.labels, d)
            .filter(|o| !is_p(o) && !removed.contains(&o.reference()))
            .collect();
        // Ingress named ports resolve on the subject: its ports matter
        // only when some rule involved names a port.
        let named = || {
            std::iter::once(p)
                .chain(others.iter().copied())
                .any(|o| has_named(o, d))
        };
        let ports = match d {
            Direction::Ingress if named() => s.ports.clone(),
            _ => Vec::new(),
        };
        let key = (others.iter().map(|o| o.reference()).collect(), ports);
        let class = groups.entry(key).or_insert_with(|| Class {
            d,
            policy: p,
            others,
            subjects: Vec::new(),
        });
        class.subjects.push(s);
    }
    groups.into_values().collect()
}

fn has_named(p: &NetworkPolicy, d: Direction) -> bool {
    let ports = p.rules(d).unwrap_or_default().iter().flat_map(|r| &r.ports);
    ports
        .into_iter()
        .any(|pp| matches!(pp.port, PortSpec::Named(_)))
}

impl Class<'_> {
    /// True when removing the policy changes no verdict of this side: for
    /// every peer, protocol and port, "allowed with it" equals "allowed
    /// without it".
    pub fn unchanged(&self, ctx: &Ctx<'_>, table: &PeerTable<'_>) -> bool {
        let mut all = self.others.clone();
        all.push(self.policy);
        let reps = port_reps(&all, self.d, |name, proto| self.resolve(ctx, name, proto));
        let mine = table.rules(self.policy, self.d);
        let theirs: Vec<Rules<'_, '_>> = (self.others.iter())
            .map(|o| table.rules(o, self.d))
            .collect();
        let peers = table.reps.iter().enumerate();
        peers
            .filter(|(_, q)| !self.is_self(q))
            .all(|(i, q)| self.unchanged_for(i, q, &reps, mine, &theirs))
    }

    /// The comparison for one peer. Only the rules whose peers match it
    /// can admit it, so they are found once and then tried on every port.
    fn unchanged_for(
        &self,
        i: usize,
        q: &PeerRep<'_>,
        reps: &PortReps,
        mine: Rules<'_, '_>,
        theirs: &[Rules<'_, '_>],
    ) -> bool {
        let mine: Vec<&Rule> = mine.matching(i).collect();
        if mine.is_empty() {
            // Allowed with it iff the others allow; without it, the same
            // when others isolate, and everything when none does.
            return !self.others.is_empty();
        }
        let theirs: Vec<&Rule> = theirs.iter().flat_map(|r| r.matching(i)).collect();
        if theirs.iter().any(|r| r.ports.is_empty()) {
            return true; // The others admit q on every port.
        }
        let dst_ports = match self.d {
            Direction::Ingress => Some(self.subjects[0].ports.as_slice()),
            Direction::Egress => q.pod.map(|p| p.ports.as_slice()),
        };
        let admits = |rules: &[&Rule], proto: Protocol, port: u16| {
            rules.iter().any(|r| {
                r.ports.is_empty() || r.ports.iter().any(|pp| pp.matches(proto, port, dst_ports))
            })
        };
        reps.iter().all(|(proto, ports)| {
            ports.iter().all(|port| {
                let with_it = admits(&mine, *proto, *port);
                if self.others.is_empty() {
                    // Without it the side is not isolated: all is allowed.
                    return with_it;
                }
                !with_it || admits(&theirs, *proto, *port)
            })
        })
    }

    /// The numbers a named port resolves to on this side's destinations.
    fn resolve(&self, ctx: &Ctx<'_>, name: &str, proto: Protocol) -> Vec<u16> {
        let dsts: &[&Pod] = match self.d {
            Direction::Ingress => &self.subjects[..1],
            Direction::Egress => &ctx.endpoints,
        };
        dsts.iter()
            .filter_map(|e| e.named_port(name, proto))
            .collect()
    }

    /// A pod reaching itself is always allowed, so that peer is left out;
    /// but only for a lone real pod: a workload stands for many pods, and
    /// in a class of several, each one is a peer of the others.
    fn is_self(&self, q: &PeerRep<'_>) -> bool {
        match (&self.subjects[..], q.pod) {
            ([s], Some(pod)) => {
                s.workload.is_none() && s.namespace == pod.namespace && s.name == pod.name
            }
            _ => false,
        }
    }
}
