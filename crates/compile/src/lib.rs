//! Compiles a [`palisade_model::Cluster`] into the dataplane IR ([`ir::Ruleset`])
//! for the pods of one node, and interprets that IR ([`interpret`]) so tests can
//! check it decides exactly like the evaluator.

mod cache;
mod compile;
mod dispatch;
mod incremental;
mod index;
mod interpret;
pub mod ir;
mod local;
mod names;
mod seen;
mod sets;

pub use compile::compile;
pub use incremental::Compiler;
pub use interpret::{interpret, Packet, Step, Trace};
pub use local::LocalPods;
pub use seen::Touched;

pub use ir::{
    AddrSet, Chain, CounterKind, Family, Match, NamedPortSet, PortSet, Provenance, Rule, Ruleset,
};
