//! The lab CLI on a real kernel (root only): bad input never weakens the
//! rules in force, and drift is repaired by the next reconcile.

use std::process::Command;

mod common;

use common::{can_run, Lab};

impl Lab {
    /// Up, with no periodic drift check: these tests show what the verbs
    /// alone do (lab_drift.rs tests the check).
    fn new(tag: &str) -> Lab {
        let lab = Lab::named(tag);
        let o = Command::new(env!("CARGO_BIN_EXE_palisade"))
            .args(["lab", "up"])
            .env("PALISADE_LAB", &lab.0)
            .env("PALISADE_LAB_DRIFT_CHECK", "0")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        lab
    }

    fn file(&self, name: &str, text: &str) -> String {
        let path = std::env::temp_dir().join(format!("{}-{name}", self.0));
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.run(&["down"]);
    }
}

const DENY: &str = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny}\nspec: {podSelector: {}}\n";

#[test]
fn an_invalid_policy_changes_nothing() {
    if !can_run(&[]) {
        return eprintln!("skipped: needs root, nft and ip");
    }
    let lab = Lab::new("inv");
    lab.ok(&["create", "ns", "ns-1"]);
    lab.ok(&["run", "web", "-n", "ns-1", "--", "sleep", "60"]);
    lab.ok(&["apply", "-f", &lab.file("deny.yaml", DENY), "-n", "ns-1"]);
    let before = lab.ok(&["ruleset"]);
    let broken = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: also}\nspec:\n  podSelector: {}\n  ingress:\n    - from:\n        - ipBlock: {cidr: 10.0.0.0/33}\n";
    let bad = format!("{}---\n{broken}", DENY.replace("name: deny", "name: open"));
    let o = lab.run(&["apply", "-f", &lab.file("bad.yaml", &bad), "-n", "ns-1"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("nothing was applied") && err.contains("ipBlock.cidr"),
        "{err}"
    );
    assert_eq!(
        lab.ok(&["ruleset"]),
        before,
        "the kernel ruleset is unchanged"
    );
    assert!(
        !lab.ok(&["get", "netpol", "-n", "ns-1"]).contains("open"),
        "the state is unchanged"
    );
}

/// Lab commands send deltas against what the lab last programmed (no
/// read-back: at 10,000 pods it costs more than the update); `lab repair`
/// reads the table back and repairs drift, as `lab up` does.
#[test]
fn drift_is_repaired_by_lab_repair() {
    if !can_run(&[]) {
        return eprintln!("skipped: needs root, nft and ip");
    }
    let lab = Lab::new("dr");
    lab.ok(&["create", "ns", "ns-1"]);
    lab.ok(&["run", "web", "-n", "ns-1", "--", "sleep", "60"]);
    lab.ok(&["apply", "-f", &lab.file("deny.yaml", DENY), "-n", "ns-1"]);
    let before = lab.ok(&["ruleset"]);
    let node = format!("pl-{}-node", lab.0);
    let ok = Command::new("ip")
        .args([
            "netns", "exec", &node, "nft", "flush", "map", "inet", "palisade", "ingress4",
        ])
        .status()
        .unwrap();
    assert!(ok.success());
    assert_ne!(
        lab.ok(&["ruleset"]),
        before,
        "someone removed the dispatch element"
    );
    lab.ok(&["label", "ns", "ns-1", "team=a"]);
    assert_ne!(
        lab.ok(&["ruleset"]),
        before,
        "an ordinary command trusts its known state"
    );
    lab.ok(&["repair"]);
    assert_eq!(lab.ok(&["ruleset"]), before, "lab repair restored it");
}

/// A delta the kernel rejects (the known state is stale) falls back to a
/// read-back, so a stale known state never leaves a wrong ruleset.
#[test]
fn a_stale_known_state_falls_back_to_read_back() {
    if !can_run(&[]) {
        return eprintln!("skipped: needs root, nft and ip");
    }
    let lab = Lab::new("st");
    lab.ok(&["create", "ns", "ns-1"]);
    lab.ok(&["run", "web", "-n", "ns-1", "--", "sleep", "60"]);
    lab.ok(&["apply", "-f", &lab.file("deny.yaml", DENY), "-n", "ns-1"]);
    let node = format!("pl-{}-node", lab.0);
    let deleted = Command::new("ip")
        .args([
            "netns", "exec", &node, "nft", "delete", "table", "inet", "palisade",
        ])
        .status()
        .unwrap();
    assert!(deleted.success());
    lab.ok(&[
        "apply",
        "-f",
        &lab.file("deny2.yaml", &DENY.replace("name: deny", "name: deny2")),
        "-n",
        "ns-1",
    ]);
    let ruleset = lab.ok(&["ruleset"]);
    assert!(ruleset.contains("ns-1/deny2"), "{ruleset}");
}

/// `lab import`: cluster state without network namespaces, compiled like
/// the lab's own pods (peers here; subjects with --local).
#[test]
fn imported_pods_are_state_only() {
    if !can_run(&[]) {
        return eprintln!("skipped: needs root, nft and ip");
    }
    let lab = Lab::new("im");
    let pods = "apiVersion: v1\nkind: Pod\nmetadata: {name: far, namespace: ns-1, labels: {app: db}}\nspec: {nodeName: node-7}\nstatus: {podIP: 10.9.0.7}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: near, namespace: ns-1, labels: {app: db}}\nspec: {nodeName: node-7}\nstatus: {podIP: 10.9.0.8}\n";
    let allow = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: from-db, namespace: ns-1}\nspec:\n  podSelector: {matchLabels: {run: web}}\n  ingress: [{from: [{podSelector: {matchLabels: {app: db}}}]}]\n";
    let file = lab.file("import.yaml", &format!("{pods}---\n{allow}"));
    let out = lab.ok(&["import", "-f", &file]);
    assert!(out.contains("2 pods"), "{out}");
    lab.ok(&["run", "web", "-n", "ns-1", "--", "sleep", "60"]);
    let ruleset = lab.ok(&["ruleset"]);
    assert!(
        ruleset.contains("10.9.0.7") && ruleset.contains("10.9.0.8"),
        "the imported pods are peers: {ruleset}"
    );
    let o = lab.run(&["exec", "far", "-n", "ns-1", "--", "true"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("state only"));
    let clash = lab.file(
        "clash.yaml",
        &pods
            .replace("name: far", "name: other")
            .replace("name: near", "name: other2"),
    );
    assert!(
        !lab.run(&["import", "-f", &clash]).status.success(),
        "addresses taken: nothing imported"
    );
    assert!(!lab.ok(&["get", "pods", "-n", "ns-1"]).contains("other"));
}
