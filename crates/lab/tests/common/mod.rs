//! Shared harness for the root-gated lab tests.
//!
//! Each test makes a [`Lab`] with its own prefix; dropping it (also on panic)
//! stops the workloads and tears down everything with that prefix. Workloads
//! are this test binary itself, re-run as `<exe> --exact helper` with
//! `PALISADE_LAB_HELPER` saying what to be (see [`helper_main`]).

#![allow(dead_code)]

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use palisade_lab::process::{self, ProcessHandle, ProcessSpec};
use palisade_lab::{http_client, http_echo, serve, Node, Outcome, ProbeError};

/// Env var that turns the `helper` test into a workload.
pub const HELPER_ENV: &str = "PALISADE_LAB_HELPER";

/// True if this machine can run lab tests; under CI, a missing requirement is a failure.
pub fn gate() -> bool {
    let missing = palisade_lab::missing_requirements();
    if missing.is_empty() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "lab tests need {} (CI is set, so this is a failure, not a skip)",
            missing.join(", ")
        );
    }
    println!("skipped: lab tests need {}", missing.join(", "));
    false
}

/// Parses an address literal.
pub fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

/// A lab with a unique prefix, torn down on drop.
pub struct Lab {
    pub node: Node,
    pub prefix: String,
    pub logs: PathBuf,
    workloads: Vec<ProcessHandle>,
}

impl Lab {
    /// A fresh node with prefix `plt<pid>x<n>-` (unique across concurrent test binaries).
    pub fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let prefix = format!(
            "plt{}x{}-",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let logs = std::env::temp_dir().join(&prefix);
        std::fs::create_dir_all(&logs).expect("log dir");
        let node = Node::create(&prefix).expect("create node");
        Lab {
            node,
            prefix,
            logs,
            workloads: Vec::new(),
        }
    }

    /// Starts this binary as a helper in `netns` and waits until it says it is serving.
    pub fn start_helper(&mut self, netns: &str, mode: &str) -> ProcessHandle {
        let log = self
            .logs
            .join(format!("{netns}-{}.log", mode.replace([':', ','], "_")));
        let handle = process::spawn(&helper_spec(netns, mode, &log)).expect("spawn helper");
        self.workloads.push(handle);
        wait_for_line(&log, "serving", Duration::from_secs(10));
        handle
    }

    /// Installs an nft ruleset in the node netns (as the policy engine would).
    pub fn node_nft(&self, script: &str) {
        if let Err(e) = self.node.nft_apply(script) {
            panic!("nft rejected:\n{script}\n{e}");
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for handle in &self.workloads {
            let _ = handle.stop(Duration::from_millis(500));
        }
        if let Err(e) = palisade_lab::teardown(&self.prefix) {
            eprintln!("teardown {}: {e}", self.prefix);
        }
        let _ = std::fs::remove_dir_all(&self.logs);
    }
}

/// The spec that runs this test binary as helper `mode` inside `netns`.
pub fn helper_spec(netns: &str, mode: &str, log: &Path) -> ProcessSpec {
    ProcessSpec {
        cwd: None,
        netns: netns.to_owned(),
        program: std::env::current_exe()
            .unwrap()
            .to_string_lossy()
            .into_owned(),
        args: ["--exact", "helper", "--nocapture", "--test-threads=1"]
            .map(String::from)
            .to_vec(),
        env: vec![(HELPER_ENV.to_owned(), mode.to_owned())],
        log: log.to_owned(),
    }
}

/// Waits until `log` contains `needle`.
pub fn wait_for_line(log: &Path, needle: &str, limit: Duration) {
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.contains(needle) {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "no {needle:?} in {} after {limit:?}:\n{text}",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Outcomes, panicking on probe errors (they are never expected where this is used).
pub fn outcomes(results: Vec<Result<Outcome, ProbeError>>) -> Vec<Outcome> {
    results
        .into_iter()
        .map(|r| r.expect("probe error"))
        .collect()
}

/// The body of the `helper` test: a no-op unless `PALISADE_LAB_HELPER` is set.
///
/// Modes: `serve` (TCP+UDP 80,81), `http-echo:PORT`, `http-post:URL:DATA`
/// (prints the response like `wget -S` plus the body), `spawn-sleep:NETNS`
/// (starts `sleep 600` detached in NETNS, prints its handle as JSON, exits).
pub fn helper_main() {
    let Ok(mode) = std::env::var(HELPER_ENV) else {
        return;
    };
    let (kind, arg) = mode.split_once(':').unwrap_or((mode.as_str(), ""));
    match kind {
        "serve" => {
            let servers = serve::bind(&[80, 81], &[80, 81]).expect("bind");
            println!("serving {:?}", servers.local_addrs());
            panic!("server stopped: {}", servers.run());
        }
        "http-echo" => {
            let echo = http_echo::bind(arg.parse().expect("port")).expect("bind");
            println!("serving {:?}", echo.local_addrs());
            panic!("http-echo stopped: {}", echo.run());
        }
        "http-post" => {
            let (url, data) = arg.rsplit_once('|').expect("URL|DATA");
            match http_client::probe(url, Some(data), Duration::from_secs(2)) {
                Ok(response) => print!(
                    "{}{}",
                    http_client::format_like_wget_s(&response),
                    response.body_text()
                ),
                Err(e) => println!("error: {e}"),
            }
        }
        "spawn-sleep" => {
            let spec = ProcessSpec {
                cwd: None,
                netns: arg.to_owned(),
                program: "sleep".into(),
                args: vec!["600".into()],
                env: vec![],
                log: "/dev/null".into(),
            };
            let handle = process::spawn(&spec).expect("spawn");
            println!("\nHANDLE {}", serde_json::to_string(&handle).unwrap());
        }
        other => panic!("unknown helper mode {other}"),
    }
}
