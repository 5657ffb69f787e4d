//! The update path at 10,000 pods / 1,000 policies (issue 4): the full load
//! (compile + render + `nft -f`, and compile + encode + one netlink batch),
//! and one-pod and one-policy changes end to end (compile the new cluster
//! with the previous compilation's sets reused, as
//! `palisade_reconcile::Reconciler` does + diff against the previous IR +
//! apply), through `nft -f` and through netlink, measured in one run.
//! Needs root; works in a network namespace of its own
//! (`pal-nftbench-<pid>`), removed at the end.
//!
//!     cargo bench -p palisade-nft --bench update
//!
//! `PALISADE_BENCH_PODS` / `PALISADE_BENCH_POLICIES` / `PALISADE_BENCH_TRIALS`
//! change the size and the number of trials per kind of change;
//! `PALISADE_BENCH_SHARE_ONLY` skips the every-pod-local half. Results are
//! kept in docs/benchmarks.md ("Update path (issue 4)").

use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};

use palisade_compile::{compile, Compiler, LocalPods, Ruleset};
use palisade_model::{Cluster, Direction, Pod, PodId};
use palisade_nft::{netlink, render, ApplyKind, Nft, Transport};
use palisade_synth::{generate, Params};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A network namespace for the run, deleted on drop.
struct Netns(String);

impl Netns {
    fn new() -> Self {
        let name = format!("pal-nftbench-{}", std::process::id());
        let ok = Command::new("ip").args(["netns", "add", &name]).status();
        assert!(ok.is_ok_and(|s| s.success()), "ip netns add {name} (root?)");
        Self(name)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// Median, 90th percentile and maximum, in milliseconds.
fn stats(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    format!(
        "median {:7.2} ms  p90 {:7.2} ms  max {:7.2} ms  (n={})",
        ms(at(0.5)),
        ms(at(0.9)),
        ms(samples[samples.len() - 1]),
        samples.len()
    )
}

fn elements(rs: &Ruleset) -> usize {
    let sets: usize = rs.addr_sets.values().map(|s| s.ranges.len()).sum::<usize>()
        + rs.port_sets.values().map(|s| s.ranges.len()).sum::<usize>()
        + rs.named_port_sets
            .values()
            .map(|s| s.elements.len())
            .sum::<usize>();
    let maps: usize = rs.dispatch.values().map(|m| m.len()).sum();
    sets + 2 * maps // dispatch elements, and (roughly) their hairpin pairs
}

/// One kind of one-pod change, as a pair of clusters to go back and forth
/// between.
struct Change {
    name: &'static str,
    a: Cluster,
    b: Cluster,
}

fn changes(cluster: &Cluster, local: &LocalPods) -> Vec<Change> {
    let pods: Vec<&Pod> = cluster.pods().filter(|p| local.contains(p)).collect();
    let pod = pods[pods.len() / 2];
    let mut removed = cluster.clone();
    removed.remove_pod(&pod.id());
    let other = cluster
        .pods()
        .find(|p| p.namespace == pod.namespace && p.labels != pod.labels)
        .expect("a pod with other labels in the namespace");
    let mut relabelled = cluster.clone();
    relabelled.pod_mut(&pod.id()).expect("pod").labels = other.labels.clone();
    // A policy isolating the pod (its chain changes), else any policy.
    let policy = cluster
        .isolating(&pod.namespace, &pod.labels, Direction::Ingress)
        .next()
        .or_else(|| cluster.policies().next())
        .map(|p| p.reference())
        .expect("a policy");
    let mut policy_gone = cluster.clone();
    policy_gone.remove_policy(&policy);
    vec![
        Change {
            name: "pod removed / added",
            a: cluster.clone(),
            b: removed,
        },
        Change {
            name: "pod relabelled",
            a: cluster.clone(),
            b: relabelled,
        },
        Change {
            name: "policy removed / added",
            a: cluster.clone(),
            b: policy_gone,
        },
    ]
}

fn full_load(nft: &Nft, cluster: &Cluster, local: &LocalPods, trials: usize) -> Ruleset {
    let mut rs = Ruleset::default();
    for transport in [Transport::Text, Transport::Netlink] {
        let mut total = Vec::new();
        let mut parts = (Vec::new(), Vec::new(), Vec::new());
        let mut size = String::new();
        for _ in 0..trials {
            let t = Instant::now();
            rs = compile(cluster, local);
            let c = t.elapsed();
            let send: Box<dyn FnOnce()> = match transport {
                Transport::Text => {
                    let script = render::full(&rs, &nft.table).expect("render");
                    size = format!("{} lines, {} bytes", script.lines(), script.text.len());
                    Box::new(move || nft.run(&script).expect("full load"))
                }
                Transport::Netlink => {
                    let batch = netlink::full_load(&rs, &nft.table).expect("encode");
                    size = format!(
                        "{} messages, {} bytes",
                        batch.messages.len(),
                        batch.bytes.len()
                    );
                    let ns = nft.netns.clone();
                    Box::new(move || netlink::send(ns.as_deref(), &batch).expect("full load"))
                }
            };
            let r = t.elapsed() - c;
            send();
            total.push(t.elapsed());
            parts.0.push(c);
            parts.1.push(r);
            parts.2.push(t.elapsed() - c - r);
        }
        let (what, send) = match transport {
            Transport::Text => ("compile + render + nft -f", "nft -f  "),
            Transport::Netlink => ("compile + encode + netlink batch", "kernel  "),
        };
        println!("  full load ({what}): {}", stats(total));
        println!("    compile  {}", stats(parts.0));
        println!(
            "    {}   {}",
            if transport == Transport::Text {
                "render"
            } else {
                "encode"
            },
            stats(parts.1)
        );
        println!("    {send} {}  ({size})", stats(parts.2));
    }
    rs
}

fn deltas(nft: &Nft, change: &Change, local: &LocalPods, known: &mut Ruleset, trials: usize) {
    let (mut total, mut compile_t, mut apply_t) = (Vec::new(), Vec::new(), Vec::new());
    let mut lines = BTreeSet::new();
    let mut compiler = Compiler::new();
    compiler.compile(&change.a, local);
    for i in 0..2 * trials {
        let cluster = if i % 2 == 0 { &change.b } else { &change.a };
        let t = Instant::now();
        let rs = compiler.compile(cluster, local);
        let c = t.elapsed();
        let report = nft.reconcile_from(known, &rs).expect("delta");
        total.push(t.elapsed());
        compile_t.push(c);
        apply_t.push(t.elapsed() - c);
        assert_eq!(report.kind, ApplyKind::Delta, "{}", change.name);
        assert_eq!(report.delta_error, None);
        lines.insert(report.lines);
        *known = rs;
    }
    println!(
        "    {:22} {:8} end to end {}",
        change.name,
        format!("{:?}", nft.transport),
        stats(total)
    );
    println!("      compile               {}", stats(compile_t));
    println!(
        "      diff + apply          {}  (nft lines / netlink messages {lines:?})",
        stats(apply_t)
    );
}

fn run(label: &str, cluster: &Cluster, local: &LocalPods, ns: &Netns, trials: usize) {
    let local_count = cluster.pods().filter(|p| local.contains(p)).count();
    let mut nft = Nft::new("palisade_bench", Some(&ns.0));
    println!("{label}: {local_count} local pods");
    let mut known = full_load(&nft, cluster, local, 3);
    println!(
        "  ruleset: {} sets, {} chains, ~{} elements",
        known.addr_sets.len() + known.port_sets.len() + known.named_port_sets.len(),
        known.chains.len(),
        elements(&known)
    );
    println!("  one-pod changes ({trials} each way):");
    for change in changes(cluster, local) {
        for transport in [Transport::Text, Transport::Netlink] {
            nft.transport = transport;
            deltas(&nft, &change, local, &mut known, trials);
        }
    }
    nft.delete_table().expect("delete table");
}

fn main() {
    let pods = env("PALISADE_BENCH_PODS", 10_000);
    let policies = env("PALISADE_BENCH_POLICIES", 1_000);
    let trials = env("PALISADE_BENCH_TRIALS", 20);
    let cluster = generate(&Params::new(pods, policies));
    if let Ok(n) = std::env::var("PALISADE_BENCH_COMPILE_ONLY") {
        // Profiling aid: only compile (every pod local), N times.
        for _ in 0..n.parse().unwrap_or(1) {
            std::hint::black_box(compile(&cluster, &LocalPods::All));
        }
        return;
    }
    if let Ok(n) = std::env::var("PALISADE_BENCH_INCREMENTAL_ONLY") {
        // Profiling aid: only the incremental compile of a relabel, N times.
        let change = changes(&cluster, &LocalPods::All).pop().expect("relabel");
        let mut compiler = Compiler::new();
        for i in 0..n.parse().unwrap_or(1) {
            let next = if i % 2 == 0 { &change.b } else { &change.a };
            std::hint::black_box(compiler.compile(next, &LocalPods::All));
        }
        return;
    }
    let ns = Netns::new();
    println!("{pods} pods, {policies} policies (palisade-synth, default seed)");
    let share: BTreeSet<PodId> = cluster.pods().step_by(100).map(Pod::id).collect();
    run(
        "node share (every 100th pod: 100 nodes)",
        &cluster,
        &LocalPods::Pods(share),
        &ns,
        trials,
    );
    if std::env::var_os("PALISADE_BENCH_SHARE_ONLY").is_some() {
        return;
    }
    run(
        "one node holds every pod (the lab)",
        &cluster,
        &LocalPods::All,
        &ns,
        trials,
    );
}
