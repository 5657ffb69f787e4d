//! Namespaces and pods.

use std::net::{IpAddr, Ipv4Addr};

use palisade_model::{ContainerPort, Labels, Namespace, Pod, Protocol};

use crate::rng::Rng;
use crate::vocab::{self, APPS, CANARY, ENVS, MONITORING, PART_OF, TEAMS, TIERS, VERSIONS};

/// Nodes the pods are spread over (round robin).
const NODES: usize = 16;

/// `ns-0`, `ns-1`, ...
pub(crate) fn namespace_names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("ns-{i}")).collect()
}

/// A namespace with `team`, and on some `env` and `monitoring`.
pub(crate) fn namespace(rng: &mut Rng, name: &str) -> Namespace {
    let mut labels = Labels::new();
    insert(&mut labels, "team", rng.pick(&TEAMS));
    if rng.chance(3, 4) {
        insert(&mut labels, "env", rng.pick(&ENVS));
    }
    if rng.chance(1, 4) {
        insert(&mut labels, "monitoring", rng.pick(&MONITORING));
    }
    Namespace::new(name, labels)
}

/// Pod number `i` (over the whole cluster): named `<app>-<i>`, with the
/// `i + 1`-th address of 10.0.0.0/8.
pub(crate) fn pod(rng: &mut Rng, namespace: &str, i: usize) -> Pod {
    let labels = pod_labels(rng);
    let app = labels.get("app").expect("every pod has an app label");
    let name = format!("{app}-{i}");
    let ports = container_ports(rng, app);
    let mut pod = Pod::new(namespace, &name, labels, Some(pod_ip(i)));
    pod.ports = ports;
    pod.node_name = Some(format!("node-{}", i % NODES));
    pod
}

/// The address of pod number `i`: 10.0.0.1, 10.0.0.2, ...
pub(crate) fn pod_ip(i: usize) -> IpAddr {
    let base = u32::from(Ipv4Addr::new(10, 0, 0, 0));
    let offset = u32::try_from(i + 1).expect("pod index fits in 10.0.0.0/8");
    IpAddr::V4(Ipv4Addr::from(base + offset))
}

fn pod_labels(rng: &mut Rng) -> Labels {
    let mut labels = Labels::new();
    let app = rng.pick(&APPS);
    insert(&mut labels, "app", app);
    let tier = if rng.chance(1, 8) {
        rng.pick(&TIERS)
    } else {
        vocab::tier_of(app)
    };
    insert(&mut labels, "tier", tier);
    optional(rng, &mut labels, "version", &VERSIONS, 2);
    optional(rng, &mut labels, "canary", &CANARY, 4);
    optional(rng, &mut labels, vocab::PART_OF_KEY, &PART_OF, 3);
    labels
}

/// Sets `key` to one of `values` with probability `1/one_in`.
fn optional(rng: &mut Rng, labels: &mut Labels, key: &str, values: &[&str], one_in: usize) {
    if rng.chance(1, one_in) {
        insert(labels, key, rng.pick(values));
    }
}

fn insert(labels: &mut Labels, key: &str, value: &str) {
    labels
        .insert(key, value)
        .expect("vocabulary labels are valid");
}

/// `http` (80 on web pods, else 8080) on most pods, `metrics`/9090 on half,
/// `dns`/UDP 53 and `diameter`/SCTP 3868 on a few.
fn container_ports(rng: &mut Rng, app: &str) -> Vec<ContainerPort> {
    let http = if app == "web" { 80 } else { 8080 };
    let candidates = [
        (vocab::HTTP, http, Protocol::Tcp, 7, 8),
        (vocab::METRICS, 9090, Protocol::Tcp, 1, 2),
        (vocab::DNS, 53, Protocol::Udp, 1, 8),
        (vocab::DIAMETER, 3868, Protocol::Sctp, 1, 16),
    ];
    let mut ports = Vec::new();
    for (name, port, protocol, num, den) in candidates {
        if rng.chance(num, den) {
            ports.push(ContainerPort {
                name: Some(name.into()),
                port,
                protocol,
            });
        }
    }
    ports
}
