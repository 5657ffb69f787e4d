//! PL011: a rule with no peers and no ports beside other rules of its direction.

use palisade_model::Direction;

use crate::catalog::ALLOW_ALL_RULE;
use crate::ctx::Ctx;
use crate::{field, Finding};

pub(super) fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for p in ctx.cluster.policies() {
        for d in [Direction::Ingress, Direction::Egress] {
            let rules = p.rules(d).unwrap_or_default();
            if rules.len() < 2 {
                continue;
            }
            let open = rules
                .iter()
                .position(|r| r.peers.is_empty() && r.ports.is_empty());
            if let Some(i) = open {
                let n = rules.len() - 1;
                let others = match n {
                    1 => format!("the other {d} rule of this policy adds"),
                    _ => format!("the {n} other {d} rules of this policy add"),
                };
                let message =
                    format!("this rule allows every peer on every port, so {others} nothing");
                out.push(Finding::on_policy(
                    &ALLOW_ALL_RULE,
                    p,
                    field::rule(d, i),
                    message,
                ));
            }
        }
    }
}
