//! `palisade lab`: a Kubernetes-like cluster on one machine, made of network
//! namespaces, with real processes, real packets and palisade's real ruleset.
//!
//! Commands mirror the kubectl verbs of the walkthrough. Each is a separate
//! process working on the persistent lab state (`state.rs`); every change
//! ends with a reconcile that programs the node's nftables (`ops.rs`).

mod apply;
mod backend;
mod cli;
mod demo;
mod get;
mod labels;
mod ops;
mod pods;
mod services;
mod state;

pub use backend::LabBackend;
pub use cli::{run, Args};

/// The lab creates network namespaces: it needs root.
pub fn require_root() -> anyhow::Result<()> {
    if !nix_is_root() {
        anyhow::bail!("the lab needs root (it creates network namespaces); run it with sudo");
    }
    Ok(())
}

fn nix_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// The lab machinery's protocol type for a model protocol.
fn lab_protocol(p: palisade_model::Protocol) -> palisade_lab::Protocol {
    match p {
        palisade_model::Protocol::Tcp => palisade_lab::Protocol::Tcp,
        palisade_model::Protocol::Udp => palisade_lab::Protocol::Udp,
        palisade_model::Protocol::Sctp => palisade_lab::Protocol::Sctp,
    }
}
