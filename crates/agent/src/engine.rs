//! The reconcile loop, as an explicit state machine:
//!
//! ```text
//!   Syncing --change--> Due(startup) --not ready--> Syncing
//!                          | applied
//!                          v
//!   Idle --change--> Due(event, after the coalescing window) --> Idle
//!   Idle --resync timer--> Due(resync) --> Idle
//!   Idle --drift check: generation moved--> Due(drift, now) --> Idle
//!   Due(any) --failed--> Due(retry, backed off) --> ...
//! ```
//!
//! Nothing is programmed while any cache has not completed its first list
//! (the source returns `None` and the core touches nothing). Changes that
//! arrive during a reconcile leave the pending signal set, so they are
//! applied by the next one.

use std::sync::Arc;
use std::time::Duration;

use palisade_nft::{ApplyKind, ApplyReport};
use tokio::sync::watch as signal;
use tokio::time::Instant;
use tracing::{debug, error, info, warn};

use crate::apply::{Applied, Applier, Trigger};
use crate::bridge;
use crate::health::Health;
use crate::metrics::Metrics;
use crate::shared::SharedRef;

/// Where the loop is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for every cache's first list; nothing programmed yet.
    Syncing,
    /// Programmed; waiting for a change or the resync timer.
    Idle,
    /// A reconcile is due at `at`.
    Due { at: Instant, trigger: Trigger },
}

/// Timing of the loop.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub coalesce: Duration,
    pub resync: Duration,
    /// Between two checks of the nf_tables generation; zero: no check.
    pub drift_check: Duration,
}

/// The loop and what it works with.
#[derive(Debug)]
pub struct Engine {
    pub applier: Option<Applier>,
    pub shared: SharedRef,
    pub metrics: Arc<Metrics>,
    pub health: Arc<Health>,
    pub timing: Timing,
    next_resync: Instant,
    next_drift_check: Instant,
    retry_delay: Duration,
}

/// The first retry after a failed reconcile; doubles up to the resync period.
const FIRST_RETRY: Duration = Duration::from_millis(500);

impl Engine {
    pub fn new(
        applier: Applier,
        shared: SharedRef,
        metrics: Arc<Metrics>,
        health: Arc<Health>,
        timing: Timing,
    ) -> Self {
        Self {
            applier: Some(applier),
            shared,
            metrics,
            health,
            timing,
            next_resync: Instant::now() + timing.resync,
            next_drift_check: Instant::now() + timing.drift_check,
            retry_delay: FIRST_RETRY,
        }
    }

    /// Runs until `stop` turns true.
    pub async fn run(mut self, mut stop: signal::Receiver<bool>) {
        let _alive = self.health.task("reconcile");
        let mut phase = Phase::Syncing;
        loop {
            let next = tokio::select! {
                next = self.step(phase) => next,
                _ = stop.wait_for(|s| *s) => return,
            };
            match next {
                Some(next) => phase = next,
                None => return,
            }
        }
    }

    /// Waits in `phase` and returns the next one; `None` when the loop must end.
    async fn step(&mut self, phase: Phase) -> Option<Phase> {
        let pending = &self.shared.pending;
        match phase {
            Phase::Syncing => {
                pending.changed().await;
                Some(Phase::Due {
                    at: Instant::now(),
                    trigger: Trigger::Startup,
                })
            }
            Phase::Idle => tokio::select! {
                _ = pending.changed() => Some(match pending.is_set() {
                    true => Phase::Due { at: Instant::now() + self.timing.coalesce, trigger: Trigger::Event },
                    false => Phase::Idle,
                }),
                _ = tokio::time::sleep_until(self.next_resync) => {
                    Some(Phase::Due { at: Instant::now(), trigger: Trigger::Resync })
                }
                moved = self.drift_check(), if !self.timing.drift_check.is_zero() => {
                    self.next_drift_check = Instant::now() + self.timing.drift_check;
                    Some(match moved {
                        true => Phase::Due { at: Instant::now(), trigger: Trigger::Drift },
                        false => Phase::Idle,
                    })
                }
            },
            Phase::Due { at, trigger } => {
                tokio::time::sleep_until(at).await;
                self.reconcile(trigger).await
            }
        }
    }

    /// At the next check time: whether the nf_tables generation moved since
    /// the agent's own last commit (someone else committed to nftables).
    async fn drift_check(&self) -> bool {
        tokio::time::sleep_until(self.next_drift_check).await;
        let Some(applier) = &self.applier else {
            return false;
        };
        let (netns, ours) = (applier.netns.clone(), applier.generation);
        let Some(ours) = ours else {
            return false;
        };
        let now = tokio::task::spawn_blocking(move || {
            palisade_nft::netlink::generation(netns.as_deref())
        })
        .await;
        match now {
            Ok(Ok(now)) if now != ours => {
                debug!(
                    ours,
                    now, "nf_tables generation moved; reading the table back"
                );
                true
            }
            Ok(Ok(_)) => false,
            Ok(Err(e)) => {
                debug!(error = %e, "could not read the nf_tables generation");
                false
            }
            Err(_) => false,
        }
    }

    /// Runs one reconcile off the async threads and decides what follows.
    async fn reconcile(&mut self, trigger: Trigger) -> Option<Phase> {
        if trigger == Trigger::Resync {
            self.recheck_bridge();
        }
        let since = self.shared.pending.take();
        let mut applier = self.applier.take()?;
        let started = std::time::Instant::now();
        self.health.busy(true);
        let joined = tokio::task::spawn_blocking(move || {
            let result = applier.run(trigger);
            (applier, result)
        })
        .await;
        self.health.busy(false);
        let (applier, result) = match joined {
            Ok(done) => done,
            Err(e) => {
                error!(error = %e, "reconcile panicked; stopping the loop");
                return None;
            }
        };
        let took = started.elapsed();
        let next = match result {
            Ok(Applied::NotReady) => {
                debug!("caches not synced yet; nothing programmed");
                Phase::Syncing
            }
            Ok(Applied::Done(report)) => self.applied(&applier, trigger, &report, since, took),
            Err(e) => self.failed(trigger, &e.to_string(), since, took),
        };
        self.applier = Some(applier);
        Some(next)
    }

    fn applied(
        &mut self,
        applier: &Applier,
        trigger: Trigger,
        report: &ApplyReport,
        since: Option<std::time::Instant>,
        took: Duration,
    ) -> Phase {
        self.metrics
            .reconciled(trigger.name(), kind_name(report.kind), took);
        let table = applier.known.clone().unwrap_or_default();
        self.metrics.synced(applier.source.last.as_ref(), &table);
        if let Some(since) = since.filter(|_| matches!(trigger, Trigger::Event | Trigger::Retry)) {
            self.metrics.event_to_kernel(since.elapsed());
        }
        let local_pods = applier.source.last.as_ref().map_or(0, |s| s.local_pods);
        log_applied(trigger, report, local_pods, took, &applier.drift);
        let repaired = matches!(trigger, Trigger::Resync | Trigger::Drift)
            && report.kind != ApplyKind::Unchanged;
        if repaired {
            self.metrics.drift_repaired();
        }
        self.health.reconciled(None);
        self.retry_delay = FIRST_RETRY;
        self.next_drift_check = Instant::now() + self.timing.drift_check;
        if trigger != Trigger::Event {
            self.next_resync = Instant::now() + self.timing.resync;
        }
        Phase::Idle
    }

    fn failed(
        &mut self,
        trigger: Trigger,
        e: &str,
        since: Option<std::time::Instant>,
        took: Duration,
    ) -> Phase {
        self.metrics.reconciled(trigger.name(), "error", took);
        self.metrics.apply_error();
        self.health.reconciled(Some(e.to_string()));
        let retry_in = self.retry_delay;
        error!(trigger = trigger.name(), error = %e, ?retry_in, "reconcile failed; the previous ruleset stays in force");
        if let Some(since) = since {
            self.shared.pending.mark_at(since);
        }
        self.retry_delay = (self.retry_delay * 2).min(self.timing.resync.max(FIRST_RETRY));
        Phase::Due {
            at: Instant::now() + retry_in,
            trigger: Trigger::Retry,
        }
    }

    fn recheck_bridge(&self) {
        let status = bridge::check();
        self.metrics.bridge_bypass(status.bypassed());
        let bypassed = status.bypassed();
        let text = status.to_string();
        if self.health.set_bridge(status) && bypassed {
            warn!(bridge = %text, "same-bridge traffic bypasses NetworkPolicy");
        }
    }
}

fn kind_name(kind: ApplyKind) -> &'static str {
    match kind {
        ApplyKind::Full => "full",
        ApplyKind::Delta => "delta",
        ApplyKind::Unchanged => "unchanged",
    }
}

/// One line per reconcile that changed something; drift found by a resync
/// or a drift check is a warning naming what was repaired.
fn log_applied(
    trigger: Trigger,
    report: &ApplyReport,
    local_pods: usize,
    took: Duration,
    drift: &[String],
) {
    let (name, result, lines) = (trigger.name(), kind_name(report.kind), report.lines);
    match (trigger, report.kind) {
        (_, ApplyKind::Unchanged) => debug!(trigger = name, ?took, "in line"),
        (Trigger::Resync | Trigger::Drift, _) => {
            let repaired = match drift.is_empty() {
                true => "the table".to_string(),
                false => drift.join(", "),
            };
            warn!(trigger = name, result, lines, %repaired, ?took, "repaired drift in the table")
        }
        _ => info!(
            trigger = name,
            result,
            lines,
            local_pods,
            ?took,
            "programmed"
        ),
    }
    if let Some(e) = &report.delta_error {
        warn!(error = %e, "delta rejected; the table was reprogrammed from a read-back");
    }
}
