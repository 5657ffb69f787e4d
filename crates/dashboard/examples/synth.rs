//! Serves the dashboard of a synthetic cluster (`palisade-synth`), to look
//! at the page on a cluster of any size without a lab or root. No flows:
//! nothing produces them here.
//!
//! ```sh
//! cargo run -p palisade-dashboard --example synth -- 200 40 127.0.0.1:9466
//! ```

use std::sync::Arc;

use palisade_dashboard::StaticSource;
use palisade_synth::{generate, Params};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or(default.into());
    let pods: usize = arg(0, "200").parse().expect("PODS is a number");
    let policies: usize = arg(1, "40").parse().expect("POLICIES is a number");
    let addr = arg(2, "127.0.0.1:9466").parse().expect("ADDR is host:port");
    let source = Arc::new(StaticSource::new(generate(&Params::new(pods, policies))));
    palisade_dashboard::run_blocking(addr, source, |a| {
        println!("{pods} pods, {policies} policies: http://{a}/");
    })
}
