//! `to_yaml` output read back by `palisade-manifest` is the same cluster.
//!
//! This checks both crates at once: the renderer writes what the API server
//! accepts, and the decoder reads every field the generator sets. A failure
//! prints the first object that differs.

use palisade_model::{Cluster, NetworkPolicy, Pod};
use palisade_synth::{generate, to_yaml, Params};

/// The cluster with every `source` (set by the decoder) cleared.
fn without_sources(c: &Cluster) -> Cluster {
    let mut out = Cluster::new();
    for ns in c.namespaces() {
        let mut ns = ns.clone();
        ns.source = None;
        out.upsert_namespace(ns);
    }
    for pod in c.pods() {
        out.upsert_pod(Pod {
            source: None,
            ..pod.clone()
        });
    }
    for np in c.policies() {
        out.upsert_policy(NetworkPolicy {
            source: None,
            ..np.clone()
        });
    }
    out
}

/// Panics naming the first namespace, pod or policy that differs.
fn assert_same(want: &Cluster, got: &Cluster) {
    for (w, g) in want.namespaces().zip(got.namespaces()) {
        assert_eq!(w, g, "namespace differs");
    }
    for (w, g) in want.pods().zip(got.pods()) {
        assert_eq!(w, g, "pod differs");
    }
    for (w, g) in want.policies().zip(got.policies()) {
        assert_eq!(w, g, "policy differs");
    }
    assert_eq!(want.namespaces().count(), got.namespaces().count());
    assert_eq!(want.pods().count(), got.pods().count());
    assert_eq!(want.policies().count(), got.policies().count());
    assert_eq!(want, got);
}

fn roundtrip(p: &Params) {
    let cluster = generate(p);
    let yaml = to_yaml(&cluster);
    let loaded = palisade_manifest::parse_str("gen.yaml", &yaml);
    let errors: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .take(5)
        .map(ToString::to_string)
        .collect();
    assert!(
        errors.is_empty(),
        "{p:?}: errors reading the generated YAML:\n{}",
        errors.join("\n")
    );
    assert_same(&cluster, &without_sources(&loaded.to_cluster()));
}

#[test]
fn generated_yaml_reads_back_as_the_same_cluster() {
    roundtrip(&Params::new(500, 200));
}

#[test]
fn ipblocks_anywhere_read_back_too() {
    let p = Params {
        ipblocks_outside_pod_network: false,
        seed: 7,
        ..Params::new(300, 300)
    };
    roundtrip(&p);
}

#[test]
fn many_seeds_small_clusters() {
    for seed in 0..20 {
        roundtrip(&Params {
            seed,
            namespaces: 3,
            ..Params::new(40, 30)
        });
    }
}

#[test]
fn readers_emit_no_warnings_either() {
    let yaml = to_yaml(&generate(&Params::new(200, 100)));
    let loaded = palisade_manifest::parse_str("gen.yaml", &yaml);
    let first: Vec<String> = loaded
        .diagnostics
        .iter()
        .take(5)
        .map(ToString::to_string)
        .collect();
    assert!(first.is_empty(), "diagnostics:\n{}", first.join("\n"));
}
