//! The lab node: a netns that routes between pods, like a cluster node's root namespace.
//!
//! [`Node`] is a light handle (just the prefix): every name is derived from the
//! prefix and a pod key, so a later, separate command can [`Node::open`] the
//! same lab and keep working on it.

use std::io;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::cmd::{self, CommandError};
use crate::names::{self, NameError};
use crate::netns::{self, NetnsError};
use crate::pod::{self, PodNet};
use crate::{hosts, service};

/// Sysctls set inside the node netns: forward both families, no reverse-path filter.
const NODE_SYSCTLS: [&str; 5] = [
    "net.ipv4.ip_forward=1",
    "net.ipv6.conf.all.forwarding=1",
    "net.ipv4.conf.all.rp_filter=0",
    "net.ipv4.conf.default.rp_filter=0",
    "net.ipv6.conf.default.accept_dad=0",
];

/// A node, pod or external-host operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The prefix or pod key is not acceptable.
    #[error(transparent)]
    Name(#[from] NameError),
    /// A netns could not be created, deleted or listed.
    #[error(transparent)]
    Netns(#[from] NetnsError),
    /// An `ip`, `nft` or `sysctl` command failed.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// The Service table could not be installed.
    #[error(transparent)]
    Service(#[from] service::ServiceError),
    /// `Node::open` found no node netns for the prefix.
    #[error("no lab node {0} (create it first)")]
    Missing(String),
    /// `Node::create` or `add_pod` found the netns already there.
    #[error("netns {0} already exists")]
    Exists(String),
    /// A file operation (hosts files) failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: io::Error,
    },
}

/// What [`teardown`] removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Teardown {
    /// The netns deleted, sorted.
    pub netns: Vec<String>,
    /// The PIDs killed because they were still inside one of them.
    pub killed: Vec<u32>,
}

/// A handle on the lab node `<prefix>node`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    prefix: String,
}

impl Node {
    /// Creates the node netns: loopback up, forwarding on, rp_filter off, Service table installed.
    pub fn create(prefix: &str) -> Result<Self, NodeError> {
        names::validate_prefix(prefix)?;
        let node = Node {
            prefix: prefix.to_owned(),
        };
        let name = node.netns();
        if netns::exists(&name) {
            return Err(NodeError::Exists(name));
        }
        netns::create(&name)?;
        node.setup().inspect_err(|_| {
            let _ = netns::delete(&name);
        })?;
        Ok(node)
    }

    /// Opens an existing node (created earlier, maybe by another process).
    pub fn open(prefix: &str) -> Result<Self, NodeError> {
        names::validate_prefix(prefix)?;
        let node = Node {
            prefix: prefix.to_owned(),
        };
        if !netns::exists(&node.netns()) {
            return Err(NodeError::Missing(node.netns()));
        }
        Ok(node)
    }

    /// The lab prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The node's netns name, `<prefix>node`.
    pub fn netns(&self) -> String {
        names::node_netns(&self.prefix)
    }

    /// The external host's netns name, `<prefix>ext`.
    pub fn external_netns(&self) -> String {
        names::ext_netns(&self.prefix)
    }

    /// The netns name a pod with this key gets.
    pub fn pod_netns(&self, key: &str) -> String {
        names::pod_netns(&self.prefix, key)
    }

    /// Creates pod `key` (e.g. `x/a`) with `ips`, wired to the node by a veth pair.
    pub fn add_pod(&self, key: &str, ips: &[IpAddr]) -> Result<PodNet, NodeError> {
        names::validate_key(key)?;
        pod::wire(self, key, &self.pod_netns(key), ips)
    }

    /// Removes pod `key`: kills processes left inside, deletes its veth, netns and hosts dir.
    pub fn remove_pod(&self, key: &str) -> Result<(), NodeError> {
        names::validate_key(key)?;
        pod::unwire(self, key, &self.pod_netns(key))
    }

    /// Adds a non-pod address on the external host (created on first use) and routes it.
    pub fn add_external(&self, ip: IpAddr) -> Result<(), NodeError> {
        let ext = self.external_netns();
        if !netns::exists(&ext) {
            pod::wire(self, names::EXT_KEY, &ext, &[])?;
        }
        pod::add_address(self, names::EXT_KEY, &ext, ip)
    }

    /// Removes an address added by [`Node::add_external`].
    pub fn remove_external(&self, ip: IpAddr) -> Result<(), NodeError> {
        pod::remove_address(self, names::EXT_KEY, &self.external_netns(), ip)
    }

    /// Applies an nft script (`nft -f -`) in the node netns, e.g. a policy ruleset.
    pub fn nft_apply(&self, script: &str) -> Result<(), CommandError> {
        let ns = self.netns();
        cmd::run_with_input(
            "ip",
            &["netns", "exec", &ns, "nft", "-f", "-"],
            Some(script),
        )?;
        Ok(())
    }

    /// Runs `nft ARGS...` in the node netns and returns its stdout (e.g. `["list", "ruleset"]`).
    pub fn nft(&self, args: &[&str]) -> Result<String, CommandError> {
        let ns = self.netns();
        let mut full = vec!["netns", "exec", &ns, "nft"];
        full.extend_from_slice(args);
        cmd::run("ip", &full)
    }

    /// Removes everything with this node's prefix; see [`teardown`].
    pub fn destroy(self) -> Result<Teardown, NodeError> {
        teardown(&self.prefix)
    }

    fn setup(&self) -> Result<(), NodeError> {
        let name = self.netns();
        let mut args = vec!["-qw"];
        args.extend(NODE_SYSCTLS);
        netns::exec(&name, "sysctl", &args)?;
        cmd::run("ip", &["-n", &name, "link", "set", "lo", "up"])?;
        service::install_table(self)?;
        Ok(())
    }
}

/// Removes every netns whose name starts with `prefix` (killing processes left
/// inside) and their `/etc/netns` dirs. Works without a [`Node`], for `lab down`
/// after a crash.
pub fn teardown(prefix: &str) -> Result<Teardown, NodeError> {
    names::validate_prefix(prefix)?;
    let mut report = Teardown::default();
    for name in netns::list_with_prefix(prefix)? {
        report.killed.extend(kill_all_in(&name)?);
        netns::delete(&name)?;
        report.netns.push(name);
    }
    hosts::remove_with_prefix(prefix).map_err(|source| NodeError::Io {
        context: "removing /etc/netns dirs".into(),
        source,
    })?;
    Ok(report)
}

/// SIGKILLs every process inside the netns (never this process) and returns their PIDs.
pub(crate) fn kill_all_in(name: &str) -> Result<Vec<u32>, NodeError> {
    let me = std::process::id();
    let pids: Vec<u32> = netns::pids(name)?
        .into_iter()
        .filter(|&p| p != me && p > 1)
        .collect();
    for &pid in &pids {
        crate::process::kill_now(pid);
    }
    Ok(pids)
}
