//! PL002 and PL003: peers whose selectors match nothing.

use palisade_model::{LabelSelector, NetworkPolicy, Peer};

use super::short_list;
use crate::catalog::{NAMESPACE_SELECTOR_EMPTY, POD_SELECTOR_EMPTY};
use crate::ctx::{rules_in_force, Ctx};
use crate::{field, Finding};

/// A selector peer and where it is written.
struct At<'p> {
    policy: &'p NetworkPolicy,
    peer: &'p Peer,
    field: String,
}

pub(super) fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    // Without pods or Namespace objects the input says nothing about
    // what exists, so "matches nothing" would be noise.
    if !ctx.has_endpoints() && !ctx.has_declared_namespaces() {
        return;
    }
    for p in ctx.cluster.policies() {
        for (d, i, rule) in rules_in_force(p) {
            for (j, peer) in rule.peers.iter().enumerate() {
                let at = At {
                    policy: p,
                    peer,
                    field: field::peer(d, i, j),
                };
                out.extend(check_peer(ctx, &at));
            }
        }
    }
}

fn check_peer(ctx: &Ctx<'_>, at: &At<'_>) -> Option<Finding> {
    let Peer::Pods { namespaces, pods } = at.peer else {
        return None;
    };
    let scope = match namespaces {
        None => format!("namespace {}", at.policy.namespace),
        Some(sel) => {
            let names = ctx.namespaces_matching(sel);
            if names.is_empty() {
                return Some(no_namespace(at, sel));
            }
            format!("namespaces {}", short_list(names))
        }
    };
    let empty = ctx.has_endpoints() && ctx.peer_endpoints(at.policy, at.peer).is_empty();
    empty.then(|| no_pod(at, pods, &scope))
}

fn no_namespace(at: &At<'_>, sel: &LabelSelector) -> Finding {
    let message =
        format!("namespaceSelector {sel} matches no namespace: this peer matches nothing");
    let field = format!("{}.namespaceSelector", at.field);
    Finding::on_policy(&NAMESPACE_SELECTOR_EMPTY, at.policy, field, message)
}

fn no_pod(at: &At<'_>, pods: &LabelSelector, scope: &str) -> Finding {
    let message =
        format!("podSelector {pods} matches no pod in {scope}: this peer matches nothing");
    // A peer with only a namespaceSelector has the podSelector `{}`.
    let field = if pods.is_everything() {
        at.field.clone()
    } else {
        format!("{}.podSelector", at.field)
    };
    Finding::on_policy(&POD_SELECTOR_EMPTY, at.policy, field, message)
}
