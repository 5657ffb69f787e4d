//! Real-packet reachability probes between namespaces.
//!
//! Every probe creates its socket(s) inside the right netns, so packets really
//! leave the source pod, cross the node's forward path (and its netfilter), and
//! arrive in the destination pod:
//! - TCP: a connect; refused => [`ProbeError::PortClosed`], never `Blocked`.
//! - UDP: a datagram with a random nonce that [`crate::serve`] echoes back.
//! - SCTP: the kernel may have no SCTP sockets, so a raw socket in the
//!   destination netns listens, and a hand-built INIT packet (random initiate
//!   tag as nonce, CRC32c checksum) is sent from a raw socket in the source
//!   netns. `Reached` iff the INIT with that tag arrives (any port: Service
//!   DNAT may rewrite it). No SCTP server is needed, and a closed SCTP port
//!   cannot be told from an open one.
//!
//! Silence until the timeout means `Blocked`. [`probe_many`] runs probes
//! concurrently from one event loop, so a batch of blocked probes costs about
//! one timeout, not one each.

mod engine;
mod rng;
mod sctp;
mod sockets;

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Protocol;

/// The default wait for a reply: traffic on veth takes microseconds when allowed.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(400);

/// One probe: from a netns (optionally a specific source address) to `dst_ip:port`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeSpec {
    /// The netns the probe starts in (a pod, or the external host).
    pub src_netns: String,
    /// The source address to bind (the external host has many), or None for the default.
    pub src_ip: Option<IpAddr>,
    /// The destination address (a pod IP, a ClusterIP, an external address).
    pub dst_ip: IpAddr,
    /// The netns that owns `dst_ip` after DNAT (needed for SCTP, ignored otherwise).
    pub dst_netns: Option<String>,
    /// TCP, UDP or SCTP.
    pub protocol: Protocol,
    /// The destination port.
    pub port: u16,
}

impl ProbeSpec {
    /// A probe from `src_netns` to `dst_ip:port` (add `dst_netns` with [`ProbeSpec::to_netns`] for SCTP).
    pub fn new(src_netns: &str, dst_ip: IpAddr, protocol: Protocol, port: u16) -> Self {
        ProbeSpec {
            src_netns: src_netns.to_owned(),
            src_ip: None,
            dst_ip,
            dst_netns: None,
            protocol,
            port,
        }
    }

    /// Binds the source address.
    pub fn from_ip(mut self, src_ip: IpAddr) -> Self {
        self.src_ip = Some(src_ip);
        self
    }

    /// Names the destination netns (where SCTP INITs are watched for).
    pub fn to_netns(mut self, dst_netns: &str) -> Self {
        self.dst_netns = Some(dst_netns.to_owned());
        self
    }

    fn dst(&self) -> SocketAddr {
        SocketAddr::new(self.dst_ip, self.port)
    }
}

/// What a probe saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Outcome {
    /// The packet arrived (TCP connected, UDP echoed, SCTP INIT seen).
    Reached,
    /// Nothing came back before the timeout: dropped on the way.
    Blocked,
}

/// A probe that could not decide Reached or Blocked.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The destination answered that nothing listens there (TCP RST, ICMP port unreachable).
    #[error("port closed: {dst} refused the {protocol} probe")]
    PortClosed {
        /// The protocol.
        protocol: Protocol,
        /// The destination.
        dst: SocketAddr,
    },
    /// An ICMP error or a local refusal other than "port closed" (e.g. an nft `reject`).
    #[error("{protocol} probe to {dst} rejected: {source}")]
    Rejected {
        /// The protocol.
        protocol: Protocol,
        /// The destination.
        dst: SocketAddr,
        /// The error the socket reported.
        source: io::Error,
    },
    /// SCTP probes need the destination netns to watch for the INIT.
    #[error("SCTP probe to {0} needs dst_netns")]
    NoDstNetns(SocketAddr),
    /// `src_ip` and `dst_ip` are of different families.
    #[error("source {src} and destination {dst} differ in address family")]
    FamilyMismatch {
        /// The source address.
        src: IpAddr,
        /// The destination address.
        dst: IpAddr,
    },
    /// A netns could not be entered.
    #[error("entering netns {name}: {source}")]
    Netns {
        /// The netns.
        name: String,
        /// Why.
        source: io::Error,
    },
    /// Creating, binding or using a socket failed.
    #[error("{protocol} probe to {dst}: {source}")]
    Io {
        /// The protocol.
        protocol: Protocol,
        /// The destination.
        dst: SocketAddr,
        /// The error.
        source: io::Error,
    },
}

/// How [`probe_many_with`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeOptions {
    /// How long each probe waits before it reports `Blocked`.
    pub timeout: Duration,
    /// How many probes are in flight at once (each holds one socket); also
    /// capped at half the open-file limit.
    pub max_in_flight: usize,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            timeout: DEFAULT_TIMEOUT,
            max_in_flight: 2048,
        }
    }
}

/// Runs one probe.
pub fn probe(spec: &ProbeSpec, timeout: Duration) -> Result<Outcome, ProbeError> {
    let options = ProbeOptions {
        timeout,
        ..ProbeOptions::default()
    };
    let mut results = engine::run(std::slice::from_ref(spec), &options);
    results.pop().unwrap_or(Ok(Outcome::Blocked))
}

/// Runs all probes concurrently; results are in the order of `specs`.
pub fn probe_many(specs: &[ProbeSpec], timeout: Duration) -> Vec<Result<Outcome, ProbeError>> {
    probe_many_with(
        specs,
        &ProbeOptions {
            timeout,
            ..ProbeOptions::default()
        },
    )
}

/// Runs all probes concurrently with explicit options.
pub fn probe_many_with(
    specs: &[ProbeSpec],
    options: &ProbeOptions,
) -> Vec<Result<Outcome, ProbeError>> {
    engine::run(specs, options)
}
