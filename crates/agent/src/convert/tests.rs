use serde_json::json;

use super::*;

fn pod(phase: &str) -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": "web", "namespace": "ns-1", "uid": "u1", "resourceVersion": "7",
            "labels": {"app": "web"},
            "managedFields": [{"manager": "kubectl", "operation": "Apply"}]
        },
        "spec": {
            "nodeName": "node-1",
            "containers": [{"name": "c", "image": "nginx",
                "ports": [{"name": "http", "containerPort": 80}]}]
        },
        "status": {"phase": phase, "podIP": "10.0.0.5", "podIPs": [{"ip": "10.0.0.5"}]}
    }))
    .unwrap()
}

fn policy(cidr: &str) -> NetworkPolicy {
    serde_json::from_value(json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "allow", "namespace": "ns-1", "uid": "p1", "resourceVersion": "3"},
        "spec": {
            "podSelector": {"matchLabels": {"app": "web"}},
            "ingress": [{"from": [{"ipBlock": {"cidr": cidr}}]}]
        }
    }))
    .unwrap()
}

#[test]
fn a_running_pod_decodes_with_its_node_address_and_ports() {
    let Decoded::Valid(Object::Pod(p)) = decode(pod("Running")) else {
        panic!("expected a pod");
    };
    assert_eq!(p.node_name.as_deref(), Some("node-1"));
    assert_eq!(p.ips, vec!["10.0.0.5".parse::<std::net::IpAddr>().unwrap()]);
    assert_eq!(p.labels.get("app"), Some("web"));
    assert_eq!(p.ports.len(), 1);
}

#[test]
fn terminated_pods_are_ignored() {
    assert!(matches!(decode(pod("Succeeded")), Decoded::Ignored(_)));
    assert!(matches!(decode(pod("Failed")), Decoded::Ignored(_)));
}

#[test]
fn a_policy_with_an_unreadable_rule_is_unenforceable_with_the_manifest_diagnostics() {
    let Decoded::Unenforceable(Object::NetworkPolicy(np), errors) = decode(policy("10.0.0.0/33"))
    else {
        panic!("expected an unenforceable policy");
    };
    assert!(np.unenforceable.is_some() && np.ingress.is_empty());
    assert_eq!(
        errors[0].object.as_deref(),
        Some("NetworkPolicy ns-1/allow")
    );
    assert!(errors[0].field.contains("ipBlock.cidr"), "{errors:?}");
    assert!(summary(&errors).contains("ipBlock.cidr"));
}

/// Kubernetes 1.32 accepts leading zeros (`ParseCIDRSloppy`).
#[test]
fn a_leading_zero_cidr_decodes() {
    assert!(matches!(
        decode(policy("010.0.0.0/8")),
        Decoded::Valid(Object::NetworkPolicy(_))
    ));
}

#[test]
fn a_valid_policy_decodes() {
    assert!(matches!(
        decode(policy("10.0.0.0/8")),
        Decoded::Valid(Object::NetworkPolicy(_))
    ));
    assert_eq!(key(&policy("10.0.0.0/8")), "NetworkPolicy ns-1/allow");
}

#[test]
fn namespaces_keep_their_labels() {
    let ns: Namespace = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "ns-1", "labels": {"team": "a"}},
        "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}
    }))
    .unwrap();
    let Decoded::Valid(Object::Namespace(n)) = decode(ns) else {
        panic!("expected a namespace");
    };
    assert_eq!(n.labels().get("team"), Some("a"));
    assert_eq!(n.labels().get("kubernetes.io/metadata.name"), Some("ns-1"));
}
