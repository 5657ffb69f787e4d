//! The data path: connection rate and throughput between the two real pods
//! with no ruleset, palisade's rulesets and the linear rule list.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use palisade_bench::iperf::{self, IperfServer};
use palisade_bench::loadgen::{self, Server};
use palisade_bench::{linear, stats, table, world};
use palisade_compile::{compile, LocalPods};
use palisade_model::PolicyRef;

use super::setup::BenchLab;
use super::Args;
use crate::cmd::render::TABLE;
use crate::lab::state::LAB_NODE;

/// One configuration: a name and the nft script that installs it.
struct Config {
    name: String,
    policies: Option<usize>,
    /// `None`: no ruleset at all.
    script: Option<String>,
    /// What the ruleset holds, for the table.
    size: String,
}

/// The samples of one configuration.
#[derive(Default)]
struct Samples {
    rate: Vec<f64>,
    rate_ratio: Vec<f64>,
    bps: Vec<f64>,
    bps_ratio: Vec<f64>,
    load_ms: Vec<f64>,
    failures: u64,
    control_denied: Option<bool>,
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
    let mut samples: Vec<Samples> = configs.iter().map(|_| Samples::default()).collect();
    let duration = Duration::from_secs_f64(a.seconds);
    for run in 0..a.runs {
        eprintln!("datapath: run {}/{}", run + 1, a.runs);
        let mut base = (f64::NAN, f64::NAN);
        for (c, s) in configs.iter().zip(samples.iter_mut()) {
            let t = Instant::now();
            install(&lab, c)?;
            s.load_ms.push(t.elapsed().as_secs_f64() * 1000.0);
            check_in_force(&client_ns, conn, control, c, s)?;
            let load = loadgen::run(&client_ns, conn, a.workers, duration)?;
            s.failures += load.failures;
            let rate = load.rate();
            let bps = match a.iperf_seconds {
                0 => f64::NAN,
                secs => iperf::run(&client_ns, lab.server.1, world::IPERF_PORT, secs)?,
            };
            if c.script.is_none() {
                base = (rate, bps);
            }
            s.rate.push(rate);
            s.rate_ratio.push(rate / base.0);
            s.bps.push(bps);
            s.bps_ratio.push(bps / base.1);
            eprintln!(
                "  {:<22} {:>9.0} conn/s ({} failed)  {:>7.2} Gbit/s  (load {:.0} ms)",
                c.name,
                rate,
                load.failures,
                bps / 1e9,
                s.load_ms.last().copied().unwrap_or(0.0)
            );
        }
    }
    remove_tables(&lab);
    print_table(a, &configs, &samples);
    Ok(())
}

/// No ruleset first (every run's baseline), then palisade, then linear, per size.
fn configs(a: &Args, lab: &BenchLab) -> Result<Vec<Config>> {
    let mut out = vec![Config {
        name: "none".into(),
        policies: None,
        script: None,
        size: "-".into(),
    }];
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
            policies: Some(n),
            script: Some(script.text),
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
            policies: Some(n),
            script: Some(linear::render(&list)),
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
    if let Some(script) = &c.script {
        lab.node
            .nft_apply(script)
            .with_context(|| format!("loading {}", c.name))?;
    }
    Ok(())
}

/// The probe port must connect; the control port must be denied by any
/// ruleset and open without one (so the rules really are in force).
fn check_in_force(
    client_ns: &str,
    conn: SocketAddr,
    control: SocketAddr,
    c: &Config,
    s: &mut Samples,
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
    if denied != c.script.is_some() {
        bail!(
            "{}: the control port is {} (expected the opposite)",
            c.name,
            if denied { "denied" } else { "open" }
        );
    }
    s.control_denied = Some(denied);
    Ok(())
}

fn print_table(a: &Args, configs: &[Config], samples: &[Samples]) {
    let med = |v: &[f64]| stats::median(v).unwrap_or(f64::NAN);
    let rows: Vec<Vec<String>> = configs
        .iter()
        .zip(samples)
        .map(|(c, s)| {
            vec![
                c.name.clone(),
                c.policies.map_or("-".into(), |n| n.to_string()),
                format!("{:.0}", med(&s.rate)),
                format!("{:.1}%", 100.0 * med(&s.rate_ratio)),
                format!("{:.2}", med(&s.bps) / 1e9),
                format!("{:.1}%", 100.0 * med(&s.bps_ratio)),
                format!("{:.0}", med(&s.load_ms)),
                match s.control_denied {
                    Some(true) => "denied".into(),
                    Some(false) => "open".into(),
                    None => "?".into(),
                },
                s.failures.to_string(),
                c.size.clone(),
            ]
        })
        .collect();
    println!(
        "\nDATA PATH: {} synthetic pods ({}), {} runs, medians; ratios vs no ruleset in the same run\n{} workers x {} s of connections, {} s of iperf3 per measurement",
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
                "Gbit/s",
                "vs none",
                "load ms",
                "port 7001",
                "failed",
                "ruleset"
            ],
            &rows
        )
    );
}
