//! The nftables backend: renders palisade's dataplane IR
//! ([`palisade_compile::Ruleset`]) into nft transactions, applies them
//! atomically, reads the table back and computes minimal deltas.
//!
//! Start with [`Nft::reconcile`]: it reads the table back
//! ([`state::from_json`]), compares it with what the IR wants
//! ([`state::expected`]) and sends either the whole table
//! ([`render::full`]), only the differences ([`delta::delta`]), or nothing.
//! On the hot path, [`Nft::reconcile_from`] diffs the IR of the last update
//! against the new one object by object ([`incremental`], [`delta::between`])
//! instead of reading back (read-back costs about as much as a full apply).
//! Every update, the full program and any delta, goes to the kernel as one
//! netlink batch ([`netlink`], [`Transport::Netlink`], the default), or as
//! one `nft -f -` run ([`Transport::Text`], and the fallback for what the
//! encoder does not know). Both are atomic, so a rejected update leaves the
//! previous ruleset in force, and the error names the set or chain the
//! kernel rejected (each netlink message carries its object; [`Script`]
//! records which lines belong to which object).
//!
//! [`example`] builds a small IR by hand, with typical changes to it; the
//! tests use it, and `tests/kernel.rs` runs it against the real kernel in
//! throwaway network namespaces.
//!
//! The table layout (dispatch maps, base chains, hooks and priorities) is
//! described in [`layout`]. Rules carry a fingerprint in their comment
//! ([`fingerprint`]), which is how read-back compares them.

pub mod apply;
pub mod delta;
mod desired;
pub mod element;
pub mod example;
pub mod fingerprint;
pub mod flowlog;
pub mod incremental;
mod json;
pub mod layout;
mod names;
pub mod netlink;
pub mod render;
mod rules;
pub mod script;
pub mod state;

pub use apply::{ApplyError, ApplyKind, ApplyReport, Nft, Transport};
pub use desired::RenderError;
pub use script::{Script, ScriptBuilder};
pub use state::TableState;
