//! PL007 against the evaluator: removing every policy it reports changes
//! no verdict (checked with `palisade-eval` on synthetic clusters), and a
//! policy copied or cut down from another is always caught.

use std::collections::BTreeSet;
use std::net::IpAddr;

use palisade_eval::{evaluate, Connection, Endpoint, Matrix, PortRef};
use palisade_lint::{lint, Options};
use palisade_model::{
    Cluster, LabelSelector, Labels, NetworkPolicy, Peer, Pod, PolicyRef, PolicyTypes, PortSpec,
    Protocol, Rule,
};

/// The ports and external addresses to compare verdicts on.
struct Probes {
    ports: BTreeSet<(Protocol, PortRef)>,
    addrs: BTreeSet<IpAddr>,
}

fn probes(c: &Cluster) -> Probes {
    let mut ports: BTreeSet<(Protocol, PortRef)> = [1, 53, 80, 443, 65535]
        .into_iter()
        .flat_map(|n| Protocol::ALL.map(|p| (p, PortRef::Number(n))))
        .collect();
    let mut addrs: BTreeSet<IpAddr> = ["8.8.8.8", "2001:db8::1"]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
    let rules = c.policies().flat_map(|p| p.ingress.iter().chain(&p.egress));
    for r in rules {
        for pp in &r.ports {
            match &pp.port {
                PortSpec::Any => {}
                PortSpec::Range { start, end } => {
                    for n in [*start, *end].into_iter().chain(end.checked_add(1)) {
                        ports.insert((pp.protocol, PortRef::Number(n)));
                    }
                }
                PortSpec::Named(n) => {
                    ports.insert((pp.protocol, PortRef::Named(n.clone())));
                }
            }
        }
        for peer in &r.peers {
            if let Peer::IpBlock(b) = peer {
                addrs.extend(b.ranges().iter().flat_map(|(lo, hi)| [*lo, *hi]));
                addrs.extend(b.except.iter().map(|e| e.network()));
            }
        }
    }
    Probes { ports, addrs }
}

/// Every pod-to-pod matrix, and every pod to / from external address verdict.
fn verdicts(c: &Cluster, probes: &Probes) -> (Vec<Matrix>, Vec<bool>) {
    let matrices = probes
        .ports
        .iter()
        .map(|(proto, port)| Matrix::build(c, *proto, port))
        .collect();
    let mut external = Vec::new();
    for pod in c.pods() {
        for addr in &probes.addrs {
            for (proto, port) in &probes.ports {
                let PortRef::Number(_) = port else { continue };
                let (a, b) = (Endpoint::Pod(pod.id()), Endpoint::Addr(*addr));
                for (from, to) in [(a.clone(), b.clone()), (b, a)] {
                    let conn = Connection {
                        from,
                        to,
                        protocol: *proto,
                        port: port.clone(),
                    };
                    external.push(evaluate(c, &conn).map(|v| v.allowed).unwrap_or(false));
                }
            }
        }
    }
    (matrices, external)
}

/// The policies PL007 reports.
fn reported(c: &Cluster) -> Vec<PolicyRef> {
    let findings = lint(c, &Options::default());
    let redundant = findings.iter().filter(|f| f.code == "PL007");
    redundant
        .map(|f| {
            let name = f.object.strip_prefix("NetworkPolicy ").unwrap();
            name.parse().unwrap()
        })
        .collect()
}

/// A synthetic cluster plus, for every third policy, an exact copy and,
/// for the next one, a copy keeping only its first rule of each direction.
/// Returns the cluster and the (original, copy) pairs.
fn cluster_with_copies(seed: u64) -> (Cluster, Vec<(PolicyRef, PolicyRef)>) {
    let mut params = palisade_synth::Params::new(14, 9);
    params.namespaces = 2;
    params.seed = seed;
    params.ipblocks_outside_pod_network = seed.is_multiple_of(2);
    let mut c = palisade_synth::generate(&params);
    let originals: Vec<NetworkPolicy> = c.policies().cloned().collect();
    let mut pairs = Vec::new();
    for (i, p) in originals.into_iter().enumerate() {
        let mut copy = p.clone();
        copy.name = format!("{}-copy", p.name);
        match i % 3 {
            0 => {}
            1 => {
                copy.ingress.truncate(1);
                copy.egress.truncate(1);
            }
            _ => continue,
        }
        pairs.push((p.reference(), copy.reference()));
        c.upsert_policy(copy);
    }
    (c, pairs)
}

#[test]
fn removing_every_reported_policy_changes_no_verdict() {
    let mut reports = 0;
    for seed in 0..12 {
        let (c, pairs) = cluster_with_copies(seed);
        let flagged = reported(&c);
        reports += flagged.len();
        for (original, copy) in &pairs {
            let selects = c.pods().any(|pod| {
                let p = c.policy(original).unwrap();
                !pod.host_network
                    && pod.namespace == p.namespace
                    && p.pod_selector.matches(&pod.labels)
            });
            let caught = flagged.contains(original) || flagged.contains(copy);
            assert!(
                caught || !selects,
                "seed {seed}: neither {original} nor {copy} reported"
            );
        }
        let mut without = c.clone();
        for r in &flagged {
            without.remove_policy(r);
        }
        let probes = probes(&c);
        assert!(
            verdicts(&c, &probes) == verdicts(&without, &probes),
            "seed {seed}: removing {flagged:?} changed a verdict"
        );
    }
    assert!(reports > 0);
}

/// `ns/web`: a Pod with an address, or a workload (which has none).
fn web(workload: Option<&str>) -> Pod {
    let mut pod = Pod::new("ns", "web", Labels::from([("app", "web")]), None);
    pod.workload = workload.map(String::from);
    if workload.is_none() {
        pod.ips = vec!["10.244.0.5".parse().unwrap()];
    }
    pod
}

fn ingress_policy(name: &str, rules: Vec<Rule>) -> NetworkPolicy {
    NetworkPolicy {
        namespace: "ns".into(),
        name: name.into(),
        pod_selector: LabelSelector::from_labels([("app", "web")]),
        policy_types: PolicyTypes::defaulted(false),
        ingress: rules,
        egress: Vec::new(),
        source: None,
        mode: None,
        unenforceable: None,
    }
}

/// `a-self-only` allows web from web. For a lone Pod that is only itself,
/// always allowed anyway, so `b-deny` covers it; a Deployment stands for
/// replicas that talk to each other, so there `a-self-only` matters and it
/// is `b-deny` that adds nothing.
#[test]
fn self_traffic_counts_for_workloads_not_for_a_lone_pod() {
    let from_web = Rule {
        peers: vec![Peer::Pods {
            namespaces: None,
            pods: LabelSelector::from_labels([("app", "web")]),
        }],
        ports: Vec::new(),
    };
    for (kind, expected) in [(None, "ns/a-self-only"), (Some("Deployment"), "ns/b-deny")] {
        let mut c = Cluster::new();
        c.upsert_pod(web(kind));
        c.upsert_policy(ingress_policy("a-self-only", vec![from_web.clone()]));
        c.upsert_policy(ingress_policy("b-deny", Vec::new()));
        let expected: PolicyRef = expected.parse().unwrap();
        assert_eq!(reported(&c), [expected], "{kind:?}");
    }
}
