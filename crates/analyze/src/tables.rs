//! Role tables: for each role, the ports it allows toward each feature of
//! its namespace's view (laid out by [`crate::side::Side`]).
//!
//! A namespace's rules for one direction are numbered; each feature gets
//! the set of rules whose peers admit it (its *key*, with its named-port
//! tail), and a role's cell for a feature is the ports of the rules that
//! are both the role's and admitted. Work is shared three ways: features
//! with one key, roles with one (matching rules, resolution), and each
//! rule's numbered ports computed once.

use std::ops::Range;

use palisade_model::Direction;

use crate::compile::{Compiled, PortC, RuleC};
use crate::hash::{bit, set_bit, words_for, FxMap, Interner, Words};
use crate::ports::{or_into, MaskId, Masks, PortAtoms};
use crate::roles::Role;
use crate::views::{Ctx, View};

/// The ports a rule's `ports` admits on a destination with resolution `res`.
pub(crate) fn rule_mask(
    c: &Compiled<'_>,
    atoms: &PortAtoms,
    ports: Option<&[PortC]>,
    res: &[(u32, u16)],
    out: &mut [u64],
) {
    let Some(ports) = ports else {
        atoms.set_all(out);
        return;
    };
    for p in ports {
        match *p {
            PortC::Range(proto, lo, hi) => atoms.set_range(out, proto, lo, hi),
            PortC::Named(n) => {
                let proto = c.named.get(n).1;
                for &(_, port) in res.iter().filter(|(m, _)| *m == n) {
                    atoms.set_range(out, proto, port, port);
                }
            }
        }
    }
}

/// The rules of a view's namespace for one direction, numbered, with
/// peers as local bits of the view (`None`: every peer).
struct Rules<'r> {
    rules: Vec<&'r RuleC>,
    peers: Vec<Option<Vec<usize>>>,
    /// Per rule: the ports of its numbered entries (all ports if none).
    fixed: Vec<Vec<u64>>,
    /// Per rule: the named port ids of its named entries.
    named: Vec<Vec<u32>>,
    /// Policy id -> its rules' numbers.
    of_policy: FxMap<u32, Range<usize>>,
}

impl<'r> Rules<'r> {
    fn new(ctx: &Ctx<'r, '_>, atoms: &PortAtoms, view: &View, d: Direction) -> Self {
        let mut r = Rules {
            rules: Vec::new(),
            peers: Vec::new(),
            fixed: Vec::new(),
            named: Vec::new(),
            of_policy: FxMap::default(),
        };
        let ns = view.ns;
        for &p in &ctx.c.by_ns[ns as usize] {
            let rules = ctx.c.policies[p as usize].rules(d).unwrap_or_default();
            r.of_policy
                .insert(p, r.rules.len()..r.rules.len() + rules.len());
            for rule in rules {
                let local = |ps: &Vec<u32>| ps.iter().map(|&p| view.local(p)).collect();
                r.peers.push(rule.peers.as_ref().map(local));
                let mut fixed = vec![0; atoms.words()];
                rule_mask(ctx.c, atoms, rule.ports.as_deref(), &[], &mut fixed);
                r.fixed.push(fixed);
                r.named.push(Compiled::names_in([rule].into_iter()));
                r.rules.push(rule);
            }
        }
        r
    }

    /// The rules of a role, as a bitset.
    fn of_role(&self, role: &Role) -> Vec<u64> {
        let mut bits = vec![0; words_for(self.rules.len())];
        for p in &role.policies {
            self.of_policy[p]
                .clone()
                .for_each(|i| set_bit(&mut bits, i));
        }
        bits
    }
}

/// Per feature and address choice, a key naming (the set of rules whose
/// peers admit the feature, the feature's named-port tail). Features with
/// one key are interchangeable for every role, whatever its rules.
struct Keys {
    sets: Words,
    keys: Interner<(u32, u32)>,
    of_feature: [Vec<u32>; 2],
}

impl Keys {
    fn new(view: &View, rules: &Rules<'_>, blocks: usize) -> Self {
        let mut k = Keys {
            sets: Words::default(),
            keys: Interner::default(),
            of_feature: [Vec::new(), Vec::new()],
        };
        let mut set = vec![0; words_for(rules.rules.len())];
        for (fi, f) in view.features.iter().enumerate() {
            for block in 0..blocks {
                let bits = &f[block * view.words..(block + 1) * view.words];
                set.iter_mut().for_each(|w| *w = 0);
                for (i, peers) in rules.peers.iter().enumerate() {
                    if peers
                        .as_deref()
                        .is_none_or(|ps| ps.iter().any(|&p| bit(bits, p)))
                    {
                        set_bit(&mut set, i);
                    }
                }
                let key = (k.sets.intern(&set), view.tails[fi]);
                k.of_feature[block].push(k.keys.intern(key));
            }
        }
        k
    }
}

/// The columns of every role of one view (one entry per feature).
pub(crate) fn columns(
    ctx: &Ctx<'_, '_>,
    atoms: &PortAtoms,
    masks: &mut Masks,
    view: &View,
    roles: &[&Role],
    d: Direction,
) -> Vec<Vec<MaskId>> {
    let rules = Rules::new(ctx, atoms, view, d);
    let blocks = if d == Direction::Ingress { 2 } else { 1 };
    let keys = Keys::new(view, &rules, blocks);
    let tails = match d {
        Direction::Egress => tail_resolutions(view),
        Direction::Ingress => Vec::new(),
    };
    let mut shared = Shared::default();
    let each = roles.iter().map(|role| {
        let column = Column {
            ctx,
            atoms,
            rules: &rules,
            keys: &keys,
            bits: rules.of_role(role),
        };
        match d {
            // Named ports resolve on the peer: the feature's tail.
            Direction::Egress => column.build(masks, &mut shared, 0, |t| (t, &tails[t as usize])),
            // Named ports resolve on the subject: the role's own.
            Direction::Ingress => {
                let res = ctx.classes.res.get(role.res);
                column.build(masks, &mut shared, usize::from(role.v6), |_| {
                    (role.res, res)
                })
            }
        }
    });
    each.collect()
}

/// The named-port resolution of each egress tail id.
fn tail_resolutions(view: &View) -> Vec<Vec<(u32, u16)>> {
    let mut out = Vec::new();
    for (fi, f) in view.features.iter().enumerate() {
        if view.tails[fi] as usize == out.len() {
            out.push(view.resolution(f));
        }
    }
    out
}

/// One role's column: each key resolved once, each set of matching rules
/// (with its named-port resolution) computed once.
struct Column<'a, 'r, 'c> {
    ctx: &'a Ctx<'r, 'c>,
    atoms: &'a PortAtoms,
    rules: &'a Rules<'r>,
    keys: &'a Keys,
    /// The role's rules.
    bits: Vec<u64>,
}

/// Shared by a view's roles: masks per (set of matching rules, resolution).
#[derive(Default)]
struct Shared {
    sets: Words,
    masks: FxMap<(u32, u32), MaskId>,
}

impl Column<'_, '_, '_> {
    /// `res(tail)` gives the named-port resolution for a key's tail, with
    /// an id naming it.
    fn build<'t>(
        &self,
        masks: &mut Masks,
        shared: &mut Shared,
        block: usize,
        res: impl Fn(u32) -> (u32, &'t [(u32, u16)]),
    ) -> Vec<MaskId> {
        let mut by_key = vec![None; self.keys.keys.len()];
        let mut matched = vec![0; self.bits.len()];
        let each = self.keys.of_feature[block].iter();
        each.map(|&k| {
            *by_key[k as usize].get_or_insert_with(|| {
                let (set, tail) = *self.keys.keys.get(k);
                let admitted = self.keys.sets.get(set);
                for ((m, a), b) in matched.iter_mut().zip(admitted).zip(&self.bits) {
                    *m = a & b;
                }
                let (res_id, res) = res(tail);
                let id = (shared.sets.intern(&matched), res_id);
                *shared
                    .masks
                    .entry(id)
                    .or_insert_with(|| self.mask(masks, &matched, res))
            })
        })
        .collect()
    }

    /// The ports of the `matched` rules, named ports resolved with `res`.
    fn mask(&self, masks: &mut Masks, matched: &[u64], res: &[(u32, u16)]) -> MaskId {
        let mut mask = masks.scratch();
        for (w, &word) in matched.iter().enumerate() {
            let mut word = word;
            while word != 0 {
                let rule = w * 64 + word.trailing_zeros() as usize;
                or_into(&mut mask, &self.rules.fixed[rule]);
                for &n in &self.rules.named[rule] {
                    let proto = self.ctx.c.named.get(n).1;
                    for &(_, port) in res.iter().filter(|(m, _)| *m == n) {
                        self.atoms.set_range(&mut mask, proto, port, port);
                    }
                }
                word &= word - 1;
            }
        }
        masks.intern(&mask)
    }
}
