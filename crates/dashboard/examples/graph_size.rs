//! How large `/api/graph` is for a synthetic cluster, and a server of it
//! to measure memory under concurrent requests (docs/dashboard.md).
//!
//! ```sh
//! cargo run --release -p palisade-dashboard --example graph_size -- 506 2002
//! cargo run --release -p palisade-dashboard --example graph_size -- 506 2002 127.0.0.1:9470
//! ```

use std::sync::Arc;
use std::time::Instant;

use palisade_dashboard::api::graph_view;
use palisade_dashboard::StaticSource;
use palisade_synth::{generate, Params};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, d: usize| args.get(i).map_or(d, |s| s.parse().expect("a number"));
    let (pods, policies) = (num(0, 506), num(1, 2002));
    // As the palisade-synth command makes them by default: ipBlocks
    // anywhere, pod addresses included (many CIDRs per outside group).
    let c = generate(&Params {
        ipblocks_outside_pod_network: false,
        namespaces: std::env::var("NAMESPACES").map_or((pods / 100).max(1), |n| n.parse().unwrap()),
        ..Params::new(pods, policies)
    });
    let t = Instant::now();
    let g = graph_view(&c, 1, None);
    let computed = t.elapsed();
    let total = serde_json::to_vec(&g).unwrap().len();
    let nodes = serde_json::to_vec(&g.nodes).unwrap().len();
    let edges = serde_json::to_vec(&g.edges).unwrap().len();
    let external = serde_json::to_vec(&g.external).unwrap().len();
    println!(
        "{pods} pods, {policies} policies: {total} bytes in {computed:.2?} \
         (nodes {nodes} in {}, edges {edges} in {} + {} omitted, external {external} in {})",
        g.nodes.len(),
        g.edges.len(),
        g.omitted,
        g.external.len()
    );
    if let Some(addr) = args.get(2) {
        let addr = addr.parse().expect("ADDR:PORT");
        palisade_dashboard::run_blocking(addr, Arc::new(StaticSource::new(c)), |a| {
            println!("serving on http://{a}/");
        })
        .unwrap();
    }
}
