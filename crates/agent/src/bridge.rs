//! Bridged CNIs: traffic between two pods on the same Linux bridge is
//! switched, not routed, and reaches the `forward` hook (where palisade's
//! chains are) only when `br_netfilter` is loaded and
//! `net.bridge.bridge-nf-call-iptables` (and `-ip6tables`) is 1. Otherwise
//! same-node pod-to-pod traffic silently bypasses every policy.

use std::fmt;
use std::path::Path;

/// The fix, as shell commands.
pub const FIX: &str = "modprobe br_netfilter; sysctl -w net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1";

/// What was found on this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BridgeStatus {
    /// No Linux bridge: traffic is routed and crosses netfilter.
    NoBridge,
    /// Bridges exist and their traffic is passed to netfilter.
    Filtered { bridges: Vec<String> },
    /// Bridges exist but their traffic bypasses netfilter.
    Bypassed {
        bridges: Vec<String>,
        /// `br_netfilter not loaded`, `bridge-nf-call-iptables=0`, ...
        reason: String,
    },
}

impl BridgeStatus {
    /// Whether same-bridge traffic escapes policy.
    pub fn bypassed(&self) -> bool {
        matches!(self, BridgeStatus::Bypassed { .. })
    }
}

impl fmt::Display for BridgeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BridgeStatus::NoBridge => f.write_str("no Linux bridge on this node"),
            BridgeStatus::Filtered { bridges } => {
                write!(
                    f,
                    "bridges {} pass traffic to netfilter",
                    bridges.join(", ")
                )
            }
            BridgeStatus::Bypassed { bridges, reason } => write!(
                f,
                "traffic between pods on bridge {} bypasses NetworkPolicy: {reason}; fix: {FIX}",
                bridges.join(", ")
            ),
        }
    }
}

/// Checks this node (`/sys/class/net`, `/proc/sys/net/bridge`).
pub fn check() -> BridgeStatus {
    check_at(
        Path::new("/sys/class/net"),
        Path::new("/proc/sys/net/bridge"),
    )
}

/// [`check`] against other roots (tests).
pub fn check_at(class_net: &Path, proc_bridge: &Path) -> BridgeStatus {
    let bridges = bridges(class_net);
    if bridges.is_empty() {
        return BridgeStatus::NoBridge;
    }
    let setting = |name: &str| {
        std::fs::read_to_string(proc_bridge.join(name))
            .ok()
            .map(|v| v.trim() == "1")
    };
    let reason = match (
        setting("bridge-nf-call-iptables"),
        setting("bridge-nf-call-ip6tables"),
    ) {
        (None, _) => "br_netfilter is not loaded".to_string(),
        (Some(false), _) => "net.bridge.bridge-nf-call-iptables=0".to_string(),
        (Some(true), Some(false)) => "net.bridge.bridge-nf-call-ip6tables=0".to_string(),
        (Some(true), _) => return BridgeStatus::Filtered { bridges },
    };
    BridgeStatus::Bypassed { bridges, reason }
}

/// Interfaces that are bridges (they have a `bridge` directory), sorted.
fn bridges(class_net: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(class_net) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().join("bridge").is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    struct Dirs {
        root: std::path::PathBuf,
    }

    impl Dirs {
        fn new(name: &str) -> Self {
            let root =
                std::env::temp_dir().join(format!("pal-bridge-{}-{name}", std::process::id()));
            let _ = fs::remove_dir_all(&root);
            fs::create_dir_all(root.join("net/eth0")).unwrap();
            fs::create_dir_all(root.join("bridge")).unwrap();
            Self { root }
        }
        fn add_bridge(&self, name: &str) {
            fs::create_dir_all(self.root.join("net").join(name).join("bridge")).unwrap();
        }
        fn set(&self, name: &str, value: &str) {
            fs::write(self.root.join("bridge").join(name), value).unwrap();
        }
        fn check(&self) -> BridgeStatus {
            check_at(&self.root.join("net"), &self.root.join("bridge"))
        }
    }

    impl Drop for Dirs {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.root);
        }
    }

    #[test]
    fn routed_nodes_need_nothing() {
        assert_eq!(Dirs::new("routed").check(), BridgeStatus::NoBridge);
    }

    #[test]
    fn a_bridge_without_br_netfilter_is_reported_with_the_fix() {
        let d = Dirs::new("missing");
        d.add_bridge("cni0");
        let status = d.check();
        assert!(status.bypassed());
        let text = status.to_string();
        assert!(text.contains("cni0") && text.contains("not loaded") && text.contains(FIX));
    }

    #[test]
    fn the_sysctl_decides() {
        let d = Dirs::new("sysctl");
        d.add_bridge("cni0");
        d.set("bridge-nf-call-iptables", "0\n");
        assert!(d.check().to_string().contains("bridge-nf-call-iptables=0"));
        d.set("bridge-nf-call-iptables", "1\n");
        d.set("bridge-nf-call-ip6tables", "1\n");
        assert!(!d.check().bypassed());
    }
}
