//! Which rules' peers match which peer representatives, computed once per
//! lint run: PL007 asks the same question for every policy it checks.

use std::collections::BTreeMap;

use palisade_model::{Cluster, Direction, Labels, NetworkPolicy, Peer, Rule};

use super::space::{peer_reps, PeerRep};
use crate::ctx::Ctx;

/// A fixed-size set of peer representative indexes.
#[derive(Debug, Clone)]
struct Bits(Vec<u64>);

impl Bits {
    fn empty(n: usize) -> Self {
        Bits(vec![0; n.div_ceil(64)])
    }

    fn full(n: usize) -> Self {
        let mut b = Self::empty(n);
        (0..n).for_each(|i| b.insert(i));
        b
    }

    fn insert(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }

    fn contains(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }
}

/// Pod representatives that no selector can tell apart: same namespace,
/// same labels.
type Groups<'c> = BTreeMap<(&'c str, &'c Labels), Vec<usize>>;

/// The peer representatives and, per policy, direction and rule, the set
/// of those its peers match (every one when the rule has no peers).
#[derive(Debug)]
pub(super) struct PeerTable<'c> {
    pub reps: Vec<PeerRep<'c>>,
    rows: BTreeMap<(&'c str, &'c str), [Vec<Bits>; 2]>,
}

impl<'c> PeerTable<'c> {
    pub fn new(ctx: &Ctx<'c>) -> Self {
        let reps = peer_reps(ctx);
        let mut groups = Groups::new();
        for (i, q) in reps.iter().enumerate() {
            if let Some(pod) = q.pod {
                let key = (pod.namespace.as_str(), &pod.labels);
                groups.entry(key).or_default().push(i);
            }
        }
        let rows = ctx
            .cluster
            .policies()
            .map(|p| {
                let key = (p.namespace.as_str(), p.name.as_str());
                let row = |d| rule_rows(ctx.cluster, p, d, &reps, &groups);
                (key, [row(Direction::Ingress), row(Direction::Egress)])
            })
            .collect();
        Self { reps, rows }
    }

    /// The rules of `p` for `d`, with the representatives each matches.
    pub fn rules<'t>(&'t self, p: &'c NetworkPolicy, d: Direction) -> Rules<'t, 'c> {
        let row = self.rows.get(&(p.namespace.as_str(), p.name.as_str()));
        Rules {
            rules: p.rules(d).unwrap_or_default(),
            bits: row.map_or(&[], |r| &r[usize::from(d == Direction::Egress)]),
        }
    }
}

/// One policy's rules for one direction, looked up once per class.
#[derive(Debug, Clone, Copy)]
pub(super) struct Rules<'t, 'p> {
    rules: &'p [Rule],
    bits: &'t [Bits],
}

impl<'p> Rules<'_, 'p> {
    /// The rules whose peers match representative `i`.
    pub fn matching(&self, i: usize) -> impl Iterator<Item = &'p Rule> + '_ {
        let rules = self.rules.iter().zip(self.bits);
        rules.filter(move |(_, b)| b.contains(i)).map(|(r, _)| r)
    }
}

fn rule_rows(
    cluster: &Cluster,
    p: &NetworkPolicy,
    d: Direction,
    reps: &[PeerRep<'_>],
    groups: &Groups<'_>,
) -> Vec<Bits> {
    let rules = p.rules(d).unwrap_or_default();
    rules
        .iter()
        .map(|r| rule_bits(cluster, p, r, reps, groups))
        .collect()
}

fn rule_bits(
    cluster: &Cluster,
    p: &NetworkPolicy,
    r: &Rule,
    reps: &[PeerRep<'_>],
    groups: &Groups<'_>,
) -> Bits {
    if r.peers.is_empty() {
        return Bits::full(reps.len());
    }
    let mut bits = Bits::empty(reps.len());
    for peer in &r.peers {
        match peer {
            Peer::IpBlock(b) => {
                let inside = |q: &PeerRep<'_>| q.ip.is_some_and(|ip| b.contains(ip));
                let hits = reps.iter().enumerate().filter(|(_, q)| inside(q));
                hits.for_each(|(i, _)| bits.insert(i));
            }
            Peer::Pods { namespaces, pods } => {
                for ((ns, labels), members) in groups {
                    let ns_ok = match namespaces {
                        None => *ns == p.namespace,
                        Some(sel) => sel.matches(&cluster.namespace_labels(ns)),
                    };
                    if ns_ok && pods.matches(labels) {
                        members.iter().for_each(|i| bits.insert(*i));
                    }
                }
            }
        }
    }
    bits
}
