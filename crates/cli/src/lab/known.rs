//! The ruleset the lab last programmed into its node's table. The
//! controller keeps it in memory and sends the next delta against it
//! (`Reconciler::reconcile_from`) instead of reading the whole table back
//! with `nft -j list` (which at 10,000 pods costs more than the update);
//! it also writes it beside the state file (`known.json`), where the flow
//! recorder reads it to attribute denied packets to policies.
//!
//! Written only after the kernel accepted an update, and removed before any
//! update is attempted, so a crash in between leaves no file. `lab up`,
//! `lab repair` and a (re)started controller always read back (and repair
//! drift); a delta the kernel rejects falls back to a read-back too (inside
//! `Nft::reconcile_from`).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use palisade_compile::Ruleset;

/// The file, in the lab's state directory.
pub fn path(dir: &Path) -> PathBuf {
    dir.join("known.json")
}

/// Reads the ruleset the kernel was last brought to; `None` when absent or
/// unreadable.
pub fn load(dir: &Path) -> Option<Ruleset> {
    let bytes = fs::read(path(dir)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Records `ruleset` as what the kernel holds now.
pub fn save(dir: &Path, ruleset: &Ruleset) -> Result<()> {
    // Owner-only, whatever the umask.
    palisade_apiserver::tls::write_private(&path(dir), &serde_json::to_vec(ruleset)?)
        .context("saving the lab's known ruleset")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_the_example_ruleset() {
        let state = palisade_nft::example::ruleset();
        assert!(!state.addr_sets.is_empty() && !state.chains.is_empty());
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
