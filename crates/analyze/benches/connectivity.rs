//! Connectivity at scale on synthetic clusters.
//!
//! ```sh
//! CARGO_TARGET_DIR=/tmp/target-analyze cargo bench -p palisade-analyze --bench connectivity
//! ```

use divan::Bencher;
use palisade_analyze::{connectivity, ClassConnectivity};
use palisade_model::Cluster;
use palisade_synth::{generate, Params};

fn main() {
    divan::main();
}

fn cluster(pods: usize, policies: usize) -> Cluster {
    generate(&Params::new(pods, policies))
}

/// Class-level analysis (no pair listed).
#[divan::bench(args = [(5_000, 1_000), (50_000, 5_000)], sample_count = 3, sample_size = 1)]
fn classes(bencher: Bencher, (pods, policies): (usize, usize)) {
    let c = cluster(pods, policies);
    bencher.bench(|| ClassConnectivity::new(&c));
}

/// Counting every connection from the class-level result.
#[divan::bench(args = [(5_000, 1_000), (50_000, 5_000)], sample_count = 3, sample_size = 1)]
fn count(bencher: Bencher, (pods, policies): (usize, usize)) {
    let c = cluster(pods, policies);
    let cc = ClassConnectivity::new(&c);
    bencher.bench(|| cc.stats());
}

/// Streaming every connection, sorted, without keeping them.
#[divan::bench(args = [(5_000, 1_000)], sample_count = 2, sample_size = 1)]
fn stream(bencher: Bencher, (pods, policies): (usize, usize)) {
    let c = cluster(pods, policies);
    let cc = ClassConnectivity::new(&c);
    bencher.bench(|| cc.connections().count());
}

/// The full, sorted list of connections, as `connectivity` returns it.
#[divan::bench(args = [(5_000, 1_000)], sample_count = 2, sample_size = 1)]
fn expand(bencher: Bencher, (pods, policies): (usize, usize)) {
    let c = cluster(pods, policies);
    bencher.bench(|| connectivity(&c).connections.len());
}
