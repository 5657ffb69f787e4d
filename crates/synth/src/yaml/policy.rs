//! NetworkPolicy documents: selectors, rules, peers, ipBlocks and ports.

use palisade_model::{
    IpBlock, LabelSelector, NetworkPolicy, Peer, PolicyPort, PolicyTypes, PortSpec, Rule,
};

use super::header;
use super::writer::{q, Out};

pub(super) fn policy(out: &mut Out, np: &NetworkPolicy) {
    header(out, "networking.k8s.io/v1", "NetworkPolicy");
    out.field(1, "name", &q(&np.name));
    out.field(1, "namespace", &q(&np.namespace));
    out.line(0, "spec:");
    selector(out, 1, "podSelector", &np.pod_selector);
    policy_types(out, np);
    rules(out, "ingress", "from", &np.ingress);
    rules(out, "egress", "to", &np.egress);
}

/// Written only when it differs from the API default (Ingress, plus Egress
/// iff there are egress rules).
fn policy_types(out: &mut Out, np: &NetworkPolicy) {
    let types = np.policy_types;
    if types == PolicyTypes::defaulted(!np.egress.is_empty()) {
        return;
    }
    if !types.ingress && !types.egress {
        out.line(1, "policyTypes: []");
        return;
    }
    out.line(1, "policyTypes:");
    for (on, name) in [(types.ingress, "Ingress"), (types.egress, "Egress")] {
        if on {
            out.line(1, &format!("- {}", q(name)));
        }
    }
}

fn rules(out: &mut Out, key: &str, peers_key: &str, rules: &[Rule]) {
    if rules.is_empty() {
        return;
    }
    out.line(1, &format!("{key}:"));
    for r in rules {
        rule(out, peers_key, r);
    }
}

/// One rule as a list item at depth 2; `- {}` when it allows everything.
fn rule(out: &mut Out, peers_key: &str, r: &Rule) {
    if r.peers.is_empty() && r.ports.is_empty() {
        out.line(1, "- {}");
        return;
    }
    out.item();
    if !r.peers.is_empty() {
        out.line(2, &format!("{peers_key}:"));
        r.peers.iter().for_each(|p| peer(out, p));
    }
    if !r.ports.is_empty() {
        out.line(2, "ports:");
        r.ports.iter().for_each(|p| port(out, p));
    }
}

/// A peer as a list item at depth 3. A namespace selector with an empty
/// pod selector is written without `podSelector`.
fn peer(out: &mut Out, p: &Peer) {
    out.item();
    match p {
        Peer::Pods { namespaces, pods } => {
            if namespaces.is_none() || !pods.is_everything() {
                selector(out, 3, "podSelector", pods);
            }
            if let Some(ns) = namespaces {
                selector(out, 3, "namespaceSelector", ns);
            }
        }
        Peer::IpBlock(b) => ip_block(out, b),
    }
}

fn ip_block(out: &mut Out, b: &IpBlock) {
    out.line(3, "ipBlock:");
    out.field(4, "cidr", &q(&b.cidr.to_string()));
    if b.except.is_empty() {
        return;
    }
    out.line(4, "except:");
    for e in &b.except {
        out.line(4, &format!("- {}", q(&e.to_string())));
    }
}

/// A port entry as a list item at depth 3; `protocol` always written.
fn port(out: &mut Out, p: &PolicyPort) {
    out.item();
    out.field(3, "protocol", &q(p.protocol.as_str()));
    match &p.port {
        PortSpec::Any => {}
        PortSpec::Named(name) => out.field(3, "port", &q(name)),
        PortSpec::Range { start, end } => {
            out.field(3, "port", &start.to_string());
            if end != start {
                out.field(3, "endPort", &end.to_string());
            }
        }
    }
}

/// `key: {}` for the empty selector, else `matchLabels` and `matchExpressions`.
fn selector(out: &mut Out, depth: usize, key: &str, s: &LabelSelector) {
    if s.is_everything() {
        out.field(depth, key, "{}");
        return;
    }
    out.line(depth, &format!("{key}:"));
    if !s.match_labels.is_empty() {
        out.line(depth + 1, "matchLabels:");
        for (k, v) in &s.match_labels {
            out.field(depth + 2, &q(k), &q(v));
        }
    }
    if !s.match_expressions.is_empty() {
        out.line(depth + 1, "matchExpressions:");
        for r in &s.match_expressions {
            requirement(out, depth + 2, r);
        }
    }
}

fn requirement(out: &mut Out, depth: usize, r: &palisade_model::Requirement) {
    out.item();
    out.field(depth, "key", &q(&r.key));
    out.field(depth, "operator", &q(r.operator.as_str()));
    if r.values.is_empty() {
        return;
    }
    out.line(depth, "values:");
    for v in &r.values {
        out.line(depth, &format!("- {}", q(v)));
    }
}
