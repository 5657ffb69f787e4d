//! The user-space half of an update at 10,000 pods / 1,000 policies
//! (issue 4): incremental compile (`palisade_compile::Compiler`, as
//! `palisade_reconcile::Reconciler` runs it) + the IR diff
//! (`palisade_nft::incremental::Changed::between`) for small changes, with
//! the pods of one node (every 100th pod) and with every pod local. No
//! kernel, no root. Each change is compiled twice: with `compile` (the
//! compiler compares the whole cluster with the previous one) and with
//! `compile_touched` ("told": the caller names the objects it changed).
//!
//!     cargo bench -p palisade-nft --bench diff
//!
//! `PALISADE_BENCH_PODS` / `PALISADE_BENCH_POLICIES` / `PALISADE_BENCH_TRIALS`
//! change the size and the number of trials per direction of a change
//! (each change goes back and forth). `PALISADE_BENCH_ONLY=<substring>`
//! runs only the changes whose name contains it (profiling).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use palisade_compile::{compile, Compiler, LocalPods, Touched};
use palisade_model::{Cluster, Labels, Pod, PodId, PolicyMode, PortSpec};
use palisade_nft::incremental::Changed;
use palisade_synth::{generate, Params};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Median and 90th percentile, in milliseconds.
fn stats(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    format!("{:8.3} {:8.3}", ms(at(0.5)), ms(at(0.9)))
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// A small change, as a pair of clusters to go back and forth between,
/// and the objects it touches (for `Compiler::compile_touched`).
struct Change {
    name: &'static str,
    a: Cluster,
    b: Cluster,
    touched: Touched,
}

fn change(name: &'static str, a: &Cluster, edit: impl FnOnce(&mut Cluster)) -> Change {
    let mut b = a.clone();
    edit(&mut b);
    assert!(a != &b, "{name}: no change");
    let mut touched = Touched::default();
    for n in a.namespaces().chain(b.namespaces()) {
        if a.namespace(&n.name) != b.namespace(&n.name) {
            touched.namespaces.insert(n.name.clone());
        }
    }
    for p in a.pods().chain(b.pods()) {
        if a.pod(&p.id()) != b.pod(&p.id()) {
            touched.pods.insert(p.id());
        }
    }
    for p in a.policies().chain(b.policies()) {
        if a.policy(&p.reference()) != b.policy(&p.reference()) {
            touched.policies.insert(p.reference());
        }
    }
    Change {
        name,
        a: a.clone(),
        b,
        touched,
    }
}

fn changes(cluster: &Cluster, local: &LocalPods) -> Vec<Change> {
    let pods: Vec<&Pod> = cluster.pods().filter(|p| local.contains(p)).collect();
    let pod = pods[pods.len() / 2];
    let other = cluster
        .pods()
        .find(|p| p.namespace == pod.namespace && p.labels != pod.labels)
        .expect("a pod with other labels in the namespace");
    let ns = pod.namespace.clone();
    let other_ns = cluster
        .namespaces()
        .find(|n| n.name != ns && n.labels() != cluster.namespace_labels(&ns).as_ref())
        .expect("a namespace with other labels");
    let policy = cluster
        .policies_in(&ns)
        .find(|p| p.ingress.iter().any(|r| !r.ports.is_empty()))
        .expect("a policy with ingress ports")
        .clone();
    vec![
        change("pod removed/added", cluster, |c| {
            c.remove_pod(&pod.id());
        }),
        change("pod relabelled", cluster, |c| {
            c.pod_mut(&pod.id()).expect("pod").labels = other.labels.clone();
        }),
        change("namespace label added", cluster, |c| {
            let n = c.namespace_mut(&ns).expect("namespace");
            let mut labels = n.labels().clone();
            labels.insert("bench-touched", "yes").expect("label");
            n.set_labels(labels);
        }),
        change("namespace relabelled", cluster, |c| {
            let mut labels: Labels = other_ns.labels().clone();
            labels
                .insert(palisade_model::METADATA_NAME_LABEL, &ns)
                .expect("label");
            c.namespace_mut(&ns).expect("namespace").set_labels(labels);
        }),
        change("policy port changed", cluster, |c| {
            let mut p = policy.clone();
            let rule = p.ingress.iter_mut().find(|r| !r.ports.is_empty());
            rule.expect("rule").ports[0].port = PortSpec::Range {
                start: 1234,
                end: 1240,
            };
            c.upsert_policy(p);
        }),
        change("policy removed/added", cluster, |c| {
            c.remove_policy(&policy.reference());
        }),
        change("policy audit mode", cluster, |c| {
            let mut p = policy.clone();
            p.mode = Some(PolicyMode::Audit);
            c.upsert_policy(p);
        }),
    ]
}

/// Goes back and forth `trials` times each way, timing compile and diff;
/// `told`: the compiler is told what changed (`compile_touched`) instead
/// of comparing whole clusters.
fn run_change(change: &Change, local: &LocalPods, trials: usize, told: bool) {
    let mut compiler = Compiler::new();
    let mut known = compiler.compile(&change.a, local);
    let (mut compile_t, mut diff_t, mut total) = (Vec::new(), Vec::new(), Vec::new());
    let mut touched = BTreeSet::new();
    for i in 0..2 * trials {
        let cluster = if i % 2 == 0 { &change.b } else { &change.a };
        let t = Instant::now();
        let rs = match told {
            true => compiler.compile_touched(cluster, local, &change.touched),
            false => compiler.compile(cluster, local),
        };
        let c = t.elapsed();
        let changed = Changed::between(&known, &rs);
        total.push(t.elapsed());
        compile_t.push(c);
        diff_t.push(t.elapsed() - c);
        touched.insert((changed.sets.len(), changed.chains.len(), changed.maps.len()));
        std::hint::black_box(&changed);
        known = rs;
    }
    let name = format!("{}{}", change.name, if told { " (told)" } else { "" });
    println!(
        "  {:31} {}  {}  {}   {touched:?}",
        name,
        stats(compile_t),
        stats(diff_t),
        stats(total)
    );
}

fn run(label: &str, cluster: &Cluster, local: &LocalPods, trials: usize) {
    let only = std::env::var("PALISADE_BENCH_ONLY").unwrap_or_default();
    let local_count = cluster.pods().filter(|p| local.contains(p)).count();
    println!("{label}: {local_count} local pods");
    let full: Vec<Duration> = (0..3)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(compile(cluster, local));
            t.elapsed()
        })
        .collect();
    println!(
        "  full compile (fresh, 3 runs): median {:.1} ms",
        ms(median(full))
    );
    // The floor of handing out a new ruleset: `Compiler` returns a copy of
    // the one it keeps and patches (sets and chains are `Arc`-shared).
    let rs = compile(cluster, local);
    let copies: Vec<Duration> = (0..20)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(rs.clone());
            t.elapsed()
        })
        .collect();
    println!(
        "  ruleset copy (20 runs): median {:.2} ms",
        ms(median(copies))
    );
    println!(
        "  {:31} {:>17}  {:>17}  {:>17}   changed (sets, chains, maps)",
        "change", "compile ms", "diff ms", "total ms"
    );
    println!(
        "  {:31} {:>8} {:>8}  {:>8} {:>8}  {:>8} {:>8}",
        "", "median", "p90", "median", "p90", "median", "p90"
    );
    for change in changes(cluster, local) {
        if change.name.contains(only.as_str()) {
            run_change(&change, local, trials, false);
            run_change(&change, local, trials, true);
        }
    }
}

fn main() {
    let pods = env("PALISADE_BENCH_PODS", 10_000);
    let policies = env("PALISADE_BENCH_POLICIES", 1_000);
    let trials = env("PALISADE_BENCH_TRIALS", 10);
    let cluster = generate(&Params::new(pods, policies));
    println!(
        "{pods} pods, {policies} policies (palisade-synth, default seed), {trials} trials each way"
    );
    let share: BTreeSet<PodId> = cluster.pods().step_by(100).map(Pod::id).collect();
    run(
        "node share (every 100th pod)",
        &cluster,
        &LocalPods::Pods(share),
        trials,
    );
    run("every pod local", &cluster, &LocalPods::All, trials);
}
