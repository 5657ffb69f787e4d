//! `Reconciler` over a cluster the caller keeps and changes in place (the
//! lab's way), against the real kernel in a network namespace of its own:
//! after every change, sent as a delta with the objects named
//! (`reconcile_cluster_from` with `Touched`), the table reads back exactly
//! as a fresh compilation of the cluster wants it.

use palisade_compile::{compile, LocalPods, Ruleset, Touched};
use palisade_model::{Cluster, PodId, PolicyMode, PolicyRef};
use palisade_nft::{state::expected, ApplyKind, Nft};
use palisade_reconcile::{Outcome, Reconciler};
use palisade_synth::{generate, Params};

/// A network namespace `pal-rectest-<pid>`, deleted on drop.
struct Netns(String);

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = palisade_lab::netns::delete(&self.0);
    }
}

/// Root, `ip` and `nft`: else panics under CI, or says "skipped".
fn kernel_available() -> bool {
    let missing = palisade_lab::missing_requirements();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "the reconcile kernel test needs {}",
        missing.join(", ")
    );
    println!("skipped: needs {}", missing.join(", "));
    false
}

fn applied(outcome: Outcome) -> (Ruleset, ApplyKind) {
    match outcome {
        Outcome::Applied {
            ruleset, report, ..
        } => (*ruleset, report.kind),
        Outcome::NotReady => panic!("a kept cluster is always ready"),
    }
}

/// One change of the kept cluster, and the objects it touched.
fn change(c: &mut Cluster, step: usize) -> Touched {
    let mut t = Touched::default();
    let pods: Vec<PodId> = c.pods().map(|p| p.id()).collect();
    let policies: Vec<PolicyRef> = c.policies().map(|p| p.reference()).collect();
    match step % 4 {
        0 => {
            let (a, b) = (&pods[step * 7 % pods.len()], &pods[step * 13 % pods.len()]);
            let labels = c.pod(b).expect("pod").labels.clone();
            c.pod_mut(a).expect("pod").labels = labels;
            t.pods.insert(a.clone());
        }
        1 => {
            let id = &pods[step * 11 % pods.len()];
            c.remove_pod(id);
            t.pods.insert(id.clone());
        }
        2 => {
            let id = &policies[step % policies.len()];
            let mut p = c.policy(id).expect("policy").clone();
            p.mode = Some(PolicyMode::Audit);
            c.upsert_policy(p);
            t.policies.insert(id.clone());
        }
        _ => {
            let ns = c
                .namespaces()
                .nth(step % 3)
                .expect("namespace")
                .name
                .clone();
            let n = c.namespace_mut(&ns).expect("namespace");
            let mut labels = n.labels().clone();
            labels.insert("team", &format!("t{step}")).expect("label");
            n.set_labels(labels);
            t.namespaces.insert(ns);
        }
    }
    t
}

#[test]
fn a_kept_cluster_reconciles_by_deltas_to_what_a_fresh_compile_wants() {
    if !kernel_available() {
        return;
    }
    let ns = Netns(format!("pal-rectest-{}", std::process::id()));
    palisade_lab::netns::create(&ns.0).expect("ip netns add");
    let local = LocalPods::Node("node-0".into());
    let reconciler = Reconciler::new(Nft::new("palisade_rectest", Some(&ns.0)), local.clone());
    let mut p = Params::new(300, 60);
    p.namespaces = 3;
    let mut cluster = generate(&p);
    let (mut known, kind) = applied(reconciler.reconcile_cluster(&cluster).expect("full load"));
    assert_eq!(kind, ApplyKind::Full);
    for step in 0..12 {
        let touched = change(&mut cluster, step);
        let outcome = reconciler.reconcile_cluster_from(&cluster, Some(&touched), &known);
        let (rs, kind) = applied(outcome.unwrap_or_else(|e| panic!("step {step}: {e}")));
        assert_ne!(kind, ApplyKind::Full, "step {step}: a delta, not a reload");
        let fresh = compile(&cluster, &local);
        assert!(rs == fresh, "step {step}: the ruleset of a fresh compile");
        let table = reconciler.nft.read().expect("read back").expect("table");
        assert_eq!(table, expected(&fresh).expect("expected"), "step {step}");
        known = rs;
    }
    reconciler.nft.delete_table().expect("delete table");
}
