//! PL008: pods isolated for egress with no egress rule allowing port 53.

use std::collections::BTreeMap;

use palisade_model::{
    Direction, NetworkPolicy, PodId, PolicyPort, PolicyRef, PortSpec, Protocol, Rule,
};

use super::{agree, the};
use crate::catalog::DNS_BLOCKED;
use crate::ctx::Ctx;
use crate::Finding;

const DNS_PORT: u16 = 53;

pub(super) fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    // For each isolating policy, the pods it isolates that cannot reach DNS.
    let mut blocked: BTreeMap<PolicyRef, Vec<PodId>> = BTreeMap::new();
    for e in &ctx.endpoints {
        let isolating: Vec<&NetworkPolicy> = ctx
            .cluster
            .isolating(&e.namespace, &e.labels, Direction::Egress)
            .collect();
        if !isolating.iter().any(|p| allows_dns(ctx, p)) {
            for p in isolating {
                blocked.entry(p.reference()).or_default().push(e.id());
            }
        }
    }
    for (r, pods) in blocked {
        if let Some(p) = ctx.cluster.policy(&r) {
            out.push(finding(p, &pods));
        }
    }
}

fn finding(p: &NetworkPolicy, pods: &[PodId]) -> Finding {
    let field = if p.egress.is_empty() {
        "spec.policyTypes"
    } else {
        "spec.egress"
    };
    let message = format!(
        "isolates {} for egress, and no egress rule of the policies selecting {} allows port 53 (UDP or TCP): DNS lookups will fail",
        the("pod", pods),
        agree(pods.len(), "it", "them"),
    );
    Finding::on_policy(&DNS_BLOCKED, p, field, message)
}

fn allows_dns(ctx: &Ctx<'_>, p: &NetworkPolicy) -> bool {
    let rules = p.rules(Direction::Egress).unwrap_or_default();
    rules.iter().any(|r| rule_allows_dns(ctx, r))
}

/// Does the rule allow port 53 over UDP or TCP to some peer? A named
/// port no pod in the input defines might be DNS: it gets the benefit of
/// the doubt (the DNS pods are often not in the input).
fn rule_allows_dns(ctx: &Ctx<'_>, r: &Rule) -> bool {
    r.ports.is_empty()
        || r.ports.iter().any(|pp| {
            [Protocol::Udp, Protocol::Tcp]
                .into_iter()
                .any(|proto| port_allows_dns(ctx, pp, proto))
        })
}

fn port_allows_dns(ctx: &Ctx<'_>, pp: &PolicyPort, proto: Protocol) -> bool {
    let PortSpec::Named(name) = &pp.port else {
        return pp.matches(proto, DNS_PORT, None);
    };
    if pp.protocol != proto {
        return false;
    }
    let mut resolved = ctx
        .endpoints
        .iter()
        .filter_map(|e| e.named_port(name, proto))
        .peekable();
    resolved.peek().is_none() || resolved.any(|n| n == DNS_PORT)
}
