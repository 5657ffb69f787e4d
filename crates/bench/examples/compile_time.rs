//! Times compiling and rendering the benchmark world at one size:
//! `cargo run --release -p palisade-bench --example compile_time -- PODS POLICIES [probes|node|all]`.

use std::time::Instant;

use palisade_bench::world::{self, Scope};
use palisade_compile::{compile, LocalPods};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let pods = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let policies = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1_000);
    let scope = match args.get(3).map(String::as_str) {
        Some("all") => Scope::All,
        Some("probes") => Scope::ProbesOnly,
        _ => Scope::OneNode,
    };
    let ips = (
        "10.244.1.10".parse().unwrap(),
        "10.244.1.11".parse().unwrap(),
    );
    let t = Instant::now();
    let w = world::build(pods, policies, ips, "lab", scope).expect("world");
    let built = t.elapsed();
    let t = Instant::now();
    let rs = compile(&w.cluster, &LocalPods::Node("lab".into()));
    let compiled = t.elapsed();
    let t = Instant::now();
    let script = palisade_nft::render::full(&rs, "palisade").expect("render");
    let rendered = t.elapsed();
    let local: usize = rs.dispatch.values().map(|d| d.len()).sum();
    println!(
        "{pods} pods, {policies} policies, {scope:?}: generate {built:?}, compile {compiled:?}, render {rendered:?}; {} chains, {local} dispatch entries, {} lines",
        rs.chains.len(),
        script.lines()
    );
}
