//! palisade-bench: the pieces of `palisade bench` that do not need the lab's
//! state file (the CLI puts them together; see `crates/cli/src/cmd/bench`).
//!
//! Where to start:
//! - [`world::World`]: the benchmark's cluster, a synthetic cluster from
//!   `palisade-synth` plus a `bench` namespace with a client and a server pod
//!   (the only pods with real network namespaces) and the policies that
//!   select them.
//! - [`linear::build`]: the classic baseline, a linear rule list (one rule per
//!   selected pod, peer and port, in one chain) holding the same policies.
//! - [`loadgen`]: new TCP connections per second between two network
//!   namespaces; [`iperf`]: bulk throughput with iperf3.
//! - [`alternate`]: one iperf3 flow with the ruleset switched in and out
//!   of the path, compared block by block.
//! - [`stats`] and [`table`]: medians, percentiles and the printed table.

pub mod alternate;
pub mod iperf;
pub mod linear;
pub mod loadgen;
pub mod prober;
pub mod stats;
pub mod table;
pub mod world;
