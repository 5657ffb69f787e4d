//! `palisade lab dashboard` on a real lab (root only), over plain HTTP on
//! loopback: the API follows the lab's state file, and records appended to
//! the lab's `events.jsonl` are served on `/flows` and streamed live.
//! (The page itself is tested in a browser: scripts/browser-test.sh.)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::can_run;

/// A lab of this test's own, and the dashboard serving it; both removed on drop.
struct Served {
    lab: String,
    dashboard: Option<Child>,
    addr: String,
}

fn palisade(lab: &str, args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["lab", "--lab", lab])
        .args(args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "lab {args:?}: {err}");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

impl Served {
    fn start(lab: String) -> Served {
        palisade(&lab, &["up"]);
        let mut served = Served {
            lab,
            dashboard: None,
            addr: String::new(),
        };
        palisade(&served.lab, &["create", "ns", "ns-1"]);
        let run = ["run", "busybox", "-n", "ns-1", "--", "sleep", "infinity"];
        palisade(&served.lab, &run);
        let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
            .args([
                "lab",
                "--lab",
                &served.lab,
                "dashboard",
                "--listen",
                "127.0.0.1:0",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        served.dashboard = Some(child);
        let start = line.find("http://").expect("the address is printed") + 7;
        let end = line[start..].find('/').unwrap() + start;
        served.addr = line[start..end].to_string();
        served
    }

    /// GET `target`; the body.
    fn get(&self, target: &str) -> String {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        let req = format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert!(out.starts_with("HTTP/1.1 200"), "{target}: {out}");
        out.split_once("\r\n\r\n").unwrap().1.to_string()
    }

    fn events(&self) -> std::path::PathBuf {
        std::path::Path::new("/run/palisade/lab")
            .join(&self.lab)
            .join("events.jsonl")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(mut child) = self.dashboard.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = Command::new(env!("CARGO_BIN_EXE_palisade"))
            .args(["lab", "--lab", &self.lab, "down"])
            .output();
    }
}

fn record(port: u16) -> String {
    format!(
        r#"{{"time":"2026-11-24T20:00:00.123Z","mode":"deny","direction":"ingress","protocol":"TCP","src":{{"ip":"192.0.2.7","port":{port}}},"dst":{{"namespace":"ns-1","pod":"busybox","ip":"10.244.1.10","port":80}},"policies":["ns-1/deny"]}}"#
    )
}

/// Polls `f` until it returns true or 5 s pass.
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_lab_dashboard_follows_the_state_file_and_the_event_log() {
    if !can_run(&[]) {
        eprintln!("skipped: needs root, nft and ip");
        return;
    }
    let served = Served::start(format!("d{}", std::process::id() % 100000));
    let cluster = served.get("/api/cluster");
    assert!(cluster.contains(r#""name":"busybox""#), "{cluster}");
    assert!(served
        .get("/")
        .contains("<title>palisade dashboard</title>"));

    // A policy applied to the lab shows up without restarting the dashboard.
    let deny = std::env::temp_dir().join(format!("{}-deny.yaml", served.lab));
    let text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny}\nspec: {podSelector: {}}\n";
    std::fs::write(&deny, text).unwrap();
    palisade(
        &served.lab,
        &["apply", "-f", deny.to_str().unwrap(), "-n", "ns-1"],
    );
    std::fs::remove_file(&deny).unwrap();
    eventually("the policy in /api/cluster", || {
        served.get("/api/cluster").contains(r#""name":"deny""#)
    });
    let pod = served.get("/api/pod?namespace=ns-1&name=busybox");
    assert!(pod.contains(r#""ingress":["ns-1/deny"]"#), "{pod}");

    // Records appended to the event log: listed, and streamed live.
    let mut stream = TcpStream::connect(&served.addr).unwrap();
    stream
        .write_all(b"GET /flows/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    read_until(&mut stream, ": flows\n\n"); // subscribed
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(served.events())
        .unwrap();
    writeln!(log, "{}", record(40001)).unwrap();
    eventually("the record on /flows", || {
        served.get("/flows?namespace=ns-1").contains("40001")
    });
    let got = read_until(&mut stream, r#""port":40001"#);
    assert!(got.contains("event: flow\n"), "{got}");
}

/// Reads `s` until `end` has arrived (5 s read timeout); what was read.
fn read_until(s: &mut TcpStream, end: &str) -> String {
    let (mut got, mut buf) = (Vec::new(), [0u8; 4096]);
    while !String::from_utf8_lossy(&got).contains(end) {
        let n = s
            .read(&mut buf)
            .unwrap_or_else(|e| panic!("waiting for {end}: {e}"));
        assert!(n > 0, "stream closed before {end}");
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}
