//! The reachability matrix of all pods, for one port and protocol.

use palisade_model::{Cluster, Direction, NetworkPolicy, Pod, PodId, Protocol};
use serde::Serialize;

use crate::endpoint::{End, Resolved};
use crate::side::{isolating_policies, side_allows};
use crate::PortRef;

/// One cell of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cell {
    Allowed,
    Denied,
    /// The destination defines no container port of that name and protocol.
    NoSuchPort,
}

impl Cell {
    /// `.` allowed, `X` denied, `-` no such port (the conformance table alphabet).
    pub fn symbol(self) -> char {
        match self {
            Cell::Allowed => '.',
            Cell::Denied => 'X',
            Cell::NoSuchPort => '-',
        }
    }
}

/// Rows are sources, columns destinations, both in the order of `pods`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Matrix {
    pub protocol: Protocol,
    pub port: String,
    pub pods: Vec<PodId>,
    pub cells: Vec<Vec<Cell>>,
}

struct Subject<'c> {
    pod: &'c Pod,
    egress: Vec<&'c NetworkPolicy>,
    ingress: Vec<&'c NetworkPolicy>,
}

impl Matrix {
    /// Evaluates every ordered pair of pods (in `cluster` order). The
    /// isolating policies of each pod are computed once, not per cell.
    pub fn build(cluster: &Cluster, protocol: Protocol, port: &PortRef) -> Matrix {
        let subjects: Vec<Subject<'_>> = cluster
            .pods()
            .map(|pod| Subject {
                pod,
                egress: isolating_policies(cluster, &pod.namespace, &pod.labels, Direction::Egress),
                ingress: isolating_policies(
                    cluster,
                    &pod.namespace,
                    &pod.labels,
                    Direction::Ingress,
                ),
            })
            .collect();
        let cells = subjects
            .iter()
            .map(|src| {
                subjects
                    .iter()
                    .map(|dst| cell(cluster, src, dst, protocol, port))
                    .collect()
            })
            .collect();
        let pods = subjects.iter().map(|s| s.pod.id()).collect();
        Matrix {
            protocol,
            port: port.to_string(),
            pods,
            cells,
        }
    }
}

fn cell(
    cluster: &Cluster,
    src: &Subject<'_>,
    dst: &Subject<'_>,
    protocol: Protocol,
    port: &PortRef,
) -> Cell {
    let port = match port {
        PortRef::Number(n) => *n,
        PortRef::Named(name) => match dst.pod.named_port(name, protocol) {
            Some(n) => n,
            None => return Cell::NoSuchPort,
        },
    };
    if src.pod.id() == dst.pod.id() {
        return Cell::Allowed;
    }
    let dst_end = End::of_pod(dst.pod, None);
    let src_end = End::of_pod(src.pod, dst_end.ip);
    let c = Resolved {
        src: src_end,
        dst: dst_end,
        protocol,
        port,
        same_pod: false,
    };
    let allowed = side_allows(cluster, &c, Direction::Egress, &src.egress)
        && side_allows(cluster, &c, Direction::Ingress, &dst.ingress);
    if allowed {
        Cell::Allowed
    } else {
        Cell::Denied
    }
}
