//! Golden tests of the `palisade` binary: what a user sees, and exit codes.

use std::path::PathBuf;
use std::process::{Command, Output};

fn walkthrough(file: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/walkthrough");
    root.join(file).to_string_lossy().into_owned()
}

fn palisade(args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_palisade"));
    cmd.args(args).stdin(std::process::Stdio::piped());
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("palisade runs");
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(pipe);
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Diagnostics name the file; strip the machine-specific directory.
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).replace(&walkthrough(""), "<walkthrough>/")
}

fn check(files: &[&str], stdin: Option<&str>) -> Output {
    let mut args = vec!["check"];
    let paths: Vec<String> = files
        .iter()
        .map(|f| {
            if *f == "-" {
                "-".into()
            } else {
                walkthrough(f)
            }
        })
        .collect();
    for p in &paths {
        args.extend(["-f", p]);
    }
    args.extend([
        "--from",
        "ns-1/busybox",
        "--to",
        "ns-1/http-echo",
        "--port",
        "80/tcp",
    ]);
    palisade(&args, stdin)
}

const POLICY_ALLOW: &str = "allow-network-policy.yaml";
const POLICY_DENY: &str = "deny-all-by-default-network-policy.yaml";

#[test]
fn walkthrough_steps_allow_deny_deny_allow() {
    let open = check(&["cluster.yaml"], None);
    assert_eq!(open.status.code(), Some(0), "{}", stdout(&open));
    let deny_all = check(&["cluster.yaml", POLICY_DENY], None);
    assert_eq!(deny_all.status.code(), Some(1));
    insta::assert_snapshot!("deny_all", stdout(&deny_all));
    let allow = check(&["cluster.yaml", POLICY_ALLOW], None);
    assert_eq!(allow.status.code(), Some(1));
    insta::assert_snapshot!("allow_unlabelled", stdout(&allow));
    let cluster = std::fs::read_to_string(walkthrough("cluster.yaml")).unwrap();
    let labelled = cluster.replace("    run: busybox\n", "    run: busybox\n    app: busybox\n");
    let ok = check(&["-", POLICY_ALLOW], Some(&labelled));
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    insta::assert_snapshot!("allow_labelled", stdout(&ok));
}

#[test]
fn check_json_is_machine_readable() {
    let o = palisade(
        &[
            "check",
            "-f",
            &walkthrough(""),
            "--from",
            "ns-1/busybox",
            "--to",
            "10.244.1.10",
            "--port",
            "http",
            "-o",
            "json",
        ],
        None,
    );
    let s = stdout(&o);
    assert!(s.contains("\"allowed\": false"), "{s}");
    assert!(
        s.contains("\"to\": \"ns-1/http-echo\""),
        "an address of a pod is that pod: {s}"
    );
    assert!(s.contains("\"port\": 80"), "named port resolved: {s}");
}

#[test]
fn matrix_formats() {
    let dir = walkthrough("");
    for fmt in ["text", "csv", "md", "json"] {
        let o = palisade(&["matrix", "-f", &dir, "--port", "80", "-o", fmt], None);
        assert_eq!(o.status.code(), Some(0));
        insta::assert_snapshot!(format!("matrix_{fmt}"), stdout(&o));
    }
}

#[test]
fn rejected_input_is_reported_and_exits_2() {
    let bad = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x, namespace: ns-1}\nspec:\n  podSelector: {}\n  ingress:\n    - from:\n        - ipBlock: {cidr: 10.0.0.0/33}\n";
    let o = check(&["cluster.yaml", "-"], Some(bad));
    assert_eq!(o.status.code(), Some(2));
    insta::assert_snapshot!("rejected", stderr(&o));
    // The error is still reported (exit 2), but a policy whose only errors
    // are in its rules still selects its pods: it is read as allowing
    // nothing (fail closed), and the explanation says so.
    let out = stdout(&o);
    assert!(out.contains("DENIED"), "{out}");
    assert!(out.contains("isolated by ns-1/x, which palisade cannot enforce (field spec.ingress[0].from[0].ipBlock.cidr"), "{out}");
}

#[test]
fn usage_errors_exit_2() {
    let o = palisade(
        &[
            "check",
            "-f",
            &walkthrough(""),
            "--from",
            "ns-1",
            "--to",
            "ns-1/x",
            "--port",
            "80",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    let o = palisade(
        &[
            "check",
            "-f",
            &walkthrough(""),
            "--from",
            "ns-1/nope",
            "--to",
            "ns-1/http-echo",
            "--port",
            "80",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no pod ns-1/nope"), "{}", stderr(&o));
}

#[test]
fn render_is_a_golden_nft_transaction() {
    let o = palisade(
        &["render", "-f", &walkthrough(""), "--pods", "ns-1/http-echo"],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!("render_walkthrough", stdout(&o));
    let unknown = palisade(
        &["render", "-f", &walkthrough(""), "--pods", "ns-1/nope"],
        None,
    );
    assert_eq!(unknown.status.code(), Some(2));
}

/// `palisade render ... | head -1`: the reader goes away after one line and
/// the rest of a large transaction meets a closed pipe. That ends the
/// command quietly (exit 0, no panic message), as for any Unix filter.
#[test]
fn render_into_a_closed_pipe_exits_quietly() {
    use std::io::{BufRead, BufReader, Write};
    let mut yaml = String::from(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: all, namespace: big}\nspec:\n  podSelector: {}\n  ingress: [{from: [{podSelector: {}}]}]\n",
    );
    for i in 0..3000 {
        yaml += &format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: big, labels: {{i: \"{i}\"}}}}\nstatus: {{podIP: 10.{}.{}.{}}}\n",
            i / 65536,
            i / 256 % 256,
            i % 256
        );
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["render", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("palisade runs");
    let mut input = child.stdin.take().unwrap();
    input.write_all(yaml.as_bytes()).unwrap();
    drop(input);
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert_eq!(first, "add table inet palisade\n");
    // The pipe's read end is closed here; the rest (> 64 KiB) cannot be written.
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
}

/// `--help`: 2 for unreadable input; 1 for input rejected by validation.
#[test]
fn validate_exits_2_on_unreadable_input_and_1_on_rejected_input() {
    let o = palisade(&["validate", "-f", "/nonexistent/palisade-input"], None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot read /nonexistent/palisade-input"));
    let bad = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x, namespace: ns-1}\nspec:\n  podSelector: {}\n  ingress:\n    - from:\n        - ipBlock: {cidr: 10.0.0.0/33}\n";
    let o = palisade(&["validate", "-f", "-"], Some(bad));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = palisade(&["validate", "-f", &walkthrough("")], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}
