//! Pods: ports, host network, node name, IPs.

use std::net::IpAddr;

use palisade_model::{ContainerPort, Pod, Protocol};

use super::super::testutil::{clean, expect, load, only, pod};
use crate::{Object, Severity};

/// A pod with one container (entries from line 10 on) and no status.
fn ports(entries: &str) -> String {
    pod(&format!(
        "spec:\n  containers:\n    - name: c\n      ports:\n{entries}"
    ))
}

fn decoded(text: &str) -> Pod {
    let l = load(text);
    clean(&l);
    match only(&l) {
        Object::Pod(p) => p.clone(),
        other => panic!("not a pod: {other:?}"),
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test IP")
}

#[test]
fn container_ports_default_to_tcp() {
    let p = decoded(&ports(
        "        - {name: http, containerPort: 80}\n        - {containerPort: 53, protocol: UDP}\n",
    ));
    let http = ContainerPort {
        name: Some("http".into()),
        port: 80,
        protocol: Protocol::Tcp,
    };
    let dns = ContainerPort {
        name: None,
        port: 53,
        protocol: Protocol::Udp,
    };
    assert_eq!(p.ports, vec![http, dns]);
}

#[test]
fn other_pod_fields_are_not_reported() {
    let spec = "spec:\n  volumes: []\n  containers:\n    - {name: c, image: nginx, command: [a], ports: [{containerPort: 80}]}\n";
    let p = decoded(&pod(&format!(
        "{spec}status:\n  phase: Running\n  podIP: 10.0.0.1\n"
    )));
    assert_eq!(p.ips, vec![ip("10.0.0.1")]);
}

#[test]
fn container_port_is_required() {
    let l = load(&ports("        - {name: http}\n"));
    let field = "spec.containers[0].ports[0].containerPort";
    expect(
        &l,
        field,
        Severity::Error,
        10,
        "missing required field \"containerPort\"",
    );
}

#[test]
fn container_ports_are_in_range() {
    let l = load(&ports("        - {containerPort: 0}\n"));
    expect(
        &l,
        "spec.containers[0].ports[0].containerPort",
        Severity::Error,
        10,
        "port number 0 out of range",
    );
}

#[test]
fn port_names_are_iana_service_names() {
    let l = load(&ports("        - {name: HTTP, containerPort: 80}\n"));
    expect(
        &l,
        "spec.containers[0].ports[0].name",
        Severity::Error,
        10,
        "invalid port name \"HTTP\"",
    );
}

#[test]
fn port_protocols_are_exact() {
    let l = load(&ports("        - {containerPort: 80, protocol: Tcp}\n"));
    expect(
        &l,
        "spec.containers[0].ports[0].protocol",
        Severity::Error,
        10,
        "unsupported protocol \"Tcp\"",
    );
}

#[test]
fn duplicate_port_names_in_a_container_are_errors() {
    let l = load(&ports(
        "        - {name: web, containerPort: 80}\n        - {name: web, containerPort: 81}\n",
    ));
    let message = "duplicate port name \"web\" (first at spec.containers[0].ports[0].name)";
    expect(
        &l,
        "spec.containers[0].ports[1].name",
        Severity::Error,
        11,
        message,
    );
    assert!(l.objects.is_empty());
}

#[test]
fn duplicate_port_names_across_containers_are_warnings() {
    let two = "        - {name: web, containerPort: 80}\n    - name: d\n      ports: [{name: web, containerPort: 81}]\n";
    let l = load(&ports(two));
    expect(
        &l,
        "spec.containers[1].ports[0].name",
        Severity::Warning,
        12,
        "resolve to that first one",
    );
    assert_eq!(l.objects.len(), 1);
}

#[test]
fn unknown_container_port_fields_are_warnings() {
    let l = load(&ports("        - {containerPort: 80, hostport: 8080}\n"));
    let field = "spec.containers[0].ports[0].hostport";
    expect(
        &l,
        field,
        Severity::Warning,
        10,
        "unknown field \"hostport\" (did you mean \"hostPort\"?)",
    );
}

#[test]
fn host_ports_must_match_on_the_host_network() {
    let text = pod("spec:\n  hostNetwork: true\n  containers:\n    - ports: [{containerPort: 80, hostPort: 8080}]\n");
    let l = load(&text);
    expect(
        &l,
        "spec.containers[0].ports[0].hostPort",
        Severity::Error,
        9,
        "must equal containerPort",
    );
}

#[test]
fn host_network_and_node_name() {
    let p = decoded(&pod("spec:\n  hostNetwork: true\n  nodeName: node-1\n"));
    assert!(p.host_network);
    assert_eq!(p.node_name.as_deref(), Some("node-1"));
}

#[test]
fn host_network_is_a_boolean() {
    let l = load(&pod("spec:\n  hostNetwork: yes\n"));
    expect(
        &l,
        "spec.hostNetwork",
        Severity::Error,
        7,
        "expected a boolean (true or false), found string \"yes\"",
    );
}

#[test]
fn pod_ips_come_from_pod_ips_then_pod_ip() {
    let status = "status:\n  podIP: 10.0.0.1\n  podIPs: [{ip: 10.0.0.1}, {ip: 'fd00::1'}]\n";
    assert_eq!(
        decoded(&pod(status)).ips,
        vec![ip("10.0.0.1"), ip("fd00::1")]
    );
    assert_eq!(
        decoded(&pod("status: {podIP: 10.0.0.2}\n")).ips,
        vec![ip("10.0.0.2")]
    );
}

#[test]
fn pod_ip_must_be_an_ip() {
    let l = load(&pod("status:\n  podIP: 10.0.0.300\n"));
    expect(
        &l,
        "status.podIP",
        Severity::Error,
        7,
        "invalid IP address \"10.0.0.300\"",
    );
}

#[test]
fn pod_ips_entries_must_be_ips() {
    let l = load(&pod(
        "status:\n  podIPs:\n    - ip: 10.0.0.1\n    - ip: fd00::zz\n",
    ));
    expect(
        &l,
        "status.podIPs[1].ip",
        Severity::Error,
        9,
        "invalid IP address \"fd00::zz\"",
    );
}

#[test]
fn pod_ips_are_one_per_family() {
    let l = load(&pod(
        "status:\n  podIPs: [{ip: 10.0.0.1}, {ip: 10.0.0.2}]\n",
    ));
    expect(
        &l,
        "status.podIPs[1].ip",
        Severity::Error,
        7,
        "one IPv4 and one IPv6",
    );
}

#[test]
fn a_pod_ip_that_differs_from_pod_ips_wins_with_a_warning() {
    let l = load(&pod(
        "status:\n  podIP: 10.0.0.1\n  podIPs: [{ip: 10.0.0.2}]\n",
    ));
    expect(
        &l,
        "status.podIP",
        Severity::Warning,
        7,
        "differs from podIPs[0]",
    );
    let Object::Pod(p) = only(&l) else {
        panic!("not a pod")
    };
    assert_eq!(p.ips, vec![ip("10.0.0.1")]);
}

#[test]
fn host_ports_are_unique_per_protocol_and_ip() {
    let two = "        - {containerPort: 80, hostPort: 8080}\n        - {containerPort: 81, hostPort: 8080}\n";
    let l = load(&ports(two));
    let message = "duplicate hostPort 8080/TCP (first at spec.containers[0].ports[0].hostPort)";
    expect(
        &l,
        "spec.containers[0].ports[1].hostPort",
        Severity::Error,
        11,
        message,
    );
}

#[test]
fn node_names_are_dns_subdomains() {
    let l = load(&pod("spec:\n  nodeName: Node_1\n"));
    expect(
        &l,
        "spec.nodeName",
        Severity::Error,
        7,
        "invalid node name \"Node_1\"",
    );
}
