//! `/api/graph` on synthetic clusters: the analyzer plus the graph's
//! listing (capped at MAX_EDGES endpoint edges) and its outside groups.
//!
//! ```sh
//! CARGO_TARGET_DIR=/tmp/target-dash cargo bench -p palisade-dashboard --bench graph
//! ```

use divan::Bencher;
use palisade_dashboard::api::{cluster_view, graph_view};
use palisade_synth::{generate, Params};

fn main() {
    divan::main();
}

/// The whole graph view, as computed once per cluster version.
#[divan::bench(args = [(500, 100), (5_000, 1_000)], sample_count = 5, sample_size = 1)]
fn graph(bencher: Bencher, (pods, policies): (usize, usize)) {
    let c = generate(&Params::new(pods, policies));
    bencher.bench(|| serde_json::to_vec(&graph_view(&c, 1, None)).unwrap().len());
}

/// The graph of one namespace (ns-0), as the page asks for once one is picked.
#[divan::bench(args = [(500, 100), (5_000, 1_000)], sample_count = 5, sample_size = 1)]
fn graph_namespace(bencher: Bencher, (pods, policies): (usize, usize)) {
    let c = generate(&Params::new(pods, policies));
    bencher.bench(|| {
        serde_json::to_vec(&graph_view(&c, 1, Some("ns-0")))
            .unwrap()
            .len()
    });
}

/// The cluster view, as served on every poll of the page.
#[divan::bench(args = [(500, 100), (5_000, 1_000)], sample_count = 5, sample_size = 1)]
fn cluster(bencher: Bencher, (pods, policies): (usize, usize)) {
    let c = generate(&Params::new(pods, policies));
    bencher.bench(|| serde_json::to_vec(&cluster_view(&c, 1)).unwrap().len());
}
