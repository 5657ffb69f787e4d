//! The reconcile core: the one path from desired state to the kernel.
//!
//! The lab and the node agent differ only in where the desired state comes
//! from ([`StateSource`]: the lab's state file, or the agent's watch caches).
//! Both then go through [`Reconciler::reconcile`]: compile the cluster for
//! the node's pods, compare with what the kernel holds (read back, so drift
//! is repaired too), and apply the difference as one atomic transaction.
//! Nothing is programmed while the source is not ready.

use std::time::{Duration, Instant};

use std::sync::Mutex;

use palisade_compile::{Compiler, LocalPods, Ruleset, Touched};
use palisade_model::Cluster;
use palisade_nft::{ApplyError, ApplyReport, Nft};

/// Where the desired cluster state comes from.
pub trait StateSource {
    /// The complete desired state, or `None` while it is not known yet (an
    /// agent whose caches have not finished their initial list). A partial
    /// state must never be returned: it would open or close traffic wrongly.
    fn snapshot(&mut self) -> Option<Cluster>;
}

/// A fixed cluster is always ready (the lab, tests).
impl StateSource for Cluster {
    fn snapshot(&mut self) -> Option<Cluster> {
        Some(self.clone())
    }
}

/// What one reconcile did.
#[derive(Debug)]
pub enum Outcome {
    /// The source was not ready; the kernel was not touched.
    NotReady,
    /// The kernel now holds `ruleset`.
    Applied {
        ruleset: Box<Ruleset>,
        report: Box<ApplyReport>,
        compile_time: Duration,
    },
}

/// Why a reconcile failed. The previous ruleset stays in force.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(transparent)]
    Apply(#[from] ApplyError),
}

/// Compiles for one node's pods and keeps one nftables table in line.
#[derive(Debug)]
pub struct Reconciler {
    pub nft: Nft,
    pub local: LocalPods,
    /// Keeps the sets of the previous compilation for the hot path.
    compiler: Mutex<Compiler>,
}

impl Reconciler {
    pub fn new(nft: Nft, local: LocalPods) -> Self {
        Self {
            nft,
            local,
            compiler: Mutex::new(Compiler::new()),
        }
    }

    /// Compiles incrementally: what the changes since the previous
    /// compilation leave valid is reused (see [`Compiler`]).
    fn compile(&self, cluster: &Cluster, touched: Option<&Touched>) -> Ruleset {
        let mut compiler = self.compiler.lock().unwrap_or_else(|e| e.into_inner());
        match touched {
            Some(touched) => compiler.compile_touched(cluster, &self.local, touched),
            None => compiler.compile(cluster, &self.local),
        }
    }

    /// One reconcile: snapshot, compile, read back, apply the difference.
    pub fn reconcile(&self, source: &mut dyn StateSource) -> Result<Outcome, ReconcileError> {
        match source.snapshot() {
            Some(cluster) => self.reconcile_cluster(&cluster),
            None => Ok(Outcome::NotReady),
        }
    }

    /// [`Reconciler::reconcile`] of a cluster the caller keeps (and changes
    /// in place between calls): nothing is copied but the objects that changed.
    pub fn reconcile_cluster(&self, cluster: &Cluster) -> Result<Outcome, ReconcileError> {
        let started = Instant::now();
        let ruleset = self.compile(cluster, None);
        let compile_time = started.elapsed();
        let report = self.nft.reconcile(&ruleset)?;
        Ok(Outcome::Applied {
            ruleset: Box::new(ruleset),
            report: Box::new(report),
            compile_time,
        })
    }

    /// The hot path: like [`Reconciler::reconcile`], but diffs against
    /// `known`, the ruleset of the last successful update (the `ruleset` of
    /// its [`Outcome::Applied`]), object by object instead of reading the
    /// table back. If the kernel rejects that delta because the table
    /// drifted, `Nft::reconcile_from` falls back to a read-back reconcile.
    pub fn reconcile_from(
        &self,
        source: &mut dyn StateSource,
        known: &Ruleset,
    ) -> Result<Outcome, ReconcileError> {
        match source.snapshot() {
            Some(cluster) => self.reconcile_cluster_from(&cluster, None, known),
            None => Ok(Outcome::NotReady),
        }
    }

    /// [`Reconciler::reconcile_from`] of a cluster the caller keeps. With
    /// `touched`, the caller names every object it changed since the
    /// previous compilation (see [`Compiler::compile_touched`]): only those
    /// are compared.
    pub fn reconcile_cluster_from(
        &self,
        cluster: &Cluster,
        touched: Option<&Touched>,
        known: &Ruleset,
    ) -> Result<Outcome, ReconcileError> {
        let started = Instant::now();
        let ruleset = self.compile(cluster, touched);
        let compile_time = started.elapsed();
        let report = self.nft.reconcile_from(known, &ruleset)?;
        Ok(Outcome::Applied {
            ruleset: Box::new(ruleset),
            report: Box::new(report),
            compile_time,
        })
    }
}
