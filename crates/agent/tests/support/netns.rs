//! A network namespace per test, deleted on drop: the agent under test
//! never touches the root namespace's nftables.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Whether the kernel tests can run (root, `nft` and `ip`). When they
/// cannot: panics under CI (which must run them), else prints "skipped"
/// and returns false.
pub fn kernel_available() -> bool {
    let root = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false);
    let tools = [("nft", "--version"), ("ip", "-V")]
        .iter()
        .all(|(program, arg)| {
            Command::new(program)
                .arg(arg)
                .output()
                .is_ok_and(|o| o.status.success())
        });
    if root && tools {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("the agent's kernel tests need root, nft and ip (root: {root}, tools: {tools}); CI must provide them");
    }
    println!("skipped: needs root and nft");
    false
}

/// A network namespace named `pal-agenttest-<pid>-<n>`.
#[derive(Debug)]
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "pal-agenttest-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let out = Command::new("ip")
            .args(["netns", "add", &name])
            .output()
            .expect("ip netns add");
        assert!(
            out.status.success(),
            "ip netns add: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self { name }
    }

    /// Runs `nft ARGS` in the namespace; (success, stdout + stderr).
    pub fn nft(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.name, "nft"])
            .args(args)
            .output()
            .expect("run nft");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}
