//! Times the analysis of a synthetic cluster; run under `/usr/bin/time -v`
//! for peak memory:
//!
//! ```sh
//! cargo run --release -p palisade-analyze --example scale -- 50000 5000 [classes|count|stream|expand] [namespaces]
//! ```

use std::time::Instant;

use palisade_analyze::{connectivity, ClassConnectivity};
use palisade_synth::{generate, Params};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, default: usize| {
        args.get(i)
            .map_or(default, |s| s.parse().expect("a number"))
    };
    let (pods, policies) = (num(0, 5000), num(1, 1000));
    let mode = args.get(2).map_or("count", String::as_str);
    let mut params = Params::new(pods, policies);
    params.namespaces = num(3, params.namespaces);
    let cluster = generate(&params);
    let t = Instant::now();
    if mode == "expand" {
        let c = connectivity(&cluster);
        println!(
            "expand: {} connections in {:?}",
            c.connections.len(),
            t.elapsed()
        );
        return;
    }
    let cc = ClassConnectivity::new(&cluster);
    println!(
        "classes: {} of {} endpoints in {:?}",
        cc.class_count(),
        pods,
        t.elapsed()
    );
    if mode == "stream" {
        let t = Instant::now();
        println!(
            "stream: {} connections in {:?}",
            cc.connections().count(),
            t.elapsed()
        );
    }
    if mode == "count" {
        let t = Instant::now();
        println!("{:?} in {:?}", cc.stats(), t.elapsed());
    }
}
