//! `load`: reading a 5,000-pod / 1,000-policy manifest into a cluster
//! (`parse_str` + `to_cluster`). Target: under 1 s.
//!
//! Run with `cargo bench -p palisade-synth --bench load`; results and the
//! machine they were taken on are kept in `docs/benchmarks.md`.

use std::sync::LazyLock;

use divan::{black_box, Bencher};
use palisade_synth::{generate, to_yaml, Params};

/// The manifest, generated once, outside the measurement.
static YAML: LazyLock<String> = LazyLock::new(|| to_yaml(&generate(&Params::new(5_000, 1_000))));

fn main() {
    divan::main();
}

/// Each sample reads the whole manifest once.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn parse_and_build_5000_pods_1000_policies(bencher: Bencher) {
    let text = YAML.as_str();
    bencher.bench(|| {
        let loaded = palisade_manifest::parse_str("gen.yaml", black_box(text));
        assert!(!loaded.has_errors(), "the generated manifest is valid");
        loaded.to_cluster()
    });
}
