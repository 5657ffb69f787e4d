//! An interpreter over the IR: decides a packet the way the kernel would
//! with the rendered ruleset. Tests hold it against the evaluator.

use std::net::IpAddr;

use palisade_model::{Direction, Protocol};

use crate::ir::{Chain, Family, Match, Provenance, Ruleset};

/// The first packet of a connection, after Service DNAT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub protocol: Protocol,
    pub port: u16,
}

/// What one direction's base chain did with the packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// No dispatch element: the pod is not isolated (or not local).
    Passed,
    /// Accepted by a rule of `chain`.
    Accepted { chain: String, by: Provenance },
    /// Dropped at the end of `chain`, counted in its deny counter (and logged).
    Dropped { chain: String, counter: String },
    /// Reached the end of an audit `chain`: accepted, counted in its deny
    /// counter and logged as an audit record.
    Audited { chain: String, counter: String },
}

/// The egress step, then the ingress step (not reached after a drop).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    pub allowed: bool,
    pub egress: Step,
    pub ingress: Option<Step>,
}

/// Runs `p` through the egress then the ingress dispatch. A packet to its own
/// source address never leaves the pod, so it is allowed without a lookup.
pub fn interpret(rs: &Ruleset, p: &Packet) -> Trace {
    if p.src == p.dst {
        return Trace {
            allowed: true,
            egress: Step::Passed,
            ingress: Some(Step::Passed),
        };
    }
    let egress = step(rs, p, Direction::Egress);
    if matches!(egress, Step::Dropped { .. }) {
        return Trace {
            allowed: false,
            egress,
            ingress: None,
        };
    }
    let ingress = step(rs, p, Direction::Ingress);
    let allowed = !matches!(ingress, Step::Dropped { .. });
    Trace {
        allowed,
        egress,
        ingress: Some(ingress),
    }
}

fn step(rs: &Ruleset, p: &Packet, d: Direction) -> Step {
    let key = match d {
        Direction::Egress => p.src,
        Direction::Ingress => p.dst,
    };
    let Some(chain_name) = rs.dispatch.get(&d).and_then(|m| m.get(&key)) else {
        return Step::Passed;
    };
    let chain: &Chain = &rs.chains[chain_name];
    let family = Family::of(&p.src);
    for rule in &chain.rules {
        let family_ok = rule.family.is_none_or(|f| f == family);
        if family_ok && rule.matches.iter().all(|m| holds(rs, m, p)) {
            return Step::Accepted {
                chain: chain_name.clone(),
                by: rule.provenance.clone(),
            };
        }
    }
    let audit = chain.audit;
    let (chain, counter) = (chain_name.clone(), chain.deny_counter.clone());
    match audit {
        true => Step::Audited { chain, counter },
        false => Step::Dropped { chain, counter },
    }
}

fn holds(rs: &Ruleset, m: &Match, p: &Packet) -> bool {
    let in_ranges = |set: &str, ip: IpAddr| {
        let s = &rs.addr_sets[set];
        s.family == Family::of(&ip) && s.ranges.iter().any(|(lo, hi)| *lo <= ip && ip <= *hi)
    };
    match m {
        Match::SrcAddr(s) => in_ranges(s, p.src),
        Match::DstAddr(s) => in_ranges(s, p.dst),
        Match::Ports(s) => rs.port_sets[s]
            .ranges
            .iter()
            .any(|(proto, lo, hi)| *proto == p.protocol && *lo <= p.port && p.port <= *hi),
        Match::NamedPort(s) => rs.named_port_sets[s]
            .elements
            .contains(&(p.dst, p.protocol, p.port)),
    }
}
