//! `palisade bench` at a tiny size (root only): the harness runs, prints the
//! tables with the expected rows, connections really flowed, the rulesets
//! really denied the control port, and every control trial saw its outcome.
//! This is a check of the harness, not a benchmark (see docs/benchmarks.md).

use std::process::Command;

mod common;

use common::can_run;

/// The cells of the row whose first cell is `name` (names may hold one space).
fn row<'a>(out: &'a str, name: &str) -> Vec<&'a str> {
    let line = out
        .lines()
        .find(|l| l.starts_with(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no row {name:?} in:\n{out}"));
    line[name.len()..].split_whitespace().collect()
}

#[test]
fn tiny_bench_runs_and_its_numbers_are_real() {
    if !can_run(&["iperf3"]) {
        return eprintln!("skipped: needs root, nft, ip and iperf3");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args([
            "bench",
            "--pods",
            "300",
            "--policies",
            "3,30",
            "--runs",
            "2",
            "--seconds",
            "0.5",
            "--iperf-seconds",
            "1",
            "--flow-seconds",
            "3",
            "--linear-cap",
            "2000",
            "--trials",
            "3",
            "--control-policies",
            "10",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in ["none", "palisade 3", "palisade 30", "linear 3", "linear 30"] {
        let cells = row(&stdout, name);
        let rate: f64 = cells[1].parse().unwrap();
        let gbits: f64 = cells[4].parse().unwrap();
        assert!(rate > 50.0, "{name}: connections flowed: {cells:?}");
        assert!(gbits > 0.01, "{name}: iperf3 moved data: {cells:?}");
        let denied = if name == "none" { "open" } else { "denied" };
        assert_eq!(cells[8], denied, "{name}: the control port: {cells:?}");
        if name != "none" {
            let ci: Vec<f64> = cells[3].split('-').map(|q| q.parse().unwrap()).collect();
            assert!(
                ci.len() == 2 && ci[0] > 0.0 && ci[0] <= ci[1],
                "{name}: confidence interval of two pairs' ratios: {cells:?}"
            );
        }
    }
    assert!(
        row(&stdout, "linear 30").join(" ").contains("capped"),
        "the cap is reported"
    );
    let (_, flow) = stdout
        .split_once("THROUGHPUT, ONE FLOW")
        .expect("the one-flow table is printed");
    for name in ["palisade 3", "palisade 30", "linear 3", "linear 30"] {
        let cells = row(flow, name);
        let blocks: usize = cells[0].parse().unwrap();
        let ratio: f64 = cells[1].trim_end_matches('%').parse().unwrap();
        assert!(
            blocks >= 2 && ratio > 0.0,
            "{name}: 3 s switched every 0.5 s give blocks with a ratio: {cells:?}"
        );
    }
    for name in [
        "lab label (allow)",
        "lab label (deny)",
        "lab apply (allow)",
        "lab delete (deny)",
    ] {
        let cells = row(&stdout, name);
        assert_eq!(
            (cells[0], cells[1]),
            ("3", "0"),
            "{name}: 3 trials, none missed: {cells:?}"
        );
        let p50: f64 = cells[2].parse().unwrap();
        assert!(p50 > 0.0 && p50 < 10_000.0, "{name}: {cells:?}");
    }
}
