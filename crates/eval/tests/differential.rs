//! Differential test: the matrix fast path and the explaining evaluator
//! agree on every cell of random clusters.

mod common;

use palisade_eval::{evaluate, Cell, Connection, Endpoint, Matrix, PortRef};
use palisade_model::*;
use proptest::prelude::*;

const NS: [&str; 3] = ["x", "y", "z"];
const VALS: [&str; 2] = ["a", "b"];

fn arb_selector() -> impl Strategy<Value = LabelSelector> {
    let req = (0..2usize, 0..4usize, 0..2usize).prop_map(|(k, op, v)| {
        let key = ["app", "tier"][k];
        let (op, vals) = match op {
            0 => (Operator::In, vec![VALS[v].to_string()]),
            1 => (Operator::NotIn, vec![VALS[v].to_string()]),
            2 => (Operator::Exists, vec![]),
            _ => (Operator::DoesNotExist, vec![]),
        };
        Requirement::new(key, op, vals).unwrap()
    });
    proptest::collection::vec(req, 0..2)
        .prop_map(|r| LabelSelector::new(Default::default(), r).unwrap())
}

fn arb_peer() -> impl Strategy<Value = Peer> {
    prop_oneof![
        (proptest::option::of(arb_selector()), arb_selector())
            .prop_map(|(namespaces, pods)| Peer::Pods { namespaces, pods }),
        (0u8..4, 24u8..=32).prop_map(|(n, len)| {
            Peer::IpBlock(IpBlock::parse(&format!("10.0.{n}.0/{len}"), &[]).unwrap())
        }),
    ]
}

fn arb_port() -> impl Strategy<Value = PolicyPort> {
    prop_oneof![
        Just(PolicyPort::new(None, None, None).unwrap()),
        (79i64..82)
            .prop_map(|p| PolicyPort::new(None, Some(PortValue::Number(p)), Some(p + 1)).unwrap()),
        Just(PolicyPort::new(None, Some(PortValue::Name("http".into())), None).unwrap()),
        Just(PolicyPort::new(Some(Protocol::Udp), None, None).unwrap()),
    ]
}

fn arb_rule() -> impl Strategy<Value = Rule> {
    (
        proptest::collection::vec(arb_peer(), 0..3),
        proptest::collection::vec(arb_port(), 0..2),
    )
        .prop_map(|(peers, ports)| Rule { peers, ports })
}

fn arb_policy(i: usize) -> impl Strategy<Value = NetworkPolicy> {
    let rules = || proptest::collection::vec(arb_rule(), 0..3);
    (
        0..3usize,
        arb_selector(),
        any::<(bool, bool)>(),
        rules(),
        rules(),
    )
        .prop_map(
            move |(ns, sel, (i_on, e_on), ingress, egress)| NetworkPolicy {
                namespace: NS[ns].into(),
                name: format!("p{i}"),
                pod_selector: sel,
                policy_types: PolicyTypes {
                    ingress: i_on,
                    egress: e_on,
                },
                ingress,
                egress,
                source: None,
                mode: None,
                unenforceable: None,
            },
        )
}

fn arb_cluster() -> impl Strategy<Value = Cluster> {
    let pod = (0..3usize, 0..3usize, 0..3usize, any::<bool>());
    let pods = proptest::collection::vec(pod, 1..7);
    let policies = (0..4usize).prop_flat_map(|n| (0..n).map(arb_policy).collect::<Vec<_>>());
    let ns_labels = proptest::collection::vec(0..3usize, 3);
    (pods, policies, ns_labels).prop_map(|(pods, policies, ns_labels)| {
        let mut c = Cluster::new();
        for (i, v) in ns_labels.iter().enumerate() {
            let l: Labels = if *v < 2 {
                Labels::from([("app", VALS[*v])])
            } else {
                Labels::new()
            };
            c.upsert_namespace(Namespace::new(NS[i], l));
        }
        for (i, (ns, app, tier, named)) in pods.into_iter().enumerate() {
            let mut l = Labels::new();
            if app < 2 {
                l.insert("app", VALS[app]).unwrap();
            }
            if tier < 2 {
                l.insert("tier", VALS[tier]).unwrap();
            }
            let ip = format!("10.0.{ns}.{}", i + 1).parse().unwrap();
            let mut p = Pod::new(NS[ns], &format!("p{i}"), l, Some(ip));
            if named {
                p.ports.push(ContainerPort {
                    name: Some("http".into()),
                    port: 80,
                    protocol: Protocol::Tcp,
                });
            }
            c.upsert_pod(p);
        }
        policies.into_iter().for_each(|p| c.upsert_policy(p));
        c
    })
}

/// The API semantics written out literally, sharing no code with the
/// evaluator beyond the model's primitive matchers.
fn oracle(c: &Cluster, src: &Pod, dst: &Pod, proto: Protocol, port: u16) -> bool {
    if src.id() == dst.id() {
        return true;
    }
    let peer_ok = |policy_ns: &str, peers: &[Peer], other: &Pod| {
        peers.is_empty()
            || peers.iter().any(|peer| match peer {
                Peer::IpBlock(b) => other.ips.iter().any(|ip| b.contains(*ip)),
                Peer::Pods { namespaces, pods } => {
                    let ns_ok = match namespaces {
                        None => other.namespace == policy_ns,
                        Some(sel) => sel.matches(c.namespace(&other.namespace).unwrap().labels()),
                    };
                    ns_ok && pods.matches(&other.labels)
                }
            })
    };
    let port_ok = |ports: &[PolicyPort]| {
        ports.is_empty()
            || ports.iter().any(|pp| {
                pp.protocol == proto
                    && match &pp.port {
                        PortSpec::Any => true,
                        PortSpec::Range { start, end } => *start <= port && port <= *end,
                        PortSpec::Named(n) => dst.named_port(n, proto) == Some(port),
                    }
            })
    };
    let side_ok = |subject: &Pod, other: &Pod, egress: bool| {
        let selecting: Vec<&NetworkPolicy> = c
            .policies()
            .filter(|p| p.namespace == subject.namespace && p.pod_selector.matches(&subject.labels))
            .filter(|p| {
                if egress {
                    p.policy_types.egress
                } else {
                    p.policy_types.ingress
                }
            })
            .collect();
        selecting.is_empty()
            || selecting.iter().any(|p| {
                let rules = if egress { &p.egress } else { &p.ingress };
                rules
                    .iter()
                    .any(|r| peer_ok(&p.namespace, &r.peers, other) && port_ok(&r.ports))
            })
    };
    side_ok(src, dst, true) && side_ok(dst, src, false)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn matrix_agrees_with_evaluate(c in arb_cluster(), port in 79u16..83) {
        for proto in [Protocol::Tcp, Protocol::Udp] {
            let m = Matrix::build(&c, proto, &PortRef::Number(port));
            for (i, from) in m.pods.iter().enumerate() {
                for (j, to) in m.pods.iter().enumerate() {
                    let conn = Connection { from: Endpoint::Pod(from.clone()), to: Endpoint::Pod(to.clone()), protocol: proto, port: PortRef::Number(port) };
                    let v = evaluate(&c, &conn).unwrap();
                    let cell = if v.allowed { Cell::Allowed } else { Cell::Denied };
                    prop_assert_eq!(m.cells[i][j], cell, "{}", v.explain());
                    let (s, d) = (c.pod(from).unwrap(), c.pod(to).unwrap());
                    prop_assert_eq!(v.allowed, oracle(&c, s, d, proto, port), "{}", v.explain());
                }
            }
        }
    }
}
