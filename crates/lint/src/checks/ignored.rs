//! PL006: rules of a direction missing from policyTypes (ignored by Kubernetes).

use palisade_model::{Direction, NetworkPolicy};

use super::count;
use crate::catalog::IGNORED_RULES;
use crate::ctx::Ctx;
use crate::{field, Finding};

pub(super) fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for p in ctx.cluster.policies() {
        for d in [Direction::Ingress, Direction::Egress] {
            let n = match d {
                Direction::Ingress => p.ingress.len(),
                Direction::Egress => p.egress.len(),
            };
            if n > 0 && !p.policy_types.contains(d) {
                out.push(finding(p, d, n));
            }
        }
    }
}

fn finding(p: &NetworkPolicy, d: Direction, n: usize) -> Finding {
    let message = format!(
        "policyTypes is [{}], so the {} {} ignored: this policy neither isolates nor allows {d}",
        types(p),
        count(n, &format!("{d} rule")),
        if n == 1 { "is" } else { "are" },
    );
    Finding::on_policy(&IGNORED_RULES, p, field::rules(d), message)
}

/// `Ingress, Egress` as written in policyTypes.
fn types(p: &NetworkPolicy) -> String {
    let t = p.policy_types;
    let names = [(t.ingress, "Ingress"), (t.egress, "Egress")];
    let listed: Vec<&str> = names
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| *n)
        .collect();
    listed.join(", ")
}
