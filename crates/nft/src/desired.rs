//! The table palisade wants, derived once from the IR and validated: every
//! name is a safe identifier, every reference resolves, every address has
//! its set's family. [`crate::render::full`] writes it out,
//! [`crate::state::expected`] compares it, [`crate::delta::delta`] diffs it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use palisade_compile::{CounterKind, Family, Ruleset};

use crate::element::Datatype;
use crate::fingerprint::RenderedRule;
use crate::layout::{hairpin_set, map_name, BASE_CHAINS, BASE_PREFIX, MAPS};
use crate::names::is_safe_identifier;
use crate::rules::subject_chain;
use crate::state::{ChainState, Hook, MapState, SetState, TableState};

mod sets;

pub(crate) use sets::dispatched;

use crate::incremental::{Changed, Only};

use sets::{addr_set, named_port_set, port_set};

/// Why an IR cannot be rendered. Each of these is a compiler bug or an
/// invalid table name; nothing is sent to the kernel.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("invalid {kind} name {name:?}: expected an ASCII letter, then letters, digits or underscores, with at least one underscore")]
    InvalidName { kind: &'static str, name: String },
    #[error(
        "chain name {0:?} is reserved: names starting with `base_` are palisade's base chains"
    )]
    Reserved(String),
    #[error("set name {0:?} is used by more than one set")]
    Duplicate(String),
    #[error("{from} refers to {kind} {name:?}, which the ruleset does not define")]
    Dangling {
        from: String,
        kind: &'static str,
        name: String,
    },
    #[error("rule {rule} in chain {chain} mixes IPv4 and IPv6 conditions")]
    MixedFamilies { chain: String, rule: String },
    #[error("set {set} is {family:?} but holds {addr}")]
    WrongFamily {
        set: String,
        family: Family,
        addr: IpAddr,
    },
    #[error("set {set} holds the empty range {range}")]
    EmptyRange { set: String, range: String },
    #[error("set {set} is not an interval set but holds the range {range}")]
    RangeInPlainSet { set: String, range: String },
}

/// A set to create: its state, its comment and what its span says.
#[derive(Debug, Clone)]
pub struct DesiredSet {
    pub state: SetState,
    pub comment: String,
    pub label: String,
}

/// A chain to create: hook (base chains), rules, the sets and maps its rules
/// reference, and what its span says.
#[derive(Debug, Clone)]
pub struct DesiredChain {
    pub hook: Option<Hook>,
    pub rules: Vec<RenderedRule>,
    pub refs: BTreeSet<String>,
    pub label: String,
}

/// The whole table as palisade wants it.
#[derive(Debug, Clone, Default)]
pub struct Desired {
    pub sets: BTreeMap<String, DesiredSet>,
    /// Map name -> (state, label).
    pub maps: BTreeMap<String, (MapState, String)>,
    pub chains: BTreeMap<String, DesiredChain>,
    /// Counter name -> label.
    pub counters: BTreeMap<String, String>,
}

impl Desired {
    /// Validates `rs` and derives the table from it.
    pub fn from_ir(rs: &Ruleset) -> Result<Self, RenderError> {
        Self::build(rs, &Only::All)
    }

    /// The part of the table `rs` wants that `changed` names: the objects
    /// that differ between two IRs (see [`crate::incremental`]). Unchanged
    /// objects are neither built nor validated again.
    pub fn from_ir_changed(rs: &Ruleset, changed: &Changed) -> Result<Self, RenderError> {
        Self::build(rs, &Only::Changed(changed))
    }

    fn build(rs: &Ruleset, only: &Only) -> Result<Self, RenderError> {
        let mut d = Desired::default();
        for (name, set) in only.pick(&rs.addr_sets, Changed::sets) {
            d.add_set(name, addr_set(name, set)?)?;
        }
        for (name, set) in only.pick(&rs.port_sets, Changed::sets) {
            d.add_set(name, port_set(name, set)?)?;
        }
        for (name, set) in only.pick(&rs.named_port_sets, Changed::sets) {
            d.add_set(name, named_port_set(name, set)?)?;
        }
        for (name, kind) in only.pick(&rs.counters, Changed::counters) {
            check_name("counter", name)?;
            d.counters.insert(
                name.clone(),
                format!("counter {name} ({})", describe_counter(kind)),
            );
        }
        d.add_subject_chains(rs, only)?;
        d.add_maps(rs, only)?;
        for family in [Family::V4, Family::V6] {
            if only.hairpin(family) {
                // Fixed layout names (no underscore) cannot collide with IR names.
                d.sets
                    .insert(hairpin_set(family).into(), sets::hairpin(family, rs));
            }
        }
        if matches!(only, Only::All) {
            // The flow log's rate-limit sets belong with the base chains.
            d.sets.extend(crate::flowlog::rate_sets());
            d.add_base_chains();
        }
        Ok(d)
    }

    /// The canonical state of this table.
    pub fn state(&self) -> TableState {
        TableState {
            sets: self
                .sets
                .iter()
                .map(|(n, s)| (n.clone(), s.state.clone()))
                .collect(),
            maps: self
                .maps
                .iter()
                .map(|(n, (m, _))| (n.clone(), m.clone()))
                .collect(),
            chains: self
                .chains
                .iter()
                .map(|(n, c)| (n.clone(), c.state()))
                .collect(),
            counters: self.counters.keys().cloned().collect(),
        }
    }

    fn add_set(&mut self, name: &str, set: DesiredSet) -> Result<(), RenderError> {
        check_name("set", name)?;
        match self.sets.insert(name.to_string(), set) {
            Some(_) => Err(RenderError::Duplicate(name.into())),
            None => Ok(()),
        }
    }

    fn add_subject_chains(&mut self, rs: &Ruleset, only: &Only) -> Result<(), RenderError> {
        for (name, chain) in only.pick(&rs.chains, Changed::chains) {
            check_name("chain", name)?;
            if name.starts_with(BASE_PREFIX) {
                return Err(RenderError::Reserved(name.clone()));
            }
            let (rules, refs) = subject_chain(name, chain, rs)?;
            let by: Vec<String> = chain.isolated_by.iter().map(ToString::to_string).collect();
            let label = format!(
                "chain {name} ({} of pods isolated by {})",
                chain.direction,
                by.join(", ")
            );
            self.chains.insert(
                name.clone(),
                DesiredChain {
                    hook: None,
                    rules,
                    refs,
                    label,
                },
            );
        }
        Ok(())
    }

    fn add_maps(&mut self, rs: &Ruleset, only: &Only) -> Result<(), RenderError> {
        for (direction, family) in MAPS {
            let name = map_name(direction, family);
            if !only.map(name) {
                continue;
            }
            let key_type = format!("{} : verdict", Datatype::addr(family).name());
            let label = format!("map {name} ({direction} dispatch, {family:?})");
            let state = MapState {
                key_type,
                elements: BTreeMap::new(),
            };
            self.maps.insert(name.into(), (state, label));
        }
        for (direction, entries) in &rs.dispatch {
            for (ip, chain) in entries {
                let name = map_name(*direction, Family::of(ip));
                if !only.map(name) {
                    continue;
                }
                if !rs.chains.contains_key(chain) || chain.starts_with(BASE_PREFIX) {
                    let from = format!("{direction} dispatch of {ip}");
                    return Err(RenderError::Dangling {
                        from,
                        kind: "chain",
                        name: chain.clone(),
                    });
                }
                if let Some((map, _)) = self.maps.get_mut(name) {
                    map.elements.insert(ip.to_string(), chain.clone());
                }
            }
        }
        Ok(())
    }

    fn add_base_chains(&mut self) {
        for base in BASE_CHAINS {
            let mut refs: BTreeSet<String> = MAPS
                .iter()
                .filter(|(dir, _)| *dir == base.direction)
                .map(|&(dir, fam)| map_name(dir, fam).to_string())
                .collect();
            if base.has_hairpin() {
                refs.extend([Family::V4, Family::V6].map(|f| hairpin_set(f).to_string()));
            }
            let label = format!("chain {} ({})", base.name, base.describe());
            let chain = DesiredChain {
                hook: Some(base.hook()),
                rules: base.rules(),
                refs,
                label,
            };
            self.chains.insert(base.name.into(), chain);
        }
    }
}

impl DesiredChain {
    /// The canonical state of this chain.
    pub fn state(&self) -> ChainState {
        ChainState {
            hook: self.hook.clone(),
            rules: self.rules.iter().map(|r| r.fingerprint.clone()).collect(),
        }
    }
}

fn check_name(kind: &'static str, name: &str) -> Result<(), RenderError> {
    match is_safe_identifier(name) {
        true => Ok(()),
        false => Err(RenderError::InvalidName {
            kind,
            name: name.into(),
        }),
    }
}

fn describe_counter(kind: &CounterKind) -> String {
    match kind {
        CounterKind::Rule {
            policy,
            direction,
            rule,
        } => format!("{policy} {direction} rule {rule}"),
        CounterKind::DefaultDeny {
            direction,
            isolated_by,
            audit,
        } => {
            let by: Vec<String> = isolated_by.iter().map(ToString::to_string).collect();
            let what = if *audit {
                "audited denials"
            } else {
                "default deny"
            };
            format!("{what} of {direction}, isolated by {}", by.join(", "))
        }
    }
}
