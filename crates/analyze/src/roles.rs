//! Roles: what a class is as the subject of one direction's policies.
//!
//! A class's egress role is the list of policies isolating it for egress;
//! its ingress role adds what the ingress verdict needs from the subject
//! itself: its named ports (resolved on the destination, which is the
//! subject) and whether peers see it over IPv6 (which picks the source
//! address ipBlocks are matched against). Role 0 is *open*: not isolated,
//! isolated only by policies in audit mode (they deny nothing), or
//! host-network (no policy applies), so everything is allowed.

use palisade_model::Direction;

use crate::classes::{ClassKey, Classes};
use crate::compile::{Compiled, RuleC};
use crate::hash::{bit, Interner};

/// The open role: everything allowed.
pub(crate) const OPEN: u32 = 0;

/// One side's subject: the isolating policies (ids, cluster order).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Role {
    pub ns: u32,
    pub policies: Vec<u32>,
    /// Ingress only: the subject's named ports among those its rules use.
    pub res: u32,
    /// Ingress only: the subject's primary address is IPv6.
    pub v6: bool,
}

/// Egress and ingress roles, and each class's pair of roles.
#[derive(Debug, Clone)]
pub(crate) struct Roles {
    pub egress: Interner<Role>,
    pub ingress: Interner<Role>,
    /// Per class: `[egress role, ingress role]`.
    pub of_class: Vec<[u32; 2]>,
}

impl Role {
    /// The rules of the role's policies in force for `d`, in order.
    pub(crate) fn rules<'a>(&self, c: &'a Compiled<'_>, d: Direction) -> Vec<&'a RuleC> {
        let policies = self.policies.iter();
        policies
            .flat_map(|&p| c.policies[p as usize].rules(d).unwrap_or_default())
            .collect()
    }
}

fn open() -> Role {
    Role {
        ns: u32::MAX,
        policies: Vec::new(),
        res: 0,
        v6: false,
    }
}

impl Roles {
    pub(crate) fn new(c: &Compiled<'_>, classes: &mut Classes) -> Self {
        let mut roles = Roles {
            egress: Interner::default(),
            ingress: Interner::default(),
            of_class: Vec::with_capacity(classes.len()),
        };
        roles.egress.intern(open());
        roles.ingress.intern(open());
        for id in 0..classes.len() as u32 {
            let key = *classes.key(id);
            let pair = roles.class_roles(c, classes, &key);
            roles.of_class.push(pair);
        }
        roles
    }

    fn class_roles(&mut self, c: &Compiled<'_>, classes: &mut Classes, k: &ClassKey) -> [u32; 2] {
        if k.host {
            return [OPEN, OPEN];
        }
        // A side isolated only by audit policies denies nothing (its
        // would-be denials are accepted and logged): it is open.
        let audit_only = |ps: &[u32]| ps.iter().all(|&p| c.policies[p as usize].audit);
        let mut egress = isolating(c, classes, k, Direction::Egress);
        let mut ingress = isolating(c, classes, k, Direction::Ingress);
        for side in [&mut egress, &mut ingress] {
            if audit_only(side) {
                side.clear();
            }
        }
        let e = match egress.is_empty() {
            true => OPEN,
            false => self.egress.intern(Role {
                ns: k.ns,
                policies: egress,
                ..open()
            }),
        };
        let i = match ingress.is_empty() {
            true => OPEN,
            false => {
                let res = restricted(c, classes, k.res, &ingress);
                let role = Role {
                    ns: k.ns,
                    policies: ingress,
                    res,
                    v6: k.v6,
                };
                self.ingress.intern(role)
            }
        };
        [e, i]
    }
}

/// Policies of the class's namespace that select it and have `d` in force.
fn isolating(c: &Compiled<'_>, classes: &Classes, k: &ClassKey, d: Direction) -> Vec<u32> {
    let selvec = classes.selvecs.get(k.selvec);
    let in_ns = c.by_ns[k.ns as usize].iter().copied();
    in_ns
        .filter(|&p| {
            let p = &c.policies[p as usize];
            p.rules(d).is_some() && bit(selvec, p.selector as usize)
        })
        .collect()
}

/// The resolution `res`, keeping only names the policies' ingress rules use.
fn restricted(c: &Compiled<'_>, classes: &mut Classes, res: u32, policies: &[u32]) -> u32 {
    let rules = policies.iter().flat_map(|&p| {
        c.policies[p as usize]
            .rules(Direction::Ingress)
            .unwrap_or_default()
    });
    let names = Compiled::names_in(rules);
    let kept: Vec<(u32, u16)> = (classes.res.get(res).iter())
        .filter(|(n, _)| names.binary_search(n).is_ok())
        .copied()
        .collect();
    classes.res.intern_slice(&kept)
}
