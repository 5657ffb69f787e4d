//! The lab's controller on a real kernel (root only): commands that change
//! the lab go through it; it programs the kernel and saves the state before
//! replying; a failed command leaves kernel, state and the controller's
//! memory as they were; a killed controller is reported and restarted;
//! concurrent commands are serialised.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{can_run, Lab};

impl Lab {
    fn up(tag: &str) -> Lab {
        let lab = Lab::named(tag);
        lab.ok(&["up"]);
        lab
    }

    fn dir(&self) -> PathBuf {
        PathBuf::from("/run/palisade/lab").join(&self.0)
    }

    /// The controller's pid, from its pid file.
    fn controller_pid(&self) -> u32 {
        let text = std::fs::read_to_string(self.dir().join("controller.pid")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["pid"].as_u64().unwrap() as u32
    }

    /// `palisade lab ARGS` with `stdin` on its standard input.
    fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
            .arg("lab")
            .args(args)
            .env("PALISADE_LAB", &self.0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.as_bytes()).unwrap();
        drop(input);
        child.wait_with_output().unwrap()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.run(&["down"]);
    }
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| !s.contains(") Z ") && !s.contains(") X "))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const ALLOW_DB: &str = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: from-db}\nspec:\n  podSelector: {matchLabels: {run: web}}\n  ingress: [{from: [{podSelector: {matchLabels: {app: db}}}]}]\n";

#[test]
fn a_command_through_the_controller_changes_kernel_and_state() {
    if !can_run(&[]) {
        return eprintln!("skipped: needs root, nft and ip");
    }
    let lab = Lab::up("cc");
    let pid = lab.controller_pid();
    assert!(alive(pid), "lab up started the controller");
    lab.ok(&["create", "ns", "ns-1"]);
    lab.ok(&["run", "web", "-n", "ns-1", "--", "sleep", "60"]);
    // The policy comes on the client's standard input.
    let o = lab.run_with_stdin(&["apply", "-f", "-", "-n", "ns-1"], ALLOW_DB);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("from-db created"));
    // A pod started by the controller runs detached, in the caller's
    // working directory and with the caller's environment.
    let cwd = std::env::temp_dir();
    let o = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["lab", "run", "db", "-n", "ns-1", "--"])
        .args(["sh", "-c", "pwd; echo mark=$PALISADE_TEST_MARK; sleep 60"])
        .env("PALISADE_LAB", &lab.0)
        .env("PALISADE_TEST_MARK", "from-the-caller")
        .current_dir(&cwd)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let deadline = Instant::now() + Duration::from_secs(5);
    let logs = loop {
        let logs = lab.ok(&["logs", "db", "-n", "ns-1"]);
        if logs.contains("mark=") || Instant::now() > deadline {
            break logs;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        logs.contains(&cwd.display().to_string()) && logs.contains("mark=from-the-caller"),
        "{logs}"
    );
    let db_ip = lab
        .ok(&["get", "pods", "-n", "ns-1"])
        .lines()
        .find(|l| l.starts_with("db "))
        .and_then(|l| l.split_whitespace().nth(2))
        .unwrap()
        .to_string();
    assert!(!lab.ok(&["ruleset"]).contains(&db_ip), "db is no peer yet");

    let o = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["lab", "label", "pod", "db", "-n", "ns-1", "app=db"])
        .env("PALISADE_LAB", &lab.0)
        .env("PALISADE_LAB_VERBOSE", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("controller: command run in")
            && stderr(&o).contains("the node realizing it"),
        "the controller ran it: {}",
        stderr(&o)
    );
    assert!(lab.ok(&["ruleset"]).contains(&db_ip), "the kernel has it");
    assert!(lab.ok(&["get", "pods", "-n", "ns-1"]).contains("app=db"));
    let state = std::fs::read_to_string(lab.dir().join("state.json")).unwrap();
    assert!(state.contains("\"app\":\"db\""), "state.json has it");
    assert!(lab.dir().join("known.json").exists());
    // One source of truth: the API holds what the verbs made.
    // (objects.json is written off the change path, shortly after.)
    let deadline = Instant::now() + Duration::from_secs(5);
    let objects = loop {
        let objects = std::fs::read_to_string(lab.dir().join("objects.json")).unwrap_or_default();
        if objects.contains("\"app\":\"db\"") || Instant::now() > deadline {
            break objects;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(objects.contains("\"app\":\"db\"") && objects.contains("from-db"));
    assert_eq!(lab.controller_pid(), pid, "one controller served all");
}

#[test]
fn a_rejected_command_changes_neither_kernel_nor_state() {
    if !can_run(&[]) {
        return eprintln!("skipped: needs root, nft and ip");
    }
    let lab = Lab::up("rj");
    lab.ok(&["create", "ns", "ns-1"]);
    lab.ok(&["run", "web", "-n", "ns-1", "--", "sleep", "60"]);
    lab.ok(&["run", "db", "-n", "ns-1", "--", "sleep", "60"]);
    let o = lab.run_with_stdin(&["apply", "-f", "-", "-n", "ns-1"], ALLOW_DB);
    assert!(o.status.success(), "{}", stderr(&o));
    let ruleset = lab.ok(&["ruleset"]);
    let pods = lab.ok(&["get", "pods", "-n", "ns-1"]);
    // The first change is made in the controller's memory before the
    // second is refused: the whole command must be undone.
    let o = lab.run(&["label", "pod", "db", "-n", "ns-1", "app=db", "run=other"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--overwrite is false"),
        "{}",
        stderr(&o)
    );
    // A policy the API server would reject.
    let bad = ALLOW_DB.replace(
        "{podSelector: {matchLabels: {app: db}}}",
        "{podSelector: {}}, {ipBlock: {cidr: 10.0.0.0/33}}",
    );
    let o = lab.run_with_stdin(&["apply", "-f", "-", "-n", "ns-1"], &bad);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("nothing was applied"), "{}", stderr(&o));
    assert_eq!(lab.ok(&["ruleset"]), ruleset, "the kernel is unchanged");
    assert_eq!(
        lab.ok(&["get", "pods", "-n", "ns-1"]),
        pods,
        "the state too"
    );
    // The next command saves the controller's state: nothing of the
    // refused ones may come back with it.
    lab.ok(&["label", "ns", "ns-1", "team=a"]);
    let after = lab.ok(&["get", "pods", "-n", "ns-1"]);
    assert!(!after.contains("app=db"), "{after}");
    assert!(
        !lab.ok(&["ruleset"]).contains("10.0.0.0/33"),
        "nothing of the bad policy"
    );
}

#[test]
fn a_killed_controller_is_reported_and_restarted() {
    if !can_run(&[]) {
        return eprintln!("skipped: needs root, nft and ip");
    }
    let lab = Lab::up("kc");
    lab.ok(&["create", "ns", "ns-1"]);
    let pid = lab.controller_pid();
    let killed = Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = lab.run(&["create", "ns", "ns-2"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("controller (pid {pid}) has stopped")) && err.contains("lab repair"),
        "{err}"
    );
    let o = lab.run(&["repair"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("restarting it"), "{}", stderr(&o));
    let again = lab.controller_pid();
    assert!(again != pid && alive(again));
    lab.ok(&["create", "ns", "ns-2"]);
    let ns = lab.ok(&["get", "ns"]);
    assert!(ns.contains("ns-1") && ns.contains("ns-2"), "{ns}");
    lab.ok(&["down"]);
    assert!(!alive(again), "lab down stops the controller");
}

#[test]
fn concurrent_commands_are_serialised() {
    if !can_run(&[]) {
        return eprintln!("skipped: needs root, nft and ip");
    }
    let lab = Lab::up("cs");
    lab.ok(&["create", "ns", "ns-1"]);
    lab.ok(&["run", "web", "-n", "ns-1", "--", "sleep", "60"]);
    let outputs: Vec<Output> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let lab = &lab;
                s.spawn(move || lab.run(&["label", "pod", "web", "-n", "ns-1", &format!("k{i}=v")]))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for o in &outputs {
        assert!(o.status.success(), "{}", stderr(o));
    }
    let pods = lab.ok(&["get", "pods", "-n", "ns-1"]);
    for i in 0..8 {
        assert!(pods.contains(&format!("k{i}=v")), "label {i} kept: {pods}");
    }
}

/// Two `lab up` at once: one controller holds the lab, and the pid file
/// names it (the one that lost the lock exits).
#[test]
fn two_ups_at_once_leave_one_controller() {
    if !can_run(&[]) {
        return eprintln!("skipped: needs root, nft and ip");
    }
    let lab = Lab::named("tu");
    let outputs: Vec<Output> = std::thread::scope(|s| {
        let a = s.spawn(|| lab.run(&["up"]));
        let b = s.spawn(|| lab.run(&["up"]));
        vec![a.join().unwrap(), b.join().unwrap()]
    });
    for o in &outputs {
        assert!(o.status.success(), "{}", stderr(o));
    }
    let pid = lab.controller_pid();
    assert!(alive(pid));
    lab.ok(&["create", "ns", "ns-1"]);
    let log = std::fs::read_to_string(lab.dir().join("logs/controller.log")).unwrap();
    assert_eq!(
        log.matches("(pid ").count(),
        1,
        "one controller started: {log}"
    );
    assert_eq!(lab.controller_pid(), pid);
}
