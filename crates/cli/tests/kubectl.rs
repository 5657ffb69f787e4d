//! The real kubectl (v1.32, on the PATH) against the lab's API server, on a
//! real kernel (root only): the walkthrough typed as a person types it,
//! the same with a Deployment, and what kubectl shows and refuses (tables,
//! output formats, describe, apply, conflicts, watch, invalid objects, one
//! source of truth with `palisade lab`).
//!
//! Skipped without root, kubectl, script or busybox; with `CI` set (as
//! `scripts/test.sh` does as root) a missing one is a failure. Each test
//! has its own lab and its own HOME (kubectl's cache); the lab is torn
//! down when the test ends, failed or not.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

use common::{can_run, Lab};

/// The walkthrough's request, as typed in the busybox shell.
const WGET: &str = r#"wget -S http://http-echo.ns-1.svc.cluster.local/test --post-data '{"message":"hello"}' -O test"#;
/// What `palisade http-echo` logs for each request the probe makes.
const REQUEST_LINE: &str = "POST /test ";

fn skipped() -> bool {
    if can_run(&["kubectl", "script", "busybox"]) {
        return false;
    }
    eprintln!("skipped: needs root, nft, ip, setsid, kubectl, script and busybox");
    true
}

/// The repository's root: kubectl runs there, so the walkthrough's
/// relative paths (`examples/walkthrough/...`) work as typed.
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Kills a process group this test started (its leader's pid).
fn kill_group(pid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .stderr(Stdio::null())
        .status();
}

/// Where `needle` starts in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Collects a reader's bytes into a shared buffer, on a thread.
fn collect(mut r: impl Read + Send + 'static, into: Arc<Mutex<Vec<u8>>>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = r.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
}

/// A lab up, with kubectl pointed at it (`palisade lab kubeconfig`) and
/// its own HOME. Dropping it tears the lab down.
struct Kube {
    lab: Lab,
    home: PathBuf,
    kubeconfig: PathBuf,
}

impl Kube {
    fn up(tag: &str) -> Kube {
        let lab = Lab::named(tag);
        let home = std::env::temp_dir().join(format!("palisade-kubectl-{}", lab.0));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(&home).unwrap();
        let mut kube = Kube {
            lab,
            home,
            kubeconfig: PathBuf::new(),
        };
        kube.lab.ok(&["up"]);
        kube.kubeconfig = PathBuf::from(kube.lab.ok(&["kubeconfig"]).trim());
        assert!(kube.kubeconfig.is_file(), "{}", kube.kubeconfig.display());
        assert_eq!(
            kube.lab.ok(&["env"]).trim(),
            format!("export KUBECONFIG={}", kube.kubeconfig.display()),
            "eval $(palisade lab env) points kubectl at the lab"
        );
        kube
    }

    /// The netns names of this lab's pods in namespace `ns`.
    fn pod_netns(&self, ns: &str) -> Vec<String> {
        let prefix = format!("pl-{}-pod-{ns}_", self.lab.0);
        let o = Command::new("ip").args(["netns", "list"]).output().unwrap();
        text(&o.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|n| n.starts_with(&prefix))
            .map(str::to_string)
            .collect()
    }

    /// The end of the lab controller's log, for failure messages.
    fn log_tail(&self) -> String {
        let path = PathBuf::from("/run/palisade/lab")
            .join(&self.lab.0)
            .join("logs/controller.log");
        let log = std::fs::read_to_string(&path).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        format!(
            "--- the end of {}:\n{}",
            path.display(),
            lines[lines.len().saturating_sub(30)..].join("\n")
        )
    }

    fn env(&self, c: &mut Command) {
        c.env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", &self.home)
            .env("PALISADE_LAB", &self.lab.0)
            .env_remove("KUBECTL_EXTERNAL_DIFF")
            .current_dir(repo());
    }

    /// A command line as a person types it (`sh -c`, quotes and pipes
    /// included).
    fn typed(&self, line: &str) -> Output {
        let mut c = Command::new("sh");
        c.args(["-c", line]).stdin(Stdio::null());
        self.env(&mut c);
        c.output().unwrap()
    }

    /// A typed line that must succeed; its stdout.
    fn ok(&self, line: &str) -> String {
        let o = self.typed(line);
        assert!(
            o.status.success(),
            "`{line}` exited {:?}\nstdout: {}\nstderr: {}\n{}",
            o.status.code(),
            text(&o.stdout),
            text(&o.stderr),
            self.log_tail()
        );
        text(&o.stdout)
    }

    /// A typed line that must succeed and print `want` (one line).
    fn says(&self, line: &str, want: &str) {
        let out = self.ok(line);
        assert_eq!(out.trim(), want, "`{line}`");
    }

    /// A typed line given `input` on its standard input.
    fn typed_stdin(&self, line: &str, input: &str) -> Output {
        let mut c = Command::new("sh");
        c.args(["-c", line])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        self.env(&mut c);
        let mut child = c.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// A typed line running in the background (its own process group),
    /// its stdout and stderr collected.
    fn background(&self, line: &str) -> Background {
        let mut c = Command::new("sh");
        c.args(["-c", line])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        std::os::unix::process::CommandExt::process_group(&mut c, 0);
        self.env(&mut c);
        let mut child = c.spawn().unwrap();
        let out = Arc::new(Mutex::new(vec![]));
        collect(child.stdout.take().unwrap(), out.clone());
        collect(child.stderr.take().unwrap(), out.clone());
        Background { child, out }
    }

    /// `cmd` on a terminal (`script` gives it one), typed into from a pipe.
    fn terminal(&self, cmd: &str) -> Terminal {
        let mut c = Command::new("script");
        c.args(["-qfec", cmd, "/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        std::os::unix::process::CommandExt::process_group(&mut c, 0);
        self.env(&mut c);
        let mut child = c.spawn().unwrap();
        let out = Arc::new(Mutex::new(vec![]));
        collect(child.stdout.take().unwrap(), out.clone());
        collect(child.stderr.take().unwrap(), out.clone());
        let stdin = child.stdin.take();
        Terminal {
            child,
            stdin,
            out,
            seen: 0,
        }
    }

    /// Waits until `done` holds, or fails with `what` after `within`.
    fn eventually(
        &self,
        within: Duration,
        what: &str,
        mut done: impl FnMut() -> Result<(), String>,
    ) {
        let deadline = Instant::now() + within;
        loop {
            match done() {
                Ok(()) => return,
                Err(e) if Instant::now() > deadline => {
                    panic!("{what} (after {within:?}): {e}\n{}", self.log_tail())
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// `kubectl delete ns ns-1`, then the namespace and its pods' network
    /// namespaces are gone within a few seconds.
    fn delete_namespace(&self) {
        assert!(
            !self.pod_netns("ns-1").is_empty(),
            "the pods have network namespaces"
        );
        self.says("kubectl delete ns ns-1", "namespace \"ns-1\" deleted");
        self.eventually(Duration::from_secs(5), "ns-1 is gone", || {
            let o = self.typed("kubectl get ns ns-1");
            let err = text(&o.stderr);
            if !o.status.success() && err.contains("NotFound") && err.contains("\"ns-1\" not found")
            {
                Ok(())
            } else {
                Err(format!("{}{err}", text(&o.stdout)))
            }
        });
        self.eventually(
            Duration::from_secs(5),
            "the pods' network namespaces are gone",
            || {
                let left = self.pod_netns("ns-1");
                if left.is_empty() {
                    Ok(())
                } else {
                    Err(format!("ip netns list still has {left:?}"))
                }
            },
        );
        let pods = self.ok("kubectl get pods -A -o name");
        assert_eq!(pods.trim(), "", "no pod is left");
    }
}

impl Drop for Kube {
    fn drop(&mut self) {
        let _ = self.lab.run(&["down"]);
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

/// A command running in the background; killed (its group) when dropped.
struct Background {
    child: Child,
    out: Arc<Mutex<Vec<u8>>>,
}

impl Background {
    fn output(&self) -> String {
        text(&self.out.lock().unwrap())
    }

    /// The request lines `kubectl logs -f` has printed.
    fn requests(&self) -> usize {
        self.output()
            .lines()
            .filter(|l| l.contains(REQUEST_LINE))
            .count()
    }

    /// Exactly `n` request lines have come (waiting for the last up to
    /// 5 s, then a moment more for any extra one).
    fn expect_requests(&self, kube: &Kube, n: usize) {
        kube.eventually(
            Duration::from_secs(5),
            &format!("{n} request lines in kubectl logs -f"),
            || {
                if self.requests() >= n {
                    Ok(())
                } else {
                    Err(self.output())
                }
            },
        );
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(
            self.requests(),
            n,
            "one line per request that got through:\n{}",
            self.output()
        );
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        kill_group(self.child.id());
        let _ = self.child.wait();
    }
}

/// A program on a terminal: what is typed, and what a person sees.
struct Terminal {
    child: Child,
    stdin: Option<ChildStdin>,
    out: Arc<Mutex<Vec<u8>>>,
    /// How much of the output the expectations have consumed.
    seen: usize,
}

impl Terminal {
    fn screen(&self) -> String {
        text(&self.out.lock().unwrap())
    }

    /// Types `line` and Enter.
    fn type_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("the terminal is open");
        stdin.write_all(format!("{line}\r").as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    /// Waits until `want` shows after what was seen; what showed up to and
    /// including it.
    fn expect(&mut self, want: &str, within: Duration) -> String {
        self.expect_with(within, want, |fresh| {
            find(fresh, want.as_bytes()).map(|i| i + want.len())
        })
    }

    /// Waits until `end` finds where what is shown ends (an index into the
    /// output not yet seen); that output.
    fn expect_with(
        &mut self,
        within: Duration,
        what: &str,
        end: impl Fn(&[u8]) -> Option<usize>,
    ) -> String {
        let deadline = Instant::now() + within;
        loop {
            let screen = self.out.lock().unwrap().clone();
            let fresh = &screen[self.seen.min(screen.len())..];
            if let Some(n) = end(fresh) {
                self.seen += n;
                return text(&fresh[..n]);
            }
            if Instant::now() > deadline {
                panic!(
                    "{what:?} did not show within {within:?}; the terminal since the last expectation:\n{}",
                    text(fresh)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Types a wget line, then `echo wget-exit=$?` (typed ahead, as a
    /// person may); waits for the shell's answer. What showed, and the
    /// wget's exit status.
    fn wget(&mut self, line: &str) -> (String, String) {
        self.type_line(line);
        self.type_line("echo wget-exit=$?");
        // The echo of the typed line shows "wget-exit=$?": the answer is
        // "wget-exit=" then digits and the end of the line.
        let shown = self.expect_with(Duration::from_secs(15), "wget-exit=<digits>", |fresh| {
            let key = b"wget-exit=";
            let mut from = 0;
            while let Some(i) = find(&fresh[from..], key) {
                let digits = from + i + key.len();
                let n = fresh[digits..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                if n > 0
                    && fresh
                        .get(digits + n)
                        .is_some_and(|b| *b == b'\r' || *b == b'\n')
                {
                    return Some(digits + n);
                }
                from = digits;
            }
            None
        });
        let code = shown.rsplit("wget-exit=").next().unwrap_or("").to_string();
        (shown, code)
    }

    /// Waits for the program to end.
    fn wait(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            if Instant::now() > deadline {
                panic!(
                    "the terminal's program did not end within {within:?}:\n{}",
                    self.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if self.child.try_wait().ok().flatten().is_none() {
            kill_group(self.child.id());
        }
        let _ = self.child.wait();
    }
}

/// The walkthrough, typed as a person types it: kubectl run, label,
/// expose, logs -f, an interactive busybox shell (on a terminal) that
/// probes http-echo while the policies change, exit, delete the namespace.
#[test]
fn the_walkthrough_typed_with_kubectl() {
    if skipped() {
        return;
    }
    let k = Kube::up("kw");
    k.says("kubectl create ns ns-1", "namespace/ns-1 created");
    k.says(
        r#"kubectl run --namespace=ns-1 http-echo --image=solsson/http-echo --env="PORT=80" --port=80"#,
        "pod/http-echo created",
    );
    k.says(
        "kubectl label po --selector=run=http-echo --namespace=ns-1 app=http-echo",
        "pod/http-echo labeled",
    );
    k.says(
        "kubectl expose --namespace=ns-1 pod http-echo --port=80",
        "service/http-echo exposed",
    );
    // A person takes a few seconds between lines; the pod is up by then.
    k.ok("kubectl wait --for=condition=Ready pod/http-echo --namespace=ns-1 --timeout=30s");
    let logs = k.background(
        "kubectl get po --selector=run=http-echo --namespace=ns-1 -o jsonpath='{.items[*].metadata.name}' | xargs kubectl logs -f --namespace=ns-1",
    );

    let mut shell = k.terminal(
        "kubectl run --namespace=ns-1 -i --tty busybox --image=busybox --restart=Never -- sh",
    );
    shell.expect(" # ", Duration::from_secs(30));

    let (shown, code) = shell.wget(WGET);
    assert!(
        shown.contains("HTTP/1.1 200 OK") && shown.contains("'test' saved"),
        "{shown}"
    );
    assert_eq!(code, "0", "{shown}");
    logs.expect_requests(&k, 1);

    k.says(
        "kubectl create -f examples/walkthrough/deny-all-by-default-network-policy.yaml --namespace=ns-1",
        "networkpolicy.networking.k8s.io/deny-all-by-default created",
    );
    let t = Instant::now();
    let (shown, code) = shell.wget(&format!("timeout 3 {WGET}"));
    assert_eq!(code, "143", "timed out (killed by SIGTERM): {shown}");
    assert!(!shown.contains("HTTP/1.1"), "{shown}");
    assert!(
        t.elapsed() >= Duration::from_millis(2900),
        "{:?}: {shown}",
        t.elapsed()
    );

    k.says(
        "kubectl delete netpol deny-all-by-default --namespace=ns-1",
        "networkpolicy.networking.k8s.io \"deny-all-by-default\" deleted",
    );
    k.says(
        "kubectl create -f examples/walkthrough/allow-network-policy.yaml --namespace=ns-1",
        "networkpolicy.networking.k8s.io/allow created",
    );
    let (shown, code) = shell.wget(&format!("timeout 3 {WGET}"));
    assert_eq!(code, "143", "busybox is no app=busybox yet: {shown}");
    assert!(!shown.contains("HTTP/1.1"), "{shown}");

    k.says(
        "kubectl label po --selector=run=busybox --namespace=ns-1 app=busybox",
        "pod/busybox labeled",
    );
    let (shown, code) = shell.wget(WGET);
    assert!(shown.contains("HTTP/1.1 200 OK"), "{shown}");
    assert_eq!(code, "0", "{shown}");
    logs.expect_requests(&k, 2);

    shell.type_line("exit");
    let status = shell.wait(Duration::from_secs(20));
    assert!(
        status.success(),
        "kubectl run returns 0:\n{}",
        shell.screen()
    );
    drop(shell);
    k.eventually(Duration::from_secs(5), "busybox ends Completed", || {
        let out = text(&k.typed("kubectl get po busybox --namespace=ns-1").stdout);
        let row: Vec<String> = out
            .lines()
            .nth(1)
            .unwrap_or("")
            .split_whitespace()
            .map(String::from)
            .collect();
        if row.get(1).map(String::as_str) == Some("0/1")
            && row.get(2).map(String::as_str) == Some("Completed")
        {
            Ok(())
        } else {
            Err(out)
        }
    });
    assert_eq!(
        k.ok("kubectl get po busybox --namespace=ns-1 -o jsonpath='{.status.phase}'"),
        "Succeeded"
    );

    k.delete_namespace();
    assert_eq!(logs.requests(), 2, "{}", logs.output());
}

/// `kubectl exec` into the busybox pod: `timeout 3 wget ...`, and whether
/// http-echo answered (200) or the probe timed out.
fn probe(k: &Kube) -> Result<(), String> {
    let line = format!("kubectl exec --namespace=ns-1 busybox -- timeout 3 {WGET}");
    let o = k.typed(&line);
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    match o.status.code() {
        Some(0) if err.contains("HTTP/1.1 200 OK") => Ok(()),
        Some(143)
            if err.contains("command terminated with exit code 143")
                && !err.contains("HTTP/1.1") =>
        {
            Err("timeout".into())
        }
        c => panic!("`{line}` exited {c:?}: {out}{err}\n{}", k.log_tail()),
    }
}

/// The walkthrough with a Deployment (kubectl create deployment, expose
/// deployment), probed with kubectl exec from a busybox pod.
#[test]
fn the_walkthrough_with_a_deployment() {
    if skipped() {
        return;
    }
    let k = Kube::up("kd");
    k.says("kubectl create ns ns-1", "namespace/ns-1 created");
    k.says(
        "kubectl create deployment http-echo --image=solsson/http-echo --port=80 -n ns-1",
        "deployment.apps/http-echo created",
    );
    k.says(
        "kubectl expose --namespace=ns-1 deployment http-echo --port=80",
        "service/http-echo exposed",
    );
    let rollout = k.ok("kubectl rollout status deployment/http-echo -n ns-1 --timeout=60s");
    assert!(rollout.contains("successfully rolled out"), "{rollout}");
    let pod = k.ok("kubectl get po --selector=app=http-echo --namespace=ns-1 -o jsonpath='{.items[*].metadata.name}'");
    assert!(
        pod.starts_with("http-echo-") && !pod.contains(' '),
        "one replica: {pod:?}"
    );
    let logs = k.background(
        "kubectl get po --selector=app=http-echo --namespace=ns-1 -o jsonpath='{.items[*].metadata.name}' | xargs kubectl logs -f --namespace=ns-1",
    );
    k.says(
        "kubectl run --namespace=ns-1 busybox --image=busybox -- sleep 3600",
        "pod/busybox created",
    );
    k.ok("kubectl wait --for=condition=Ready pod/busybox --namespace=ns-1 --timeout=30s");

    assert_eq!(probe(&k), Ok(()), "no policy: 200");
    logs.expect_requests(&k, 1);
    k.says(
        "kubectl create -f examples/walkthrough/deny-all-by-default-network-policy.yaml --namespace=ns-1",
        "networkpolicy.networking.k8s.io/deny-all-by-default created",
    );
    assert_eq!(probe(&k), Err("timeout".into()), "deny-all-by-default");
    k.says(
        "kubectl delete netpol deny-all-by-default --namespace=ns-1",
        "networkpolicy.networking.k8s.io \"deny-all-by-default\" deleted",
    );
    k.says(
        "kubectl create -f examples/walkthrough/allow-network-policy.yaml --namespace=ns-1",
        "networkpolicy.networking.k8s.io/allow created",
    );
    assert_eq!(
        probe(&k),
        Err("timeout".into()),
        "allow, busybox unlabelled"
    );
    k.says(
        "kubectl label po --selector=run=busybox --namespace=ns-1 app=busybox",
        "pod/busybox labeled",
    );
    assert_eq!(probe(&k), Ok(()), "allow, busybox labelled app=busybox");
    logs.expect_requests(&k, 2);

    k.delete_namespace();
    let left = k.ok("kubectl get deploy,rs,svc,netpol -A -o name");
    assert_eq!(left.trim(), "", "the namespace's objects went with it");
}

/// The rows of a `kubectl get` table (header first), as columns.
fn rows(table: &str) -> Vec<Vec<String>> {
    table
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect()
}

/// The row whose column `col` is `name`.
fn row<'a>(rows: &'a [Vec<String>], col: usize, name: &str) -> &'a [String] {
    rows.iter()
        .find(|r| r.get(col).map(String::as_str) == Some(name))
        .unwrap_or_else(|| panic!("no row {name}: {rows:?}"))
}

const BAD_CIDR: &str = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: bad
spec:
  podSelector: {}
  ingress:
    - from:
        - ipBlock:
            cidr: 10.0.0.0/33
";

const TYPO: &str = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: typo
spec:
  podSelectr: {}
";

/// What kubectl shows (tables, -o yaml|json|wide, describe), apply twice,
/// a stale replace, watch, invalid objects refused with nothing changed,
/// and one source of truth with `palisade lab`.
#[test]
fn kubectl_shows_and_refuses_as_an_api_server_does() {
    if skipped() {
        return;
    }
    let k = Kube::up("kg");
    k.says("kubectl create ns ns-1", "namespace/ns-1 created");
    k.ok(r#"kubectl run --namespace=ns-1 http-echo --image=solsson/http-echo --env="PORT=80" --port=80"#);
    k.ok("kubectl label po --selector=run=http-echo --namespace=ns-1 app=http-echo");
    k.ok("kubectl expose --namespace=ns-1 pod http-echo --port=80");
    k.ok("kubectl create -f examples/walkthrough/allow-network-policy.yaml --namespace=ns-1");
    k.ok("kubectl wait --for=condition=Ready pod/http-echo --namespace=ns-1 --timeout=30s");

    // Tables: columns and rows.
    let all = k.ok("kubectl get pods,svc,netpol -A");
    let blocks: Vec<&str> = all.split("\n\n").collect();
    assert_eq!(blocks.len(), 3, "one table per kind:\n{all}");
    let pods = rows(blocks[0]);
    assert_eq!(
        pods[0],
        ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"],
        "{all}"
    );
    assert_eq!(
        row(&pods, 1, "pod/http-echo")[..5],
        ["ns-1", "pod/http-echo", "1/1", "Running", "0"],
        "{all}"
    );
    let svcs = rows(blocks[1]);
    assert_eq!(
        svcs[0],
        [
            "NAMESPACE",
            "NAME",
            "TYPE",
            "CLUSTER-IP",
            "EXTERNAL-IP",
            "PORT(S)",
            "AGE"
        ],
        "{all}"
    );
    let svc = row(&svcs, 1, "service/http-echo");
    assert_eq!(
        [&svc[0], &svc[2], &svc[4], &svc[5]],
        ["ns-1", "ClusterIP", "<none>", "80/TCP"],
        "{all}"
    );
    let cluster_ip = svc[3].clone();
    assert!(cluster_ip.starts_with("10.96."), "{all}");
    let pols = rows(blocks[2]);
    assert_eq!(
        pols[0],
        ["NAMESPACE", "NAME", "POD-SELECTOR", "AGE"],
        "{all}"
    );
    assert_eq!(
        row(&pols, 1, "networkpolicy.networking.k8s.io/allow")[..3],
        [
            "ns-1",
            "networkpolicy.networking.k8s.io/allow",
            "app=http-echo"
        ],
        "{all}"
    );

    // -o json.
    let list: Value = serde_json::from_str(&k.ok("kubectl get pods -n ns-1 -o json")).unwrap();
    assert_eq!(list["kind"], "List");
    let pod = &list["items"][0];
    assert_eq!(pod["metadata"]["name"], "http-echo");
    assert_eq!(pod["metadata"]["labels"]["app"], "http-echo");
    assert_eq!(pod["spec"]["containers"][0]["image"], "solsson/http-echo");
    assert_eq!(pod["status"]["phase"], "Running");
    let pod_ip = pod["status"]["podIP"].as_str().unwrap().to_string();
    let node = pod["spec"]["nodeName"].as_str().unwrap().to_string();
    let allow_json = k.ok("kubectl get netpol allow -n ns-1 -o json");
    let allow: Value = serde_json::from_str(&allow_json).unwrap();
    assert_eq!(allow["kind"], "NetworkPolicy");
    assert_eq!(allow["apiVersion"], "networking.k8s.io/v1");
    assert_eq!(
        allow["spec"]["podSelector"]["matchLabels"]["app"],
        "http-echo"
    );
    assert_eq!(
        allow["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]["app"],
        "busybox"
    );
    assert_eq!(allow["spec"]["policyTypes"], serde_json::json!(["Ingress"]));
    assert!(allow["metadata"]["resourceVersion"]
        .as_str()
        .is_some_and(|v| !v.is_empty()));

    // -o yaml: the same object (kubectl reads it back).
    let yaml = k.ok("kubectl get netpol allow -n ns-1 -o yaml");
    for want in [
        "apiVersion: networking.k8s.io/v1",
        "kind: NetworkPolicy",
        "  name: allow",
        "  namespace: ns-1",
        "  policyTypes:",
    ] {
        assert!(
            yaml.lines().any(|l| l.starts_with(want)),
            "{want:?} in\n{yaml}"
        );
    }
    let reread = k.typed_stdin("kubectl create --dry-run=client -o json -f -", &yaml);
    assert!(reread.status.success(), "{}", text(&reread.stderr));
    assert_eq!(
        serde_json::from_slice::<Value>(&reread.stdout).unwrap(),
        allow,
        "-o yaml is -o json"
    );

    // -o wide: the pod's address and node; the Service's selector.
    let wide = rows(&k.ok("kubectl get pods -n ns-1 -o wide"));
    assert_eq!(
        wide[0],
        [
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
            "IP",
            "NODE",
            "NOMINATED",
            "NODE",
            "READINESS",
            "GATES"
        ]
    );
    let r = row(&wide, 0, "http-echo");
    assert_eq!([&r[5], &r[6]], [&pod_ip, &node], "{wide:?}");
    let wide = rows(&k.ok("kubectl get svc -n ns-1 -o wide"));
    assert_eq!(wide[0].last().map(String::as_str), Some("SELECTOR"));
    let r = row(&wide, 0, "http-echo");
    assert_eq!(r[2], cluster_ip);
    assert!(
        r.last().unwrap().split(',').any(|s| s == "app=http-echo"),
        "{wide:?}"
    );

    // describe shows the ingress rule.
    let described = k.ok("kubectl describe netpol allow -n ns-1");
    let mut lines = described.lines().map(str::trim);
    for want in [
        "Name:         allow",
        "Namespace:    ns-1",
        "PodSelector:     app=http-echo",
        "Allowing ingress traffic:",
        "To Port: <any> (traffic allowed to all ports)",
        "From:",
        "PodSelector: app=busybox",
        "Not affecting egress traffic",
        "Policy Types: Ingress",
    ] {
        assert!(
            lines.any(|l| l == want.trim()),
            "{want:?}, in order, in\n{described}"
        );
    }

    // apply twice.
    let apply = "kubectl apply -f examples/walkthrough/deny-all-by-default-network-policy.yaml --namespace=ns-1";
    k.says(
        apply,
        "networkpolicy.networking.k8s.io/deny-all-by-default created",
    );
    k.says(
        apply,
        "networkpolicy.networking.k8s.io/deny-all-by-default unchanged",
    );
    k.ok("kubectl delete netpol deny-all-by-default --namespace=ns-1");

    // A replace with a stale resourceVersion: 409.
    let stale = k.home.join("allow.yaml");
    std::fs::write(&stale, &yaml).unwrap();
    k.says(
        "kubectl label netpol allow -n ns-1 edited=yes",
        "networkpolicy.networking.k8s.io/allow labeled",
    );
    let o = k.typed(&format!("kubectl replace -f {} -v=6", stale.display()));
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(" 409 Conflict"),
        "the server answered 409: {err}"
    );
    assert!(
        err.contains("Error from server (Conflict): error when replacing")
            && err.contains("Operation cannot be fulfilled on networkpolicies.networking.k8s.io \"allow\": the object has been modified; please apply your changes to the latest version and try again"),
        "{err}"
    );
    assert_eq!(
        k.ok("kubectl get netpol allow -n ns-1 -o jsonpath='{.metadata.labels.edited}'"),
        "yes",
        "the newer version stays"
    );

    // An invalid policy: 422 with the field, and nothing changes.
    let ruleset = k.lab.ok(&["ruleset"]);
    let policies = k.ok("kubectl get netpol -A -o name");
    let o = k.typed_stdin("kubectl create --namespace=ns-1 -f -", BAD_CIDR);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with(
            "The NetworkPolicy \"bad\" is invalid: spec.ingress[0].from[0].ipBlock.cidr: "
        ),
        "{err}"
    );
    assert!(err.contains("10.0.0.0/33"), "{err}");
    let o = k.typed_stdin("kubectl apply --namespace=ns-1 -f -", BAD_CIDR);
    assert!(
        text(&o.stderr).contains(
            "The NetworkPolicy \"bad\" is invalid: spec.ingress[0].from[0].ipBlock.cidr: "
        ),
        "apply too: {}",
        text(&o.stderr)
    );
    // A typo'd field: strict decoding.
    let o = k.typed_stdin("kubectl create --namespace=ns-1 -f -", TYPO);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("strict decoding error: unknown field \"spec.podSelectr\""),
        "{err}"
    );
    assert!(err.contains("Error from server (BadRequest)"), "{err}");
    assert_eq!(
        k.ok("kubectl get netpol -A -o name"),
        policies,
        "nothing was stored"
    );
    assert_eq!(
        k.lab.ok(&["ruleset"]),
        ruleset,
        "the node's ruleset is unchanged"
    );

    // kubectl get pods -w streams a change made while it runs.
    let watch = k.background("kubectl get pods -w -n ns-1");
    k.eventually(Duration::from_secs(10), "the watch lists the pods", || {
        let out = watch.output();
        if out.lines().any(|l| l.starts_with("http-echo ")) {
            Ok(())
        } else {
            Err(out)
        }
    });
    k.says(
        "kubectl run --namespace=ns-1 watched --image=busybox -- sleep 3600",
        "pod/watched created",
    );
    k.eventually(
        Duration::from_secs(10),
        "the watch shows the new pod running",
        || {
            let out = watch.output();
            let seen = rows(&out);
            if seen
                .iter()
                .any(|r| r[0] == "watched" && r.get(2).map(String::as_str) == Some("Running"))
            {
                Ok(())
            } else {
                Err(out)
            }
        },
    );
    drop(watch);

    // One source of truth: kubectl's pod in `palisade lab get pods`, the
    // lab's in `kubectl get pods`.
    let lab_pods = rows(&k.lab.ok(&["get", "pods"]));
    let r = row(&lab_pods, 1, "http-echo");
    assert_eq!(r[0], "ns-1", "{lab_pods:?}");
    assert!(
        r.contains(&"Running".to_string()) && r.contains(&pod_ip),
        "{lab_pods:?}"
    );
    assert!(lab_pods.iter().any(|r| r[1] == "watched"), "{lab_pods:?}");
    let o = k
        .lab
        .run(&["run", "from-lab", "-n", "ns-1", "--", "sleep", "600"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let pods = rows(&k.ok("kubectl get pods -n ns-1"));
    assert_eq!(
        row(&pods, 0, "from-lab")[1..3],
        ["1/1", "Running"],
        "{pods:?}"
    );
    assert_eq!(
        k.ok("kubectl get pod from-lab -n ns-1 -o jsonpath='{.metadata.labels.run}'"),
        "from-lab"
    );
}
