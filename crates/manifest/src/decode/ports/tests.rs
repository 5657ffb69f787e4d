//! The `ports` entries of policy rules.

use palisade_model::{PolicyPort, PortSpec, Protocol};

use super::super::testutil::{clean, expect, load, only, policy};
use crate::{Object, Severity};

const PORT: &str = "spec.ingress[0].ports[0]";

/// A policy whose only ingress rule has one ports entry (at line 10).
fn port(entry: &str) -> String {
    policy(&format!(
        "  podSelector: {{}}\n  ingress:\n    - ports:\n        - {entry}\n"
    ))
}

fn decoded(entry: &str) -> PolicyPort {
    let l = load(&port(entry));
    clean(&l);
    let Object::NetworkPolicy(np) = only(&l) else {
        panic!("not a policy")
    };
    np.ingress[0].ports[0].clone()
}

#[test]
fn ranges_names_and_default_protocol() {
    assert_eq!(
        decoded("{port: 80, endPort: 90}").port,
        PortSpec::Range { start: 80, end: 90 }
    );
    assert_eq!(decoded("{port: http}").port, PortSpec::Named("http".into()));
    assert_eq!(
        decoded("{protocol: SCTP}"),
        PolicyPort {
            protocol: Protocol::Sctp,
            port: PortSpec::Any
        }
    );
    assert_eq!(decoded("{port: 80}").protocol, Protocol::Tcp);
}

#[test]
fn protocols_are_exact() {
    let l = load(&port("{protocol: tcp, port: 80}"));
    expect(
        &l,
        &format!("{PORT}.protocol"),
        Severity::Error,
        10,
        "unsupported protocol \"tcp\" (expected TCP, UDP or SCTP)",
    );
}

#[test]
fn port_numbers_are_in_range() {
    let l = load(&port("{port: 65536}"));
    expect(
        &l,
        &format!("{PORT}.port"),
        Severity::Error,
        10,
        "port number 65536 out of range 1-65535",
    );
}

#[test]
fn a_quoted_number_is_an_invalid_port_name() {
    let l = load(&port("{port: \"80\"}"));
    let message = "invalid port name \"80\": must contain at least one letter; for a port number write 80 without quotes";
    expect(&l, &format!("{PORT}.port"), Severity::Error, 10, message);
}

#[test]
fn port_names_are_iana_service_names() {
    let l = load(&port("{port: Web_Port}"));
    expect(
        &l,
        &format!("{PORT}.port"),
        Severity::Error,
        10,
        "invalid port name \"Web_Port\"",
    );
}

#[test]
fn a_port_is_a_number_or_a_name() {
    let l = load(&port("{port: [80]}"));
    expect(
        &l,
        &format!("{PORT}.port"),
        Severity::Error,
        10,
        "expected a port number or name, found list",
    );
}

#[test]
fn end_port_requires_port() {
    let l = load(&port("{endPort: 90}"));
    expect(
        &l,
        &format!("{PORT}.endPort"),
        Severity::Error,
        10,
        "endPort requires port to be set",
    );
}

#[test]
fn end_port_must_not_be_below_port() {
    let l = load(&port("{port: 90, endPort: 80}"));
    expect(
        &l,
        &format!("{PORT}.endPort"),
        Severity::Error,
        10,
        "endPort 80 must be greater than or equal to port 90",
    );
}

#[test]
fn end_port_cannot_follow_a_named_port() {
    let l = load(&port("{port: http, endPort: 90}"));
    expect(
        &l,
        &format!("{PORT}.endPort"),
        Severity::Error,
        10,
        "endPort must not be set when port is a named port",
    );
}

#[test]
fn end_port_must_be_an_integer_in_range() {
    let l = load(&port("{port: 80, endPort: '90'}"));
    expect(
        &l,
        &format!("{PORT}.endPort"),
        Severity::Error,
        10,
        "expected an integer, found string \"90\"",
    );
    let l = load(&port("{port: 80, endPort: 70000}"));
    expect(
        &l,
        &format!("{PORT}.endPort"),
        Severity::Error,
        10,
        "port number 70000 out of range",
    );
}
