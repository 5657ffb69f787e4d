//! A canonical model of what palisade's table holds, built either from the
//! IR ([`expected`]: what [`crate::render::full`] creates) or from the
//! kernel ([`from_json`]: `nft -j list table inet T`). Two states compare
//! with `==`, and [`crate::delta::delta`] turns their difference into one
//! transaction.
//!
//! Rules are compared by fingerprint (see [`crate::fingerprint`]), not by
//! their expressions; counters by name only (their values are the kernel's).

use std::collections::{BTreeMap, BTreeSet};

use palisade_compile::Ruleset;

use crate::desired::Desired;
pub use crate::desired::RenderError;
pub use crate::element::Element;
pub use crate::json::{from_json, ParseError};

/// Everything in the table that palisade compares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableState {
    pub sets: BTreeMap<String, SetState>,
    /// Verdict maps: name -> key (a canonical address) -> target chain.
    pub maps: BTreeMap<String, MapState>,
    pub chains: BTreeMap<String, ChainState>,
    pub counters: BTreeSet<String>,
}

/// A named set: its key type (`ipv4_addr`, `inet_proto . inet_service`),
/// whether it holds intervals, and its canonical elements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetState {
    pub key_type: String,
    pub interval: bool,
    /// A dynamic set the kernel fills (the flow log's per-source rate
    /// limit, see [`crate::flowlog`]): its elements are never compared.
    pub dynamic: bool,
    pub elements: BTreeSet<Element>,
}

/// A verdict map (`ipv4_addr : verdict`). Keys are canonical addresses
/// (`IpAddr`'s `Display`), values the chain jumped to; a verdict other than
/// `jump` reads back as `verdict VERDICT`, which matches no chain name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MapState {
    /// `KEY : verdict`, e.g. `ipv4_addr : verdict`.
    pub key_type: String,
    pub elements: BTreeMap<String, String>,
}

/// A chain: its hook when it is a base chain, and the fingerprints of its
/// rules in order. A rule without our comment reads back as
/// `foreign rule, handle N`, which matches no fingerprint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainState {
    pub hook: Option<Hook>,
    pub rules: Vec<String>,
}

/// How a base chain is attached to netfilter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    /// The chain type, `filter`.
    pub kind: String,
    /// The netfilter hook, e.g. `forward`.
    pub hook: String,
    /// Numeric priority (`filter` is 0).
    pub priority: i64,
    /// The chain policy, `accept`.
    pub policy: String,
}

/// The state [`crate::render::full`] creates for `rs`; fails when the IR
/// is not renderable (see [`RenderError`]).
pub fn expected(rs: &Ruleset) -> Result<TableState, RenderError> {
    Ok(Desired::from_ir(rs)?.state())
}
