//! `palisade render`: the nftables ruleset a node would get.

use std::collections::BTreeSet;
use std::process::ExitCode;

use anyhow::{bail, Context};
use palisade_compile::{compile, LocalPods};
use palisade_model::PodId;

use crate::args::Input;
use crate::input;

/// The table name palisade owns in the kernel.
pub const TABLE: &str = "palisade";

/// Print the nftables ruleset (one `nft -f` transaction) for the pods of a node.
///
/// Every rule carries a comment with its provenance (policy, direction, rule,
/// peer) and a named counter; every subject chain ends in the
/// denied-flow log (NFLOG group 3117, rate-limited per source) and a counted
/// drop (a counted accept when only audit-mode policies isolate its pods).
///
/// Example: palisade render -f examples/walkthrough --pods ns-1/http-echo
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: Input,
    /// Enforce for the pods whose spec.nodeName is NODE.
    #[arg(long, conflicts_with = "pods")]
    node: Option<String>,
    /// Enforce for these pods (NAMESPACE/POD, comma-separated). Default: every pod.
    #[arg(long, value_delimiter = ',')]
    pods: Vec<PodId>,
    /// Print the compiled IR as JSON instead of nftables syntax.
    #[arg(long)]
    ir: bool,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let loaded = input::load(&a.input);
    let cluster = loaded.to_cluster();
    let local = match (a.node, a.pods.is_empty()) {
        (Some(node), _) => LocalPods::Node(node),
        (None, false) => {
            for id in &a.pods {
                if cluster.pod(id).is_none() {
                    bail!("no pod {id} in the input");
                }
            }
            LocalPods::Pods(a.pods.into_iter().collect::<BTreeSet<_>>())
        }
        (None, true) => LocalPods::All,
    };
    let rs = compile(&cluster, &local);
    if a.ir {
        crate::output::emit(&(serde_json::to_string_pretty(&rs)? + "\n"))?;
    } else {
        let script = palisade_nft::render::full(&rs, TABLE).context("rendering the ruleset")?;
        crate::output::emit(&script.text)?;
    }
    Ok(if loaded.has_errors() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
