//! PL004 and PL005: named ports no destination pod defines (for that protocol).

use std::collections::BTreeSet;

use palisade_model::{Direction, NetworkPolicy, Peer, Pod, PolicyPort, PortSpec, Protocol, Rule};

use super::{agree, short_list, the};
use crate::catalog::{NAMED_PORT_PROTOCOL, NAMED_PORT_UNDEFINED};
use crate::ctx::{rules_in_force, Ctx};
use crate::{field, Finding};

pub(super) fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    if !ctx.has_endpoints() {
        return;
    }
    for p in ctx.cluster.policies() {
        for (d, i, rule) in rules_in_force(p) {
            let dsts = destinations(ctx, p, d, rule);
            for (k, pp) in rule.ports.iter().enumerate() {
                let PortSpec::Named(name) = &pp.port else {
                    continue;
                };
                let field = field::port(d, i, k);
                out.extend(check_port(p, rule, &dsts, name, pp, field));
            }
        }
    }
}

/// The pods a named port of `rule` resolves on: the selected pods for
/// ingress, the rule's peers for egress.
fn destinations<'c>(ctx: &Ctx<'c>, p: &NetworkPolicy, d: Direction, rule: &Rule) -> Vec<&'c Pod> {
    match d {
        Direction::Ingress => ctx.selected(p),
        Direction::Egress => ctx.rule_endpoints(p, rule),
    }
}

fn check_port(
    p: &NetworkPolicy,
    rule: &Rule,
    dsts: &[&Pod],
    name: &str,
    pp: &PolicyPort,
    field: String,
) -> Option<Finding> {
    if dsts.is_empty() {
        // Selectors that match nothing are PL001-PL003; only ipBlocks are left.
        let only_blocks =
            !rule.peers.is_empty() && rule.peers.iter().all(|x| matches!(x, Peer::IpBlock(_)));
        let message = format!(
            "named port {pp} can never match: the rule's peers are ipBlocks that contain no pod address, and named ports resolve only on pods"
        );
        return only_blocks.then(|| Finding::on_policy(&NAMED_PORT_UNDEFINED, p, field, message));
    }
    if dsts
        .iter()
        .any(|e| e.named_port(name, pp.protocol).is_some())
    {
        return None;
    }
    let others = other_protocols(dsts, name);
    let ids: Vec<_> = dsts.iter().map(|e| e.id()).collect();
    let who = the("destination pod", &ids);
    let define = agree(ids.len(), "defines", "define");
    let finding = if others.is_empty() {
        let message = format!("named port {pp}: {who} {define} no container port named {name:?}, so this entry matches nothing");
        Finding::on_policy(&NAMED_PORT_UNDEFINED, p, field, message)
    } else {
        let protos = short_list(others.iter().map(|x| x.as_str()));
        let message = format!("named port {pp}: {who} {define} {name:?} only for {protos}, so this {} entry matches nothing", pp.protocol);
        Finding::on_policy(&NAMED_PORT_PROTOCOL, p, field, message)
    };
    Some(finding)
}

fn other_protocols(dsts: &[&Pod], name: &str) -> BTreeSet<Protocol> {
    dsts.iter()
        .flat_map(|e| e.ports.iter())
        .filter(|c| c.name.as_deref() == Some(name))
        .map(|c| c.protocol)
        .collect()
}
