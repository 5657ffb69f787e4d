//! Set elements in one canonical form, shared by what we render and what we
//! read back, so the two compare with `==`.
//!
//! An [`Element`] holds one inclusive range per field of the set's key
//! (addresses as integers, protocols as their numbers, ports). Interval sets
//! are [`normalize`]d: overlapping and adjacent ranges are merged, the same
//! way on both sides, whatever nft chose to print (`a-b`, a prefix, a single
//! address).

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use palisade_compile::Family;
use palisade_model::Protocol;

/// One set element: an inclusive range per key field (`lo == hi` for a
/// single value).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Element(pub Vec<(u128, u128)>);

impl Element {
    /// An element whose fields are all single values.
    pub fn single(values: &[u128]) -> Self {
        Self(values.iter().map(|&v| (v, v)).collect())
    }
}

/// The datatype of one key field, as nft names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Datatype {
    Ipv4Addr,
    Ipv6Addr,
    InetProto,
    InetService,
}

/// Protocol names nft may print for `inet_proto` values.
const PROTOCOLS: [(&str, u128); 7] = [
    ("icmp", 1),
    ("tcp", 6),
    ("udp", 17),
    ("dccp", 33),
    ("icmpv6", 58),
    ("sctp", 132),
    ("udplite", 136),
];

impl Datatype {
    /// nft's name for the datatype.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ipv4Addr => "ipv4_addr",
            Self::Ipv6Addr => "ipv6_addr",
            Self::InetProto => "inet_proto",
            Self::InetService => "inet_service",
        }
    }

    /// The address datatype of a family.
    pub fn addr(family: Family) -> Self {
        match family {
            Family::V4 => Self::Ipv4Addr,
            Family::V6 => Self::Ipv6Addr,
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [
            Self::Ipv4Addr,
            Self::Ipv6Addr,
            Self::InetProto,
            Self::InetService,
        ]
        .into_iter()
        .find(|d| d.name() == name)
    }

    /// Renders one value of this datatype as nft reads it.
    pub fn render(self, value: u128) -> String {
        match self {
            Self::Ipv4Addr => Ipv4Addr::from(value as u32).to_string(),
            Self::Ipv6Addr => Ipv6Addr::from(value).to_string(),
            Self::InetProto => match PROTOCOLS.iter().find(|(_, n)| *n == value) {
                Some((name, _)) => (*name).to_string(),
                None => value.to_string(),
            },
            Self::InetService => value.to_string(),
        }
    }

    /// Parses one value as nft prints it (an address, a protocol name, a
    /// number).
    pub fn parse(self, text: &str) -> Option<u128> {
        match self {
            Self::Ipv4Addr => text
                .parse::<Ipv4Addr>()
                .ok()
                .map(|a| u128::from(u32::from(a))),
            Self::Ipv6Addr => text.parse::<Ipv6Addr>().ok().map(u128::from),
            Self::InetProto => PROTOCOLS
                .iter()
                .find(|(name, _)| *name == text)
                .map(|(_, n)| *n)
                .or_else(|| text.parse::<u8>().ok().map(u128::from)),
            Self::InetService => text.parse::<u16>().ok().map(u128::from),
        }
    }

    /// Width of the datatype in bits (for prefixes).
    pub fn bits(self) -> u32 {
        match self {
            Self::Ipv4Addr => 32,
            Self::Ipv6Addr => 128,
            Self::InetProto => 8,
            Self::InetService => 16,
        }
    }
}

/// The datatypes of a key type written `a . b . c`, or `None` if one is
/// not a datatype palisade uses.
pub fn datatypes(key_type: &str) -> Option<Vec<Datatype>> {
    key_type.split(" . ").map(Datatype::from_name).collect()
}

/// `key_type` as nft writes it, from its datatypes.
pub fn key_type(fields: &[Datatype]) -> String {
    fields
        .iter()
        .map(|d| d.name())
        .collect::<Vec<_>>()
        .join(" . ")
}

/// Renders `element` for a set of the given field datatypes:
/// `10.0.0.1`, `10.0.0.0-10.0.0.255`, `tcp . 80-90`.
pub fn render(element: &Element, fields: &[Datatype]) -> String {
    let parts: Vec<String> = element
        .0
        .iter()
        .zip(fields)
        .map(|(&(lo, hi), d)| match lo == hi {
            true => d.render(lo),
            false => format!("{}-{}", d.render(lo), d.render(hi)),
        })
        .collect();
    parts.join(" . ")
}

/// An address as an integer.
pub fn addr_value(ip: &IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(u32::from(*a)),
        IpAddr::V6(a) => u128::from(*a),
    }
}

/// A protocol's number.
pub fn proto_value(proto: Protocol) -> u128 {
    match proto {
        Protocol::Tcp => 6,
        Protocol::Udp => 17,
        Protocol::Sctp => 132,
    }
}

/// The canonical element set: for interval sets, ranges that share every
/// field but the last and touch or overlap in the last are merged.
pub fn normalize(elements: impl IntoIterator<Item = Element>, interval: bool) -> BTreeSet<Element> {
    let sorted: BTreeSet<Element> = elements.into_iter().collect();
    if !interval {
        return sorted;
    }
    let mut merged: Vec<Element> = Vec::with_capacity(sorted.len());
    for element in sorted {
        match merged.last_mut() {
            Some(prev) if touches(prev, &element) => extend_last(prev, &element),
            _ => merged.push(element),
        }
    }
    merged.into_iter().collect()
}

fn touches(prev: &Element, next: &Element) -> bool {
    let n = prev.0.len();
    match (prev.0.split_last(), next.0.split_last()) {
        (Some((p, p_head)), Some((q, q_head))) if n == next.0.len() => {
            p_head == q_head && q.0 <= p.1.saturating_add(1)
        }
        _ => false,
    }
}

fn extend_last(prev: &mut Element, next: &Element) {
    if let (Some(p), Some(q)) = (prev.0.last_mut(), next.0.last()) {
        p.1 = p.1.max(q.1);
    }
}

#[cfg(test)]
mod tests;
