//! Field paths as written in manifests: `spec.ingress[0].from[1]`.

use palisade_model::Direction;

/// `spec.ingress` or `spec.egress`.
pub(crate) fn rules(d: Direction) -> String {
    format!("spec.{}", d.as_str())
}

/// `spec.ingress[i]`.
pub(crate) fn rule(d: Direction, i: usize) -> String {
    format!("{}[{i}]", rules(d))
}

/// `spec.ingress[i].from[j]` or `spec.egress[i].to[j]`.
pub(crate) fn peer(d: Direction, i: usize, j: usize) -> String {
    let list = match d {
        Direction::Ingress => "from",
        Direction::Egress => "to",
    };
    format!("{}.{list}[{j}]", rule(d, i))
}

/// `spec.ingress[i].ports[k]`.
pub(crate) fn port(d: Direction, i: usize, k: usize) -> String {
    format!("{}.ports[{k}]", rule(d, i))
}
