//! `palisade bench`: the dataplane and control-path benchmarks, in a lab of
//! its own (see docs/benchmarks.md for recorded results and how to read them).
//!
//! - `datapath.rs`: new TCP connections per second and iperf3 throughput
//!   between two real pods, with no ruleset, palisade's rulesets and the
//!   linear rule list, at several policy counts.
//! - `control.rs`: time from a `palisade lab label/apply/delete` command's
//!   start to the first probe with the new outcome.
//! - `setup.rs`: the lab (node, the two real pods, the state-only cluster).

mod control;
mod datapath;
mod setup;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Result};

/// Benchmark palisade's dataplane against no ruleset and a linear rule list,
/// and its control path (lab command to enforced), on this machine. Root.
///
/// Builds a lab of its own (named b<pid>, removed at the end) with two real
/// pods (client and server, network namespaces) and N synthetic pods of
/// cluster state (palisade-synth, same on every machine), then:
///
/// datapath: for no ruleset, palisade's ruleset compiled from each
/// --policies count over --pods pods, and a linear rule list holding the
/// same policies, measures new TCP connections per second (--workers
/// clients doing connect / 1 byte each way / reset, for --seconds) and
/// iperf3 throughput (--iperf-seconds). Each ruleset is loaded once and
/// measured in --runs pairs with no ruleset (its table made dormant, so the
/// two sides of a pair are seconds apart); the table gives medians, and the
/// ratio to no ruleset as the median of the pairs' ratios with its 95%
/// confidence interval. Then, per ruleset, one iperf3 flow of
/// --flow-seconds with the ruleset switched in and out every half second,
/// compared block by block (a finer throughput comparison).
///
/// control: with --pods pods and --control-policies policies of state, runs
/// `palisade lab label`, `lab apply` and `lab delete` --trials times each
/// (each a new process, a client of the lab's controller, which holds the
/// lab in memory) while a prober in the client pod connects every
/// millisecond, and reports
/// p50/p99 of the time from the command's start to the first connection
/// with the new outcome.
///
/// How long: the datapath suite at its defaults takes about 12 minutes (6
/// rulesets x 5 pairs x 2 x 6 s, and compiling and loading the ruleset of
/// 10,000 policies); the control suite takes 4 x --trials x the lab
/// command's time plus the first load: a minute or two with --scope probes,
/// several with the default --scope node.
/// Quick check of the harness (under a minute):
///   palisade bench --pods 500 --policies 5,50 --runs 1 --trials 4 --control-policies 20
/// The recorded runs (docs/benchmarks.md):
///   palisade bench --suite datapath
///   palisade bench --suite control --scope probes
///   palisade bench --suite control --scope node --trials 10
/// If interrupted, `palisade lab --lab b<pid> down` removes what it left.
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// What to run: datapath, control, or both (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "datapath,control")]
    pub suite: Vec<Suite>,
    /// Synthetic pods of cluster state (besides the two real pods).
    #[arg(long, default_value_t = 10_000)]
    pub pods: usize,
    /// Synthetic policy counts for the datapath suite (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "10,1000,10000")]
    pub policies: Vec<usize>,
    /// Datapath: pairs (ruleset, no ruleset) measured per ruleset.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Datapath: seconds of connection load per measurement.
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Datapath: concurrent connecting clients.
    #[arg(long, default_value_t = 4)]
    pub workers: usize,
    /// Datapath: seconds of iperf3 per measurement (0: skip throughput).
    #[arg(long, default_value_t = 3)]
    pub iperf_seconds: u32,
    /// Datapath: seconds of one iperf3 flow per ruleset, the ruleset
    /// switched into and out of the path every half second (0: skip). Finer
    /// than separate runs: adjacent blocks of one flow share the moment.
    #[arg(long, default_value_t = 30)]
    pub flow_seconds: u32,
    /// Datapath: most accept rules of the linear list (rules of the probe
    /// pods' policies are always all kept; the rest are cut here).
    #[arg(long, default_value_t = 100_000)]
    pub linear_cap: usize,
    /// Datapath: leave the linear rule list out.
    #[arg(long)]
    pub no_linear: bool,
    /// Control: synthetic policies of state.
    #[arg(long, default_value_t = 1_000)]
    pub control_policies: usize,
    /// Control: trials per command (label, apply, delete).
    #[arg(long, default_value_t = 100)]
    pub trials: usize,
    /// Which synthetic pods are on the lab's node, i.e. subjects of its
    /// ruleset (node-local compile scope; palisade-synth spreads pods over 16
    /// nodes): `node` = the pods of one of them (1 in 16, a node of a
    /// 16-node cluster), `probes` = none (only the two probe pods), `all` =
    /// every pod (one node holding the whole cluster: slow to compile at
    /// 10,000 policies). Every other pod is a peer only.
    #[arg(long, value_enum, default_value = "node")]
    pub scope: Scope,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scope {
    Probes,
    Node,
    All,
}

impl Scope {
    fn world(self) -> palisade_bench::world::Scope {
        use palisade_bench::world::Scope as W;
        match self {
            Scope::Probes => W::ProbesOnly,
            Scope::Node => W::OneNode,
            Scope::All => W::All,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Scope::Probes => "only the 2 probe pods on the lab's node",
            Scope::Node => "1 in 16 synthetic pods and the 2 probe pods on the lab's node",
            Scope::All => "every pod on the lab's node",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Suite {
    Datapath,
    Control,
}

pub fn run(a: Args) -> Result<ExitCode> {
    crate::lab::require_root()?;
    if a.suite.contains(&Suite::Datapath)
        && a.iperf_seconds > 0
        && !palisade_bench::iperf::available()
    {
        bail!("the datapath suite needs iperf3 (apt-get install iperf3), or --iperf-seconds 0");
    }
    if a.seconds <= 0.0 || a.runs == 0 {
        bail!("--seconds and --runs must be positive");
    }
    println!("{}", setup::machine());
    if a.suite.contains(&Suite::Datapath) {
        datapath::run(&a)?;
    }
    if a.suite.contains(&Suite::Control) {
        control::run(&a)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `d` in milliseconds with one decimal.
fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}
