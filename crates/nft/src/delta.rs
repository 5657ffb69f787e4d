//! One transaction that brings a table from what it holds to what the IR
//! wants, without ever flushing state that stays.
//!
//! Statements come in an order the kernel accepts at every step (it checks
//! references as each command is processed, not at commit):
//!
//! 1. new counters;
//! 2. `flush chain` for chains to rewrite, recreate or delete (this drops
//!    their references to sets, maps and counters);
//! 3. map elements that go or change target are deleted (this drops their
//!    references to chains);
//! 4. sets, maps and chains whose type or hook drifted are deleted;
//! 5. new and recreated sets and maps; element-level changes of other sets
//!    (`flush set` and a full re-add for interval sets, whose ranges nft
//!    cannot patch reliably);
//! 6. new and recreated chains, then 7. their rules and the rules of
//!    rewritten chains;
//! 8. new map elements, now that the chains they jump to exist;
//! 9. maps, chains, sets and counters that are gone, now unreferenced.
//!
//! Drift is repaired the same way: a deleted chain, set, map or element
//! reads back as missing and is re-added.

mod elements;
mod plan;

pub(crate) use plan::Classes;

use palisade_compile::Ruleset;

use crate::desired::{Desired, RenderError};
use crate::incremental::Changed;
use crate::render::check_table;
use crate::script::Script;
use crate::state::TableState;

/// The transaction that turns `current` into the table `rs` wants, or
/// `None` when nothing differs.
pub fn delta(
    current: &TableState,
    rs: &Ruleset,
    table: &str,
) -> Result<Option<Script>, RenderError> {
    check_table(table)?;
    Ok(delta_desired(current, &Desired::from_ir(rs)?, table))
}

/// The transaction that turns the table `old` programmed into the one `new`
/// wants, or `None` when nothing differs, computed from the IR objects that
/// differ ([`Changed`]) without rebuilding the rest of the table: the hot
/// path, for a table known to hold exactly `old`. Falls back to the whole
/// comparison when an object changed type (it must be recreated, and the
/// chains that use it rewritten, including unchanged ones).
pub fn between(old: &Ruleset, new: &Ruleset, table: &str) -> Result<Option<Script>, RenderError> {
    Ok(
        match between_parts(old, new, table, &Changed::between(old, new))? {
            Hot::Unchanged => None,
            Hot::Whole(script) => script,
            Hot::Parts { cur, want } => plan_script(&cur, &want, table),
        },
    )
}

/// What the hot path compares: nothing, the changed objects only (both
/// sides), or (an object must be recreated) the whole-table delta.
pub(crate) enum Hot {
    Unchanged,
    Parts { cur: TableState, want: Desired },
    Whole(Option<Script>),
}

pub(crate) fn between_parts(
    old: &Ruleset,
    new: &Ruleset,
    table: &str,
    changed: &Changed,
) -> Result<Hot, RenderError> {
    check_table(table)?;
    if changed.is_empty() {
        return Ok(Hot::Unchanged);
    }
    let want = Desired::from_ir_changed(new, changed)?;
    let cur = Desired::from_ir_changed(old, changed)?.state();
    if Classes::new(&cur, &want).recreates() {
        let cur = Desired::from_ir(old)?.state();
        return Ok(Hot::Whole(delta_desired(
            &cur,
            &Desired::from_ir(new)?,
            table,
        )));
    }
    Ok(Hot::Parts { cur, want })
}

/// The statements that turn `cur` into `want` (both the same selection).
pub(crate) fn plan_script(cur: &TableState, want: &Desired, table: &str) -> Option<Script> {
    let script = plan::Plan::new(cur, want, table).write();
    (!script.text.is_empty()).then_some(script)
}

pub(crate) fn delta_desired(
    current: &TableState,
    desired: &Desired,
    table: &str,
) -> Option<Script> {
    if *current == desired.state() {
        return None;
    }
    Some(plan::Plan::new(current, desired, table).write())
}

#[cfg(test)]
mod tests;
