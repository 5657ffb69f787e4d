//! Service DNS for pods via hosts files.
//!
//! `ip netns exec NAME ...` bind-mounts `/etc/netns/NAME/hosts` over
//! `/etc/hosts`, so every workload started that way resolves Service names
//! through the system resolver. Files are rewritten in place (same inode), so
//! workloads already running see new Services too.

use std::fmt::Write as _;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Where `ip netns exec` looks for per-netns config files.
pub const ETC_NETNS: &str = "/etc/netns";

/// One hosts-file line: an address and its names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostsEntry {
    /// The address.
    pub ip: IpAddr,
    /// Its names, the canonical one first.
    pub names: Vec<String>,
}

/// `CLUSTER_IP name.namespace.svc.cluster.local name.namespace.svc name.namespace`.
pub fn service_entry(cluster_ip: IpAddr, name: &str, namespace: &str) -> HostsEntry {
    let names = ["svc.cluster.local", "svc", ""]
        .iter()
        .map(|suffix| match suffix {
            &"" => format!("{name}.{namespace}"),
            s => format!("{name}.{namespace}.{s}"),
        })
        .collect();
    HostsEntry {
        ip: cluster_ip,
        names,
    }
}

/// The hosts file text: localhost lines, then one line per entry.
pub fn render(entries: &[HostsEntry]) -> String {
    let mut out = String::from("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    for entry in entries {
        let _ = writeln!(out, "{}\t{}", entry.ip, entry.names.join(" "));
    }
    out
}

/// The hosts file of a netns: `/etc/netns/<netns>/hosts`.
pub fn hosts_path(netns: &str) -> PathBuf {
    Path::new(ETC_NETNS).join(netns).join("hosts")
}

/// Writes the netns' hosts file (creating its dir), in place.
pub fn write(netns: &str, entries: &[HostsEntry]) -> io::Result<PathBuf> {
    let path = hosts_path(netns);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, render(entries))?;
    Ok(path)
}

/// Removes `/etc/netns/<netns>` (nothing to do if it is absent).
pub fn remove(netns: &str) -> io::Result<()> {
    match std::fs::remove_dir_all(Path::new(ETC_NETNS).join(netns)) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Removes every `/etc/netns/<prefix>*` dir.
pub(crate) fn remove_with_prefix(prefix: &str) -> io::Result<()> {
    let entries = match std::fs::read_dir(ETC_NETNS) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        other => other?,
    };
    for entry in entries {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.starts_with(prefix) {
            remove(&name)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_are_the_three_kubernetes_forms() {
        let entry = service_entry("10.96.0.10".parse().unwrap(), "echo", "demo");
        let text = render(&[entry]);
        assert!(text.starts_with("127.0.0.1\tlocalhost\n"));
        assert!(text.ends_with("10.96.0.10\techo.demo.svc.cluster.local echo.demo.svc echo.demo\n"));
    }
}
