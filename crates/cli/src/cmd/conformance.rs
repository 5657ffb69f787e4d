//! `palisade conformance`: run NetworkPolicy conformance case files.

use std::path::PathBuf;
use std::process::ExitCode;

use palisade_conformance::{load_cases, render, run_case, EvalBackend};

/// Run NetworkPolicy conformance case files against the evaluator.
///
/// Case files use the format of shared/conformance/README.md. Builds each case's cluster, applies its policies and steps, and compares
/// every expected cell with the verdict. Prints PASS or FAIL per case and
/// each differing cell; exits 1 if any case fails.
///
/// Example: palisade conformance ../shared/conformance/cases
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Case files, or directories of them (*.yaml, sorted).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let (cases, diagnostics) = load_cases(&a.paths);
    for d in &diagnostics {
        eprintln!("{d}");
    }
    let mut backend = EvalBackend;
    let reports: Vec<_> = cases.iter().map(|c| run_case(c, &mut backend)).collect();
    let mut out = String::new();
    render(&reports, &mut out)?;
    print!("{out}");
    let failed = reports.iter().any(|r| !r.failures.is_empty());
    let broken = diagnostics.iter().any(|d| d.is_error());
    Ok(if failed || broken {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
