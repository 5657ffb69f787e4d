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
    /// The nf_tables generation moved without the agent committing:
    /// someone else changed nftables; read back and repair.
    Drift,
    /// After a failed reconcile.
    Retry,
}

impl Trigger {
    pub fn name(self) -> &'static str {
        match self {
            Trigger::Startup => "startup",
            Trigger::Event => "event",
            Trigger::Resync => "resync",
            Trigger::Drift => "drift",
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
    /// The network namespace of the table (`None`: ours).
    pub netns: Option<String>,
    /// The nf_tables generation right after the last successful update
    /// (ours included the fail-closed table's); `None` when unknown.
    pub generation: Option<u32>,
    /// What a read-back reconcile (resync, drift) found changed in the
    /// table before it repaired it: `chain X`, `set Y`, ... (empty when in
    /// line or not checked).
    pub drift: Vec<String>,
}

impl Applier {
    /// Runs one reconcile (blocking: nft runs as a child process).
    pub fn run(&mut self, trigger: Trigger) -> Result<Applied, ApplyFailed> {
        self.drift.clear();
        if matches!(trigger, Trigger::Resync | Trigger::Drift) {
            if let Some(known) = &self.known {
                self.drift = drifted(&self.reconciler.nft, known);
            }
        }
        let outcome = match (&self.known, trigger) {
            (Some(known), Trigger::Event) => hot(&self.reconciler, &mut self.source, known),
            _ => self.reconciler.reconcile(&mut self.source),
        };
        let outcome = outcome.inspect_err(|_| {
            self.known = None;
            self.generation = None;
        })?;
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
        self.generation = None;
        self.sync_failclosed(trigger != Trigger::Event)?;
        // After our last commit: a later generation is someone else's.
        self.generation = palisade_nft::netlink::generation(self.netns.as_deref()).ok();
        Ok(Applied::Done(report))
    }

    /// Whether the nf_tables generation is still the one our last update
    /// left (`None`: unknown, nothing to compare). One netlink request.
    pub fn generation_moved(&self) -> Option<bool> {
        let ours = self.generation?;
        let now = palisade_nft::netlink::generation(self.netns.as_deref()).ok()?;
        Some(now != ours)
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

/// The objects of the table that differ from what `known` programmed, by
/// kind and name (`table` when it is gone); empty when in line or when the
/// table cannot be read (the reconcile then reports the error).
fn drifted(nft: &palisade_nft::Nft, known: &Ruleset) -> Vec<String> {
    let (Ok(want), Ok(have)) = (palisade_nft::state::expected(known), nft.read()) else {
        return Vec::new();
    };
    let Some(have) = have else {
        return vec![format!("table inet {}", nft.table)];
    };
    let mut out = Vec::new();
    differ(&mut out, "chain", &want.chains, &have.chains);
    differ(&mut out, "set", &want.sets, &have.sets);
    differ(&mut out, "map", &want.maps, &have.maps);
    let counters = |s: &std::collections::BTreeSet<String>| {
        s.iter()
            .map(|n| (n.clone(), ()))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    differ(
        &mut out,
        "counter",
        &counters(&want.counters),
        &counters(&have.counters),
    );
    out
}

/// `KIND NAME` for each object missing from, changed in or foreign to `have`.
fn differ<V: PartialEq>(
    out: &mut Vec<String>,
    kind: &str,
    want: &std::collections::BTreeMap<String, V>,
    have: &std::collections::BTreeMap<String, V>,
) {
    for (name, value) in want {
        match have.get(name) {
            None => out.push(format!("{kind} {name} (deleted)")),
            Some(v) if v != value => out.push(format!("{kind} {name} (changed)")),
            Some(_) => {}
        }
    }
    for name in have.keys().filter(|n| !want.contains_key(*n)) {
        out.push(format!("{kind} {name} (added)"));
    }
}
