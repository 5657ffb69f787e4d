//! The agent's memory at scale: 10,000 pods and 1,000 policies of
//! `palisade-synth` state served by the fake API server, the agent on
//! `node-1` (625 of the pods local). Root-gated like the other agent kernel
//! tests, and `#[ignore]`d: it is a measurement (slow in debug builds), run
//! it with
//!
//!     cargo test --release -p palisade-agent --test memory -- --ignored --nocapture
//!
//! The agent is a process of its own (this test binary started again with
//! the agent's command line in `PALISADE_MEMORY_AGENT_ARGS`, running
//! `palisade_agent::main` as `palisade agent` does), so what is printed is
//! that process's resident memory: its peak (`VmHWM`) and its RSS after the
//! first program and a few seconds later.

// The shared harness; this binary uses only part of it.
#[allow(dead_code)]
mod support;

use std::time::{Duration, Instant};

use palisade_manifest::yaml::{self, Node, Value as Yaml};
use serde_json::Value;
use support::{ingress_chain, World};

fn json(node: &Node) -> Value {
    match &node.value {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(*b),
        Yaml::Int(i) => Value::from(*i),
        Yaml::Float(f) => Value::from(*f),
        Yaml::Str(s) => Value::String(s.clone()),
        Yaml::Seq(items) => Value::Array(items.iter().map(json).collect()),
        Yaml::Map(pairs) => Value::Object(
            pairs
                .iter()
                .map(|(k, v)| match &k.value {
                    Yaml::Str(s) => (s.clone(), json(v)),
                    other => (format!("{other:?}"), json(v)),
                })
                .collect(),
        ),
    }
}

/// The agent process's command line, separated by U+001F.
const CHILD_ENV: &str = "PALISADE_MEMORY_AGENT_ARGS";

/// `VmRSS` and `VmHWM` (peak) of process `pid`, in MiB.
fn rss_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Not a measurement by itself: the agent process that
/// `memory_at_10k_pods_and_1k_policies` starts (it returns at once when
/// run without `PALISADE_MEMORY_AGENT_ARGS`).
#[test]
#[ignore = "the agent process of the memory measurement"]
fn agent_process() {
    use clap::Parser;
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        config: palisade_agent::Config,
    }
    let Ok(args) = std::env::var(CHILD_ENV) else {
        return;
    };
    let cli = Cli::parse_from(std::iter::once("agent").chain(args.split('\x1f')));
    let _ = palisade_agent::main(cli.config);
}

/// Kills the agent process when the measurement ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run with --release -- --ignored --nocapture"]
async fn memory_at_10k_pods_and_1k_policies() {
    let Some(world) = World::new().await else {
        return;
    };
    let api = &world.api;
    for key in ["ns-1/web", "ns-1/db", "ns-2/client"] {
        api.delete("pods", key);
    }
    api.delete("networkpolicies", "ns-1/web-from-team-a");
    let cluster = palisade_synth::generate(&palisade_synth::Params::new(10_000, 1_000));
    let text = palisade_synth::to_yaml(&cluster);
    let docs = yaml::parse(&text).expect("synth YAML parses");
    let mut counts = (0, 0, 0);
    for doc in &docs {
        let object = json(doc);
        let plural = match object["kind"].as_str() {
            Some("Namespace") => {
                counts.0 += 1;
                "namespaces"
            }
            Some("Pod") => {
                counts.1 += 1;
                "pods"
            }
            Some("NetworkPolicy") => {
                counts.2 += 1;
                "networkpolicies"
            }
            _ => continue,
        };
        api.apply(plural, object);
    }
    drop((docs, text));
    assert_eq!(counts, (100, 10_000, 1_000));
    // A pod of node-1 that some policy isolates for ingress.
    let local: Vec<String> = cluster
        .pods()
        .filter(|p| p.node_name.as_deref() == Some(support::NODE))
        .filter_map(|p| p.ips.first().map(|ip| ip.to_string()))
        .collect();
    drop(cluster);
    let started = Instant::now();
    let args = [
        "--node-name",
        support::NODE,
        "--kubeconfig",
        &world.kubeconfig.to_string_lossy(),
        "--netns",
        &world.ns.name,
        "--coalesce",
        "100ms",
        "--listen",
        "127.0.0.1:0",
        "--dashboard-listen",
        "off",
        "--log",
        "warn",
    ]
    .join("\x1f");
    let agent = Child(
        std::process::Command::new(std::env::current_exe().expect("the test binary"))
            .args(["agent_process", "--exact", "--ignored", "--nocapture"])
            .env(CHILD_ENV, args)
            .spawn()
            .expect("start the agent process"),
    );
    let pid = agent.0.id();
    let mut programmed = None;
    while started.elapsed() < Duration::from_secs(300) {
        if let Some(state) = world.table() {
            if local.iter().any(|ip| ingress_chain(&state, ip).is_some()) {
                programmed = Some(started.elapsed());
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let took = programmed.expect("the agent programmed the node's local pods");
    let (after, _) = rss_mib(pid);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (settled, peak) = rss_mib(pid);
    eprintln!(
        "agent process at 10,000 pods / 1,000 policies ({} local pods on {}): first program after {:.1} s; \
         RSS {after:.0} MiB after its first program, {settled:.0} MiB 3 s later, peak {peak:.0} MiB",
        local.len(),
        support::NODE,
        took.as_secs_f64(),
    );
}
