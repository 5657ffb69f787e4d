//! The agent's memory at scale: 10,000 pods and 1,000 policies of
//! `palisade-synth` state served by the fake API server, the agent on
//! `node-1` (625 of the pods local). Root-gated like the other agent kernel
//! tests, and `#[ignore]`d: it is a measurement (slow in debug builds), run
//! it with
//!
//!     cargo test --release -p palisade-agent --test memory -- --ignored --nocapture
//!
//! The agent runs inside this test process, next to the fake API server,
//! so it prints the process's resident memory before the agent starts (the
//! fake API holding the objects) and after its first program; the
//! difference is the agent's.

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

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
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
    let before = rss_mib();
    let started = Instant::now();
    let mut config = world.config();
    config.coalesce = Duration::from_millis(100);
    let agent = world.agent(config).await;
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
    let after = rss_mib();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let settled = rss_mib();
    eprintln!(
        "agent at 10,000 pods / 1,000 policies ({} local pods on {}): first program after {:.1} s; \
         process RSS {before:.0} MiB before the agent (fake API with the objects), {after:.0} MiB after its first program, \
         {settled:.0} MiB 3 s later: the agent's share ~{:.0} MiB",
        local.len(),
        support::NODE,
        took.as_secs_f64(),
        settled - before
    );
    drop(agent);
}
