//! The data path: connection rate and throughput between the two real pods
//! with no ruleset, palisade's rulesets and the linear rule list.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use palisade_bench::alternate::{self, Sample};
use palisade_bench::iperf::{self, IperfServer};
use palisade_bench::loadgen::{self, Server};
use palisade_bench::{linear, stats, table, world};
use palisade_compile::{compile, LocalPods};
use palisade_model::PolicyRef;

use super::setup::BenchLab;
use super::Args;
use crate::cmd::render::TABLE;
use crate::lab::state::LAB_NODE;

/// One ruleset configuration: a name, the table it creates and the nft
/// script that installs it.
struct Config {
    name: String,
    policies: usize,
    table: &'static str,
    script: String,
    /// What the ruleset holds, for the table.
    size: String,
}

/// The samples of one configuration (or of no ruleset).
#[derive(Default)]
struct Samples {
    rate: Vec<f64>,
    bps: Vec<f64>,
    /// Per pair: this configuration's rate / no ruleset's rate measured
    /// next to it (and the same for throughput).
    rate_ratio: Vec<f64>,
    bps_ratio: Vec<f64>,
    load_ms: Vec<f64>,
    failures: u64,
    /// One flow with the ruleset switched in and out (`alternate`).
    flow_ratio: Vec<f64>,
}

/// One measurement: connections per second (and failures), bits per second.
struct Measured {
    rate: f64,
    failures: u64,
    bps: f64,
}

pub fn run(a: &Args) -> Result<()> {
    let lab = BenchLab::create()?;
    let configs = configs(a, &lab)?;
    let (client_ns, server_ns) = (lab.netns(&lab.client.0), lab.netns(&lab.server.0));
    let conn = SocketAddr::new(lab.server.1, world::CONN_PORT);
    let control = SocketAddr::new(lab.server.1, world::CONTROL_PORT);
    let _conn_server =
        Server::start(&server_ns, conn, 4).context("starting the connection server")?;
    let _control_server =
        Server::start(&server_ns, control, 1).context("starting the control-port server")?;
    let _iperf = match a.iperf_seconds {
        0 => None,
        _ => Some(IperfServer::start(&server_ns, world::IPERF_PORT)?),
    };
    let duration = Duration::from_secs_f64(a.seconds);
    let measure = |what: &str| -> Result<Measured> {
        let load = loadgen::run(&client_ns, conn, a.workers, duration)?;
        let bps = match a.iperf_seconds {
            0 => f64::NAN,
            secs => iperf::run(&client_ns, lab.server.1, world::IPERF_PORT, secs)?,
        };
        eprintln!(
            "    {what:<22} {:>9.0} conn/s ({} failed)  {:>7.2} Gbit/s",
            load.rate(),
            load.failures,
            bps / 1e9
        );
        Ok(Measured {
            rate: load.rate(),
            failures: load.failures,
            bps,
        })
    };
    let mut none = Samples::default();
    let mut samples: Vec<Samples> = configs.iter().map(|_| Samples::default()).collect();
    for (c, s) in configs.iter().zip(samples.iter_mut()) {
        let t = Instant::now();
        install(&lab, c)?;
        s.load_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        eprintln!("datapath: {} loaded in {:.0} ms", c.name, s.load_ms[0]);
        // Let the kernel finish freeing the previous table (deferred work)
        // before measuring.
        std::thread::sleep(SETTLE);
        for pair in 0..a.runs {
            eprintln!("  pair {}/{}", pair + 1, a.runs);
            // Alternate which side of the pair goes first, so a drift in
            // the machine's load over a pair cancels out over the pairs.
            let side = |active: bool| -> Result<Measured> {
                set_active(&lab, c, active)?;
                check_in_force(&client_ns, conn, control, c, active)?;
                measure(if active { &c.name } else { "none" })
            };
            let (base, with) = match pair % 2 {
                0 => {
                    let base = side(false)?;
                    (base, side(true)?)
                }
                _ => {
                    let with = side(true)?;
                    (side(false)?, with)
                }
            };
            for (samples, m) in [(&mut none, &base), (&mut *s, &with)] {
                samples.rate.push(m.rate);
                samples.bps.push(m.bps);
                samples.failures += m.failures;
            }
            s.rate_ratio.push(with.rate / base.rate);
            s.bps_ratio.push(with.bps / base.bps);
        }
        if a.flow_seconds > 0 {
            s.flow_ratio = switched_flow(&lab, c, &client_ns, a.flow_seconds)?;
        }
    }
    remove_tables(&lab);
    print_table(a, &configs, &none, &samples);
    if a.flow_seconds > 0 {
        print_flow_table(a, &configs, &samples);
    }
    Ok(())
}

/// iperf3 reports per second, and reports per block with or without the
/// ruleset: the ruleset is switched every half second.
const REPORT_SECONDS: f64 = 0.1;
const REPORTS_PER_BLOCK: usize = 5;

/// One iperf3 flow of `secs` seconds while `c`'s table is switched between
/// active and dormant every [`REPORTS_PER_BLOCK`] reports; the ratio of each
/// active block to the dormant blocks beside it ([`alternate::ratios`]).
fn switched_flow(lab: &BenchLab, c: &Config, client_ns: &str, secs: u32) -> Result<Vec<f64>> {
    set_active(lab, c, true)?;
    let mut active = true;
    // The first report holds the connection's start-up: left out.
    let mut switched = true;
    let mut states = Vec::new();
    let reports = iperf::run_reporting(
        client_ns,
        lab.server.1,
        world::IPERF_PORT,
        secs,
        REPORT_SECONDS,
        |_| {
            states.push((active, std::mem::take(&mut switched)));
            if states.len() % REPORTS_PER_BLOCK == 0 {
                active = !active;
                set_active(lab, c, active).map_err(|e| format!("{e:#}"))?;
                // The switch lands during the next report.
                switched = true;
            }
            Ok(())
        },
    )
    .with_context(|| format!("{}: one flow, switched", c.name))?;
    set_active(lab, c, true)?;
    let samples: Vec<Sample> = reports
        .iter()
        .zip(&states)
        .map(|(r, &(active, switched))| Sample {
            bits_per_second: r.bits_per_second,
            active,
            switched,
        })
        .collect();
    let ratios = alternate::ratios(&samples);
    eprintln!(
        "    {:<22} one flow switched in and out: {} blocks, median ratio {:.1}%",
        c.name,
        ratios.len(),
        100.0 * stats::median(&ratios).unwrap_or(f64::NAN)
    );
    Ok(ratios)
}

fn print_flow_table(a: &Args, configs: &[Config], samples: &[Samples]) {
    let rows: Vec<Vec<String>> = configs
        .iter()
        .zip(samples)
        .map(|(c, s)| {
            let (median, ci) = match alternate::summary(&s.flow_ratio) {
                Some((m, (lo, hi))) => (
                    format!("{:.1}%", 100.0 * m),
                    format!("{:.1}-{:.1}", 100.0 * lo, 100.0 * hi),
                ),
                None => ("-".into(), "-".into()),
            };
            vec![c.name.clone(), s.flow_ratio.len().to_string(), median, ci]
        })
        .collect();
    println!(
        "\nTHROUGHPUT, ONE FLOW: one iperf3 flow of {} s per ruleset, the ruleset switched into and out of the\npath every {:.1} s (table dormant in between); each block with it vs the blocks without it beside it\n(reports during a switch left out); median of the blocks' ratios and its 95% confidence interval",
        a.flow_seconds,
        REPORT_SECONDS * REPORTS_PER_BLOCK as f64
    );
    print!(
        "{}",
        table::render(&["config", "blocks", "vs none", "95% CI"], &rows)
    );
}

/// Pause after loading a ruleset, before its first measurement.
const SETTLE: Duration = Duration::from_secs(2);

/// Palisade's ruleset per size, then the linear list per size. "No ruleset"
/// is not a configuration: each configuration's table is made dormant to
/// measure it (see [`set_active`]).
fn configs(a: &Args, lab: &BenchLab) -> Result<Vec<Config>> {
    let mut out = Vec::new();
    let mut linear_configs = Vec::new();
    for &n in &a.policies {
        let t = Instant::now();
        let w = lab.world(a.pods, n, a.scope)?;
        let rs = compile(&w.cluster, &LocalPods::Node(LAB_NODE.into()));
        let script =
            palisade_nft::render::full(&rs, TABLE).context("rendering palisade's ruleset")?;
        let elements: usize = rs.addr_sets.values().map(|s| s.ranges.len()).sum::<usize>()
            + rs.named_port_sets
                .values()
                .map(|s| s.elements.len())
                .sum::<usize>();
        let rules: usize = rs.chains.values().map(|c| c.rules.len() + 1).sum();
        eprintln!(
            "datapath: {n} policies: palisade ruleset {} lines, compiled and rendered in {:.1} s",
            script.lines(),
            t.elapsed().as_secs_f64()
        );
        out.push(Config {
            name: format!("palisade {n}"),
            policies: n,
            table: TABLE,
            script: script.text,
            size: format!(
                "{} chains, {rules} rules, {elements} set elements",
                rs.chains.len()
            ),
        });
        if a.no_linear {
            continue;
        }
        let keep: BTreeSet<PolicyRef> = w
            .order
            .iter()
            .filter(|p| p.namespace == world::NS)
            .cloned()
            .collect();
        let list = linear::build(&rs, &w.order, &keep, a.linear_cap);
        let capped = match list.capped() {
            true => format!(" (capped; uncapped {} accepts)", list.uncapped_accepts),
            false => String::new(),
        };
        linear_configs.push(Config {
            name: format!("linear {n}"),
            policies: n,
            table: linear::TABLE,
            script: linear::render(&list),
            size: format!(
                "{} rules: {} accepts, {} drops{capped}",
                list.rules(),
                list.accepts,
                list.drops
            ),
        });
    }
    out.extend(linear_configs);
    Ok(out)
}

fn remove_tables(lab: &BenchLab) {
    for t in [TABLE, linear::TABLE] {
        let _ = lab.node.nft(&["delete", "table", "inet", t]);
    }
}

fn install(lab: &BenchLab, c: &Config) -> Result<()> {
    remove_tables(lab);
    lab.node
        .nft_apply(&c.script)
        .with_context(|| format!("loading {}", c.name))
}

/// Puts the configuration's table in the packet path, or takes it out by
/// making it dormant (`flags dormant`: the kernel unregisters its base
/// chains, so packets meet no ruleset at all, as if it were not loaded)
/// without reloading it. Measuring "no ruleset" right next to each ruleset
/// this way needs no reload between the two, and the pair compares the
/// same moments of a noisy machine.
fn set_active(lab: &BenchLab, c: &Config, active: bool) -> Result<()> {
    let cmd = match active {
        // `add table` without flags sends flags 0: the table wakes up.
        true => format!("add table inet {}", c.table),
        false => format!("add table inet {} {{ flags dormant; }}", c.table),
    };
    lab.node
        .nft_apply(&cmd)
        .with_context(|| format!("{}: {cmd}", c.name))
}

/// The probe port must connect; the control port must be denied while the
/// ruleset is active and open while it is dormant (so what is measured is
/// what the row says).
fn check_in_force(
    client_ns: &str,
    conn: SocketAddr,
    control: SocketAddr,
    c: &Config,
    active: bool,
) -> Result<()> {
    let (ok, ctl) = palisade_lab::in_netns(client_ns, || {
        let ok = loadgen::exchange(conn).is_ok();
        let ctl = loadgen::exchange_within(control, Duration::from_millis(300)).is_ok();
        (ok, ctl)
    })?;
    if !ok {
        bail!(
            "{}: the client cannot connect to the server's port {}",
            c.name,
            conn.port()
        );
    }
    let denied = !ctl;
    if denied != active {
        bail!(
            "{} ({}): the control port is {} (expected the opposite)",
            c.name,
            if active { "active" } else { "dormant" },
            if denied { "denied" } else { "open" }
        );
    }
    Ok(())
}

/// The median of ratios, in percent.
fn ratio_cell(ratios: &[f64]) -> String {
    match stats::median(ratios) {
        Some(m) => format!("{:.1}%", 100.0 * m),
        None => "-".into(),
    }
}

/// The 95% confidence interval of the median of ratios, in percent (`-`
/// under 2 pairs).
fn interval_cell(ratios: &[f64]) -> String {
    match (ratios.len(), stats::median_ci95(ratios)) {
        (2.., Some((low, high))) => format!("{:.1}-{:.1}", 100.0 * low, 100.0 * high),
        _ => "-".into(),
    }
}

fn print_table(a: &Args, configs: &[Config], none: &Samples, samples: &[Samples]) {
    let med = |v: &[f64]| stats::median(v).unwrap_or(f64::NAN);
    let mut rows: Vec<Vec<String>> = vec![vec![
        "none".into(),
        "-".into(),
        format!("{:.0}", med(&none.rate)),
        "100%".into(),
        "-".into(),
        format!("{:.2}", med(&none.bps) / 1e9),
        "100%".into(),
        "-".into(),
        "-".into(),
        "open".into(),
        none.failures.to_string(),
        "-".into(),
    ]];
    rows.extend(configs.iter().zip(samples).map(|(c, s)| {
        vec![
            c.name.clone(),
            c.policies.to_string(),
            format!("{:.0}", med(&s.rate)),
            ratio_cell(&s.rate_ratio),
            interval_cell(&s.rate_ratio),
            format!("{:.2}", med(&s.bps) / 1e9),
            ratio_cell(&s.bps_ratio),
            interval_cell(&s.bps_ratio),
            format!("{:.0}", med(&s.load_ms)),
            "denied".into(),
            s.failures.to_string(),
            c.size.clone(),
        ]
    }));
    println!(
        "\nDATA PATH: {} synthetic pods ({}); {} pairs per ruleset, each ruleset measured next to no ruleset\n(its table made dormant), alternating which goes first; medians; \"vs none\": median of the pairs' ratios and its 95% confidence interval\n{} workers x {} s of connections, {} s of iperf3 per measurement",
        a.pods,
        a.scope.describe(),
        a.runs,
        a.workers,
        a.seconds,
        a.iperf_seconds
    );
    print!(
        "{}",
        table::render(
            &[
                "config",
                "policies",
                "conn/s",
                "vs none",
                "95% CI",
                "Gbit/s",
                "vs none",
                "95% CI",
                "load ms",
                "port 7001",
                "failed",
                "ruleset"
            ],
            &rows
        )
    );
}
