//! `lab demo`: the classic walkthrough, end to end, on real packets.
//!
//! Every step runs as a separate process, exactly as a user would type it
//! in a shell, in a lab of its own (`demo`), so the demo exercises the real
//! commands: `kubectl` against the lab's API server when kubectl is
//! installed (as the walkthrough is written), else the `palisade lab`
//! verbs. It checks each probe's outcome and exits non-zero if any differs
//! from the walkthrough.

use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, Result};

const LAB: &str = "demo";
const DENY_ALL: (&str, &str) = (
    "deny-all-by-default-network-policy.yaml",
    include_str!("../../../../examples/walkthrough/deny-all-by-default-network-policy.yaml"),
);
const ALLOW: (&str, &str) = (
    "allow-network-policy.yaml",
    include_str!("../../../../examples/walkthrough/allow-network-policy.yaml"),
);
const URL: &str = "http://http-echo.ns-1.svc.cluster.local/test";

/// What a probe step must show.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    Ok200,
    Timeout,
}

struct Demo {
    exe: PathBuf,
    failures: usize,
    /// kubectl's environment (KUBECONFIG, a HOME of its own for its cache).
    kubectl: Vec<(String, String)>,
}

/// The policy file: the repository's copy when run from a checkout, else the embedded one.
fn policy_file((name, text): (&str, &str)) -> Result<String> {
    let local = PathBuf::from("examples/walkthrough").join(name);
    if local.exists() {
        return Ok(local.display().to_string());
    }
    let dir = PathBuf::from(super::state::STATE_ROOT).join("demo-files");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(name);
    std::fs::write(&path, text)?;
    Ok(path.display().to_string())
}

impl Demo {
    fn say(&self, text: &str) {
        println!("\n\x1b[1m# {text}\x1b[0m");
    }

    /// Runs `palisade ARGS` (shown as typed), printing its output; returns its exit code and stdout.
    fn run(&self, args: &[&str]) -> Result<(i32, String)> {
        println!("$ palisade {}", args.join(" "));
        let out = Command::new(&self.exe)
            .args(args)
            .env("PALISADE_LAB", LAB)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running palisade {}", args.join(" ")))?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        print!("{stdout}");
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        Ok((out.status.code().unwrap_or(-1), stdout))
    }

    /// Runs `kubectl ARGS` (shown as typed), printing its output.
    fn kubectl(&self, args: &[&str]) -> Result<(i32, String, String)> {
        println!("$ kubectl {}", args.join(" "));
        let out = Command::new("kubectl")
            .args(args)
            .envs(self.kubectl.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running kubectl {}", args.join(" ")))?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        Ok((out.status.code().unwrap_or(-1), stdout, stderr))
    }

    /// A kubectl step that must succeed.
    fn kstep(&mut self, args: &[&str]) -> Result<()> {
        let (code, stdout, stderr) = self.kubectl(args)?;
        print!("{stdout}");
        eprint!("{stderr}");
        if code != 0 {
            self.failures += 1;
            println!("\x1b[31m  FAILED: exit code {code}\x1b[0m");
        }
        Ok(())
    }

    /// busybox POSTs to http-echo with its own wget, through `kubectl exec`.
    fn kprobe(&mut self, expect: Expect) -> Result<()> {
        let (code, stdout, stderr) = self.kubectl(&[
            "exec",
            "--namespace=ns-1",
            "busybox",
            "--",
            "timeout",
            "3",
            "wget",
            "-S",
            "-O",
            "-",
            "--post-data",
            r#"{"message":"hello"}"#,
            URL,
        ])?;
        let shown: String = stderr
            .lines()
            .filter(|l| l.contains("HTTP/") || l.contains("Connecting"))
            .map(|l| format!("{l}\n"))
            .collect();
        print!("{shown}");
        let got = if code == 0 && stderr.contains("200 OK") {
            Some(Expect::Ok200)
        } else if code == 143 || stderr.contains("exit code 143") {
            println!("  (no answer within 3 s: timed out)");
            Some(Expect::Timeout)
        } else {
            print!("{stdout}");
            None
        };
        self.judge(got, expect);
        Ok(())
    }

    fn judge(&mut self, got: Option<Expect>, expect: Expect) {
        let want = match expect {
            Expect::Ok200 => "HTTP/1.1 200 OK",
            Expect::Timeout => "a timeout",
        };
        if got == Some(expect) {
            println!("\x1b[32m  as expected: {want}\x1b[0m");
        } else {
            self.failures += 1;
            println!("\x1b[31m  UNEXPECTED: wanted {want}\x1b[0m");
        }
    }

    /// Runs a step that must succeed.
    fn step(&mut self, args: &[&str]) -> Result<()> {
        let (code, _) = self.run(args)?;
        if code != 0 {
            self.failures += 1;
            println!("\x1b[31m  FAILED: exit code {code}\x1b[0m");
        }
        Ok(())
    }

    /// busybox POSTs to http-echo through the Service name.
    fn probe(&mut self, expect: Expect) -> Result<()> {
        let exe = self.exe.display().to_string();
        let args = [
            "lab",
            "exec",
            "busybox",
            "-n",
            "ns-1",
            "--",
            &exe,
            "probe",
            URL,
            "--post-data",
            "hello from busybox",
            "--timeout",
            "2s",
        ];
        println!("$ palisade lab exec busybox -n ns-1 -- palisade probe {URL} --post-data 'hello from busybox' --timeout 2s");
        let out = Command::new(&self.exe)
            .args(args)
            .env("PALISADE_LAB", LAB)
            .output()?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        print!(
            "{}",
            stdout
                .lines()
                .take(3)
                .map(|l| format!("{l}\n"))
                .collect::<String>()
        );
        eprint!("{stderr}");
        let got = if out.status.success() && stdout.contains("HTTP/1.1 200 OK") {
            Some(Expect::Ok200)
        } else if stderr.contains("timed out") {
            Some(Expect::Timeout)
        } else {
            None
        };
        self.judge(got, expect);
        Ok(())
    }
}

pub fn run() -> Result<ExitCode> {
    let exe = std::env::current_exe().context("finding the palisade binary")?;
    let mut d = Demo {
        exe,
        failures: 0,
        kubectl: vec![],
    };
    let _ = super::ops::down(LAB).map(|_| ());
    let with_kubectl = palisade_lab::locate("kubectl").is_absolute();
    let result = if with_kubectl {
        println!("palisade lab demo: kubectl is installed: the walkthrough runs through kubectl, against the lab's API server");
        walkthrough_kubectl(&mut d)
    } else {
        println!("palisade lab demo: kubectl is not installed: the walkthrough runs through the palisade lab verbs");
        walkthrough(&mut d)
    };
    d.say("Clean up");
    if with_kubectl && !d.kubectl.is_empty() {
        d.kstep(&["delete", "ns", "ns-1"])?;
    } else {
        d.step(&["lab", "delete", "ns", "ns-1"])?;
    }
    d.step(&["lab", "down"])?;
    if let Some((_, home)) = d.kubectl.iter().find(|(k, _)| k == "HOME") {
        let _ = std::fs::remove_dir_all(home);
    }
    result?;
    if d.failures > 0 {
        println!(
            "\n\x1b[31mdemo FAILED: {} step(s) did not go as the walkthrough says\x1b[0m",
            d.failures
        );
        return Ok(ExitCode::from(1));
    }
    println!("\n\x1b[32mdemo passed: every step went as the walkthrough says\x1b[0m");
    Ok(ExitCode::SUCCESS)
}

fn walkthrough(d: &mut Demo) -> Result<()> {
    d.say("A lab node (its own network namespace) and namespace ns-1");
    d.step(&["lab", "up"])?;
    d.step(&["lab", "create", "ns", "ns-1"])?;
    d.say("An http-echo server pod, labelled and exposed as a Service");
    d.step(&[
        "lab",
        "run",
        "http-echo",
        "-n",
        "ns-1",
        "--labels",
        "run=http-echo",
        "--port",
        "80",
        "--",
        &d.exe.display().to_string(),
        "http-echo",
        "--port",
        "80",
    ])?;
    d.step(&[
        "lab",
        "label",
        "pod",
        "http-echo",
        "-n",
        "ns-1",
        "app=http-echo",
    ])?;
    d.step(&["lab", "expose", "http-echo", "-n", "ns-1", "--port", "80"])?;
    d.say("A busybox client pod");
    d.step(&[
        "lab",
        "run",
        "busybox",
        "-n",
        "ns-1",
        "--labels",
        "run=busybox",
        "--",
        "sleep",
        "infinity",
    ])?;
    std::thread::sleep(std::time::Duration::from_millis(300));
    d.step(&["lab", "get", "pods", "-n", "ns-1", "-o", "wide"])?;
    d.say("No policy: busybox reaches http-echo");
    d.probe(Expect::Ok200)?;
    d.say("deny-all-by-default (podSelector: {}) isolates every pod in ns-1");
    let deny = policy_file(DENY_ALL)?;
    d.step(&["lab", "apply", "-f", &deny, "-n", "ns-1"])?;
    d.probe(Expect::Timeout)?;
    d.say("Replace it with allow: app=busybox may reach app=http-echo");
    d.step(&[
        "lab",
        "delete",
        "netpol",
        "deny-all-by-default",
        "-n",
        "ns-1",
    ])?;
    let allow = policy_file(ALLOW)?;
    d.step(&["lab", "apply", "-f", &allow, "-n", "ns-1"])?;
    d.say("busybox has no app=busybox label yet: still a timeout");
    d.probe(Expect::Timeout)?;
    d.say("Label busybox app=busybox: allowed again");
    d.step(&[
        "lab",
        "label",
        "pod",
        "busybox",
        "-n",
        "ns-1",
        "app=busybox",
    ])?;
    d.probe(Expect::Ok200)?;
    d.say("http-echo's request log (one line per request that got through)");
    d.step(&["lab", "logs", "http-echo", "-n", "ns-1"])?;
    Ok(())
}

/// The walkthrough as it is written, in kubectl (the interactive
/// `kubectl run -i --tty busybox -- sh` becomes a busybox pod probed with
/// `kubectl exec`: the demo runs without a terminal).
fn walkthrough_kubectl(d: &mut Demo) -> Result<()> {
    d.say("A lab: its node, and its Kubernetes API server for kubectl");
    d.step(&["lab", "up"])?;
    let kubeconfig = super::kapi::kubeconfig_path(LAB);
    let home = std::env::temp_dir().join(format!("palisade-demo-kube-{}", std::process::id()));
    std::fs::create_dir_all(&home)?;
    d.kubectl = vec![
        ("KUBECONFIG".into(), kubeconfig.display().to_string()),
        ("HOME".into(), home.display().to_string()),
    ];
    println!(
        "$ eval $(palisade lab env)     # KUBECONFIG={}",
        kubeconfig.display()
    );
    d.kstep(&["create", "ns", "ns-1"])?;
    d.say("An http-echo server pod, labelled and exposed as a Service");
    d.kstep(&[
        "run",
        "--namespace=ns-1",
        "http-echo",
        "--image=solsson/http-echo",
        "--env=PORT=80",
        "--port=80",
    ])?;
    d.kstep(&[
        "label",
        "po",
        "--selector=run=http-echo",
        "--namespace=ns-1",
        "app=http-echo",
    ])?;
    d.kstep(&[
        "expose",
        "--namespace=ns-1",
        "pod",
        "http-echo",
        "--port=80",
    ])?;
    d.say("A busybox client pod (the walkthrough's `kubectl run -i --tty busybox ... -- sh`, probed here with kubectl exec)");
    d.kstep(&[
        "run",
        "--namespace=ns-1",
        "busybox",
        "--image=busybox",
        "--restart=Never",
        "--",
        "sleep",
        "3600",
    ])?;
    d.kstep(&[
        "wait",
        "--namespace=ns-1",
        "--for=condition=Ready",
        "pod/busybox",
        "pod/http-echo",
        "--timeout=60s",
    ])?;
    d.kstep(&["get", "pods,svc", "--namespace=ns-1", "-o", "wide"])?;
    d.say("No policy: busybox reaches http-echo");
    d.kprobe(Expect::Ok200)?;
    d.say("deny-all-by-default (podSelector: {}) isolates every pod in ns-1");
    let deny = policy_file(DENY_ALL)?;
    d.kstep(&["create", "-f", &deny, "--namespace=ns-1"])?;
    d.kprobe(Expect::Timeout)?;
    d.say("Replace it with allow: app=busybox may reach app=http-echo");
    d.kstep(&[
        "delete",
        "netpol",
        "deny-all-by-default",
        "--namespace=ns-1",
    ])?;
    let allow = policy_file(ALLOW)?;
    d.kstep(&["create", "-f", &allow, "--namespace=ns-1"])?;
    d.say("busybox has no app=busybox label yet: still a timeout");
    d.kprobe(Expect::Timeout)?;
    d.say("Label busybox app=busybox: allowed again");
    d.kstep(&[
        "label",
        "po",
        "--selector=run=busybox",
        "--namespace=ns-1",
        "app=busybox",
    ])?;
    d.kprobe(Expect::Ok200)?;
    d.say("http-echo's request log (one line per request that got through)");
    d.kstep(&["logs", "--namespace=ns-1", "http-echo"])?;
    Ok(())
}
