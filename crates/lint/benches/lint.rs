//! `lint`: every check on generated clusters (PL007, which compares
//! verdicts with and without each policy, dominates). Informative: no
//! target yet.
//!
//! Run with `cargo bench -p palisade-lint --bench lint`; record results
//! with the machine in `docs/benchmarks.md`.

use divan::{black_box, Bencher};
use palisade_lint::{lint, Options};
use palisade_synth::{generate, Params};

fn main() {
    divan::main();
}

/// (pods, policies): the evaluator's bench sizes, and the `check` bench's.
const SIZES: [(usize, usize); 3] = [(500, 100), (1_000, 200), (5_000, 1_000)];

#[divan::bench(args = SIZES, sample_count = 3)]
fn all_checks(bencher: Bencher, (pods, policies): (usize, usize)) {
    let cluster = generate(&Params::new(pods, policies));
    let opts = Options {
        require_default_deny: true,
        ..Options::default()
    };
    bencher.bench(|| lint(black_box(&cluster), &opts));
}
