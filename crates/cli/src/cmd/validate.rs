//! `palisade validate`: report every problem in the input, and nothing else.

use std::process::ExitCode;

use palisade_manifest::{Object, Severity};

use crate::args::Input;
use crate::input;

/// Report every problem in manifests, as the API server would reject them.
///
/// Validates manifests as the API server would and prints every finding with
/// file, line, column and field path. Exits 1 if any object was rejected,
/// 2 if an input could not be read.
///
/// Example: palisade validate -f policies/
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: Input,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let loaded = input::load(&a.input);
    let count = |k: &str| {
        loaded
            .objects
            .iter()
            .filter(|o: &&Object| o.kind() == k)
            .count()
    };
    let sev = |s: Severity| {
        loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity == s)
            .count()
    };
    let workloads =
        loaded.objects.len() - count("Namespace") - count("Pod") - count("NetworkPolicy");
    println!(
        "{} namespaces, {} pods, {} workloads, {} network policies accepted; {} errors, {} warnings",
        count("Namespace"),
        count("Pod"),
        workloads,
        count("NetworkPolicy"),
        sev(Severity::Error),
        sev(Severity::Warning),
    );
    // An unreadable path (palisade_manifest's `cannot read PATH: ...`,
    // with no position) is unreadable input, not a rejected object.
    let unreadable = loaded.diagnostics.iter().any(|d| {
        d.severity == Severity::Error && d.line == 0 && d.message.starts_with("cannot read ")
    });
    Ok(if unreadable {
        ExitCode::from(2)
    } else if loaded.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
