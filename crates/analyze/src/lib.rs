//! Cluster-scale connectivity: every allowed connection between endpoints,
//! and between endpoints and the outside world, computed on equivalence
//! classes (never pod by pod), plus the diff between two versions.
//!
//! Start with [`connectivity`]. Its result is exact: for every ordered pair
//! of endpoints (and endpoint / external address range), the set of
//! (protocol, port ranges) that both the source's egress and the
//! destination's ingress allow. Pairs with nothing allowed are omitted.

mod output;

pub use output::{Allow, Connection, Connectivity, Endpoint};
