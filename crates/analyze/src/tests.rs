//! Unit tests on hand-built clusters: named ports, addressless endpoints,
//! CIDR grouping, self pairs, host-network pods, determinism.

use std::net::IpAddr;

use palisade_model::{
    Cluster, ContainerPort, IpBlock, LabelSelector, Labels, NetworkPolicy, Peer, Pod, PolicyPort,
    PolicyTypes, PortValue, Protocol, Rule,
};

use crate::{connectivity, Allow, ClassConnectivity, Connection, Connectivity};

fn pod(ns: &str, name: &str, app: &str, ip: Option<&str>) -> Pod {
    let ip = ip.map(|s| s.parse::<IpAddr>().unwrap());
    Pod::new(ns, name, Labels::from([("app", app)]), ip)
}

fn with_port(mut p: Pod, name: &str, port: u16, protocol: Protocol) -> Pod {
    p.ports.push(ContainerPort {
        name: Some(name.into()),
        port,
        protocol,
    });
    p
}

fn named(name: &str) -> PolicyPort {
    PolicyPort::new(None, Some(PortValue::Name(name.into())), None).unwrap()
}

fn numbered(port: i64) -> PolicyPort {
    PolicyPort::new(None, Some(PortValue::Number(port)), None).unwrap()
}

fn policy(
    ns: &str,
    name: &str,
    selector: LabelSelector,
    ingress: Option<Vec<Rule>>,
    egress: Option<Vec<Rule>>,
) -> NetworkPolicy {
    NetworkPolicy {
        namespace: ns.into(),
        name: name.into(),
        pod_selector: selector,
        policy_types: PolicyTypes {
            ingress: ingress.is_some(),
            egress: egress.is_some(),
        },
        ingress: ingress.unwrap_or_default(),
        egress: egress.unwrap_or_default(),
        source: None,
        mode: None,
        unenforceable: None,
    }
}

fn tcp(ports: &[[u16; 2]]) -> Vec<Allow> {
    vec![Allow {
        protocol: Protocol::Tcp,
        ports: ports.to_vec(),
    }]
}

fn find<'a>(c: &'a Connectivity, from: &str, to: &str) -> Option<&'a [Allow]> {
    let conn = c.connections.iter().find(|x| x.from == from && x.to == to);
    conn.map(|x| x.allow.as_slice())
}

fn targets<'a>(c: &'a Connectivity, from: &str) -> Vec<&'a str> {
    let from_it = c.connections.iter().filter(|x| x.from == from);
    from_it.map(|x| x.to.as_str()).collect()
}

#[test]
fn named_ports_resolve_on_the_destination() {
    let mut c = Cluster::new();
    c.upsert_pod(with_port(
        pod("a", "web", "web", Some("10.0.0.1")),
        "http",
        8080,
        Protocol::Tcp,
    ));
    c.upsert_pod(with_port(
        pod("a", "api", "api", Some("10.0.0.2")),
        "http",
        9000,
        Protocol::Tcp,
    ));
    c.upsert_pod(with_port(
        pod("a", "client", "client", Some("10.0.0.3")),
        "http",
        7,
        Protocol::Udp,
    ));
    let to_http = Rule {
        peers: vec![],
        ports: vec![named("http")],
    };
    let client = LabelSelector::from_labels([("app", "client")]);
    c.upsert_policy(policy("a", "out", client, None, Some(vec![to_http])));
    let r = connectivity(&c);
    assert_eq!(
        find(&r, "a/client", "a/web"),
        Some(&tcp(&[[8080, 8080]])[..])
    );
    assert_eq!(
        find(&r, "a/client", "a/api"),
        Some(&tcp(&[[9000, 9000]])[..])
    );
    // Never resolved on the source, and an external address has no ports.
    assert_eq!(targets(&r, "a/client"), ["a/api", "a/web"]);
    assert_eq!(find(&r, "a/web", "a/client"), Some(&all()[..]));
}

fn all() -> Vec<Allow> {
    Protocol::ALL
        .into_iter()
        .map(|protocol| Allow {
            protocol,
            ports: vec![],
        })
        .collect()
}

#[test]
fn addressless_endpoints_get_a_note_and_no_ipblock_match() {
    let mut c = Cluster::new();
    let mut deploy = pod("a", "deploy", "web", None);
    deploy.workload = Some("Deployment".into());
    c.upsert_pod(deploy);
    c.upsert_pod(pod("a", "db", "db", Some("10.0.0.1")));
    c.upsert_pod(pod("a", "cli", "cli", Some("10.0.0.2")));
    let anywhere = Rule {
        peers: vec![Peer::IpBlock(IpBlock::parse("0.0.0.0/0", &[]).unwrap())],
        ports: vec![numbered(5432)],
    };
    let db = LabelSelector::from_labels([("app", "db")]);
    c.upsert_policy(policy("a", "db", db, Some(vec![anywhere]), None));
    let r = connectivity(&c);
    assert_eq!(
        r.notes,
        ["1 endpoint has no address: ipBlock rules can only match external addresses for them"]
    );
    let names: Vec<&str> = r.endpoints.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["a/cli", "a/db", "a/deploy"]);
    assert_eq!(
        (r.endpoints[2].kind.as_str(), r.endpoints[2].ips.len()),
        ("Deployment", 0)
    );
    assert_eq!(
        find(&r, "a/deploy", "a/db"),
        None,
        "no address, no ipBlock match"
    );
    assert_eq!(find(&r, "a/cli", "a/db"), Some(&tcp(&[[5432, 5432]])[..]));
    assert_eq!(
        find(&r, "8.0.0.0/7", "a/db"),
        Some(&tcp(&[[5432, 5432]])[..])
    );
    assert_eq!(find(&r, "::/0", "a/db"), None, "an IPv4 block");
}

#[test]
fn external_addresses_are_grouped_into_the_fewest_cidrs() {
    let mut c = Cluster::new();
    c.upsert_pod(pod("a", "p", "p", Some("10.0.0.1")));
    let r = connectivity(&c);
    let to = targets(&r, "a/p");
    assert_eq!(
        to.len(),
        32 + 1,
        "the IPv4 space minus one address, and ::/0: {to:?}"
    );
    for cidr in [
        "0.0.0.0/5",
        "10.0.0.0/32",
        "10.0.0.2/31",
        "128.0.0.0/1",
        "::/0",
    ] {
        assert!(to.contains(&cidr), "{cidr}");
    }
    let block = IpBlock::parse("192.168.0.0/16", &["192.168.1.0/24"]).unwrap();
    let rule = Rule {
        peers: vec![Peer::IpBlock(block)],
        ports: vec![numbered(443)],
    };
    c.upsert_policy(policy(
        "a",
        "out",
        LabelSelector::everything(),
        None,
        Some(vec![rule]),
    ));
    let r = connectivity(&c);
    let want = [
        "192.168.0.0/24",
        "192.168.128.0/17",
        "192.168.16.0/20",
        "192.168.2.0/23",
    ];
    assert_eq!(targets(&r, "a/p")[..4], want);
    assert_eq!(targets(&r, "a/p").len(), 8);
    assert_eq!(
        find(&r, "a/p", "192.168.4.0/22"),
        Some(&tcp(&[[443, 443]])[..])
    );
}

#[test]
fn self_pairs_are_omitted_but_class_mates_are_listed() {
    let mut c = Cluster::new();
    c.upsert_pod(pod("a", "x", "same", Some("10.0.0.1")));
    c.upsert_pod(pod("a", "y", "same", Some("10.0.0.2")));
    let r = connectivity(&c);
    let cc = ClassConnectivity::new(&c);
    assert_eq!(cc.class_count(), 1);
    assert!(r.connections.iter().all(|x| x.from != x.to));
    assert_eq!(find(&r, "a/x", "a/y"), Some(&all()[..]));
    assert_eq!(find(&r, "a/y", "a/x"), Some(&all()[..]));
    let deny = policy(
        "a",
        "deny",
        LabelSelector::everything(),
        Some(vec![]),
        Some(vec![]),
    );
    c.upsert_policy(deny);
    assert!(connectivity(&c).connections.is_empty());
}

#[test]
fn host_network_pods_are_matched_only_by_ipblock() {
    let mut c = Cluster::new();
    let mut node = pod("a", "node", "web", Some("192.168.0.5"));
    node.host_network = true;
    c.upsert_pod(node);
    c.upsert_pod(pod("a", "web", "web", Some("10.0.0.1")));
    let from_web = Peer::Pods {
        namespaces: None,
        pods: LabelSelector::from_labels([("app", "web")]),
    };
    let from_nodes = Peer::IpBlock(IpBlock::parse("192.168.0.0/24", &[]).unwrap());
    let rule = |p: Peer, port| Rule {
        peers: vec![p],
        ports: vec![numbered(port)],
    };
    let rules = vec![rule(from_web, 80), rule(from_nodes, 10250)];
    c.upsert_policy(policy(
        "a",
        "in",
        LabelSelector::everything(),
        Some(rules),
        None,
    ));
    let r = connectivity(&c);
    assert_eq!(
        find(&r, "a/node", "a/web"),
        Some(&tcp(&[[10250, 10250]])[..])
    );
    assert_eq!(
        find(&r, "a/web", "a/node"),
        Some(&all()[..]),
        "no policy applies to it"
    );
}

#[test]
fn results_are_deterministic() {
    let build = |reverse: bool| {
        let mut pods: Vec<Pod> = (0..6)
            .map(|i| pod("n", &format!("p{i}"), "x", Some(&format!("10.0.0.{i}"))))
            .collect();
        if reverse {
            pods.reverse();
        }
        let mut c = palisade_synth::generate(&palisade_synth::Params::new(12, 6));
        pods.into_iter().for_each(|p| c.upsert_pod(p));
        c
    };
    let (a, b) = (connectivity(&build(false)), connectivity(&build(true)));
    let json = |c: &Connectivity| serde_json::to_string(c).unwrap();
    assert_eq!(json(&a), json(&b));
    let mut sorted: Vec<Connection> = a.connections.clone();
    sorted.sort();
    assert_eq!(sorted, a.connections);
}

#[test]
fn an_empty_cluster_has_nothing_to_say() {
    let r = connectivity(&Cluster::new());
    assert!(r.endpoints.is_empty() && r.connections.is_empty() && r.notes.is_empty());
}

#[test]
fn sparse_intersections_agree_with_the_dense_table() {
    let mut p = palisade_synth::Params::new(40, 20);
    p.namespaces = 3;
    let c = palisade_synth::generate(&p);
    let dense = ClassConnectivity::new(&c);
    let sparse = ClassConnectivity::build(&c, Some(0));
    assert!(matches!(sparse.meet, crate::meet::Meet::Sparse(_)));
    assert!(dense.connections().eq(sparse.connections()));
}

#[test]
fn stats_count_what_is_listed() {
    let mut p = palisade_synth::Params::new(60, 30);
    p.namespaces = 4;
    p.ipblocks_outside_pod_network = false;
    let cc = ClassConnectivity::new(&palisade_synth::generate(&p));
    let listed = cc.connections().count() as u64;
    assert_eq!(cc.stats().connections(), listed);
    assert!(listed > 0);
}

#[test]
fn many_rules_in_one_namespace_keep_their_own_ports() {
    let mut c = Cluster::new();
    c.upsert_pod(pod("a", "server", "server", Some("10.0.1.1")));
    let server = LabelSelector::from_labels([("app", "server")]);
    for i in 0..70u8 {
        let app = format!("c{i}");
        c.upsert_pod(pod("a", &app, &app, Some(&format!("10.0.0.{}", i + 1))));
        let rule = Rule {
            peers: vec![Peer::Pods {
                namespaces: None,
                pods: LabelSelector::from_labels([("app", app.as_str())]),
            }],
            ports: vec![numbered(1000 + i64::from(i))],
        };
        c.upsert_policy(policy(
            "a",
            &format!("p{i}"),
            server.clone(),
            Some(vec![rule]),
            None,
        ));
    }
    let r = connectivity(&c);
    for i in 0..70u16 {
        let port = 1000 + i;
        assert_eq!(
            find(&r, &format!("a/c{i}"), "a/server"),
            Some(&tcp(&[[port, port]])[..])
        );
    }
}
