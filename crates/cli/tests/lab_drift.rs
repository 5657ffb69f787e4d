//! Everything the lab owns on its node comes back (root only): `lab
//! repair` rebuilds the policy table, the Service table and the hosts
//! files after `nft flush ruleset`; a change made while the Service table
//! is gone rebuilds it; and the node's periodic drift check repairs a
//! deleted base chain or a flushed dispatch map without being asked.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

mod common;

use common::{can_run, Lab};

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.run(&["down"]);
    }
}

/// Only `run=client` may reach http-echo.
const ALLOW_CLIENT: &str = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: allow-client}\nspec:\n  podSelector: {matchLabels: {app: http-echo}}\n  ingress: [{from: [{podSelector: {matchLabels: {run: client}}}]}]\n";

/// `palisade lab ARGS` with extra environment (the controller `lab up`
/// starts inherits it).
fn run_env(lab: &Lab, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .arg("lab")
        .args(args)
        .env("PALISADE_LAB", &lab.0)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// A lab with http-echo behind a Service, a client it admits and an
/// other pod it does not.
fn lab_with_service(tag: &str, drift_check: &str) -> Lab {
    let lab = Lab::named(tag);
    let o = run_env(&lab, &["up"], &[("PALISADE_LAB_DRIFT_CHECK", drift_check)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let exe = env!("CARGO_BIN_EXE_palisade");
    lab.ok(&["create", "ns", "ns-1"]);
    lab.ok(&[
        "run",
        "http-echo",
        "-n",
        "ns-1",
        "--labels",
        "app=http-echo",
        "--port",
        "80",
        "--",
        exe,
        "http-echo",
        "--port",
        "80",
    ]);
    lab.ok(&["expose", "http-echo", "-n", "ns-1", "--port", "80"]);
    for name in ["client", "other"] {
        lab.ok(&["run", name, "-n", "ns-1", "--", "sleep", "infinity"]);
    }
    let policy = std::env::temp_dir().join(format!("{}-allow.yaml", lab.0));
    std::fs::write(&policy, ALLOW_CLIENT).unwrap();
    lab.ok(&["apply", "-f", &policy.display().to_string(), "-n", "ns-1"]);
    let _ = std::fs::remove_file(&policy);
    lab
}

/// `from` -> http-echo through the Service's name; true when it got a reply.
fn probe(lab: &Lab, from: &str) -> bool {
    let exe = env!("CARGO_BIN_EXE_palisade");
    let url = "http://http-echo.ns-1.svc.cluster.local/";
    lab.run(&[
        "exec",
        from,
        "-n",
        "ns-1",
        "--",
        exe,
        "probe",
        url,
        "--timeout",
        "1s",
    ])
    .status
    .success()
}

/// Waits (up to `limit`) for the client to get through and the other pod
/// not to.
fn serves_and_enforces(lab: &Lab, limit: Duration) -> (bool, bool) {
    let deadline = Instant::now() + limit;
    loop {
        let (client, other) = (probe(lab, "client"), probe(lab, "other"));
        if (client && !other) || Instant::now() > deadline {
            return (client, other);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn controller_log(lab: &Lab) -> String {
    std::fs::read_to_string(format!("/run/palisade/lab/{}/logs/controller.log", lab.0))
        .unwrap_or_default()
}

fn node_nft(lab: &Lab, args: &[&str]) {
    let node = format!("pl-{}-node", lab.0);
    let ok = Command::new("ip")
        .args(["netns", "exec", &node, "nft"])
        .args(args)
        .status()
        .unwrap();
    assert!(ok.success(), "nft {args:?}");
}

#[test]
fn a_flushed_node_comes_back_whole() {
    if !can_run(&[]) {
        return eprintln!("skipped: needs root, nft and ip");
    }
    // No periodic check: what comes back comes back by the verbs alone.
    let lab = lab_with_service("fl", "0");
    assert_eq!(
        serves_and_enforces(&lab, Duration::ZERO),
        (true, false),
        "before"
    );

    // A change made while everything is gone: the Service table goes in
    // with it (each change replaces it whole).
    node_nft(&lab, &["flush", "ruleset"]);
    // (An ordinary change trusts what it last programmed: the policy
    // table waits for lab repair or the drift check.)
    lab.ok(&["label", "ns", "ns-1", "team=a"]);
    assert!(
        probe(&lab, "client"),
        "a change after the flush rebuilt the Service table"
    );

    // lab repair: the policy table, the Service table and the hosts files.
    node_nft(&lab, &["flush", "ruleset"]);
    let hosts = format!("/etc/netns/pl-{}-pod-ns-1_client/hosts", lab.0);
    std::fs::write(&hosts, "127.0.0.1 localhost\n").unwrap();
    assert!(!probe(&lab, "client"), "no Service table, no name");
    lab.ok(&["repair"]);
    let ruleset = lab.ok(&["ruleset"]);
    assert!(
        ruleset.contains("ns-1/allow-client ingress rule 0"),
        "lab repair restored the policy table: {ruleset}"
    );
    assert_eq!(
        serves_and_enforces(&lab, Duration::from_secs(2)),
        (true, false),
        "after lab repair: the Service by name again, and the policy enforced"
    );
}

#[test]
fn drift_is_repaired_without_being_asked() {
    if !can_run(&[]) {
        return eprintln!("skipped: needs root, nft and ip");
    }
    let lab = lab_with_service("dc", "1");
    // What the drift may touch, listed (the whole ruleset also holds
    // counters and the flow log's rate-limit set, which traffic changes).
    let listed = |what: &[&str]| -> String {
        let node = format!("pl-{}-node", lab.0);
        let o = Command::new("ip")
            .args(["netns", "exec", &node, "nft", "list"])
            .args(what)
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let chain = ["chain", "inet", "palisade", "base_fwd_ingress"];
    let map = ["map", "inet", "palisade", "ingress4"];
    let (chain_before, map_before) = (listed(&chain), listed(&map));
    assert!(chain_before.contains("vmap @ingress4"), "{chain_before}");
    assert!(map_before.contains("elements"), "{map_before}");
    let wait_repaired = |what: &[&str], before: &str| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while listed(what) != before {
            assert!(
                Instant::now() < deadline,
                "{what:?} was not repaired: now\n{}\nthe controller's log:\n{}",
                listed(what),
                controller_log(&lab)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    node_nft(
        &lab,
        &["delete", "chain", "inet", "palisade", "base_fwd_ingress"],
    );
    assert!(
        probe(&lab, "other"),
        "no ingress base chain: nothing denied"
    );
    wait_repaired(&chain, &chain_before);
    assert_eq!(
        serves_and_enforces(&lab, Duration::from_secs(2)),
        (true, false),
        "the base chain is back: denied again"
    );

    node_nft(&lab, &["flush", "map", "inet", "palisade", "ingress4"]);
    assert!(probe(&lab, "other"), "no dispatch: nothing denied");
    wait_repaired(&map, &map_before);
    assert_eq!(
        serves_and_enforces(&lab, Duration::from_secs(2)),
        (true, false)
    );

    node_nft(
        &lab,
        &["delete", "table", "inet", &format!("pl-{}-svc", lab.0)],
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !probe(&lab, "client") {
        assert!(
            Instant::now() < deadline,
            "the Service table was not repaired"
        );
    }
    let log = controller_log(&lab);
    assert!(log.contains("drift check: the policy table"), "{log}");
    assert!(log.contains("drift check: the Service table"), "{log}");
}
