//! NetworkPolicies: default-deny, allow-all and rule-carrying ones.

use palisade_model::{Direction, LabelSelector, NetworkPolicy, PolicyTypes, Rule};

use crate::rng::Rng;
use crate::rules::{rule, Ctx};
use crate::selectors::pod_selector;

const INGRESS_ONLY: PolicyTypes = PolicyTypes {
    ingress: true,
    egress: false,
};
const EGRESS_ONLY: PolicyTypes = PolicyTypes {
    ingress: false,
    egress: true,
};
const BOTH: PolicyTypes = PolicyTypes {
    ingress: true,
    egress: true,
};

/// Policy number `i`, named `np-<i>`, in a namespace chosen at random.
pub(crate) fn policy(rng: &mut Rng, ctx: &Ctx<'_>, i: usize) -> NetworkPolicy {
    let namespace = rng.pick(ctx.namespaces);
    let mut p = match rng.below(20) {
        0 | 1 => deny(INGRESS_ONLY),
        2 => deny(EGRESS_ONLY),
        3 => deny(BOTH),
        4 => allow_all(rng),
        _ => with_rules(rng, ctx),
    };
    p.namespace = namespace;
    p.name = format!("np-{i}");
    p
}

/// Selects every pod of its namespace and allows nothing for `types`.
fn deny(types: PolicyTypes) -> NetworkPolicy {
    shell(LabelSelector::everything(), types, Vec::new(), Vec::new())
}

/// One rule that allows everything, ingress (defaulted types) or egress.
fn allow_all(rng: &mut Rng) -> NetworkPolicy {
    let selector = pod_selector(rng);
    let all = vec![Rule::default()];
    if rng.chance(1, 2) {
        shell(selector, INGRESS_ONLY, all, Vec::new())
    } else {
        shell(selector, BOTH, Vec::new(), all)
    }
}

/// Ingress rules, egress rules or both. `policyTypes` is mostly what the
/// API would default it to; in a few it is explicit and ignores the rules
/// of the other direction (which are kept, as the model does).
fn with_rules(rng: &mut Rng, ctx: &Ctx<'_>) -> NetworkPolicy {
    let selector = pod_selector(rng);
    let shape = rng.below(16);
    let mut rules = |d: Direction, max: usize| -> Vec<Rule> {
        let n = rng.between(1, max);
        (0..n).map(|_| rule(rng, ctx, d)).collect()
    };
    let (types, ingress, egress) = match shape {
        0..=8 => (INGRESS_ONLY, rules(Direction::Ingress, 3), Vec::new()),
        9..=11 => (EGRESS_ONLY, Vec::new(), rules(Direction::Egress, 2)),
        12..=14 => (
            BOTH,
            rules(Direction::Ingress, 2),
            rules(Direction::Egress, 2),
        ),
        _ => (
            INGRESS_ONLY,
            rules(Direction::Ingress, 1),
            rules(Direction::Egress, 1),
        ),
    };
    shell(selector, types, ingress, egress)
}

/// A policy with an empty name and namespace, filled in by [`policy`].
fn shell(
    pod_selector: LabelSelector,
    policy_types: PolicyTypes,
    ingress: Vec<Rule>,
    egress: Vec<Rule>,
) -> NetworkPolicy {
    NetworkPolicy {
        namespace: String::new(),
        name: String::new(),
        pod_selector,
        policy_types,
        ingress,
        egress,
        source: None,
        mode: None,
        unenforceable: None,
    }
}
