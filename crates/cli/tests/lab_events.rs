//! `palisade lab events` on the walkthrough (root only): after the deny
//! step the busybox attempt is attributed to ns-1/deny-all-by-default;
//! after the allow step, to ns-1/allow (which isolates http-echo on
//! ingress and does not admit busybox yet). Traffic that gets through is
//! never recorded.

use std::time::{Duration, Instant};

mod common;

use common::{can_run, Lab};

impl Lab {
    fn apply(&self, file: &str) {
        let path = format!(
            "{}/../../examples/walkthrough/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        self.ok(&["apply", "-f", &path, "-n", "ns-1"]);
    }

    /// busybox -> http-echo through the Service; true when it got a reply.
    fn probe(&self) -> bool {
        let exe = env!("CARGO_BIN_EXE_palisade");
        let url = "http://http-echo.ns-1.svc.cluster.local/test";
        let args = [
            "exec",
            "busybox",
            "-n",
            "ns-1",
            "--",
            exe,
            "probe",
            url,
            "--timeout",
            "1s",
        ];
        self.run(&args).status.success()
    }

    /// The JSON records so far (waits up to 3 s for at least `n`).
    fn events(&self, n: usize) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            let out = self.ok(&["events", "-o", "json"]);
            let records: Vec<serde_json::Value> = out
                .lines()
                .map(|l| serde_json::from_str(l).expect("one JSON record per line"))
                .collect();
            if records.len() >= n || Instant::now() > deadline {
                return records;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.run(&["down"]);
    }
}

#[test]
fn walkthrough_denials_are_attributed_to_the_isolating_policy() {
    if !can_run(&[]) {
        return eprintln!("skipped: needs root, nft, ip and setsid");
    }
    let lab = Lab(format!("ev{}", std::process::id() % 100000));
    let exe = env!("CARGO_BIN_EXE_palisade");
    lab.ok(&["up"]);
    lab.ok(&["create", "ns", "ns-1"]);
    let echo = [
        "run",
        "http-echo",
        "-n",
        "ns-1",
        "--labels",
        "run=http-echo,app=http-echo",
    ];
    lab.ok(&[
        &echo[..],
        &["--port", "80", "--", exe, "http-echo", "--port", "80"],
    ]
    .concat());
    lab.ok(&["expose", "http-echo", "-n", "ns-1", "--port", "80"]);
    lab.ok(&[
        "run",
        "busybox",
        "-n",
        "ns-1",
        "--labels",
        "run=busybox",
        "--",
        "sleep",
        "infinity",
    ]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(lab.probe(), "no policy: allowed");
    assert_eq!(
        lab.events(0),
        Vec::<serde_json::Value>::new(),
        "nothing denied yet"
    );

    lab.apply("deny-all-by-default-network-policy.yaml");
    assert!(!lab.probe(), "deny-all: blocked");
    let got = lab.events(1);
    // One record per attempt and second (a SYN retransmitted in a later
    // second is recorded again, with the same 5-tuple).
    assert!(!got.is_empty() && got.len() <= 2, "{got:#?}");
    assert!(got.iter().all(|r| r["src"] == got[0]["src"]), "{got:#?}");
    let r = &got[0];
    assert_eq!(r["mode"], "deny");
    assert_eq!(r["direction"], "ingress");
    assert_eq!(r["protocol"], "TCP");
    assert_eq!(r["src"]["pod"], "busybox");
    assert_eq!(r["src"]["namespace"], "ns-1");
    assert_eq!(r["dst"]["pod"], "http-echo");
    assert_eq!(r["dst"]["port"], 80, "after Service DNAT: the pod's port");
    assert_eq!(
        r["policies"],
        serde_json::json!(["ns-1/deny-all-by-default"])
    );

    lab.ok(&["delete", "netpol", "deny-all-by-default", "-n", "ns-1"]);
    lab.apply("allow-network-policy.yaml");
    assert!(!lab.probe(), "busybox lacks app=busybox: blocked");
    let before = got.len();
    let got = lab.events(before + 1);
    assert!(got.len() > before, "{got:#?}");
    let last = got.last().unwrap();
    assert_eq!(last["src"]["pod"], "busybox");
    assert_eq!(last["dst"]["pod"], "http-echo");
    assert_eq!(last["policies"], serde_json::json!(["ns-1/allow"]));

    let table = lab.ok(&["events", "-n", "ns-1"]);
    assert!(table.starts_with("TIME"), "{table}");
    assert!(
        table.contains("ns-1/busybox:") && table.contains("ns-1/allow"),
        "{table}"
    );
    assert_eq!(
        lab.ok(&["events", "-n", "other"]).lines().count(),
        1,
        "header only"
    );
}

/// The log is bounded: past `PALISADE_LAB_EVENTS_MAX_BYTES` the recorder
/// rotates `events.jsonl` to `events.jsonl.1`; `lab events` reads both.
#[test]
fn the_event_log_rotates_and_is_read_across_the_rotation() {
    if !can_run(&[]) {
        return eprintln!("skipped: needs root, nft, ip and setsid");
    }
    let lab = Lab(format!("er{}", std::process::id() % 100000));
    let exe = env!("CARGO_BIN_EXE_palisade");
    let up = std::process::Command::new(exe)
        .args(["lab", "up"])
        .env("PALISADE_LAB", &lab.0)
        .env("PALISADE_LAB_EVENTS_MAX_BYTES", "700")
        .output()
        .unwrap();
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    lab.ok(&["create", "ns", "ns-1"]);
    lab.ok(&[
        "run",
        "http-echo",
        "-n",
        "ns-1",
        "--labels",
        "run=http-echo,app=http-echo",
        "--port",
        "80",
        "--",
        exe,
        "http-echo",
        "--port",
        "80",
    ]);
    lab.ok(&["expose", "http-echo", "-n", "ns-1", "--port", "80"]);
    lab.ok(&[
        "run",
        "busybox",
        "-n",
        "ns-1",
        "--labels",
        "run=busybox",
        "--",
        "sleep",
        "infinity",
    ]);
    lab.apply("deny-all-by-default-network-policy.yaml");
    let dir = std::path::PathBuf::from("/run/palisade/lab").join(&lab.0);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !dir.join("events.jsonl.1").exists() || lab.events(0).len() < 3 {
        assert!(Instant::now() < deadline, "no rotation");
        assert!(!lab.probe());
    }
    let lines = |name: &str| -> Vec<String> {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        assert!(text.len() <= 700, "{name}: {} bytes", text.len());
        text.lines().map(String::from).collect()
    };
    let (previous, current) = (lines("events.jsonl.1"), lines("events.jsonl"));
    let shown: Vec<String> = lab
        .ok(&["events", "-o", "json"])
        .lines()
        .map(String::from)
        .collect();
    // The recorder may append between the reads: what was shown starts
    // with the previous file, then the current one's records.
    assert!(
        shown.len() >= previous.len() + current.len().min(1),
        "{shown:?}"
    );
    assert_eq!(shown[..previous.len()], previous[..]);
    assert!(shown[previous.len()..]
        .starts_with(&current[..current.len().min(shown.len() - previous.len())]));
}
