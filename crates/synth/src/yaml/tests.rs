use std::collections::BTreeMap;

use palisade_model::{
    Cluster, ContainerPort, IpBlock, LabelSelector, Labels, Namespace, NetworkPolicy, Operator,
    Peer, Pod, PolicyPort, PolicyTypes, PortValue, Protocol, Requirement, Rule,
};

use super::*;

fn cluster() -> Cluster {
    let mut c = Cluster::new();
    c.upsert_namespace(Namespace::new("ns-0", Labels::from([("monitoring", "y")])));
    let mut pod = Pod::new(
        "ns-0",
        "web-0",
        Labels::from([("version", "1")]),
        Some("10.0.0.1".parse().unwrap()),
    );
    pod.ports.push(ContainerPort {
        name: Some("http".into()),
        port: 80,
        protocol: Protocol::Tcp,
    });
    pod.node_name = Some("node-0".into());
    c.upsert_pod(pod);
    c.upsert_policy(policy());
    c
}

fn policy() -> NetworkPolicy {
    let not_in = Requirement::new("canary", Operator::NotIn, vec!["true".into()]).unwrap();
    let pods = LabelSelector::new(BTreeMap::new(), vec![not_in]).unwrap();
    let peers = vec![
        Peer::Pods {
            namespaces: Some(LabelSelector::from_labels([("team", "a")])),
            pods: LabelSelector::everything(),
        },
        Peer::IpBlock(IpBlock::parse("192.168.0.0/16", &["192.168.1.0/24"]).unwrap()),
    ];
    let ports = vec![
        PolicyPort::new(
            Some(Protocol::Tcp),
            Some(PortValue::Number(8000)),
            Some(8100),
        )
        .unwrap(),
        PolicyPort::new(
            Some(Protocol::Udp),
            Some(PortValue::Name("dns".into())),
            None,
        )
        .unwrap(),
    ];
    NetworkPolicy {
        namespace: "ns-0".into(),
        name: "np-0".into(),
        pod_selector: pods,
        policy_types: PolicyTypes {
            ingress: false,
            egress: true,
        },
        ingress: vec![],
        egress: vec![Rule { peers, ports }, Rule::default()],
        source: None,
        mode: None,
        unenforceable: None,
    }
}

const EXPECTED: &str = r#"---
apiVersion: "v1"
kind: "Namespace"
metadata:
  name: "ns-0"
  labels:
    "kubernetes.io/metadata.name": "ns-0"
    "monitoring": "y"
---
apiVersion: "v1"
kind: "Pod"
metadata:
  name: "web-0"
  namespace: "ns-0"
  labels:
    "version": "1"
spec:
  nodeName: "node-0"
  containers:
  - name: "main"
    image: "registry.k8s.io/pause:3.9"
    ports:
    - name: "http"
      containerPort: 80
      protocol: "TCP"
status:
  podIP: "10.0.0.1"
  podIPs:
  - ip: "10.0.0.1"
---
apiVersion: "networking.k8s.io/v1"
kind: "NetworkPolicy"
metadata:
  name: "np-0"
  namespace: "ns-0"
spec:
  podSelector:
    matchExpressions:
    - key: "canary"
      operator: "NotIn"
      values:
      - "true"
  policyTypes:
  - "Egress"
  egress:
  - to:
    - namespaceSelector:
        matchLabels:
          "team": "a"
    - ipBlock:
        cidr: "192.168.0.0/16"
        except:
        - "192.168.1.0/24"
    ports:
    - protocol: "TCP"
      port: 8000
      endPort: 8100
    - protocol: "UDP"
      port: "dns"
  - {}
"#;

#[test]
fn renders_block_yaml_with_every_string_quoted() {
    let got = to_yaml(&cluster());
    assert_eq!(got, EXPECTED, "expected:\n{EXPECTED}\ngot:\n{got}");
}

#[test]
fn defaulted_policy_types_are_left_out() {
    let mut c = Cluster::new();
    let np = NetworkPolicy {
        policy_types: PolicyTypes::defaulted(false),
        egress: vec![],
        ..policy()
    };
    c.upsert_policy(np);
    let yaml = to_yaml(&c);
    assert!(!yaml.contains("policyTypes"), "{yaml}");
    assert!(
        !yaml.contains("kind: \"Namespace\""),
        "implicit namespaces are not written: {yaml}"
    );
}

#[test]
fn quoting_escapes() {
    assert_eq!(writer::q("a\"b\\c\n"), r#""a\"b\\c\u000A""#);
}
