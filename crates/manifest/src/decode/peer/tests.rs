//! Peers and ipBlock.

use palisade_model::{IpBlock, Peer};

use super::super::testutil::{expect, load, only, policy};
use crate::{Object, Severity};

/// A policy whose only ingress rule has the given `from` list (at line 10).
fn from(peers: &str) -> String {
    policy(&format!(
        "  podSelector: {{}}\n  ingress:\n    - from:\n{peers}"
    ))
}

#[test]
fn a_peer_needs_a_selector_or_an_ip_block() {
    let l = load(&from("        - {}\n"));
    expect(
        &l,
        "spec.ingress[0].from[0]",
        Severity::Error,
        10,
        "must specify a peer",
    );
}

#[test]
fn ip_block_cannot_be_combined_with_a_selector() {
    let l = load(&from(
        "        - podSelector: {}\n          ipBlock: {cidr: 10.0.0.0/8}\n",
    ));
    expect(
        &l,
        "spec.ingress[0].from[0].ipBlock",
        Severity::Error,
        11,
        "may not be combined",
    );
}

#[test]
fn cidr_is_required() {
    let l = load(&from("        - ipBlock: {except: [10.0.0.0/24]}\n"));
    expect(
        &l,
        "spec.ingress[0].from[0].ipBlock.cidr",
        Severity::Error,
        10,
        "missing required field \"cidr\"",
    );
}

#[test]
fn an_invalid_cidr_is_an_error() {
    let l = load(&from("        - ipBlock: {cidr: 10.0.0.0/33}\n"));
    expect(
        &l,
        "spec.ingress[0].from[0].ipBlock.cidr",
        Severity::Error,
        10,
        "invalid CIDR \"10.0.0.0/33\"",
    );
}

#[test]
fn except_entries_must_be_valid_cidrs() {
    let l = load(&from(
        "        - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0]}\n",
    ));
    expect(
        &l,
        "spec.ingress[0].from[0].ipBlock.except[0]",
        Severity::Error,
        10,
        "invalid CIDR \"10.1.0.0\"",
    );
}

#[test]
fn except_entries_must_be_strict_subsets() {
    let l = load(&from("        - ipBlock:\n            cidr: 10.0.0.0/8\n            except: [10.1.0.0/16, 11.0.0.0/16]\n"));
    let field = "spec.ingress[0].from[0].ipBlock.except[1]";
    expect(
        &l,
        field,
        Severity::Error,
        12,
        "except entry 11.0.0.0/16 is not a strict subset of cidr 10.0.0.0/8",
    );
}

#[test]
fn host_bits_are_a_warning_naming_the_network() {
    let l = load(&from("        - ipBlock: {cidr: 10.0.0.1/8}\n"));
    let field = "spec.ingress[0].from[0].ipBlock.cidr";
    expect(
        &l,
        field,
        Severity::Warning,
        10,
        "\"10.0.0.1/8\" has host bits set; it is read as 10.0.0.0/8",
    );
    let Object::NetworkPolicy(np) = only(&l) else {
        panic!("not a policy")
    };
    let block = IpBlock::parse("10.0.0.0/8", &[]).expect("valid");
    assert_eq!(np.ingress[0].peers, vec![Peer::IpBlock(block)]);
}

#[test]
fn a_misspelt_ip_block_is_a_warning_and_no_peer() {
    let l = load(&from("        - ipblock: {cidr: 10.0.0.0/8}\n"));
    expect(
        &l,
        "spec.ingress[0].from[0].ipblock",
        Severity::Warning,
        10,
        "(did you mean \"ipBlock\"?)",
    );
    expect(
        &l,
        "spec.ingress[0].from[0]",
        Severity::Error,
        10,
        "must specify a peer",
    );
}

#[test]
fn all_errors_of_a_policy_are_reported() {
    let l = load(&from(
        "        - ipBlock: {cidr: x}\n        - ipBlock: {cidr: 10.0.0.0/8, except: [z]}\n",
    ));
    let fields: Vec<&str> = l
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.field.as_str())
        .collect();
    let expected = [
        "spec.ingress[0].from[0].ipBlock.cidr",
        "spec.ingress[0].from[1].ipBlock.except[0]",
    ];
    assert_eq!(fields, expected);
}

/// Kubernetes 1.32 accepts these (`ParseCIDRSloppy`); they are read as Go
/// reads them (leading zeros decimal) with a warning, and the policy is
/// enforced.
#[test]
fn non_standard_cidrs_the_api_server_accepts_are_read_with_a_warning() {
    for (text, read) in [
        ("010.0.0.0/8", "10.0.0.0/8"),
        ("10.0.0.0/08", "10.0.0.0/8"),
        ("192.168.001.000/24", "192.168.1.0/24"),
        ("'::ffff:10.0.0.0/104'", "10.0.0.0/8"),
    ] {
        let l = load(&from(&format!("        - ipBlock: {{cidr: {text}}}\n")));
        let field = "spec.ingress[0].from[0].ipBlock.cidr";
        expect(
            &l,
            field,
            Severity::Warning,
            10,
            &format!("is read as {read}"),
        );
        let Object::NetworkPolicy(np) = only(&l) else {
            panic!("not a policy");
        };
        assert_eq!(np.unenforceable, None);
        let want = Peer::IpBlock(IpBlock::parse(read, &[]).unwrap());
        assert_eq!(np.ingress[0].peers, vec![want], "{text}");
    }
    let l = load(&from(
        "        - ipBlock: {cidr: 010.0.0.0/8, except: [010.001.0.0/16]}\n",
    ));
    let Object::NetworkPolicy(np) = only(&l) else {
        panic!("not a policy");
    };
    let want = IpBlock::parse("10.0.0.0/8", &["10.1.0.0/16"]).unwrap();
    assert_eq!(np.ingress[0].peers, vec![Peer::IpBlock(want)]);
}
