//! `GET /api/graph`: the connectivity graph, from the analyzer's
//! class-level result. For the whole cluster, edges are listed in order up
//! to [`MAX_EDGES`]; for one namespace, they are looked up class pair by
//! class pair for that namespace's endpoints only (cheap at any size).

use std::collections::BTreeMap;

use palisade_analyze::{Allow, ClassConnectivity, Endpoint};
use palisade_model::{Cluster, Direction};
use serde::Serialize;

/// Edges listed at most in one graph; the rest is counted, not drawn.
pub const MAX_EDGES: usize = 5_000;

/// `GET /api/graph`: who may reach whom, from the analyzer.
#[derive(Debug, Serialize)]
pub struct GraphView {
    pub version: u64,
    /// Endpoints (pods and workloads) as `namespace/name`, sorted.
    pub nodes: Vec<NodeView>,
    /// Allowed connections between endpoints (self pairs omitted: always allowed).
    pub edges: Vec<EdgeView>,
    /// Allowed connections between an endpoint and addresses outside every
    /// endpoint, one entry per endpoint, direction and allowed ports.
    pub external: Vec<ExternalView>,
    /// Endpoint connections not listed because of [`MAX_EDGES`].
    pub omitted: usize,
}

#[derive(Debug, Serialize)]
pub struct NodeView {
    pub id: String,
    pub namespace: String,
    pub name: String,
    pub kind: String,
}

#[derive(Debug, Serialize)]
pub struct EdgeView {
    pub from: String,
    pub to: String,
    pub allow: Vec<Allow>,
    /// `TCP 80, 8080-8090; UDP any`.
    pub text: String,
}

/// An endpoint's allowed connections to (`egress`) or from (`ingress`) the
/// outside, with the same ports for every CIDR listed.
#[derive(Debug, Serialize)]
pub struct ExternalView {
    pub endpoint: String,
    pub direction: Direction,
    /// The analyzer's grouped CIDRs (`0.0.0.0/0` minus pod addresses is many).
    pub cidrs: Vec<String>,
    pub allow: Vec<Allow>,
    pub text: String,
}

/// The connectivity graph of `c`, or of namespace `ns` (its endpoints, the
/// endpoints they connect with, and its endpoints' outside connections):
/// at most [`MAX_EDGES`] endpoint edges, the rest counted in `omitted`.
pub fn graph_view(c: &Cluster, version: u64, ns: Option<&str>) -> GraphView {
    let cc = ClassConnectivity::new(c);
    let (edges, omitted) = match ns {
        None => all_edges(&cc),
        Some(ns) => namespace_edges(&cc, ns),
    };
    let linked: std::collections::BTreeSet<&str> = edges
        .iter()
        .flat_map(|e| [e.from.as_str(), e.to.as_str()])
        .collect();
    let in_ns = |e: &Endpoint| ns.is_none_or(|ns| e.namespace == ns);
    let nodes = cc.endpoints().iter();
    let nodes = nodes.filter(|e| in_ns(e) || linked.contains(e.name.as_str()));
    GraphView {
        version,
        nodes: nodes.map(node_view).collect(),
        external: external_views(&cc, in_ns),
        edges,
        omitted,
    }
}

/// Every endpoint edge in order, up to the cap; the rest counted on classes.
fn all_edges(cc: &ClassConnectivity) -> (Vec<EdgeView>, usize) {
    let endpoints = cc.endpoints();
    let is_endpoint = |s: &str| {
        endpoints
            .binary_search_by(|n| n.name.as_str().cmp(s))
            .is_ok()
    };
    let mut edges = Vec::new();
    for conn in cc.connections() {
        if edges.len() == MAX_EDGES {
            break;
        }
        if is_endpoint(&conn.from) && is_endpoint(&conn.to) {
            edges.push(edge(conn.from, conn.to, conn.allow));
        }
    }
    let omitted = cc.stats().endpoint_connections - edges.len() as u64;
    (edges, omitted as usize)
}

/// The edges from and to the endpoints of `ns`, sorted, up to the cap.
fn namespace_edges(cc: &ClassConnectivity, ns: &str) -> (Vec<EdgeView>, usize) {
    let endpoints = cc.endpoints();
    let mut pairs = Vec::new();
    for a in (0..endpoints.len()).filter(|&a| endpoints[a].namespace == ns) {
        for (b, eb) in endpoints.iter().enumerate().filter(|&(b, _)| b != a) {
            pairs.push((a, b));
            if eb.namespace != ns {
                pairs.push((b, a));
            }
        }
    }
    let allowed = pairs.into_iter().filter_map(|(a, b)| {
        let allow = cc.allow(cc.class_of(a), cc.class_of(b));
        (!allow.is_empty()).then_some((a, b, allow))
    });
    let mut all: Vec<_> = allowed.collect();
    all.sort_unstable_by_key(|&(a, b, _)| (a, b));
    let omitted = all.len().saturating_sub(MAX_EDGES);
    let edges = all.into_iter().take(MAX_EDGES).map(|(a, b, allow)| {
        edge(
            endpoints[a].name.clone(),
            endpoints[b].name.clone(),
            allow.to_vec(),
        )
    });
    (edges.collect(), omitted)
}

fn edge(from: String, to: String, allow: Vec<Allow>) -> EdgeView {
    EdgeView {
        text: allow_text(&allow),
        from,
        to,
        allow,
    }
}

fn node_view(e: &Endpoint) -> NodeView {
    NodeView {
        id: e.name.clone(),
        namespace: e.namespace.clone(),
        name: e.name.split_once('/').map_or(&*e.name, |(_, n)| n).into(),
        kind: e.kind.clone(),
    }
}

/// Per endpoint and direction, the outside CIDRs grouped by allowed ports,
/// from the class-level lists (no pair is listed).
fn external_views(cc: &ClassConnectivity, keep: impl Fn(&Endpoint) -> bool) -> Vec<ExternalView> {
    let mut groups: BTreeMap<(&str, Direction, &[Allow]), Vec<String>> = BTreeMap::new();
    for (i, e) in cc.endpoints().iter().enumerate().filter(|(_, e)| keep(e)) {
        let class = cc.class_of(i);
        let egress = cc.egress_external(class).map(|x| (Direction::Egress, x));
        let ingress = cc.ingress_external(class).map(|x| (Direction::Ingress, x));
        for (d, (cidr, allow)) in egress.chain(ingress) {
            let key = (e.name.as_str(), d, allow);
            groups.entry(key).or_default().push(cidr.to_string());
        }
    }
    let view =
        |((endpoint, direction, allow), cidrs): ((&str, Direction, &[Allow]), _)| ExternalView {
            endpoint: endpoint.to_string(),
            direction,
            cidrs,
            allow: allow.to_vec(),
            text: allow_text(allow),
        };
    groups.into_iter().map(view).collect()
}

/// `TCP 80, 8080-8090; UDP any`.
pub fn allow_text(allow: &[Allow]) -> String {
    let one = |a: &Allow| {
        let ports = match a.ports.as_slice() {
            [] => "any".to_string(),
            ranges => ranges
                .iter()
                .map(|[lo, hi]| match lo == hi {
                    true => lo.to_string(),
                    false => format!("{lo}-{hi}"),
                })
                .collect::<Vec<_>>()
                .join(", "),
        };
        format!("{} {ports}", a.protocol)
    };
    allow.iter().map(one).collect::<Vec<_>>().join("; ")
}
