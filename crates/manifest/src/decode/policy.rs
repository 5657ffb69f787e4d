//! NetworkPolicy: `spec.podSelector`, `policyTypes`, `ingress` and `egress` rules.

use palisade_model::{LabelSelector, NetworkPolicy, PolicyTypes, Rule, Unenforceable};

use super::cursor::Fields;
use super::cx::{At, Cx};
use super::meta::Meta;
use super::peer::peer;
use super::ports::policy_port;
use super::scalar::{list, string};
use super::selector::selector;
use super::suggest::closest;
use crate::Severity;

/// The policy's spec, validated.
#[derive(Debug, Default)]
struct Spec {
    pod_selector: LabelSelector,
    policy_types: PolicyTypes,
    ingress: Vec<Rule>,
    egress: Vec<Rule>,
    /// Set when a rule was rejected but the selector and types are valid.
    unenforceable: Option<Unenforceable>,
}

/// Decodes a NetworkPolicy's `spec` (`status` is ignored).
pub(crate) fn decode(cx: &mut Cx<'_>, top: &mut Fields<'_>, meta: &Meta) -> Option<NetworkPolicy> {
    top.skip(&["status"]);
    let spec = match top.get("spec") {
        Some(at) => spec(cx, &at)?,
        None => {
            let (pos, _) = top.at();
            let message = "missing spec: read as {podSelector: {}}, which isolates every pod of the namespace for ingress";
            cx.report(Severity::Warning, pos, &top.path_of("spec"), message);
            Spec {
                policy_types: PolicyTypes::defaulted(false),
                ..Spec::default()
            }
        }
    };
    Some(NetworkPolicy {
        namespace: meta.namespace.clone(),
        name: meta.name.clone()?,
        pod_selector: spec.pod_selector,
        policy_types: spec.policy_types,
        ingress: spec.ingress,
        egress: spec.egress,
        source: None,
        mode: meta.mode,
        unenforceable: spec.unenforceable,
    })
}

/// True when a diagnostic's field is inside a rule (`spec.ingress...` or
/// `spec.egress...`): errors there leave the policy's selector and types
/// evaluable, so the object is kept as an unenforceable policy.
pub(crate) fn in_rules(field: &str) -> bool {
    ["spec.ingress", "spec.egress"].iter().any(|p| {
        field
            .strip_prefix(p)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
    })
}

/// The spec. A rule palisade rejects does not reject the policy when its
/// podSelector and policyTypes are valid: the API server may have accepted
/// what palisade cannot read (version skew), and leaving the policy out
/// would leave the pods it selects open. Such a policy keeps its selector
/// and types, no rules (it allows nothing in the directions it declares),
/// and says why in `unenforceable`; the rule's error is still reported.
fn spec(cx: &mut Cx<'_>, at: &At<'_>) -> Option<Spec> {
    let before = cx.error_count();
    let mut f = Fields::open(cx, at)?;
    let pod_selector = match f.get("podSelector") {
        Some(a) => selector(cx, &a),
        None => {
            let (pos, _) = f.at();
            let message =
                "missing podSelector: read as {}, which selects every pod in the namespace";
            cx.report(Severity::Warning, pos, &f.path_of("podSelector"), message);
            Some(LabelSelector::everything())
        }
    };
    let types = f.get("policyTypes").and_then(|a| policy_types(cx, &a));
    let head_errors = cx.error_count();
    let rules_from = cx.diags.len();
    let ingress_at = f.get("ingress");
    let egress_at = f.get("egress");
    let ingress = ingress_at
        .as_ref()
        .map(|a| rules(cx, a, "from"))
        .unwrap_or_default();
    let listed_egress = egress_at.as_ref().is_some_and(non_empty_list);
    let egress = egress_at
        .as_ref()
        .map(|a| rules(cx, a, "to"))
        .unwrap_or_default();
    let rule_errors = cx.error_count() - head_errors;
    let first_rule_error = cx.diags[rules_from..]
        .iter()
        .find(|d| d.is_error())
        .map(|d| Unenforceable {
            field: d.field.clone(),
            reason: d.message.clone(),
        });
    f.finish(cx);
    if cx.error_count() > before + rule_errors {
        return None;
    }
    let policy_types = types.unwrap_or_else(|| PolicyTypes::defaulted(listed_egress));
    if let Some(why) = first_rule_error {
        let directions = [
            ("Ingress", policy_types.ingress),
            ("Egress", policy_types.egress),
        ]
        .iter()
        .filter(|(_, on)| *on)
        .map(|(d, _)| *d)
        .collect::<Vec<_>>()
        .join(" and ");
        let message = format!(
            "palisade cannot enforce this policy (field {}): it is read as isolating the pods it selects for {directions} and allowing nothing",
            why.field
        );
        cx.warn(at, message);
        return Some(Spec {
            pod_selector: pod_selector?,
            policy_types,
            ingress: Vec::new(),
            egress: Vec::new(),
            unenforceable: Some(why),
        });
    }
    Some(Spec {
        pod_selector: pod_selector?,
        policy_types,
        ingress,
        egress,
        unenforceable: None,
    })
}

/// True when the node is a list with at least one item (`egress: []` and
/// `egress: null` default policyTypes as no egress rules).
fn non_empty_list(at: &At<'_>) -> bool {
    matches!(&at.node.value, crate::yaml::Value::Seq(items) if !items.is_empty())
}

/// The listed policy types; `None` for an empty list (then they are defaulted).
fn policy_types(cx: &mut Cx<'_>, at: &At<'_>) -> Option<PolicyTypes> {
    let items = list(cx, at);
    if items.len() > 2 {
        cx.error(
            at,
            format!(
                "may not specify more than two policyTypes (found {})",
                items.len()
            ),
        );
    }
    let mut types = PolicyTypes::default();
    for item in &items {
        match string(cx, item).as_deref() {
            Some("Ingress") => types.ingress = true,
            Some("Egress") => types.egress = true,
            Some(other) => unsupported_type(cx, item, other),
            None => {}
        }
    }
    (!items.is_empty()).then_some(types)
}

fn unsupported_type(cx: &mut Cx<'_>, at: &At<'_>, found: &str) {
    let mut message =
        format!("unsupported policy type {found:?} (expected \"Ingress\" or \"Egress\")");
    if let Some(s) = closest(found, &["Ingress", "Egress"]) {
        message.push_str(&format!("; did you mean {s:?}?"));
    }
    cx.error(at, message);
}

/// `ingress` (peers under `from`) or `egress` (peers under `to`) rules.
fn rules(cx: &mut Cx<'_>, at: &At<'_>, peers_key: &'static str) -> Vec<Rule> {
    list(cx, at)
        .iter()
        .filter_map(|r| rule(cx, r, peers_key))
        .collect()
}

fn rule(cx: &mut Cx<'_>, at: &At<'_>, peers_key: &'static str) -> Option<Rule> {
    let mut f = Fields::open(cx, at)?;
    let peers = match f.get(peers_key) {
        Some(a) => list(cx, &a).iter().filter_map(|p| peer(cx, p)).collect(),
        None => Vec::new(),
    };
    let ports = match f.get("ports") {
        Some(a) => list(cx, &a)
            .iter()
            .filter_map(|p| policy_port(cx, p))
            .collect(),
        None => Vec::new(),
    };
    let (other, other_direction, direction) = match peers_key {
        "from" => ("to", "egress", "ingress"),
        _ => ("from", "ingress", "egress"),
    };
    let message = format!("{other:?} is for {other_direction} rules; {direction} rules list their peers under {peers_key:?}");
    f.misplaced(cx, other, &message);
    f.finish(cx);
    Some(Rule { peers, ports })
}

#[cfg(test)]
mod tests;
