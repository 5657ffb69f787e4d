//! The standard world (9 pods) and a full conformance-sized probe matrix:
//! checks every cell and prints how long things take (`--nocapture` to see).

mod common;

use std::time::{Duration, Instant};

use common::{ip, Lab};
use palisade_lab::probe::{probe, DEFAULT_TIMEOUT};
use palisade_lab::{probe_many, Outcome, PodNet, ProbeSpec, Protocol};

#[test]
fn helper() {
    common::helper_main();
}

/// Pods x/a .. z/c with 10.0.<ns>.<pod>, each serving 80 and 81.
fn standard_world(lab: &mut Lab) -> Vec<PodNet> {
    let start = Instant::now();
    let mut pods = Vec::new();
    for (n, ns) in ["x", "y", "z"].iter().enumerate() {
        for (p, name) in ["a", "b", "c"].iter().enumerate() {
            let addr = ip(&format!("10.0.{}.{}", n + 1, p + 1));
            pods.push(lab.node.add_pod(&format!("{ns}/{name}"), &[addr]).unwrap());
        }
    }
    println!(
        "9 pods wired in {:?} ({:?} per pod)",
        start.elapsed(),
        start.elapsed() / 9
    );
    for pod in &pods {
        lab.start_helper(&pod.netns, "serve");
    }
    pods
}

/// Every (src, dst, port, protocol) cell of the 9x9 matrix.
fn matrix(pods: &[PodNet], ports: &[u16]) -> Vec<ProbeSpec> {
    let mut specs = Vec::new();
    for src in pods {
        for dst in pods {
            for &port in ports {
                for protocol in Protocol::ALL {
                    specs.push(
                        ProbeSpec::new(&src.netns, dst.ips[0], protocol, port).to_netns(&dst.netns),
                    );
                }
            }
        }
    }
    specs
}

fn timed<T>(label: &str, n: usize, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    println!(
        "{label}: {n} probes in {took:?} ({:.0} probes/s)",
        n as f64 / took.as_secs_f64()
    );
    out
}

#[test]
fn standard_world_matrix() {
    if !common::gate() {
        return;
    }
    let start = Instant::now();
    let mut lab = Lab::new();
    println!("node created in {:?}", start.elapsed());
    let pods = standard_world(&mut lab);
    lab.node_nft("table inet plt-test { chain deny { type filter hook forward priority 0; th dport 81 drop; }; }");

    for protocol in Protocol::ALL {
        let spec = |port| {
            ProbeSpec::new(&pods[0].netns, pods[4].ips[0], protocol, port).to_netns(&pods[4].netns)
        };
        let t = Instant::now();
        assert_eq!(probe(&spec(80), DEFAULT_TIMEOUT).unwrap(), Outcome::Reached);
        let allowed = t.elapsed();
        let t = Instant::now();
        assert_eq!(probe(&spec(81), DEFAULT_TIMEOUT).unwrap(), Outcome::Blocked);
        println!(
            "single {protocol} probe: allowed {allowed:?}, blocked {:?}",
            t.elapsed()
        );
    }

    let allowed = matrix(&pods, &[80]);
    let results = timed("all-allowed matrix (port 80)", allowed.len(), || {
        probe_many(&allowed, DEFAULT_TIMEOUT)
    });
    assert!(
        results.iter().all(|r| matches!(r, Ok(Outcome::Reached))),
        "{results:?}"
    );

    let mixed = matrix(&pods, &[80, 81]);
    let results = timed("half-blocked matrix (80 + 81)", mixed.len(), || {
        probe_many(&mixed, DEFAULT_TIMEOUT)
    });
    check_half_blocked(&mixed, &results);

    let many: Vec<ProbeSpec> = mixed
        .iter()
        .cycle()
        .take(mixed.len() * 10)
        .cloned()
        .collect();
    let took = Instant::now();
    let results = timed("ten half-blocked matrices", many.len(), || {
        probe_many(&many, DEFAULT_TIMEOUT)
    });
    check_half_blocked(&many, &results);
    assert!(
        took.elapsed() < Duration::from_secs(60),
        "probing is far too slow"
    );
}

/// Port 81 is dropped by the node, except pod-to-itself (which never leaves the pod).
fn check_half_blocked(specs: &[ProbeSpec], results: &[Result<Outcome, palisade_lab::ProbeError>]) {
    for (spec, result) in specs.iter().zip(results) {
        let local = spec.src_netns == spec.dst_netns.clone().unwrap();
        let want = if spec.port == 80 || local {
            Outcome::Reached
        } else {
            Outcome::Blocked
        };
        assert_eq!(*result.as_ref().unwrap(), want, "{spec:?}");
    }
}
