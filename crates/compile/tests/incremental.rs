//! `Compiler` (sets reused between compilations) must give exactly what a
//! fresh `compile` gives, through a sequence of changes of every kind.

use std::net::{IpAddr, Ipv4Addr};

use palisade_compile::{compile, Compiler, LocalPods};
use palisade_model::{Cluster, ContainerPort, Pod, Protocol};
use palisade_synth::{generate, Params};

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
