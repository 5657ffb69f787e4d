//! The NetworkPolicy evaluator: is a connection allowed, and why.
//!
//! Start with [`evaluate`]: it takes a [`Cluster`] and a [`Connection`] and
//! returns a [`Verdict`] that says, for each side (the source's egress and
//! the destination's ingress), whether the pod is isolated, by which
//! policies, and which rule (policy, rule index, peer index, port index)
//! allowed the connection, or why none did.

mod endpoint;
mod explain;
mod matrix;
mod side;
mod verdict;

pub use endpoint::{Connection, Endpoint, EvalError, PortRef};
pub use matrix::{Cell, Matrix};
pub use verdict::{Denial, Miss, RuleMatch, Side, SideVerdict, Verdict};

use palisade_model::Cluster;

/// Decides `conn` in `cluster`: allowed iff the source's egress allows it
/// AND the destination's ingress allows it. A pod reaching itself is always
/// allowed.
pub fn evaluate(cluster: &Cluster, conn: &Connection) -> Result<Verdict, EvalError> {
    let resolved = endpoint::resolve(cluster, conn)?;
    Ok(side::decide(cluster, &resolved))
}
