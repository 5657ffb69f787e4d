//! PL012: a policy in audit mode (on itself or through its namespace).

use palisade_model::PolicyMode;

use crate::catalog::AUDIT_MODE;
use crate::ctx::Ctx;
use crate::Finding;

pub(super) fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for p in ctx.cluster.policies() {
        if ctx.cluster.policy_mode(p) != PolicyMode::Audit {
            continue;
        }
        let through = match p.mode {
            Some(_) => "its palisade.dev/mode annotation".to_string(),
            None => format!("namespace {}'s palisade.dev/mode annotation", p.namespace),
        };
        let message = format!(
            "audit mode ({through}): what the policy would deny is accepted and logged as audit, unless an enforcing policy also isolates the pod"
        );
        out.push(Finding::on_policy(
            &AUDIT_MODE,
            p,
            "metadata.annotations[palisade.dev/mode]",
            message,
        ));
    }
}
