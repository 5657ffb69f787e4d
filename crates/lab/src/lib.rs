//! palisade-lab: a one-machine cluster made of network namespaces.
//!
//! Pure mechanism with explicit inputs (no policy, no state files): the
//! `palisade lab` CLI builds the lab state and policy reconcile on top.
//!
//! Where to start:
//! - [`Node::create`] makes the node netns (forwarding on); [`Node::add_pod`]
//!   wires a pod netns to it with a veth pair and routes; [`Node::add_external`]
//!   adds non-pod addresses on the external host netns.
//! - [`Node::add_service`] installs Service DNAT in the node; [`hosts::write`]
//!   gives a pod the hosts file that resolves Service names.
//! - [`process::spawn`] starts a workload inside a pod, detached; [`serve`] and
//!   [`http_echo`] are the workloads; [`http_client::probe`] is a wget-like check.
//! - [`probe::probe_many`] sends real packets between namespaces, concurrently.
//! - [`teardown`] removes everything with a prefix, also after a crash.
//!
//! Nothing here touches the host's root network namespace: links, addresses,
//! routes, sysctls and nftables are created only inside lab namespaces.

mod check;
mod cmd;
pub use cmd::locate;
pub mod hosts;
pub mod http_client;
pub mod http_echo;
mod http_wire;
pub mod names;
pub mod netns;
mod node;
mod pod;
pub mod probe;
pub mod process;
mod protocol;
pub mod serve;
pub mod service;
mod timefmt;

pub use check::missing_requirements;
pub use cmd::{program_exists, CommandError};
pub use netns::in_netns;
pub use node::{teardown, Node, NodeError, Teardown};
pub use pod::PodNet;
pub use probe::{probe_many, Outcome, ProbeError, ProbeSpec};
pub use protocol::Protocol;
pub use service::{ServiceDnat, ServiceError, ServiceKey};
