//! What the lab last programmed into its node's table, kept beside the
//! state file (`known.json`) so the next command can send a delta against it
//! (`Reconciler::reconcile_from`) instead of reading the whole table back
//! with `nft -j list` (which at 10,000 pods costs more than the update).
//!
//! Written only after the kernel accepted an update, and removed before any
//! update is attempted, so a crash in between leaves no file and the next
//! command reads the table back. `lab up` and `lab repair` always read back
//! (and repair drift); a delta the kernel rejects falls back to a read-back
//! too (inside `Nft::reconcile_from`).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use palisade_nft::state::{ChainState, Element, Hook, MapState, SetState};
use palisade_nft::TableState;
use serde::{Deserialize, Serialize};

/// The file, in the lab's state directory.
pub fn path(dir: &Path) -> PathBuf {
    dir.join("known.json")
}

/// Reads the known table state; `None` when absent or unreadable (then the
/// caller reads the kernel back instead).
pub fn load(dir: &Path) -> Option<TableState> {
    let bytes = fs::read(path(dir)).ok()?;
    let wire: Wire = serde_json::from_slice(&bytes).ok()?;
    Some(wire.into())
}

/// Records `state` as what the kernel holds now.
pub fn save(dir: &Path, state: &TableState) -> Result<()> {
    let p = path(dir);
    let tmp = p.with_extension("json.tmp");
    fs::write(&tmp, serde_json::to_vec(&Wire::from(state))?)?;
    fs::rename(&tmp, &p).context("saving the lab's known table state")
}

/// Forgets the known state (before an update whose outcome is not yet known).
pub fn forget(dir: &Path) -> Result<()> {
    match fs::remove_file(path(dir)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).context("removing the lab's known table state")
        }
        _ => Ok(()),
    }
}

/// `TableState` on disk (palisade-nft keeps its types free of serde).
#[derive(Serialize, Deserialize)]
struct Wire {
    sets: BTreeMap<String, WireSet>,
    maps: BTreeMap<String, (String, BTreeMap<String, String>)>,
    chains: BTreeMap<String, (Option<WireHook>, Vec<String>)>,
    counters: BTreeSet<String>,
}

#[derive(Serialize, Deserialize)]
struct WireSet {
    key_type: String,
    interval: bool,
    elements: Vec<Vec<(u128, u128)>>,
}

#[derive(Serialize, Deserialize)]
struct WireHook {
    kind: String,
    hook: String,
    priority: i64,
    policy: String,
}

impl From<&TableState> for Wire {
    fn from(s: &TableState) -> Self {
        let set = |v: &SetState| WireSet {
            key_type: v.key_type.clone(),
            interval: v.interval,
            elements: v.elements.iter().map(|e| e.0.clone()).collect(),
        };
        let hook = |h: &Hook| WireHook {
            kind: h.kind.clone(),
            hook: h.hook.clone(),
            priority: h.priority,
            policy: h.policy.clone(),
        };
        Wire {
            sets: s.sets.iter().map(|(k, v)| (k.clone(), set(v))).collect(),
            maps: s
                .maps
                .iter()
                .map(|(k, m)| (k.clone(), (m.key_type.clone(), m.elements.clone())))
                .collect(),
            chains: s
                .chains
                .iter()
                .map(|(k, c)| (k.clone(), (c.hook.as_ref().map(hook), c.rules.clone())))
                .collect(),
            counters: s.counters.clone(),
        }
    }
}

impl From<Wire> for TableState {
    fn from(w: Wire) -> Self {
        TableState {
            sets: w
                .sets
                .into_iter()
                .map(|(k, v)| {
                    let elements = v.elements.into_iter().map(Element).collect();
                    let set = SetState {
                        key_type: v.key_type,
                        interval: v.interval,
                        elements,
                    };
                    (k, set)
                })
                .collect(),
            maps: w
                .maps
                .into_iter()
                .map(|(k, (key_type, elements))| (k, MapState { key_type, elements }))
                .collect(),
            chains: w
                .chains
                .into_iter()
                .map(|(k, (hook, rules))| {
                    let hook = hook.map(|h| Hook {
                        kind: h.kind,
                        hook: h.hook,
                        priority: h.priority,
                        policy: h.policy,
                    });
                    (k, ChainState { hook, rules })
                })
                .collect(),
            counters: w.counters,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_the_example_ruleset() {
        let state = palisade_nft::state::expected(&palisade_nft::example::ruleset()).unwrap();
        assert!(!state.sets.is_empty() && !state.chains.is_empty());
        let dir = std::env::temp_dir().join(format!("palisade-known-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        assert!(load(&dir).is_none());
        save(&dir, &state).unwrap();
        assert_eq!(load(&dir), Some(state));
        forget(&dir).unwrap();
        assert!(load(&dir).is_none());
        forget(&dir).unwrap();
        fs::remove_dir_all(&dir).unwrap();
    }
}
