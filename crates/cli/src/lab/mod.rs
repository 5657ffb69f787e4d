//! `palisade lab`: a Kubernetes-like cluster on one machine, made of network
//! namespaces, with real processes, real packets and palisade's real ruleset.
//!
//! Commands mirror the kubectl verbs of the walkthrough. Those that change
//! the lab are sent (`client.rs`) to the lab's resident controller
//! (`controller.rs`), which holds the lab in memory (`resident.rs`), runs
//! the command's operation (`ops.rs`), programs the node's nftables and
//! saves the state (`state.rs`); read-only commands read the state file.

mod apply;
mod backend;
mod cli;
mod client;
pub(crate) mod controller;
mod dashboard;
mod demo;
mod events;
mod get;
mod images;
pub(crate) mod import;
pub(crate) mod kapi;
mod known;
mod labels;
mod model_sync;
pub(crate) mod ops;
mod out;
mod pods;
mod realize;
mod resident;
mod services;
pub(crate) mod state;

pub use backend::LabBackend;
pub use cli::{run, Args};

/// The lab creates network namespaces and programs nftables: it needs root,
/// `ip`, `nft` and `setsid` (palisade_lab::missing_requirements checks them).
pub fn require_root() -> anyhow::Result<()> {
    let missing = palisade_lab::missing_requirements();
    if !missing.is_empty() {
        anyhow::bail!(
            "the lab needs {} (it creates network namespaces; run it as root with nftables and iproute2 installed)",
            missing.join(", ")
        );
    }
    Ok(())
}

/// The lab machinery's protocol type for a model protocol.
fn lab_protocol(p: palisade_model::Protocol) -> palisade_lab::Protocol {
    match p {
        palisade_model::Protocol::Tcp => palisade_lab::Protocol::Tcp,
        palisade_model::Protocol::Udp => palisade_lab::Protocol::Udp,
        palisade_model::Protocol::Sctp => palisade_lab::Protocol::Sctp,
    }
}
