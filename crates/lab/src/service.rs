//! Services as DNAT in the node netns, in the nft table `inet <prefix>svc`.
//!
//! The table has two verdict maps (`svc4`, `svc6`) keyed by
//! `clusterIP . protocol . port`, consulted from nat prerouting (traffic from
//! pods) and nat output (traffic from the node itself). Each Service port gets
//! its own chain that DNATs to its backends (`numgen random` when several). Adding
//! or removing one is a single `nft -f -` transaction inside the node netns.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use serde::{Deserialize, Serialize};

use crate::cmd::CommandError;
use crate::node::Node;
use crate::Protocol;

/// A Service operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A Service port needs at least one backend.
    #[error("service {0} has no backends")]
    NoBackends(ServiceKey),
    /// Backends must be of the cluster IP's address family.
    #[error("service {key}: backend {backend} is not of the cluster IP's family")]
    MixedFamilies {
        /// The Service port.
        key: ServiceKey,
        /// The offending backend.
        backend: SocketAddr,
    },
    /// `nft -f -` rejected the transaction.
    #[error(transparent)]
    Nft(#[from] CommandError),
}

/// One Service port: what clients connect to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ServiceKey {
    /// The ClusterIP.
    pub cluster_ip: IpAddr,
    /// The protocol of the Service port.
    pub protocol: Protocol,
    /// The Service port.
    pub port: u16,
}

impl std::fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let addr = SocketAddr::new(self.cluster_ip, self.port);
        write!(f, "{addr}/{}", self.protocol)
    }
}

/// One Service port and the endpoints (podIP:targetPort) it DNATs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceDnat {
    /// ClusterIP, protocol and port.
    pub key: ServiceKey,
    /// `podIP:targetPort` of each ready endpoint.
    pub backends: Vec<SocketAddr>,
}

/// The nft table the lab owns in the node netns: `<prefix>svc` (family `inet`).
pub fn table_name(prefix: &str) -> String {
    format!("{prefix}svc")
}

impl Node {
    /// Adds (or replaces) a Service port's DNAT, in one nft transaction.
    pub fn add_service(&self, svc: &ServiceDnat) -> Result<(), ServiceError> {
        let script = render_add(&table_name(self.prefix()), svc)?;
        nft(self, &script)
    }

    /// Replaces the whole Service table with `services`, in one nft
    /// transaction: the table (re)created with its maps and hooks, then
    /// every Service port. Whatever the table held (nothing, after `nft
    /// flush ruleset`; stale or missing ports; a deleted chain) is replaced;
    /// a rejected transaction leaves the table as it was.
    pub fn replace_services(&self, services: &[ServiceDnat]) -> Result<(), ServiceError> {
        nft(self, &render_replace(&table_name(self.prefix()), services)?)
    }

    /// The Service table as `nft list table` prints it (an error when it is
    /// absent): what a drift check compares with the listing taken after
    /// the last [`Node::replace_services`].
    pub fn list_services(&self) -> Result<String, ServiceError> {
        Ok(self.nft(&["list", "table", "inet", &table_name(self.prefix())])?)
    }

    /// Removes a Service port's DNAT, in one nft transaction (an error if it is absent).
    pub fn remove_service(&self, key: &ServiceKey) -> Result<(), ServiceError> {
        nft(self, &render_remove(&table_name(self.prefix()), key))
    }
}

/// Creates the Service table in the node (at node creation).
pub(crate) fn install_table(node: &Node) -> Result<(), ServiceError> {
    nft(node, &render_table(&table_name(node.prefix())))
}

fn nft(node: &Node, script: &str) -> Result<(), ServiceError> {
    Ok(node.nft_apply(script)?)
}

/// The table with its maps and the two nat hooks.
pub(crate) fn render_table(table: &str) -> String {
    let lookups = "ip daddr . meta l4proto . th dport vmap @svc4\n    \
                   ip6 daddr . meta l4proto . th dport vmap @svc6";
    format!(
        "table inet {table} {{\n  \
         map svc4 {{ type ipv4_addr . inet_proto . inet_service : verdict; }}\n  \
         map svc6 {{ type ipv6_addr . inet_proto . inet_service : verdict; }}\n  \
         chain prerouting {{\n    type nat hook prerouting priority dstnat; policy accept;\n    {lookups}\n  }}\n  \
         chain output {{\n    type nat hook output priority -100; policy accept;\n    {lookups}\n  }}\n}}\n"
    )
}

/// The transaction that replaces the whole table: created if absent (so the
/// delete cannot fail), deleted, then rendered anew with every port.
pub(crate) fn render_replace(
    table: &str,
    services: &[ServiceDnat],
) -> Result<String, ServiceError> {
    let mut out = format!("table inet {table} {{}}\ndelete table inet {table}\n");
    out.push_str(&render_table(table));
    for svc in services {
        out.push_str(&render_add(table, svc)?);
    }
    Ok(out)
}

/// The transaction that adds (or replaces) one Service port.
pub(crate) fn render_add(table: &str, svc: &ServiceDnat) -> Result<String, ServiceError> {
    let key = svc.key;
    check_backends(svc)?;
    let chain = chain_name(&key);
    let mut out = format!("add chain inet {table} {chain}\nflush chain inet {table} {chain}\n");
    let _ = writeln!(out, "add rule inet {table} {chain} {}", dnat_rule(svc));
    let _ = writeln!(
        out,
        "add element inet {table} {} {{ {} : goto {chain} }}",
        map_name(&key),
        element(&key)
    );
    Ok(out)
}

/// The transaction that removes one Service port (map element first, then its chain).
pub(crate) fn render_remove(table: &str, key: &ServiceKey) -> String {
    format!(
        "delete element inet {table} {} {{ {} }}\ndelete chain inet {table} {}\n",
        map_name(key),
        element(key),
        chain_name(key)
    )
}

fn check_backends(svc: &ServiceDnat) -> Result<(), ServiceError> {
    if svc.backends.is_empty() {
        return Err(ServiceError::NoBackends(svc.key));
    }
    let v4 = svc.key.cluster_ip.is_ipv4();
    match svc.backends.iter().find(|b| b.is_ipv4() != v4) {
        Some(&backend) => Err(ServiceError::MixedFamilies {
            key: svc.key,
            backend,
        }),
        None => Ok(()),
    }
}

/// `meta l4proto tcp dnat ip to 10.0.1.1:8080`, or a `numgen random` map for several backends.
fn dnat_rule(svc: &ServiceDnat) -> String {
    let family = if svc.key.cluster_ip.is_ipv4() {
        "ip"
    } else {
        "ip6"
    };
    let proto = svc.key.protocol.nft_name();
    if let [only] = svc.backends.as_slice() {
        return format!("meta l4proto {proto} dnat {family} to {only}");
    }
    let entries: Vec<String> = svc
        .backends
        .iter()
        .enumerate()
        .map(|(i, b)| format!("{i} : {} . {}", b.ip(), b.port()))
        .collect();
    let n = svc.backends.len();
    format!(
        "meta l4proto {proto} dnat {family} to numgen random mod {n} map {{ {} }}",
        entries.join(", ")
    )
}

/// `svc-10.96.0.10-tcp-80` (IPv6 colons written as `_`).
fn chain_name(key: &ServiceKey) -> String {
    let ip = key.cluster_ip.to_string().replace(':', "_");
    format!("svc-{ip}-{}-{}", key.protocol, key.port)
}

fn map_name(key: &ServiceKey) -> &'static str {
    if key.cluster_ip.is_ipv4() {
        "svc4"
    } else {
        "svc6"
    }
}

fn element(key: &ServiceKey) -> String {
    format!("{} . {} . {}", key.cluster_ip, key.protocol, key.port)
}

#[cfg(test)]
mod tests;
