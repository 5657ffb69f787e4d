//! Rules: peers (selectors and ipBlocks) and ports.

use std::net::IpAddr;

use palisade_model::{Direction, IpBlock, Peer, PolicyPort, PortValue, Protocol, Rule};

use crate::objects::pod_ip;
use crate::rng::Rng;
use crate::selectors::{namespace_selector, pod_selector};
use crate::vocab::{self, TCP_PORTS, TCP_RANGES};

/// What policies may refer to.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub namespaces: &'a [String],
    pub pods: usize,
    /// Keep ipBlocks in 172.16.0.0/12 and 192.168.0.0/16.
    pub outside: bool,
}

/// One rule: every peer in one case out of six, else one to three distinct
/// peers; every port in one case out of four, else one to three distinct ports.
pub(crate) fn rule(rng: &mut Rng, ctx: &Ctx<'_>, d: Direction) -> Rule {
    let peers = if rng.chance(1, 6) {
        Vec::new()
    } else {
        distinct((0..rng.between(1, 3)).map(|_| peer(rng, ctx, d)))
    };
    let ports = if rng.chance(1, 4) {
        Vec::new()
    } else {
        distinct((0..rng.between(1, 3)).map(|_| port(rng)))
    };
    Rule { peers, ports }
}

/// The items in order, repeats left out.
fn distinct<T: PartialEq>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut out = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// Pod, namespace and combined selectors; ipBlocks more often on egress.
fn peer(rng: &mut Rng, ctx: &Ctx<'_>, d: Direction) -> Peer {
    let ipblock_weight = match d {
        Direction::Ingress => 1,
        Direction::Egress => 3,
    };
    match rng.below(7 + ipblock_weight) {
        0..=2 => Peer::Pods {
            namespaces: None,
            pods: pod_selector(rng),
        },
        3 | 4 => Peer::Pods {
            namespaces: Some(namespace_selector(rng, ctx.namespaces)),
            pods: palisade_model::LabelSelector::everything(),
        },
        5 | 6 => Peer::Pods {
            namespaces: Some(namespace_selector(rng, ctx.namespaces)),
            pods: pod_selector(rng),
        },
        _ => Peer::IpBlock(ip_block(rng, ctx)),
    }
}

/// An ipBlock, with `except` on most.
fn ip_block(rng: &mut Rng, ctx: &Ctx<'_>) -> IpBlock {
    let choices = if ctx.outside { 4 } else { 8 };
    let (a, b) = (rng.below(16), rng.below(256));
    let c = rng.below(256);
    match rng.below(choices) {
        0 => block("172.16.0.0/12", &[&format!("172.{}.0.0/16", 16 + a)]),
        1 => block(
            &format!("172.{}.0.0/16", 16 + a),
            &[&format!("172.{}.{b}.0/24", 16 + a)],
        ),
        2 => block(&format!("192.168.{b}.0/24"), &[]),
        3 => block(
            "192.168.0.0/16",
            &[&format!("192.168.{b}.0/24"), &format!("192.168.{c}.128/25")],
        ),
        4 => block("0.0.0.0/0", &["10.0.0.0/8", "172.16.0.0/12"]),
        5 => around_pod(rng, ctx.pods),
        6 => block("10.0.0.0/8", &[]),
        _ => block("fd00::/8", &[&format!("fd00:{b:x}::/32")]),
    }
}

/// The /24 around a pod's address, minus the /28 that holds it.
fn around_pod(rng: &mut Rng, pods: usize) -> IpBlock {
    if pods == 0 {
        return block("10.0.0.0/24", &["10.0.0.0/28"]);
    }
    let IpAddr::V4(ip) = pod_ip(rng.below(pods)) else {
        unreachable!("pod addresses are IPv4")
    };
    let [_, x, y, z] = ip.octets();
    let hole = z & 0xf0;
    block(
        &format!("10.{x}.{y}.0/24"),
        &[&format!("10.{x}.{y}.{hole}/28")],
    )
}

fn block(cidr: &str, except: &[&str]) -> IpBlock {
    IpBlock::parse(cidr, except).expect("generated ipBlocks are valid")
}

/// Numeric, ranged (`endPort`), named, protocol-only; TCP, UDP and SCTP.
fn port(rng: &mut Rng) -> PolicyPort {
    use PortValue::{Name, Number};
    let (protocol, value, end) = match rng.below(11) {
        0..=2 => (
            Protocol::Tcp,
            Some(Number(rng.pick(&TCP_PORTS).into())),
            None,
        ),
        3 => {
            let (lo, hi) = rng.pick(&TCP_RANGES);
            (Protocol::Tcp, Some(Number(lo.into())), Some(hi.into()))
        }
        4 | 5 => (Protocol::Tcp, Some(Name(vocab::HTTP.into())), None),
        6 => (Protocol::Tcp, Some(Name(vocab::METRICS.into())), None),
        7 => (Protocol::Udp, Some(Number(53)), None),
        8 => (Protocol::Udp, Some(Name(vocab::DNS.into())), None),
        9 => (Protocol::Sctp, sctp_port(rng), None),
        _ => (Protocol::Tcp, None, None),
    };
    PolicyPort::new(Some(protocol), value, end).expect("generated ports are valid")
}

fn sctp_port(rng: &mut Rng) -> Option<PortValue> {
    match rng.below(3) {
        0 => Some(PortValue::Number(3868)),
        1 => Some(PortValue::Name(vocab::DIAMETER.into())),
        _ => None,
    }
}
