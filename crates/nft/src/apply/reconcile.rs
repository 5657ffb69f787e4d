//! Reconciling the table with an IR: full program, delta, or nothing.

use std::time::{Duration, Instant};

use palisade_compile::Ruleset;

use super::{ApplyError, Nft, Transport};
use crate::delta::{between_parts, delta_desired, plan_script, Hot};
use crate::desired::Desired;
use crate::incremental::Changed;
use crate::netlink::{self, ir_batch};
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
    /// Lines of the transaction sent (0 when unchanged); for a netlink
    /// batch, its number of messages.
    pub lines: usize,
    /// What carried the update (see [`Transport`]).
    pub transport: Transport,
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
        self.converge(
            current.as_ref(),
            &desired,
            start,
            &super::netlink::interval_in(rs),
        )
    }

    /// Like [`Nft::reconcile`], but trusts that the table holds exactly
    /// `known` (the IR of the last successful update, which
    /// `palisade_reconcile::Outcome::Applied` hands back) instead of reading
    /// it back, and compares IR objects rather than whole tables
    /// ([`crate::delta::between`]): a one-pod change costs a small
    /// transaction and little else. If the kernel rejects the delta (the
    /// table drifted), falls back to [`Nft::reconcile`] and reports the
    /// rejection in `delta_error`.
    pub fn reconcile_from(&self, known: &Ruleset, rs: &Ruleset) -> Result<ApplyReport, ApplyError> {
        let start = Instant::now();
        let changed = Changed::between(known, rs);
        if changed.is_empty() {
            return Ok(report(start, ApplyKind::Unchanged, 0, None));
        }
        if let Some(sent) = self.try_netlink(known, rs, &changed, start) {
            return sent;
        }
        match self.between_netlink(known, rs, &changed) {
            Some(Ok(0)) => return Ok(report(start, ApplyKind::Unchanged, 0, None)),
            Some(Ok(n)) => return Ok(netlink_report(start, ApplyKind::Delta, n, None)),
            Some(Err(ApplyError::Netlink(e))) => return self.repair(rs, start, e.to_string()),
            Some(Err(e)) => return Err(e),
            None => {}
        }
        let script = match between_parts(known, rs, &self.table, &changed)? {
            Hot::Unchanged => None,
            Hot::Whole(script) => script,
            Hot::Parts { cur, want } => plan_script(&cur, &want, &self.table),
        };
        let Some(script) = script else {
            return Ok(report(start, ApplyKind::Unchanged, 0, None));
        };
        match self.run(&script) {
            Ok(()) => Ok(report(start, ApplyKind::Delta, script.lines(), None)),
            Err(rejected) => self.repair(rs, start, rejected.to_string()),
        }
    }

    /// Sends an element-only delta as one netlink batch; `None` when the
    /// transport is text or the delta is more than element changes.
    fn try_netlink(
        &self,
        known: &Ruleset,
        rs: &Ruleset,
        changed: &Changed,
        start: Instant,
    ) -> Option<Result<ApplyReport, ApplyError>> {
        if self.transport != Transport::Netlink {
            return None;
        }
        check_table(&self.table).ok()?;
        let batch = ir_batch(known, rs, changed, &self.table, next_seq())?;
        if batch.messages.is_empty() {
            return Some(Ok(report(start, ApplyKind::Unchanged, 0, None)));
        }
        Some(match netlink::send(self.netns.as_deref(), &batch) {
            Ok(()) => Ok(netlink_report(
                start,
                ApplyKind::Delta,
                batch.messages.len(),
                None,
            )),
            Err(e) => self.repair(rs, start, e.to_string()),
        })
    }

    /// After a rejected delta: a read-back reconcile, reporting why.
    fn repair(&self, rs: &Ruleset, start: Instant, why: String) -> Result<ApplyReport, ApplyError> {
        let mut report = self.reconcile(rs)?;
        report.delta_error = Some(why);
        report.duration = start.elapsed();
        Ok(report)
    }

    /// Sends what turns `current` into `desired`.
    fn converge(
        &self,
        current: Option<&TableState>,
        desired: &Desired,
        start: Instant,
        interval: &dyn Fn(&str) -> bool,
    ) -> Result<ApplyReport, ApplyError> {
        let Some(current) = current else {
            return self.replace(desired, start, None);
        };
        if *current == desired.state() {
            return Ok(report(start, ApplyKind::Unchanged, 0, None));
        }
        match self.delta_netlink(current, desired, interval) {
            Some(Ok(0)) => return Ok(report(start, ApplyKind::Unchanged, 0, None)),
            Some(Ok(n)) => return Ok(netlink_report(start, ApplyKind::Delta, n, None)),
            Some(Err(rejected)) => return self.replace(desired, start, Some(rejected.to_string())),
            None => {}
        }
        let Some(script) = delta_desired(current, desired, &self.table) else {
            return Ok(report(start, ApplyKind::Unchanged, 0, None));
        };
        match self.run(&script) {
            Ok(()) => Ok(report(start, ApplyKind::Delta, script.lines(), None)),
            Err(rejected) => self.replace(desired, start, Some(rejected.to_string())),
        }
    }

    /// Replaces the whole table with `desired` (one batch, or one `nft -f`
    /// transaction): the previous table stays in force if it is refused.
    fn replace(
        &self,
        desired: &Desired,
        start: Instant,
        delta_error: Option<String>,
    ) -> Result<ApplyReport, ApplyError> {
        if let Some(sent) = self.full_netlink(desired) {
            return Ok(netlink_report(start, ApplyKind::Full, sent?, delta_error));
        }
        let full = full_desired(desired, &self.table);
        self.run(&full)?;
        Ok(report(start, ApplyKind::Full, full.lines(), delta_error))
    }
}

fn netlink_report(
    start: Instant,
    kind: ApplyKind,
    messages: usize,
    delta_error: Option<String>,
) -> ApplyReport {
    ApplyReport {
        transport: Transport::Netlink,
        ..report(start, kind, messages, delta_error)
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
        transport: Transport::Text,
        duration: start.elapsed(),
        delta_error,
    }
}

/// Netlink sequence numbers: distinct across the batches of this process.
pub(super) fn next_seq() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static SEQ: AtomicU32 = AtomicU32::new(1);
    SEQ.fetch_add(1 << 16, Ordering::Relaxed)
}
