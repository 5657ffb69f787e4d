//! `check`: one `evaluate` call on a generated cluster of 5,000 pods and
//! 1,000 policies. Target (from the issue): under 10 ms per check after loading.
//!
//! Run with `cargo bench -p palisade-eval --bench check`; results and the
//! machine they were taken on are kept in `docs/benchmarks.md`.

use std::fmt;
use std::net::IpAddr;
use std::sync::LazyLock;

use divan::{black_box, Bencher};
use palisade_eval::{evaluate, Connection, Endpoint, PortRef};
use palisade_model::{Cluster, Direction, Pod, Protocol};
use palisade_synth::{generate, Params};

/// The cluster, generated once, outside every measurement.
static CLUSTER: LazyLock<Cluster> = LazyLock::new(|| generate(&Params::new(5_000, 1_000)));

/// An address outside the pod network (10.0.0.0/8), inside the ipBlocks'.
const EXTERNAL: [u8; 4] = [192, 168, 1, 10];

fn main() {
    divan::main();
}

/// The connections measured. Pods are the ones selected by the most
/// policies of their namespace, so each check does the most matching.
#[derive(Debug, Clone, Copy)]
enum Case {
    /// Two pods of one namespace, TCP 8080.
    PodToPodSameNamespace,
    /// Pods in two namespaces, TCP 9090.
    PodToPodOtherNamespace,
    /// A pod to an external address, TCP 443.
    PodToExternal,
    /// An external address to a pod, TCP 80.
    ExternalToPod,
    /// Pods in two namespaces, the destination's named port `http`.
    NamedPort,
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Case::PodToPodSameNamespace => "pod-to-pod-same-ns",
            Case::PodToPodOtherNamespace => "pod-to-pod-other-ns",
            Case::PodToExternal => "pod-to-external",
            Case::ExternalToPod => "external-to-pod",
            Case::NamedPort => "named-port",
        };
        f.write_str(name)
    }
}

const CASES: [Case; 5] = [
    Case::PodToPodSameNamespace,
    Case::PodToPodOtherNamespace,
    Case::PodToExternal,
    Case::ExternalToPod,
    Case::NamedPort,
];

/// Each iteration is one connection.
#[divan::bench(args = CASES, sample_count = 200, sample_size = 10)]
fn evaluate_5000_pods_1000_policies(bencher: Bencher, case: Case) {
    let cluster = &*CLUSTER;
    let conn = connection(cluster, case);
    evaluate(cluster, &conn).expect("the benchmark connections are valid");
    bencher.bench_local(|| evaluate(black_box(cluster), black_box(&conn)));
}

fn connection(c: &Cluster, case: Case) -> Connection {
    let external = Endpoint::Addr(IpAddr::from(EXTERNAL));
    let (from, to, protocol, port) = match case {
        Case::PodToPodSameNamespace => (
            busiest(c, "ns-0", 0),
            busiest(c, "ns-0", 1),
            Protocol::Tcp,
            PortRef::Number(8080),
        ),
        Case::PodToPodOtherNamespace => (
            busiest(c, "ns-0", 0),
            busiest(c, "ns-1", 0),
            Protocol::Tcp,
            PortRef::Number(9090),
        ),
        Case::PodToExternal => (
            busiest(c, "ns-0", 0),
            external,
            Protocol::Tcp,
            PortRef::Number(443),
        ),
        Case::ExternalToPod => (
            external,
            busiest(c, "ns-1", 0),
            Protocol::Tcp,
            PortRef::Number(80),
        ),
        Case::NamedPort => (
            busiest(c, "ns-0", 0),
            busiest_with_http(c, "ns-2"),
            Protocol::Tcp,
            PortRef::Named("http".into()),
        ),
    };
    Connection {
        from,
        to,
        protocol,
        port,
    }
}

/// The `rank`-th pod of `ns` by number of policies selecting it (ties by name).
fn busiest(c: &Cluster, ns: &str, rank: usize) -> Endpoint {
    let mut pods: Vec<&Pod> = c.pods().filter(|p| p.namespace == ns).collect();
    pods.sort_by_key(|p| std::cmp::Reverse(selecting(c, p)));
    Endpoint::Pod(pods[rank].id())
}

/// The busiest pod of `ns` that defines the named port `http`/TCP.
fn busiest_with_http(c: &Cluster, ns: &str) -> Endpoint {
    let pod = c
        .pods()
        .filter(|p| p.namespace == ns && p.named_port("http", Protocol::Tcp).is_some())
        .max_by_key(|p| (selecting(c, p), std::cmp::Reverse(p.id())))
        .expect("some pod defines http");
    Endpoint::Pod(pod.id())
}

/// How many policies of the pod's namespace select it, in either direction.
fn selecting(c: &Cluster, pod: &Pod) -> usize {
    let selects = |d| {
        c.policies_in(&pod.namespace)
            .filter(|p| p.rules(d).is_some() && p.pod_selector.matches(&pod.labels))
            .count()
    };
    selects(Direction::Ingress) + selects(Direction::Egress)
}
