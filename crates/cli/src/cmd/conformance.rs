//! `palisade conformance`: run NetworkPolicy conformance case files.

use std::path::PathBuf;
use std::process::ExitCode;

use palisade_conformance::{load_cases, render, run_case, CaseReport, EvalBackend};

use crate::lab::LabBackend;

/// Prints a case's PASS/FAIL lines as soon as it has run.
fn report_now(r: CaseReport) -> CaseReport {
    let mut out = String::new();
    render(std::slice::from_ref(&r), &mut out).expect("writing to a String cannot fail");
    // render() ends with its own one-case summary line; the overall one comes last.
    let body: Vec<&str> = out.lines().collect();
    for line in &body[..body.len().saturating_sub(1)] {
        println!("{line}");
    }
    r
}

/// Run NetworkPolicy conformance case files, on the evaluator or on real packets.
///
/// Case files use the format of conformance/README.md. Builds each case's cluster, applies its policies and steps, and compares
/// every expected cell with the verdict. Prints PASS or FAIL per case and
/// each differing cell; exits 1 if any case fails.
///
/// With --lab (root), every case runs in a lab of network namespaces: each pod
/// is a namespace with servers on its ports, policies are programmed into
/// nftables, and each cell is a real TCP, UDP or SCTP connection attempt; a
/// blocked cell must get through once policies are removed.
///
/// Example: palisade conformance conformance/cases
/// Example: sudo palisade conformance --lab conformance/cases/001-default-deny-ingress.yaml
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Case files, or directories of them (*.yaml, sorted).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Run on real packets in a lab (needs root and nftables).
    #[arg(long)]
    lab: bool,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let (cases, diagnostics) = load_cases(&a.paths);
    for d in &diagnostics {
        eprintln!("{d}");
    }
    let started = std::time::Instant::now();
    let reports: Vec<_> = if a.lab {
        let mut backend = LabBackend::new()?;
        let reports = cases
            .iter()
            .map(|c| report_now(run_case(c, &mut backend)))
            .collect();
        let (probes, rechecked) = backend.stats;
        backend.destroy()?;
        eprintln!(
            "lab: {probes} real probes, {rechecked} denials re-checked with no policy, {:.1}s",
            started.elapsed().as_secs_f64()
        );
        reports
    } else {
        cases
            .iter()
            .map(|c| report_now(run_case(c, &mut EvalBackend)))
            .collect()
    };
    let failed = reports.iter().filter(|r| !r.failures.is_empty()).count();
    println!("{} passed, {failed} failed", reports.len() - failed);
    let failed = reports.iter().any(|r| !r.failures.is_empty());
    let broken = diagnostics.iter().any(|d| d.is_error());
    Ok(if failed || broken {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
