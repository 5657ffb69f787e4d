//! One reconcile through the shared core ([`palisade_reconcile`]), plus the
//! fail-closed table when enabled.
//!
//! Startup, resync and retries use [`Reconciler::reconcile`], which reads
//! the table back: at startup the table left by a previous run is kept and
//! only the difference is applied; on resync, drift is repaired. Events use
//! the hot path, [`hot`]: the same compile, but the delta is computed
//! against the state the last successful update left
//! ([`Nft::reconcile_from`](palisade_nft::Nft::reconcile_from)), which
//! avoids a read-back costing as much as a full apply.

use palisade_compile::Ruleset;
use palisade_nft::{ApplyError, ApplyReport};
use palisade_reconcile::{Outcome, ReconcileError, Reconciler, StateSource};

use crate::failclosed::FailClosed;
use crate::source::CacheSource;

/// Why a reconcile was run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The first reconcile after every cache synced.
    Startup,
    /// Watch events (coalesced).
    Event,
    /// The periodic read-back.
    Resync,
    /// After a failed reconcile.
    Retry,
}

impl Trigger {
    pub fn name(self) -> &'static str {
        match self {
            Trigger::Startup => "startup",
            Trigger::Event => "event",
            Trigger::Resync => "resync",
            Trigger::Retry => "retry",
        }
    }
}

/// Why a reconcile failed; the previous ruleset stays in force.
#[derive(Debug, thiserror::Error)]
pub enum ApplyFailed {
    #[error(transparent)]
    Reconcile(#[from] ReconcileError),
    #[error("fail-closed table: {0}")]
    FailClosed(#[source] ApplyError),
}

/// What a successful reconcile did.
#[derive(Debug)]
pub enum Applied {
    /// Not every cache has synced; nothing was touched.
    NotReady,
    /// The kernel holds the desired state.
    Done(Box<ApplyReport>),
}

/// The reconcile core and what the agent remembers between reconciles.
#[derive(Debug)]
pub struct Applier {
    pub reconciler: Reconciler,
    pub source: CacheSource,
    /// What the last successful update left in the kernel; `None` after a
    /// failure (the next reconcile reads back).
    pub known: Option<Ruleset>,
    pub failclosed: Option<FailClosed>,
    /// Attribution of the denied-flow log and the per-policy counters.
    pub flows: Option<std::sync::Arc<crate::flows::Flows>>,
}

impl Applier {
    /// Runs one reconcile (blocking: nft runs as a child process).
    pub fn run(&mut self, trigger: Trigger) -> Result<Applied, ApplyFailed> {
        let outcome = match (&self.known, trigger) {
            (Some(known), Trigger::Event) => hot(&self.reconciler, &mut self.source, known),
            _ => self.reconciler.reconcile(&mut self.source),
        };
        let outcome = outcome.inspect_err(|_| self.known = None)?;
        let Outcome::Applied {
            ruleset, report, ..
        } = outcome
        else {
            return Ok(Applied::NotReady);
        };
        if let (Some(flows), Some(summary)) = (&self.flows, &self.source.last) {
            flows.update(&ruleset, summary.pods.iter().cloned());
        }
        self.known = Some(*ruleset);
        self.sync_failclosed(trigger != Trigger::Event)?;
        Ok(Applied::Done(report))
    }

    fn sync_failclosed(&mut self, full: bool) -> Result<(), ApplyFailed> {
        let (Some(fc), Some(summary)) = (&mut self.failclosed, &self.source.last) else {
            return Ok(());
        };
        fc.sync(&summary.pod_ips, full)
            .map_err(ApplyFailed::FailClosed)
    }
}

/// The hot path: [`Reconciler::reconcile`] with the delta computed against
/// `known` instead of a read-back (falls back to a read-back if nft rejects
/// the delta). Candidate for `palisade-reconcile`.
pub fn hot(
    reconciler: &Reconciler,
    source: &mut dyn StateSource,
    known: &Ruleset,
) -> Result<Outcome, ReconcileError> {
    reconciler.reconcile_from(source, known)
}
