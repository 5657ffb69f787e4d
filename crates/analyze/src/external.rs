//! The outside world: every address that is not an endpoint's.
//!
//! A role's verdict toward an external address depends only on the
//! address's region (which ipBlocks hold it): selectors never match
//! external addresses, and named ports never match an external destination.
//! So each role gets a *profile* (ports per region); equal profiles share
//! one CIDR list, built by walking the atoms in address order, merging
//! neighbours with equal ports, cutting out endpoint addresses and covering
//! each remaining range with the fewest CIDRs.

use palisade_model::Direction;

use crate::addr::{cover, Family, Taken};
use crate::compile::{Compiled, PeerC};
use crate::hash::Interner;
use crate::ports::{or_into, MaskId, Masks, PortAtoms, ALL, EMPTY};
use crate::regions::Regions;
use crate::roles::{Role, OPEN};
use crate::tables::rule_mask;
use crate::views::Ctx;

/// External CIDR lists, shared by roles with equal profiles.
#[derive(Debug, Clone, Default)]
pub(crate) struct External {
    /// Per profile: `(cidr, ports)` sorted by the CIDR's text.
    pub lists: Vec<Vec<(String, MaskId)>>,
    /// Profile id per egress role.
    pub egress: Vec<u32>,
    /// Profile id per ingress role.
    pub ingress: Vec<u32>,
}

impl External {
    pub(crate) fn new(
        ctx: &Ctx<'_, '_>,
        atoms: &PortAtoms,
        masks: &mut Masks,
        roles: [&[Role]; 2],
        taken: &Taken,
    ) -> Self {
        let mut profiles: Interner<Box<[MaskId]>> = Interner::default();
        let mut ids = |d: Direction, rs: &[Role]| -> Vec<u32> {
            let each = rs.iter().enumerate();
            each.map(|(i, role)| {
                let p = profile(ctx, atoms, masks, role, d, i as u32 == OPEN);
                profiles.intern_slice(&p)
            })
            .collect()
        };
        let egress = ids(Direction::Egress, roles[0]);
        let ingress = ids(Direction::Ingress, roles[1]);
        let lists = (profiles.items().iter())
            .map(|p| cidr_list(ctx.regions, p, taken))
            .collect();
        External {
            lists,
            egress,
            ingress,
        }
    }
}

/// Ports per region for one role.
fn profile(
    ctx: &Ctx<'_, '_>,
    atoms: &PortAtoms,
    masks: &mut Masks,
    role: &Role,
    d: Direction,
    open: bool,
) -> Vec<MaskId> {
    let regions = ctx.regions.count();
    if open {
        return vec![ALL; regions];
    }
    // Named ports resolve on the destination: the subject for ingress,
    // the external address (which has none) for egress.
    let res = match d {
        Direction::Ingress => &ctx.classes.res.get(role.res)[..],
        Direction::Egress => &[],
    };
    let mut base = masks.scratch();
    let mut by_block: Vec<(Vec<u32>, Vec<u64>)> = Vec::new();
    for rule in role.rules(ctx.c, d) {
        let mut mask = masks.scratch();
        rule_mask(ctx.c, atoms, rule.ports.as_deref(), res, &mut mask);
        match &rule.peers {
            None => or_into(&mut base, &mask),
            Some(peers) => {
                let blocks = block_ids(ctx.c, peers);
                if !blocks.is_empty() {
                    by_block.push((blocks, mask));
                }
            }
        }
    }
    (0..regions as u32)
        .map(|r| {
            let mut mask = base.clone();
            for (blocks, m) in &by_block {
                if blocks.iter().any(|&b| ctx.regions.in_block(r, b)) {
                    or_into(&mut mask, m);
                }
            }
            masks.intern(&mask)
        })
        .collect()
}

fn block_ids(c: &Compiled<'_>, peers: &[u32]) -> Vec<u32> {
    let blocks = peers.iter().map(|&p| *c.peers.get(p));
    blocks
        .filter_map(|p| match p {
            PeerC::Block(b) => Some(b),
            PeerC::Pods { .. } => None,
        })
        .collect()
}

/// The CIDRs of a profile, with their ports, sorted by text.
fn cidr_list(regions: &Regions, profile: &[MaskId], taken: &Taken) -> Vec<(String, MaskId)> {
    let mut out = Vec::new();
    for f in Family::BOTH {
        let mut run: Option<(u128, u128, MaskId)> = None;
        for (lo, hi, r) in regions.atoms(f) {
            let m = profile[r as usize];
            match run {
                // Atoms are contiguous: equal neighbours merge.
                Some((start, _, rm)) if rm == m => run = Some((start, hi, m)),
                _ => {
                    emit(f, run.take(), taken, &mut out);
                    run = (m != EMPTY).then_some((lo, hi, m));
                }
            }
        }
        emit(f, run, taken, &mut out);
    }
    out.sort_unstable();
    out
}

fn emit(
    f: Family,
    run: Option<(u128, u128, MaskId)>,
    taken: &Taken,
    out: &mut Vec<(String, MaskId)>,
) {
    let Some((lo, hi, m)) = run else { return };
    let mut nets = Vec::new();
    taken.free(f, lo, hi, |a, b| cover(f, a, b, &mut nets));
    out.extend(nets.iter().map(|n| (n.to_string(), m)));
}
