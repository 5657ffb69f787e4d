//! Cluster-scale connectivity: every allowed connection between endpoints,
//! and between endpoints and the outside world, computed on equivalence
//! classes (never pod by pod), plus the diff between two versions.
//!
//! Start with [`connectivity`]. Its result is exact: for every ordered pair
//! of endpoints (and endpoint / external address range), the set of
//! (protocol, port ranges) that both the source's egress and the
//! destination's ingress allow. Pairs with nothing allowed are omitted, and
//! so are self pairs (a pod reaching itself is always allowed).
//!
//! For large clusters, where listing every pair is the expensive part, use
//! [`ClassConnectivity`]: the same answer per class pair, with a lazy,
//! sorted [`ClassConnectivity::connections`] iterator and cheap
//! [`ClassConnectivity::stats`].
//!
//! How it works:
//! 1. policies are compiled to ids (`compile`): each distinct selector,
//!    ipBlock, named port and peer once;
//! 2. the address space is cut at every ipBlock edge into regions
//!    (`regions`), the port space at every port a rule names into atoms
//!    (`ports`); port sets are interned bitmasks over atoms;
//! 3. endpoints are grouped into classes (`classes`) and each class gets
//!    an egress and an ingress role (`roles`): its isolating policies;
//! 4. per namespace and direction, a view (`views`) gives every class a
//!    feature (which peers of that namespace's rules match it); each role
//!    tabulates its allowed ports per feature (`tables`, laid out in `side`);
//! 5. a class pair is then `egress[role][feature] ∩ ingress[role][feature]`
//!    (intersections precomputed, `meet`); external addresses get per-role
//!    CIDR lists (`external`).
//!
//! Why not a class x class matrix: classes only merge endpoints that are
//! indistinguishable to *every* selector, and real label sets (and the
//! synthetic ones) make most pods distinct: 50,000 synthetic pods form
//! about 41,700 classes, so a matrix would have 1.7 billion cells. Roles
//! and views factor it instead: a class pair costs a few table lookups,
//! and building the tables costs about (namespaces with policies) x
//! classes, in time and in memory (4 bytes per class per view).
//! [`ClassConnectivity::stats`] counts without visiting pairs either.

mod addr;
mod classes;
mod compile;
pub mod diff;
mod engine;
mod expand;
mod external;
mod group;
mod hash;
mod meet;
mod output;
mod ports;
mod regions;
mod roles;
mod side;
mod stats;
mod tables;
mod views;

pub use engine::ClassConnectivity;
pub use expand::{Connections, End, Sources};
pub use group::Group;
pub use output::{Allow, Connection, Connectivity, Endpoint};
pub use stats::Stats;

use palisade_model::Cluster;

/// Every allowed connection in `cluster`, fully listed and sorted.
///
/// Endpoints are all pods and workloads. A connection from `a` to `b` lists
/// the ports both `a`'s egress and `b`'s ingress allow; `to` (or `from`) is
/// a CIDR for addresses outside every endpoint, grouped into the fewest
/// CIDRs (`0.0.0.0/0`, `::/0` when nothing narrows them). Self pairs are
/// omitted: a pod may always reach itself.
pub fn connectivity(cluster: &Cluster) -> Connectivity {
    let cc = ClassConnectivity::new(cluster);
    Connectivity {
        endpoints: cc.endpoints().to_vec(),
        connections: cc.connections().collect(),
        notes: cc.notes().to_vec(),
    }
}

/// Counts what [`connectivity`] would list, without listing it.
pub fn count_connections(cluster: &Cluster) -> Stats {
    ClassConnectivity::new(cluster).stats()
}

#[cfg(test)]
mod tests;
