//! The `lab` subcommands and their flags.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use serde::{Deserialize, Serialize};

use super::ops;

/// A cluster on one machine, made of network namespaces: pods are real
/// processes with their own network stack, Services are real DNAT, and
/// palisade's nftables ruleset decides. Needs root. The lab never touches the
/// host's own network namespace, routes or firewall.
///
/// `lab up` starts the lab's controller in the background: the lab's
/// Kubernetes API server (on a loopback port, TLS, a bearer token; `eval
/// $(palisade lab env)` and kubectl drives the lab) and the node that makes
/// what the API holds real. The commands below that change the lab (create,
/// delete, run, label, expose, apply, import, repair) are conveniences over
/// the same API; every change, from kubectl or from them, is enforced before
/// it is answered. `lab down` stops it; if it stopped, `lab repair` (or `lab
/// up`) restarts it.
///
/// Walkthrough: palisade lab demo (through kubectl when it is installed)
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Lab name: labs with different names are independent.
    #[arg(long, global = true, default_value = "default", env = "PALISADE_LAB")]
    pub lab: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand, Serialize, Deserialize)]
pub enum Command {
    /// Create the lab's node (its own network namespace) and start its
    /// controller and flow recorder (a stopped one is restarted); read the
    /// node's table back and bring it in line.
    Up,
    /// Stop the lab's controller and remove everything the lab made (also
    /// finds leftovers after a crash).
    Down,
    /// Create a namespace.
    Create {
        #[command(subcommand)]
        what: CreateWhat,
    },
    /// Delete a namespace (and everything in it), a pod, a service or a network policy.
    Delete {
        #[command(subcommand)]
        what: DeleteWhat,
    },
    /// Run a pod: a network namespace with COMMAND running in it.
    Run {
        name: String,
        #[arg(short, long, default_value = "default")]
        namespace: String,
        /// Labels, as KEY=VALUE[,KEY=VALUE...]. Default: run=NAME.
        #[arg(long)]
        labels: Option<String>,
        /// A container port the pod serves, as PORT[/PROTO] or NAME:PORT[/PROTO] (repeatable).
        #[arg(long = "port")]
        ports: Vec<String>,
        /// The pod's command, after `--`.
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Add, change (--overwrite) or remove (KEY-) labels of a pod or namespace.
    Label {
        #[command(subcommand)]
        what: LabelWhat,
    },
    /// Expose a pod as a Service: a cluster IP, DNAT to the pods with its labels, and a DNS name.
    Expose {
        pod: String,
        #[arg(short, long, default_value = "default")]
        namespace: String,
        /// The Service port.
        #[arg(long)]
        port: u16,
        /// The pod port (default: --port).
        #[arg(long)]
        target_port: Option<u16>,
        #[arg(long, default_value = "TCP")]
        protocol: String,
        /// The Service name (default: the pod's name).
        #[arg(long)]
        name: Option<String>,
    },
    /// Print a pod's output (its request log, for http-echo).
    Logs {
        pod: String,
        #[arg(short, long, default_value = "default")]
        namespace: String,
        /// Keep printing new lines.
        #[arg(short, long)]
        follow: bool,
    },
    /// Run a command inside a pod's network namespace.
    Exec {
        pod: String,
        #[arg(short, long, default_value = "default")]
        namespace: String,
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Create or replace NetworkPolicies from a manifest file (`-` for stdin).
    Apply {
        #[arg(short = 'f', long = "filename")]
        file: PathBuf,
        #[arg(short, long, default_value = "default")]
        namespace: String,
    },
    /// List pods, network policies, services or namespaces.
    Get {
        #[arg(value_enum)]
        what: GetWhat,
        #[arg(short, long)]
        namespace: Option<String>,
        /// `wide` adds addresses, chains and endpoints.
        #[arg(short, long)]
        output: Option<String>,
    },
    /// Print the nftables ruleset palisade programmed in the lab's node.
    Ruleset,
    /// Show denied (and audited) connection attempts, attributed to pods
    /// and to the policies that isolate the denying side.
    Events {
        /// Only attempts with a pod of this namespace at either end.
        #[arg(short, long)]
        namespace: Option<String>,
        /// `json`: one record per line, as the agent's /flows API has them.
        #[arg(short, long)]
        output: Option<String>,
        /// Keep printing new records.
        #[arg(short, long)]
        follow: bool,
    },
    /// Internal: the lab's flow recorder (started by `lab up`).
    #[command(hide = true)]
    FlowRecorder,
    /// Internal: the lab's controller (started by `lab up`, detached; its
    /// pid, socket and log are in the lab's state directory).
    #[command(hide = true)]
    Controller,
    /// Add cluster STATE from manifests (namespaces, pods with status.podIP,
    /// network policies), e.g. 10,000 pods from `palisade-synth --out DIR`.
    /// Imported pods get no network namespace: they are compiled into the
    /// ruleset like the lab's own pods, as peers, and as subjects only when
    /// on the lab's node (--local). The whole import is rejected on any error.
    Import {
        #[arg(short = 'f', long = "filename", required = true)]
        files: Vec<PathBuf>,
        /// Put every imported pod on the lab's node (its ruleset then
        /// dispatches all of them); default: they keep their nodeName.
        #[arg(long)]
        local: bool,
    },
    /// Read the node's table back and repair any drift (lab commands
    /// otherwise send deltas against what the lab last programmed); restart
    /// the lab's controller if it stopped.
    Repair,
    /// Run the classic walkthrough end to end and check every outcome.
    Demo,
    /// Print the path of the lab's kubeconfig: the lab serves the
    /// Kubernetes API on a loopback port (TLS, a bearer token; the file is
    /// root-only), so kubectl and any client drive it:
    /// `kubectl --kubeconfig "$(palisade lab kubeconfig)" get pods -A`.
    Kubeconfig,
    /// Print `export KUBECONFIG=...` for the lab: `eval $(palisade lab env)`,
    /// then kubectl talks to the lab.
    Env,
    /// Serve the web dashboard of the lab: namespaces, pods and policies, the
    /// connectivity graph (who may reach whom, from the analyzer), denied
    /// flows live (from the lab's flow recorder), and the explanation of any
    /// connection. Open the printed address in a browser; the page fetches
    /// nothing from elsewhere. Runs until stopped (Ctrl-C).
    Dashboard {
        /// Address to serve on. The default is loopback only: the dashboard
        /// has no authentication, so think before binding 0.0.0.0.
        #[arg(long, default_value = "127.0.0.1:9465")]
        listen: std::net::SocketAddr,
    },
}

#[derive(Debug, Subcommand, Serialize, Deserialize)]
pub enum CreateWhat {
    #[command(alias = "namespace")]
    Ns { name: String },
}

#[derive(Debug, Subcommand, Serialize, Deserialize)]
pub enum DeleteWhat {
    #[command(alias = "namespace")]
    Ns { name: String },
    Pod {
        name: String,
        #[arg(short, long, default_value = "default")]
        namespace: String,
    },
    #[command(alias = "service")]
    Svc {
        name: String,
        #[arg(short, long, default_value = "default")]
        namespace: String,
    },
    #[command(alias = "networkpolicy")]
    Netpol {
        name: String,
        #[arg(short, long, default_value = "default")]
        namespace: String,
    },
}

#[derive(Debug, Subcommand, Serialize, Deserialize)]
pub enum LabelWhat {
    Pod {
        name: String,
        /// KEY=VALUE to set, KEY- to remove.
        #[arg(required = true)]
        labels: Vec<String>,
        #[arg(short, long, default_value = "default")]
        namespace: String,
        #[arg(long)]
        overwrite: bool,
    },
    #[command(alias = "namespace")]
    Ns {
        name: String,
        #[arg(required = true)]
        labels: Vec<String>,
        #[arg(long)]
        overwrite: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
pub enum GetWhat {
    #[value(alias = "pod")]
    Pods,
    #[value(alias = "networkpolicy", alias = "networkpolicies")]
    Netpol,
    #[value(alias = "service", alias = "services")]
    Svc,
    #[value(alias = "namespace", alias = "namespaces")]
    Ns,
}

pub fn run(a: Args) -> Result<ExitCode> {
    ops::dispatch(&a.lab, a.command)
}
