//! `matrix`: the full reachability matrix (every ordered pair of pods) for
//! one port, on generated clusters. Informative: no target yet.
//!
//! Run with `cargo bench -p palisade-eval --bench matrix`; results and the
//! machine they were taken on are kept in `docs/benchmarks.md`.

use std::fmt;

use divan::{black_box, Bencher};
use palisade_eval::{Matrix, PortRef};
use palisade_model::Protocol;
use palisade_synth::{generate, Params};

fn main() {
    divan::main();
}

/// Cluster sizes measured.
#[derive(Debug, Clone, Copy)]
struct Size {
    pods: usize,
    policies: usize,
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} pods, {} policies", self.pods, self.policies)
    }
}

const SIZES: [Size; 2] = [
    Size {
        pods: 500,
        policies: 100,
    },
    Size {
        pods: 1_000,
        policies: 200,
    },
];

/// Each iteration builds one whole matrix for TCP 8080; the cluster is
/// generated before the measurement.
#[divan::bench(args = SIZES, sample_count = 5, sample_size = 1)]
fn build_tcp_8080(bencher: Bencher, size: Size) {
    let cluster = generate(&Params::new(size.pods, size.policies));
    let port = PortRef::Number(8080);
    bencher.bench_local(|| Matrix::build(black_box(&cluster), Protocol::Tcp, black_box(&port)));
}

/// The same with the named port `http`, resolved on every destination.
#[divan::bench(args = SIZES, sample_count = 5, sample_size = 1)]
fn build_named_http(bencher: Bencher, size: Size) {
    let cluster = generate(&Params::new(size.pods, size.policies));
    let port = PortRef::Named("http".into());
    bencher.bench_local(|| Matrix::build(black_box(&cluster), Protocol::Tcp, black_box(&port)));
}
