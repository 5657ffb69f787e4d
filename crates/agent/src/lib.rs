//! The palisade node agent (`palisade agent`): one per node, it watches
//! Pods, Namespaces and NetworkPolicies and keeps the node's nftables table
//! in line with them, through the same reconcile core as the lab
//! ([`palisade_reconcile::Reconciler`]).
//!
//! Start with [`run`] (or [`main`] for a process); [`start`] runs an agent
//! against a given API client (tests, embedding). The pieces:
//!
//! - [`watch`]: one task per kind, kube's watcher feeding a [`cache::Cache`]
//!   (an explicit state machine: Empty, Listing, Synced, Relisting), with
//!   every object decoded once at the edge by [`convert`] (the manifest
//!   reader's validation and diagnostics);
//! - [`source`]: the caches as a [`palisade_reconcile::StateSource`], which
//!   returns nothing until all three have completed their first list;
//! - [`engine`]: the reconcile loop (coalescing, resync with read-back,
//!   retries), running [`apply`] off the async threads;
//! - [`http`], [`metrics`], [`health`]: `/metrics`, `/healthz`, `/readyz`;
//! - [`flows`], [`counters`]: the denied-flow log
//!   (`/flows`, `/flows/stream`) and the per-policy counters on `/metrics`;
//! - [`bridge`]: the br_netfilter check; [`failclosed`]: the optional
//!   fail-closed table (and the window it closes).

pub mod apply;
pub mod backoff;
pub mod bridge;
pub mod cache;
pub mod config;
pub mod convert;
pub mod counters;
pub mod dashboard;
pub mod engine;
pub mod failclosed;
pub mod flows;
pub mod health;
pub mod http;
mod logging;
pub mod metrics;
mod running;
pub mod shared;
pub mod source;
pub mod watch;

use std::process::ExitCode;

pub use config::{Config, LogFormat};
pub use running::{cleanup, client, run, start, Running};

/// Runs the agent as a process: sets up logging, builds the async runtime,
/// runs until SIGTERM or SIGINT (or `--cleanup` is done). Exit code 1 on
/// failure, after logging the error.
pub fn main(config: Config) -> ExitCode {
    logging::init(config.log_format, &config.log);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build();
    let result = match runtime {
        Ok(rt) => rt.block_on(run(config)),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "agent failed");
            ExitCode::FAILURE
        }
    }
}
