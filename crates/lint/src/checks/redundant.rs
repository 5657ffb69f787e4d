//! PL007: policies whose removal changes no verdict on the current cluster.
//!
//! Exact, by enumeration rather than by a structural proof: for every pod
//! the policy selects and every direction in its policyTypes, the side's
//! verdict is compared with and without the policy for every peer (every
//! endpoint address, every host-network address, and one external address
//! per ipBlock atom), protocol and port (one per interval on which all the
//! port entries involved are constant). The connection verdict is the AND
//! of two sides and the policy only takes part in one, so equal sides mean
//! equal verdicts. Subjects no policy can tell apart are checked once.
//!
//! A pod reaching itself is always allowed, so a lone Pod is not its own
//! peer; a workload (Deployment...) is, since it stands for replicas that
//! reach each other. (The evaluator treats a workload reaching itself as
//! the same pod; here that choice could hide a policy that matters, so the
//! stricter reading is used and fewer policies are reported.)
//!
//! Policies are visited in (namespace, name) order and each one reported
//! is left out when checking the next: of two identical policies only the
//! first is reported, and removing every reported policy together is
//! still safe.

mod side;
mod space;
mod table;

use std::collections::BTreeSet;

use palisade_model::{Direction, NetworkPolicy, PolicyRef};

use super::{agree, count, short_list};
use crate::catalog::REDUNDANT_POLICY;
use crate::ctx::Ctx;
use crate::Finding;

/// For each direction in force, the policies covering it (empty: none
/// isolates the pods, and the policy allows them everything).
type Cover = Vec<(Direction, BTreeSet<PolicyRef>)>;

pub(super) fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    if !ctx.has_endpoints() {
        return;
    }
    let table = table::PeerTable::new(ctx);
    let mut removed = BTreeSet::new();
    for p in ctx.cluster.policies() {
        if let Some((pods, cover)) = subsumed(ctx, &table, p, &removed) {
            out.push(finding(p, pods, &cover));
            removed.insert(p.reference());
        }
    }
}

/// The number of pods `p` selects and what covers it, when removing `p`
/// (with `removed` already gone) changes nothing.
fn subsumed(
    ctx: &Ctx<'_>,
    table: &table::PeerTable<'_>,
    p: &NetworkPolicy,
    removed: &BTreeSet<PolicyRef>,
) -> Option<(usize, Cover)> {
    let subjects = ctx.selected(p);
    if subjects.is_empty() {
        return None; // PL001 reports it.
    }
    let mut cover = Cover::new();
    for d in [Direction::Ingress, Direction::Egress] {
        if p.rules(d).is_none() {
            continue;
        }
        let mut by = BTreeSet::new();
        for class in side::classes(ctx, p, d, &subjects, removed) {
            if !class.unchanged(ctx, table) {
                return None;
            }
            by.extend(class.others.iter().map(|o| o.reference()));
        }
        cover.push((d, by));
    }
    Some((subjects.len(), cover))
}

fn finding(p: &NetworkPolicy, pods: usize, cover: &Cover) -> Finding {
    let parts: Vec<String> = cover.iter().map(|(d, by)| direction_text(*d, by)).collect();
    let what = if parts.is_empty() {
        "it has no direction in policyTypes".to_string()
    } else {
        parts.join("; ")
    };
    let message = format!(
        "removing it changes no verdict on this cluster ({} selected): {what}",
        count(pods, "pod")
    );
    Finding::on_policy(&REDUNDANT_POLICY, p, "", message)
}

fn direction_text(d: Direction, by: &BTreeSet<PolicyRef>) -> String {
    if by.is_empty() {
        format!("for {d} it allows everything, and no other policy isolates them")
    } else {
        let verbs = agree(
            by.len(),
            "isolates them too and allows",
            "isolate them too and allow",
        );
        format!("for {d}, {} {verbs} everything it allows", short_list(by))
    }
}
