//! A network namespace per test, deleted on drop: the agent under test
//! never touches the root namespace's nftables.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Whether the kernel tests can run (root, `nft`, `ip`: see
/// `palisade_lab::missing_requirements`). When they cannot: panics under CI
/// (which must run them), else prints "skipped" and returns false.
pub fn kernel_available() -> bool {
    let missing = palisade_lab::missing_requirements();
    if missing.is_empty() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "the agent's kernel tests need {}; CI must provide them",
            missing.join(", ")
        );
    }
    println!("skipped: needs {}", missing.join(", "));
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
        palisade_lab::netns::create(&name).expect("ip netns add");
        Self { name }
    }

    /// Runs `nft ARGS` in the namespace; (success, stdout + stderr).
    pub fn nft(&self, args: &[&str]) -> (bool, String) {
        let out = palisade_lab::netns::command(&self.name, "nft")
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
        let _ = palisade_lab::netns::delete(&self.name);
    }
}
