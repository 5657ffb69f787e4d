//! The lab as the controller holds it between commands: the state, a model
//! `Cluster` kept in step with it, one `Reconciler` (so the incremental
//! compiler keeps the previous compilation and patches it for what a
//! command touched) and the ruleset the kernel was last brought to. Every
//! command that changes the lab runs against this value.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, Result};
use palisade_compile::{LocalPods, Ruleset};
use palisade_lab::Node;
use palisade_model::{Cluster, PodId};
use palisade_nft::{ApplyKind, Nft};
use palisade_reconcile::{Outcome, Reconciler};

pub use super::model_sync::Touch;
use super::model_sync::{self, Touched};
use super::out::{ms, Out};
use super::state::{LabState, LAB_NODE};
use super::{known, services};
use crate::cmd::render::TABLE;

/// Who sent the command being run: where and with what, as if the command
/// had run in the caller's own process.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// The caller's working directory (`-f` paths; a pod started by
    /// `lab run` runs there).
    pub cwd: std::path::PathBuf,
    /// The caller's environment (a pod started by `lab run` gets it).
    pub env: Vec<(String, String)>,
    /// The caller's standard input, when a file argument was `-`.
    pub stdin: Option<String>,
}

/// An open lab, resident in the controller.
pub struct Lab {
    pub state: LabState,
    pub node: Node,
    /// What the command being run prints.
    pub out: Out,
    /// Pods' processes this controller started (reaped when they exit).
    pub children: Arc<Mutex<Vec<u32>>>,
    /// In step with `state` after every commit.
    cluster: Cluster,
    /// What the command being run changed (`Lab::touch`).
    touched: Touched,
    /// The compiler last saw a cluster that is not the resident one plus
    /// what the next command touches (a command failed after compiling):
    /// the next compile compares everything.
    compare_all: bool,
    reconciler: Reconciler,
    /// What the kernel's table holds, when known (`None`: read it back).
    known: Option<Ruleset>,
    /// The Service table as listed after the lab last programmed it
    /// (`None`: unknown, or that programming failed: the next commit or
    /// drift check programs it again).
    services_listed: Option<String>,
}

/// How a reconcile learns what the kernel holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    /// Trust the ruleset of the last update the kernel accepted and send
    /// only the delta; read back when there is none. Every ordinary command.
    Trust,
    /// Read the table back (`nft -j list`) and repair any drift: the
    /// controller's start, `lab up`, `lab repair`.
    ReadBack,
}

impl Lab {
    /// Opens lab `name` from its state file. Nothing is programmed yet:
    /// call [`Lab::reconcile`] with [`Known::ReadBack`] first.
    pub fn load(name: &str) -> Result<Lab> {
        let state = LabState::read(name)?;
        let node = Node::open(&super::ops::prefix(name)?)
            .context("the lab's node is gone: run `palisade lab down` then `palisade lab up`")?;
        let reconciler = Reconciler::new(
            Nft::new(TABLE, Some(&node.netns())),
            LocalPods::Node(LAB_NODE.into()),
        );
        Ok(Lab {
            cluster: state.to_cluster(),
            touched: Touched::default(),
            compare_all: true,
            state,
            node,
            out: Out::default(),
            children: Arc::default(),
            reconciler,
            known: None,
            services_listed: None,
        })
    }

    pub fn state(&mut self) -> &mut LabState {
        &mut self.state
    }

    /// Records that the command changed `t` in the state: every change
    /// the model depends on must be recorded before [`Lab::commit`] (debug
    /// builds check that the model then equals the state's).
    pub fn touch(&mut self, t: Touch) {
        self.touched.add(t);
    }

    /// Something was touched since the last commit.
    pub fn pending(&self) -> bool {
        !self.touched.is_empty()
    }

    pub fn log_path(&self, id: &PodId) -> PathBuf {
        LabState::log_path(&self.state.name, id)
    }

    /// Brings the kernel in line with the state (policies through the shared
    /// reconcile core, then Services and DNS), then saves the state and the
    /// known ruleset. When the policy update fails nothing else changes: the
    /// kernel keeps what it held, and the next commit diffs against it (or
    /// reads it back when unknown). When the Service table fails after the
    /// policy update went in, the state and the known ruleset are still
    /// saved (they are what the policy table holds) and the error says the
    /// Service table is retried: by the next commit (each replaces the whole
    /// table) and by the next drift check.
    pub fn commit(&mut self) -> Result<()> {
        let t = Instant::now();
        let touched = std::mem::take(&mut self.touched);
        let changed = model_sync::sync_touched(&self.state, &mut self.cluster, &touched);
        debug_assert!(
            self.cluster == self.state.to_cluster(),
            "a command changed the state without Lab::touch"
        );
        let synced = t.elapsed();
        self.reconcile_cluster(touched.for_compiler(), Known::Trust)?;
        let reconciled = t.elapsed();
        let services = self.sync_services();
        let services_done = t.elapsed();
        self.persist()?;
        self.out.trace(format_args!(
            "commit: model updated in place ({changed} objects changed) {:.1} ms, reconcile {:.1} ms; then services {:.1} ms, state and known ruleset saved {:.1} ms",
            ms(synced),
            ms(reconciled - synced),
            ms(services_done - reconciled),
            ms(t.elapsed() - services_done)
        ));
        services.context(
            "the policy ruleset is in force but the Service table and hosts files are not up to date (retried on the next change and at the next drift check)",
        )
    }

    /// Replaces the node's Service table with the state's Services (one
    /// transaction) and writes every pod's hosts file.
    pub fn sync_services(&mut self) -> Result<()> {
        self.services_listed = None;
        let listed = services::sync_table(&self.node, &self.state)?;
        self.services_listed = Some(listed);
        services::write_hosts(&self.node, &self.state)
    }

    /// Repairs everything the lab owns on the node: the policy table read
    /// back and brought in line (the whole cluster compiled), the Service
    /// table replaced whole, every hosts file rewritten; then saves. `lab
    /// repair`, `lab up` and a starting controller.
    pub fn repair(&mut self) -> Result<()> {
        self.reconcile(Known::ReadBack)?;
        self.sync_services()?;
        self.persist()
    }

    /// The periodic drift check: reads the node back and repairs what
    /// differs from what the lab last programmed, without compiling. The
    /// policy table is compared with the known ruleset (`nft -j list`,
    /// then a delta for whatever differs); the Service table with its
    /// listing after the lab last programmed it; each hosts file with what
    /// it should hold. Returns one line per drift repaired.
    pub fn check_drift(&mut self) -> Result<Vec<String>> {
        let mut repaired = vec![];
        match &self.known {
            Some(known) => match self.reconciler.nft.reconcile(known) {
                Ok(report) if report.kind == ApplyKind::Unchanged => {}
                Ok(report) => repaired.push(format!(
                    "the policy table {TABLE} differed from the ruleset the lab programmed: repaired ({:?}, {} lines, {:.1} ms)",
                    report.kind,
                    report.lines,
                    ms(report.duration)
                )),
                Err(e) => {
                    // The kernel holds something else than `known` now.
                    self.known = None;
                    known::forget(&LabState::dir(&self.state.name))?;
                    return Err(e).context("repairing the policy table");
                }
            },
            None => {
                self.reconcile(Known::ReadBack)?;
                self.persist()?;
                repaired.push(format!(
                    "the policy table {TABLE} was not known (an earlier update failed): read back and brought in line"
                ));
            }
        }
        let listed = self.node.list_services().ok();
        if listed.is_none() || listed != self.services_listed {
            self.sync_services()?;
            repaired
                .push("the Service table differed from what the lab programmed: replaced".into());
        } else {
            let pods = services::repair_hosts(&self.node, &self.state)?;
            if !pods.is_empty() {
                repaired.push(format!(
                    "hosts files rewritten: {}",
                    pods.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        Ok(repaired)
    }

    /// Compiles the cluster for the lab node's pods and applies the
    /// difference to the node's table: against the known ruleset, or
    /// against the table read back.
    pub fn reconcile(&mut self, how: Known) -> Result<()> {
        model_sync::sync(&self.state, &mut self.cluster);
        self.reconcile_cluster(None, how)
    }

    /// `touched`: what changed since the last compile (`None`: compare
    /// everything).
    fn reconcile_cluster(
        &mut self,
        touched: Option<palisade_compile::Touched>,
        how: Known,
    ) -> Result<()> {
        let known = match how {
            Known::Trust => self.known.take(),
            Known::ReadBack => None,
        };
        known::forget(&LabState::dir(&self.state.name))?;
        let touched = touched.filter(|_| !std::mem::take(&mut self.compare_all));
        // Whatever happens below, the compiler will have seen this cluster.
        self.compare_all = true;
        let outcome = match &known {
            Some(k) => self
                .reconciler
                .reconcile_cluster_from(&self.cluster, touched.as_ref(), k),
            None => self.reconciler.reconcile_cluster(&self.cluster),
        }
        .context("programming the node's nftables")?;
        let Outcome::Applied {
            ruleset,
            report,
            compile_time,
        } = outcome
        else {
            return Ok(());
        };
        // The compiler saw exactly the resident cluster: the next command's
        // touched objects are all that can differ.
        self.compare_all = false;
        self.out.trace(format_args!(
            "ruleset {:?} against {}: {} lines; compile {:.1} ms ({}), nft {:.1} ms",
            report.kind,
            if known.is_some() {
                "known state"
            } else {
                "read-back"
            },
            report.lines,
            ms(compile_time),
            if touched.is_some() {
                "touched objects compared"
            } else {
                "whole cluster compared"
            },
            ms(report.duration),
        ));
        self.known = Some(*ruleset);
        // Freeing the previous ruleset (its sets may be shared with the new
        // one; the rest can be large) is left to another thread.
        std::thread::spawn(move || drop(known));
        Ok(())
    }

    /// Saves the state and the known ruleset (in parallel: both are JSON
    /// of the whole lab).
    pub fn persist(&self) -> Result<()> {
        let dir = LabState::dir(&self.state.name);
        std::thread::scope(|s| {
            let known = s.spawn(|| match &self.known {
                Some(k) => known::save(&dir, k),
                None => Ok(()),
            });
            let state = self.state.write();
            known.join().expect("saving the known ruleset panicked")?;
            state
        })
    }

    /// Saves the state only (a change the ruleset does not depend on).
    pub fn save(&self) -> Result<()> {
        self.state.write()
    }
}
