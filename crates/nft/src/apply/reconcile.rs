//! Reconciling the table with an IR: full program, delta, or nothing.

use std::time::{Duration, Instant};

use palisade_compile::Ruleset;

use super::{ApplyError, Nft};
use crate::delta::delta_desired;
use crate::desired::Desired;
use crate::render::{check_table, full_desired};
use crate::state::TableState;

/// What [`Nft::reconcile`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyKind {
    /// The table was absent or unreadable (or a delta failed): replaced whole.
    Full,
    /// Only the differences were sent.
    Delta,
    /// Nothing differed; nft was not called to write.
    Unchanged,
}

/// The outcome of [`Nft::reconcile`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyReport {
    pub kind: ApplyKind,
    /// Lines of the transaction sent (0 when unchanged).
    pub lines: usize,
    /// Wall time of the whole reconcile, read-back included.
    pub duration: Duration,
    /// When a delta was rejected and a read-back or the full program
    /// repaired the table instead: why the delta failed (drift under
    /// [`Nft::reconcile_from`], or a bug worth reporting).
    pub delta_error: Option<String>,
}

impl Nft {
    /// Brings the table to `rs`: reads it back, then sends the full program
    /// when it is absent or unreadable, a delta when it differs (which also
    /// repairs drift), nothing when it matches. A rejected delta is retried
    /// once as the full program. A failed transaction leaves the previous
    /// ruleset in force.
    ///
    /// Read-back costs about as much as a full apply (1.5 s for 100,000
    /// elements, most of it in `nft -j list`): use it at startup and for
    /// periodic drift checks, and [`Nft::reconcile_from`] on the hot path.
    pub fn reconcile(&self, rs: &Ruleset) -> Result<ApplyReport, ApplyError> {
        let start = Instant::now();
        check_table(&self.table)?;
        let desired = Desired::from_ir(rs)?;
        let current = match self.read() {
            Ok(current) => current,
            Err(ApplyError::List { .. } | ApplyError::Parse { .. }) => None,
            Err(e) => return Err(e),
        };
        self.converge(current.as_ref(), &desired, start)
    }

    /// Like [`Nft::reconcile`], but trusts `known` (the state the last
    /// successful update left, [`crate::state::expected`] of its IR) instead
    /// of reading the table back: a one-element change costs one small
    /// transaction. If nft rejects the delta (the table drifted), falls back
    /// to [`Nft::reconcile`] and reports the rejection in `delta_error`.
    pub fn reconcile_from(
        &self,
        known: &TableState,
        rs: &Ruleset,
    ) -> Result<ApplyReport, ApplyError> {
        let start = Instant::now();
        check_table(&self.table)?;
        let desired = Desired::from_ir(rs)?;
        let Some(script) = delta_desired(known, &desired, &self.table) else {
            return Ok(report(start, ApplyKind::Unchanged, 0, None));
        };
        match self.run(&script) {
            Ok(()) => Ok(report(start, ApplyKind::Delta, script.lines(), None)),
            Err(rejected) => {
                let mut report = self.reconcile(rs)?;
                report.delta_error = Some(rejected.to_string());
                report.duration = start.elapsed();
                Ok(report)
            }
        }
    }

    /// Sends what turns `current` into `desired`.
    fn converge(
        &self,
        current: Option<&TableState>,
        desired: &Desired,
        start: Instant,
    ) -> Result<ApplyReport, ApplyError> {
        let Some(current) = current else {
            let script = full_desired(desired, &self.table);
            self.run(&script)?;
            return Ok(report(start, ApplyKind::Full, script.lines(), None));
        };
        let Some(script) = delta_desired(current, desired, &self.table) else {
            return Ok(report(start, ApplyKind::Unchanged, 0, None));
        };
        match self.run(&script) {
            Ok(()) => Ok(report(start, ApplyKind::Delta, script.lines(), None)),
            Err(rejected) => {
                let full = full_desired(desired, &self.table);
                self.run(&full)?;
                Ok(report(
                    start,
                    ApplyKind::Full,
                    full.lines(),
                    Some(rejected.to_string()),
                ))
            }
        }
    }
}

fn report(
    start: Instant,
    kind: ApplyKind,
    lines: usize,
    delta_error: Option<String>,
) -> ApplyReport {
    ApplyReport {
        kind,
        lines,
        duration: start.elapsed(),
        delta_error,
    }
}
