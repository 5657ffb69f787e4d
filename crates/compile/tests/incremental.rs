//! `Compiler` (sets, chains and dispatch maps kept and patched between
//! compilations) must give exactly what a fresh `compile` gives, through
//! sequences of changes of every kind.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use palisade_compile::{compile, Compiler, LocalPods, Touched};
use palisade_model::{
    Cluster, ContainerPort, NetworkPolicy, Pod, PolicyMode, Protocol, METADATA_NAME_LABEL,
};
use palisade_synth::{generate, Params};
use proptest::prelude::*;

type Step = Box<dyn Fn(&mut Cluster, &[Pod])>;

fn steps() -> Vec<(&'static str, Step)> {
    vec![
        ("nothing", Box::new(|_, _| {})),
        (
            "pod removed",
            Box::new(|c, p| {
                c.remove_pod(&p[5].id());
            }),
        ),
        (
            "pod added back",
            Box::new(|c, p| c.upsert_pod(p[5].clone())),
        ),
        (
            "pod relabelled",
            Box::new(|c, p| {
                c.pod_mut(&p[17].id()).unwrap().labels = p[90].labels.clone();
            }),
        ),
        (
            "pod address changed",
            Box::new(|c, p| {
                c.pod_mut(&p[40].id()).unwrap().ips = vec![IpAddr::V4(Ipv4Addr::new(10, 99, 0, 1))];
            }),
        ),
        (
            "named port added",
            Box::new(|c, p| {
                c.pod_mut(&p[41].id()).unwrap().ports.push(ContainerPort {
                    name: Some("http".into()),
                    port: 9999,
                    protocol: Protocol::Tcp,
                });
            }),
        ),
        (
            "host network",
            Box::new(|c, p| {
                c.pod_mut(&p[42].id()).unwrap().host_network = true;
            }),
        ),
        (
            "new pod in another namespace",
            Box::new(|c, p| {
                let mut pod = p[150].clone();
                pod.name = "fresh".into();
                pod.ips = vec![IpAddr::V4(Ipv4Addr::new(10, 99, 0, 2))];
                c.upsert_pod(pod);
            }),
        ),
        (
            "namespace relabelled",
            Box::new(|c, _| {
                let ns = c.namespaces().next().unwrap().name.clone();
                let labels = c.namespaces().nth(1).unwrap().labels().clone();
                c.namespace_mut(&ns).unwrap().set_labels(labels);
            }),
        ),
        (
            "policy removed",
            Box::new(|c, _| {
                let p = c.policies().nth(3).unwrap().reference();
                c.remove_policy(&p);
            }),
        ),
        (
            "many pods removed",
            Box::new(|c, p| {
                for pod in p.iter().step_by(2) {
                    c.remove_pod(&pod.id());
                }
            }),
        ),
    ]
}

#[test]
fn reused_sets_compile_like_a_fresh_compile() {
    for local in [LocalPods::All, LocalPods::Node("node-0".into())] {
        let mut cluster = generate(&Params::new(300, 60));
        let pods: Vec<Pod> = cluster.pods().cloned().collect();
        let mut compiler = Compiler::new();
        let first = compiler.compile(&cluster, &local);
        assert!(first == compile(&cluster, &local), "first compile");
        for (name, step) in steps() {
            step(&mut cluster, &pods);
            let fresh = compile(&cluster, &local);
            // Not assert_eq!: a mismatch would print two whole rulesets.
            assert!(compiler.compile(&cluster, &local) == fresh, "{name}");
        }
    }
}

/// One random change, from `(kind, a, b)`: `a` and `b` pick the objects.
fn apply(c: &mut Cluster, original: &Cluster, (kind, a, b): (u8, usize, usize)) {
    let pods: Vec<Pod> = c.pods().cloned().collect();
    let all: Vec<Pod> = original.pods().cloned().collect();
    let namespaces: Vec<String> = c.namespaces().map(|n| n.name.clone()).collect();
    let policies: Vec<NetworkPolicy> = c.policies().cloned().collect();
    let pick = |n: usize, i: usize| i % n.max(1);
    let pod = |i: usize| pods.get(pick(pods.len(), i)).cloned();
    match kind {
        // A pod goes, or comes back (or a copy of one comes, maybe with
        // the address of another: an address reused).
        0 => drop(pod(a).map(|p| c.remove_pod(&p.id()))),
        1 => c.upsert_pod(all[pick(all.len(), a)].clone()),
        2 => {
            let mut p = all[pick(all.len(), a)].clone();
            p.name = format!("copy-{b}");
            if b % 2 == 0 {
                p.ips = pod(b).map(|q| q.ips).unwrap_or_default();
            }
            c.upsert_pod(p);
        }
        // Relabelled (takes another pod's labels), or a label added.
        3 => {
            if let (Some(mut p), Some(q)) = (pod(a), pod(b)) {
                p.labels = q.labels;
                if a % 3 == 0 {
                    p.labels.insert("extra", "yes").unwrap();
                }
                c.upsert_pod(p);
            }
        }
        // Addresses: a new one, an IPv6 one added, another pod's, none.
        4 => {
            if let Some(mut p) = pod(a) {
                p.ips = match b % 4 {
                    0 => vec![IpAddr::V4(Ipv4Addr::new(10, 200, (b >> 8) as u8, b as u8))],
                    1 => {
                        let v6 = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, b as u16));
                        p.ips.iter().copied().chain([v6]).collect()
                    }
                    2 => pod(b).map(|q| q.ips).unwrap_or_default(),
                    _ => Vec::new(),
                };
                c.upsert_pod(p);
            }
        }
        // Named ports: one added (maybe shadowing) or all removed.
        5 => {
            if let Some(mut p) = pod(a) {
                match b % 3 {
                    0 => p.ports.clear(),
                    _ => p.ports.insert(
                        0,
                        ContainerPort {
                            name: Some(["http", "metrics", "dns"][b % 3].into()),
                            port: 1000 + (b % 7) as u16,
                            protocol: [Protocol::Tcp, Protocol::Udp][b % 2],
                        },
                    ),
                }
                c.upsert_pod(p);
            }
        }
        // Host network on or off; moved to another node (local pods come and go).
        6 => {
            if let Some(mut p) = pod(a) {
                match b % 2 {
                    0 => p.host_network = !p.host_network,
                    _ => p.node_name = Some(format!("node-{}", b % 3)),
                }
                c.upsert_pod(p);
            }
        }
        // A namespace takes another's labels, or gains one, or changes mode.
        7 => {
            let ns = &namespaces[pick(namespaces.len(), a)];
            let other = &namespaces[pick(namespaces.len(), b)];
            let mut labels = c.namespace_labels(other).into_owned();
            if a % 2 == 0 {
                labels = c.namespace_labels(ns).into_owned();
                labels.insert("extra", "yes").unwrap();
            }
            labels.insert(METADATA_NAME_LABEL, ns).unwrap();
            let mut n = c.namespace(ns).cloned().unwrap();
            n.set_labels(labels);
            n.declared = true;
            if b % 3 == 0 {
                n.mode = match n.mode {
                    Some(PolicyMode::Audit) => None,
                    _ => Some(PolicyMode::Audit),
                };
            }
            c.upsert_namespace(n);
        }
        // A policy goes, or comes back.
        8 => drop(
            policies
                .get(pick(policies.len(), a))
                .map(|p| c.remove_policy(&p.reference())),
        ),
        9 => {
            let originals: Vec<&NetworkPolicy> = original.policies().collect();
            c.upsert_policy(originals[pick(originals.len(), a)].clone());
        }
        // A policy changed: another's rules or selector, or its audit mode.
        _ => {
            let (Some(p), Some(q)) = (
                policies.get(pick(policies.len(), a)),
                policies.get(pick(policies.len(), b)),
            ) else {
                return;
            };
            let mut p = p.clone();
            match b % 3 {
                0 => (p.ingress, p.egress) = (q.ingress.clone(), q.egress.clone()),
                1 => p.pod_selector = q.pod_selector.clone(),
                _ => {
                    p.mode = match p.mode {
                        Some(PolicyMode::Audit) => Some(PolicyMode::Enforce),
                        _ => Some(PolicyMode::Audit),
                    }
                }
            }
            c.upsert_policy(p);
        }
    }
}

/// What differs between two clusters, by brute force, plus one
/// unchanged namespace (naming more than changed is allowed).
fn touched(a: &Cluster, b: &Cluster) -> Touched {
    let mut t = Touched::default();
    for n in a.namespaces().chain(b.namespaces()) {
        if a.namespace(&n.name) != b.namespace(&n.name) {
            t.namespaces.insert(n.name.clone());
        }
    }
    t.namespaces
        .extend(a.namespaces().next().map(|n| n.name.clone()));
    for p in a.pods().chain(b.pods()) {
        if a.pod(&p.id()) != b.pod(&p.id()) {
            t.pods.insert(p.id());
        }
    }
    for p in a.policies().chain(b.policies()) {
        if a.policy(&p.reference()) != b.policy(&p.reference()) {
            t.policies.insert(p.reference());
        }
    }
    t
}

fn local_pods(choice: u8, c: &Cluster) -> LocalPods {
    match choice % 3 {
        0 => LocalPods::All,
        1 => LocalPods::Node("node-0".into()),
        _ => LocalPods::Pods(c.pods().step_by(3).map(Pod::id).collect()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// After every change of a random sequence, the compiler that kept its
    /// state compiles exactly what a fresh compilation gives.
    #[test]
    fn every_change_compiles_like_a_fresh_compile(
        seed in any::<u64>(),
        local in any::<u8>(),
        changes in prop::collection::vec((0u8..11, any::<usize>(), any::<usize>()), 1..16),
    ) {
        let mut p = Params::new(40, 12);
        p.seed = seed;
        p.namespaces = 3;
        p.ipblocks_outside_pod_network = seed % 2 == 0;
        let original = generate(&p);
        let local = local_pods(local, &original);
        let mut cluster = original.clone();
        let (mut compiler, mut told) = (Compiler::new(), Compiler::new());
        prop_assert!(compiler.compile(&cluster, &local) == compile(&cluster, &local));
        told.compile(&cluster, &local);
        for (i, change) in changes.into_iter().enumerate() {
            let before = cluster.clone();
            apply(&mut cluster, &original, change);
            let fresh = compile(&cluster, &local);
            // Not prop_assert_eq!: a mismatch would print two whole rulesets.
            prop_assert!(
                compiler.compile(&cluster, &local) == fresh,
                "change {i} {change:?} differs from a fresh compile"
            );
            let touched = touched(&before, &cluster);
            prop_assert!(
                told.compile_touched(&cluster, &local, &touched) == fresh,
                "change {i} {change:?} ({touched:?}) differs from a fresh compile"
            );
        }
    }
}

/// A removed namespace takes its pods and policies with it: naming the
/// namespace alone is enough for `compile_touched`.
#[test]
fn a_removed_namespace_named_alone_takes_its_objects() {
    let mut p = Params::new(200, 40);
    p.namespaces = 4;
    let cluster = generate(&p);
    for local in [LocalPods::All, LocalPods::Node("node-1".into())] {
        let mut c = cluster.clone();
        let mut compiler = Compiler::new();
        compiler.compile(&c, &local);
        let ns = c.namespaces().nth(1).unwrap().name.clone();
        c.remove_namespace(&ns);
        let touched = Touched {
            namespaces: [ns].into(),
            ..Touched::default()
        };
        assert!(compiler.compile_touched(&c, &local, &touched) == compile(&c, &local));
    }
}
