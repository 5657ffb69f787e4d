//! The control path: from a lab command's start to the first connection
//! with the new outcome, seen by a prober in the client pod. The lab's
//! controller is started on the benchmark's state (it programs the first
//! ruleset); each trial is a new `palisade lab ...` process, its client.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use palisade_bench::loadgen::Server;
use palisade_bench::prober::Prober;
use palisade_bench::{stats, table, world};

use super::setup::BenchLab;
use super::{ms, Args};
use crate::lab::controller;

/// The prober's pace and its connect timeout: a denied attempt waits this
/// long, so attempts overlap on several threads.
const INTERVAL: Duration = Duration::from_millis(1);
const TIMEOUT: Duration = Duration::from_millis(20);
/// A trial whose outcome has not shown after this long is a miss.
const LIMIT: Duration = Duration::from_secs(10);

/// One kind of trial: the command and the outcome it should produce.
struct Kind {
    name: &'static str,
    want_ok: bool,
    args: Vec<String>,
}

#[derive(Default)]
struct Results {
    enforced: Vec<f64>,
    command: Vec<f64>,
    missed: usize,
}

pub fn run(a: &Args) -> Result<()> {
    let lab = BenchLab::create()?;
    let t = Instant::now();
    let mut w = lab.world(a.pods, a.control_policies, a.scope)?;
    for p in world::policies("allow-labelled", world::ALLOW_LABELLED, world::NS)? {
        w.cluster.upsert_policy(p);
    }
    lab.save_state(&w)?;
    let policy_file = std::env::temp_dir().join(format!(
        "palisade-bench-{}-allow-control.yaml",
        std::process::id()
    ));
    std::fs::write(&policy_file, world::ALLOW_CONTROL)?;
    controller::start(&lab.name)
        .context("starting the lab's controller (it programs the first ruleset)")?;
    eprintln!(
        "control: lab {} with {} pods and {} policies programmed in {:.1} s",
        lab.name,
        w.cluster.pods().count(),
        w.cluster.policies().count(),
        t.elapsed().as_secs_f64()
    );
    let (client_ns, server_ns) = (lab.netns(&lab.client.0), lab.netns(&lab.server.0));
    let target = SocketAddr::new(lab.server.1, world::CONTROL_PORT);
    let _server = Server::start(&server_ns, target, 2)?;
    let prober = Prober::start(&client_ns, target, INTERVAL, TIMEOUT);
    if !prober.settle(false, Duration::from_secs(5)) {
        bail!("the control port should start denied");
    }
    let lab_args = |rest: &[&str]| -> Vec<String> {
        let mut v = vec!["lab".to_string(), "--lab".into(), lab.name.clone()];
        v.extend(rest.iter().map(|s| s.to_string()));
        v
    };
    let label = format!("{}={}", world::PROBE_LABEL.0, world::PROBE_LABEL.1);
    let unlabel = format!("{}-", world::PROBE_LABEL.0);
    let file = policy_file.display().to_string();
    let kinds = [
        Kind {
            name: "lab label (allow)",
            want_ok: true,
            args: lab_args(&["label", "pod", "client", "-n", world::NS, &label]),
        },
        Kind {
            name: "lab label (deny)",
            want_ok: false,
            args: lab_args(&["label", "pod", "client", "-n", world::NS, &unlabel]),
        },
        Kind {
            name: "lab apply (allow)",
            want_ok: true,
            args: lab_args(&["apply", "-f", &file, "-n", world::NS]),
        },
        Kind {
            name: "lab delete (deny)",
            want_ok: false,
            args: lab_args(&["delete", "netpol", "allow-control", "-n", world::NS]),
        },
    ];
    let mut results: Vec<Results> = kinds.iter().map(|_| Results::default()).collect();
    // label trials alternate allow/deny, then apply/delete alternate: each
    // command runs `trials` times.
    for pair in [(0, 1), (2, 3)] {
        for i in 0..a.trials {
            for k in [pair.0, pair.1] {
                trial(&prober, &kinds[k], &mut results[k])?;
            }
            if (i + 1) % 25 == 0 {
                eprintln!(
                    "control: {} / {}: {} trials",
                    kinds[pair.0].name,
                    kinds[pair.1].name,
                    i + 1
                );
            }
        }
    }
    let breakdown = breakdown(&prober, &kinds);
    let _ = std::fs::remove_file(&policy_file);
    let breakdown = breakdown?;
    print_table(a, &w, &kinds, &results, prober.attempts());
    println!("\nwhere the time of one command goes (PALISADE_LAB_VERBOSE=1):\n{breakdown}");
    Ok(())
}

/// One more trial of each of `kinds` (not counted), with the lab's
/// per-step timing lines; returns them.
fn breakdown(prober: &Prober, kinds: &[Kind]) -> Result<String> {
    let mut text = String::new();
    for kind in kinds {
        let mut r = Results::default();
        let stderr = run_trial(prober, kind, &mut r, true)?;
        let enforced = r.enforced.first().map_or("-".into(), |t| format!("{t:.1}"));
        text += &format!("{} (enforced after {enforced} ms):\n", kind.name);
        for line in stderr.lines() {
            text += &format!("  {line}\n");
        }
    }
    Ok(text)
}

fn trial(prober: &Prober, kind: &Kind, r: &mut Results) -> Result<()> {
    run_trial(prober, kind, r, false).map(drop)
}

/// Runs one trial; returns the command's stderr.
fn run_trial(prober: &Prober, kind: &Kind, r: &mut Results, verbose: bool) -> Result<String> {
    if !prober.settle(!kind.want_ok, Duration::from_secs(5)) {
        bail!("{}: the previous outcome did not settle", kind.name);
    }
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(&exe);
    cmd.args(&kind.args).stdin(Stdio::null());
    if verbose {
        cmd.env("PALISADE_LAB_VERBOSE", "1");
    }
    let start = Instant::now();
    prober.arm(start, kind.want_ok);
    let out = cmd
        .output()
        .with_context(|| format!("running {}", kind.name))?;
    let command = start.elapsed();
    if !out.status.success() {
        bail!(
            "{} failed: {}",
            kind.args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    r.command.push(command.as_secs_f64() * 1000.0);
    match prober.wait(LIMIT) {
        Some(at) => r
            .enforced
            .push(at.saturating_duration_since(start).as_secs_f64() * 1000.0),
        None => r.missed += 1,
    }
    Ok(String::from_utf8_lossy(&out.stderr).into_owned())
}

fn print_table(a: &Args, w: &world::World, kinds: &[Kind], results: &[Results], attempts: u64) {
    let q = |v: &[f64], p: f64| stats::quantile(v, p).map_or("-".into(), |x| format!("{x:.1}"));
    let rows: Vec<Vec<String>> = kinds
        .iter()
        .zip(results)
        .map(|(k, r)| {
            vec![
                k.name.to_string(),
                r.enforced.len().to_string(),
                r.missed.to_string(),
                q(&r.enforced, 0.5),
                q(&r.enforced, 0.99),
                q(&r.enforced, 1.0),
                q(&r.command, 0.5),
                q(&r.command, 0.99),
            ]
        })
        .collect();
    let local = a.scope.describe();
    println!(
        "\nCONTROL PATH: {} pods ({local}), {} policies; prober every {} ms ({} ms connect timeout, {attempts} attempts)\ntime from the command's start to the first connection with the new outcome (ms)",
        w.cluster.pods().count(),
        w.cluster.policies().count(),
        ms(INTERVAL),
        ms(TIMEOUT),
    );
    print!(
        "{}",
        table::render(
            &["command", "trials", "missed", "p50", "p99", "max", "cmd p50", "cmd p99"],
            &rows
        )
    );
}
