//! The dataplane IR: what the kernel must hold, independent of nftables syntax.
//!
//! A [`Ruleset`] is deterministic for a given input (every collection is a
//! `BTreeMap` or sorted `Vec`, names are stable hashes of content keys), so
//! two compilations can be diffed into a minimal kernel update, and every
//! element carries provenance for explanations, counters and logs.
//!
//! Packet path (see docs/ARCHITECTURE.md): a base chain per hook dispatches on
//! the pod address through a verdict map to a *subject chain* shared by every
//! local pod with the same isolating policies for that direction. A subject
//! chain holds accept rules and ends in a counted drop (a counted, logged
//! accept when every isolating policy is in audit mode). Pods not isolated for
//! a direction have no map element, so their packets pass.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use palisade_model::{Direction, PolicyRef, Protocol};
use serde::{Deserialize, Serialize};

/// An address family; every set and every address-matching rule has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn of(ip: &IpAddr) -> Family {
        if ip.is_ipv4() {
            Family::V4
        } else {
            Family::V6
        }
    }
}

/// Addresses, as sorted, disjoint, inclusive ranges of one family.
/// Built from the pods a selector peer matches, or from `ipBlock` minus `except`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddrSet {
    pub family: Family,
    /// False for sets of pod addresses (single addresses, changed element by
    /// element as pods come and go); true for ipBlock ranges.
    pub interval: bool,
    pub ranges: Vec<(IpAddr, IpAddr)>,
    /// What the set stands for, e.g. `pods matching app=web in namespaces matching team=a`.
    pub origin: String,
}

/// Destination ports: sorted, disjoint `(protocol, first, last)` ranges.
/// "Every port of a protocol" is `(proto, 0, 65535)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortSet {
    pub ranges: Vec<(Protocol, u16, u16)>,
    pub origin: String,
}

/// A named port resolved on every pod that defines it: sorted
/// `(pod address, protocol, port)` elements, matched against the destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedPortSet {
    pub family: Family,
    pub elements: Vec<(IpAddr, Protocol, u16)>,
    /// e.g. `named port http/TCP`.
    pub origin: String,
}

/// One condition of a rule; all conditions of a rule must hold.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Match {
    /// Source address in the named [`AddrSet`] (ingress rules).
    SrcAddr(String),
    /// Destination address in the named [`AddrSet`] (egress rules).
    DstAddr(String),
    /// `(l4proto, dport)` in the named [`PortSet`].
    Ports(String),
    /// `(daddr, l4proto, dport)` in the named [`NamedPortSet`].
    NamedPort(String),
}

/// Where a rule came from: policy, direction, rule index, and peer index
/// (`None`: the rule has no `from`/`to`, so it admits every peer).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Provenance {
    pub policy: PolicyRef,
    pub direction: Direction,
    pub rule: usize,
    pub peer: Option<usize>,
}

impl std::fmt::Display for Provenance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} rule {}", self.policy, self.direction, self.rule)?;
        match self.peer {
            Some(p) => write!(f, " peer {p}"),
            None => f.write_str(" every peer"),
        }
    }
}

/// An accept rule. `family` is set when a condition is family-specific
/// (an address or named-port set), `None` when the rule matches both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub family: Option<Family>,
    pub matches: Vec<Match>,
    /// The named counter of the policy rule (shared by all lines of one policy rule).
    pub counter: String,
    pub provenance: Provenance,
}

/// A subject chain: the accept rules of every policy isolating its pods for
/// one direction, in policy order, then a drop counted in `deny_counter`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chain {
    pub direction: Direction,
    /// The isolating policies, sorted: the chain's identity.
    pub isolated_by: Vec<PolicyRef>,
    pub rules: Vec<Rule>,
    pub deny_counter: String,
    /// Every isolating policy is in audit mode: the final verdict is a
    /// logged accept instead of a drop (see `palisade_model::PolicyMode`).
    pub audit: bool,
}

/// What a named counter counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CounterKind {
    /// Packets accepted by one policy rule.
    Rule {
        policy: PolicyRef,
        direction: Direction,
        rule: usize,
    },
    /// Packets dropped by a subject chain: isolated, and no rule allowed
    /// them (`audit`: accepted and logged instead, would-be denials).
    DefaultDeny {
        direction: Direction,
        isolated_by: Vec<PolicyRef>,
        audit: bool,
    },
}

/// Everything palisade puts in its table.
///
/// Address sets, named-port sets and chains are shared (`Arc`) between the
/// rulesets of successive compilations ([`crate::Compiler`]): a set or chain
/// that did not change is the same allocation in both, so reusing it costs a
/// pointer copy and comparing it (`==` on `Arc<T: Eq>` checks the pointer
/// first) costs nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ruleset {
    pub addr_sets: BTreeMap<String, Arc<AddrSet>>,
    pub port_sets: BTreeMap<String, PortSet>,
    pub named_port_sets: BTreeMap<String, Arc<NamedPortSet>>,
    pub chains: BTreeMap<String, Arc<Chain>>,
    /// Local pod address -> subject chain, per direction (ingress dispatches
    /// on the destination address, egress on the source address).
    pub dispatch: BTreeMap<Direction, BTreeMap<IpAddr, String>>,
    pub counters: BTreeMap<String, CounterKind>,
}
