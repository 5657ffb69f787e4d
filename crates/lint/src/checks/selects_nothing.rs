//! PL001: a policy whose podSelector matches no pod in its namespace.

use crate::catalog::SELECTS_NOTHING;
use crate::ctx::Ctx;
use crate::Finding;

pub(super) fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    if !ctx.has_endpoints() {
        return;
    }
    for p in ctx.cluster.policies() {
        if ctx.selected(p).is_empty() {
            let mut message = format!(
                "podSelector {} matches no pod in namespace {}: the policy has no effect",
                p.pod_selector, p.namespace
            );
            if selects_host_network(ctx, p) {
                message.push_str(" (it matches host-network pods, which policies never select)");
            }
            out.push(Finding::on_policy(
                &SELECTS_NOTHING,
                p,
                "spec.podSelector",
                message,
            ));
        }
    }
}

fn selects_host_network(ctx: &Ctx<'_>, p: &palisade_model::NetworkPolicy) -> bool {
    ctx.cluster.pods().any(|pod| {
        pod.host_network && pod.namespace == p.namespace && p.pod_selector.matches(&pod.labels)
    })
}
