use super::*;
use palisade_analyze::Allow;

/// The walkthrough's cluster, plus the given policy files of examples/walkthrough.
pub(crate) fn walkthrough(policies: &[&str]) -> Cluster {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/walkthrough/");
    let mut loaded = palisade_manifest::Loaded::default();
    for file in std::iter::once("cluster.yaml").chain(policies.iter().copied()) {
        let path = format!("{dir}{file}");
        let text = std::fs::read_to_string(&path).unwrap();
        loaded.extend(palisade_manifest::parse_str(file, &text));
    }
    assert!(!loaded.has_errors());
    loaded.to_cluster()
}

const DENY: &str = "deny-all-by-default-network-policy.yaml";
const ALLOW: &str = "allow-network-policy.yaml";

fn pairs(s: &[(&str, &str)]) -> Vec<(String, String)> {
    s.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn cluster_view_lists_namespaces_pods_and_policies() {
    let c = walkthrough(&[DENY, ALLOW]);
    insta::assert_json_snapshot!(cluster_view(&c, 7));
}

#[test]
fn graph_without_policies_connects_every_pair_and_the_outside() {
    let g = graph_view(&walkthrough(&[]), 1, None);
    let ids: Vec<_> = g.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["ns-1/busybox", "ns-1/http-echo"]);
    let edges: Vec<_> = g
        .edges
        .iter()
        .map(|e| (&*e.from, &*e.to, &*e.text))
        .collect();
    assert_eq!(
        edges,
        [
            (
                "ns-1/busybox",
                "ns-1/http-echo",
                "TCP any; UDP any; SCTP any"
            ),
            (
                "ns-1/http-echo",
                "ns-1/busybox",
                "TCP any; UDP any; SCTP any"
            ),
        ]
    );
    let outside: Vec<_> = g
        .external
        .iter()
        .map(|e| (&*e.endpoint, e.direction, &*e.text))
        .collect();
    let any = "TCP any; UDP any; SCTP any";
    assert_eq!(
        outside,
        [
            ("ns-1/busybox", Direction::Ingress, any),
            ("ns-1/busybox", Direction::Egress, any),
            ("ns-1/http-echo", Direction::Ingress, any),
            ("ns-1/http-echo", Direction::Egress, any),
        ],
        "each pod to and from everything outside the pods"
    );
    assert!(
        g.external[0].cidrs.contains(&"::/0".to_string()),
        "{:?}",
        g.external[0].cidrs
    );
    assert_eq!(g.omitted, 0);
}

#[test]
fn graph_follows_the_walkthrough_policies() {
    let deny = graph_view(&walkthrough(&[DENY]), 2, None);
    assert!(deny.edges.is_empty(), "deny-all: no pod reaches another");
    let dirs: Vec<_> = deny.external.iter().map(|e| e.direction).collect();
    assert_eq!(
        dirs,
        [Direction::Egress, Direction::Egress],
        "only egress to the outside is left"
    );
    let allow = graph_view(&walkthrough(&[DENY, ALLOW]), 3, None);
    insta::assert_json_snapshot!(allow);
}

#[test]
fn pod_details_name_the_selecting_policies_per_direction() {
    let c = walkthrough(&[DENY, ALLOW]);
    let echo = pod_details(&c, "ns-1", "http-echo").unwrap();
    assert_eq!(echo.ingress, ["ns-1/allow", "ns-1/deny-all-by-default"]);
    assert!(echo.egress.is_empty());
    let busybox = pod_details(&c, "ns-1", "busybox").unwrap();
    assert_eq!(busybox.ingress, ["ns-1/deny-all-by-default"]);
    let err = pod_details(&c, "ns-1", "nope").unwrap_err();
    assert_eq!(err.to_string(), "no pod ns-1/nope in the cluster");
}

#[test]
fn explain_gives_the_evaluator_verdict_and_text() {
    let c = walkthrough(&[DENY]);
    let q = ExplainQuery::from_pairs(&pairs(&[
        ("from", "ns-1/busybox"),
        ("to", "ns-1/http-echo"),
        ("port", "http"),
        ("protocol", "tcp"),
    ]));
    let e = explain(&c, &q).unwrap();
    assert!(!e.allowed);
    assert_eq!(
        e.verdict.port, 80,
        "the named port resolved on the destination"
    );
    assert!(
        e.text
            .contains("DENY ns-1/http-echo is isolated for ingress by ns-1/deny-all-by-default"),
        "{}",
        e.text
    );
    let c = walkthrough(&[DENY, ALLOW]);
    let q = ExplainQuery::from_pairs(&pairs(&[
        ("from", "ns-1/http-echo"),
        ("to", "10.244.1.11"),
        ("port", "8080"),
    ]));
    let e = explain(&c, &q).unwrap();
    assert!(!e.allowed, "busybox (by address) is isolated by deny-all");
}

#[test]
fn explain_rejects_bad_queries_with_a_reason() {
    let c = walkthrough(&[]);
    let cases = [
        (
            vec![("to", "ns-1/busybox"), ("port", "80")],
            "missing query parameter \"from\"",
        ),
        (
            vec![("from", "x"), ("to", "ns-1/busybox"), ("port", "80")],
            "from: expected NAMESPACE/POD",
        ),
        (
            vec![
                ("from", "ns-1/busybox"),
                ("to", "ns-1/http-echo"),
                ("port", "80"),
                ("protocol", "icmp"),
            ],
            "protocol: unsupported protocol",
        ),
        (
            vec![
                ("from", "ns-1/busybox"),
                ("to", "ns-1/nope"),
                ("port", "80"),
            ],
            "no pod ns-1/nope",
        ),
        (
            vec![
                ("from", "ns-1/busybox"),
                ("to", "ns-1/http-echo"),
                ("port", "dns"),
            ],
            "defines no container port named \"dns\"",
        ),
        (
            vec![
                ("from", "ns-1/busybox"),
                ("to", "ns-1/http-echo"),
                ("port", "0"),
            ],
            "port: 0",
        ),
    ];
    let port_cases = [
        ("99999", "port: 99999 is out of range (1-65535)"),
        ("65536", "port: 65536 is out of range (1-65535)"),
        (
            "123456789012345678901234567890",
            "is out of range (1-65535)",
        ),
        (
            "-1",
            "port: \"-1\" is neither a port number (1-65535) nor a port name",
        ),
        ("http_alt", "is neither a port number"),
        ("a-very-long-port-name", "is neither a port number"),
    ];
    let cases = cases.into_iter().chain(port_cases.map(|(port, want)| {
        let q = vec![
            ("from", "ns-1/busybox"),
            ("to", "ns-1/http-echo"),
            ("port", port),
        ];
        (q, want)
    }));
    for (q, want) in cases {
        let err = explain(&c, &ExplainQuery::from_pairs(&pairs(&q))).unwrap_err();
        assert!(
            err.to_string().contains(want),
            "{err} should contain {want}"
        );
    }
}

#[test]
fn allow_text_merges_ranges_per_protocol() {
    let allow = [
        Allow {
            protocol: Protocol::Tcp,
            ports: vec![[80, 80], [8080, 8090]],
        },
        Allow {
            protocol: Protocol::Udp,
            ports: vec![],
        },
    ];
    assert_eq!(allow_text(&allow), "TCP 80, 8080-8090; UDP any");
}

#[test]
fn the_graph_stops_listing_at_the_cap_and_counts_the_rest() {
    let mut c = Cluster::new();
    // 80 pods without policies: 80*79 pod edges, over MAX_EDGES.
    for i in 0..80u32 {
        let ip = std::net::IpAddr::from([10, 0, 0, i as u8 + 1]);
        c.upsert_pod(Pod::new("a", &format!("p{i:02}"), Labels::new(), Some(ip)));
    }
    let g = graph_view(&c, 1, None);
    assert_eq!(g.edges.len(), MAX_EDGES);
    assert_eq!(g.edges.len() + g.omitted, 80 * 79);
    assert_eq!(
        g.external.len(),
        80 * 2,
        "the outside is always listed, grouped"
    );
}

/// The outside edges, grouped from the class-level lists, are exactly the
/// external connections the analyzer lists pair by pair.
#[test]
fn external_groups_agree_with_the_listed_connections() {
    let clusters = [
        walkthrough(&[]),
        walkthrough(&[DENY, ALLOW]),
        palisade_synth::generate(&palisade_synth::Params::new(60, 12)),
    ];
    for c in clusters {
        let g = graph_view(&c, 1, None);
        let mut from_groups: Vec<(String, String, Vec<Allow>)> = Vec::new();
        for e in &g.external {
            for cidr in &e.cidrs {
                let (from, to) = match e.direction {
                    Direction::Egress => (e.endpoint.clone(), cidr.clone()),
                    Direction::Ingress => (cidr.clone(), e.endpoint.clone()),
                };
                from_groups.push((from, to, e.allow.clone()));
            }
        }
        let ids: std::collections::BTreeSet<_> = g.nodes.iter().map(|n| n.id.clone()).collect();
        let mut listed: Vec<_> = palisade_analyze::connectivity(&c)
            .connections
            .into_iter()
            .filter(|x| !(ids.contains(&x.from) && ids.contains(&x.to)))
            .map(|x| (x.from, x.to, x.allow))
            .collect();
        from_groups.sort();
        listed.sort();
        assert!(!listed.is_empty());
        assert_eq!(from_groups, listed);
    }
}

/// A namespace's graph is the analyzer's connections that touch it (up to
/// the cap, the rest counted), its endpoints and their peers, and its
/// endpoints' outside connections.
#[test]
fn a_namespace_graph_is_the_part_of_the_whole_that_touches_it() {
    let c = palisade_synth::generate(&palisade_synth::Params::new(200, 30));
    let all = palisade_analyze::connectivity(&c).connections;
    let whole = graph_view(&c, 1, None);
    for ns in ["ns-0", "ns-1"] {
        let part = graph_view(&c, 1, Some(ns));
        let touches = |id: &str| id.starts_with(&format!("{ns}/"));
        let is_pod = |id: &str| id.starts_with("ns-");
        let want: Vec<_> = all
            .iter()
            .filter(|x| is_pod(&x.from) && is_pod(&x.to))
            .filter(|x| touches(&x.from) || touches(&x.to))
            .map(|x| (&x.from, &x.to, &x.allow))
            .collect();
        let got: Vec<_> = part
            .edges
            .iter()
            .map(|e| (&e.from, &e.to, &e.allow))
            .collect();
        assert!(!got.is_empty());
        assert_eq!(got[..], want[..got.len()], "{ns}");
        assert_eq!(got.len() + part.omitted, want.len(), "{ns}");
        for n in &part.nodes {
            let linked = part.edges.iter().any(|e| e.from == n.id || e.to == n.id);
            assert!(
                n.namespace == ns || linked,
                "{} is neither in {ns} nor linked",
                n.id
            );
        }
        assert!(part.external.iter().all(|e| touches(&e.endpoint)));
        let whole_ext = whole
            .external
            .iter()
            .filter(|e| touches(&e.endpoint))
            .count();
        assert_eq!(part.external.len(), whole_ext);
    }
}
