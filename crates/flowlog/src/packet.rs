//! The IP and transport headers of a logged packet: the 5-tuple.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IANA protocol numbers we name.
pub const TCP: u8 = 6;
pub const UDP: u8 = 17;
pub const SCTP: u8 = 132;
pub const ICMP: u8 = 1;
pub const ICMPV6: u8 = 58;

/// What a denied packet says about its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FiveTuple {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IANA protocol number (ICMPv6 is 58).
    pub protocol: u8,
    /// Ports for TCP, UDP and SCTP; `None` otherwise (ICMP) or when the
    /// copied bytes end before them.
    pub src_port: Option<u16>,
    pub dst_port: Option<u16>,
}

/// Why a payload could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("packet too short for its {0} header")]
    Short(&'static str),
    #[error("not an IPv4 or IPv6 packet (version {0})")]
    Version(u8),
}

/// Decodes an IPv4 or IPv6 packet (starting at the network header).
pub fn decode(payload: &[u8]) -> Result<FiveTuple, DecodeError> {
    let first = *payload.first().ok_or(DecodeError::Short("IP"))?;
    let (src, dst, protocol, l4) = match first >> 4 {
        4 => ipv4(payload)?,
        6 => ipv6(payload)?,
        v => return Err(DecodeError::Version(v)),
    };
    let ports = matches!(protocol, TCP | UDP | SCTP)
        .then(|| l4.get(0..4))
        .flatten()
        .map(|b| {
            (
                u16::from_be_bytes([b[0], b[1]]),
                u16::from_be_bytes([b[2], b[3]]),
            )
        });
    Ok(FiveTuple {
        src,
        dst,
        protocol,
        src_port: ports.map(|p| p.0),
        dst_port: ports.map(|p| p.1),
    })
}

type Decoded<'a> = (IpAddr, IpAddr, u8, &'a [u8]);

fn ipv4(p: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    let ihl = usize::from(p[0] & 0x0f) * 4;
    if p.len() < 20 || ihl < 20 {
        return Err(DecodeError::Short("IPv4"));
    }
    let addr = |at: usize| IpAddr::V4(Ipv4Addr::new(p[at], p[at + 1], p[at + 2], p[at + 3]));
    Ok((addr(12), addr(16), p[9], p.get(ihl..).unwrap_or_default()))
}

fn ipv6(p: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    if p.len() < 40 {
        return Err(DecodeError::Short("IPv6"));
    }
    let addr = |at: usize| {
        let b: [u8; 16] = p[at..at + 16].try_into().expect("16 bytes");
        IpAddr::V6(Ipv6Addr::from(b))
    };
    let (mut next, mut at) = (p[6], 40);
    // Hop-by-hop, routing, destination options: skip to the transport header.
    while matches!(next, 0 | 43 | 60) {
        let h = p
            .get(at..at + 2)
            .ok_or(DecodeError::Short("IPv6 extension"))?;
        next = h[0];
        at += (usize::from(h[1]) + 1) * 8;
    }
    Ok((addr(8), addr(24), next, p.get(at..).unwrap_or_default()))
}

/// The protocol's name in records: `TCP`, `UDP`, `SCTP`, `ICMP` (v4 and
/// v6), else the IANA number.
pub fn protocol_name(protocol: u8) -> String {
    match protocol {
        TCP => "TCP".into(),
        UDP => "UDP".into(),
        SCTP => "SCTP".into(),
        ICMP | ICMPV6 => "ICMP".into(),
        n => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TCP SYN 10.0.0.5:41234 -> 10.0.0.6:80 (IPv4 header + 4 TCP bytes).
    pub(crate) const SYN4: [u8; 24] = [
        0x45, 0, 0, 60, 0, 0, 0x40, 0, 64, TCP, 0, 0, 10, 0, 0, 5, 10, 0, 0, 6, 0xa1, 0x12, 0, 80,
    ];

    #[test]
    fn decodes_ipv4_tcp() {
        let t = decode(&SYN4).unwrap();
        assert_eq!(t.src, "10.0.0.5".parse::<IpAddr>().unwrap());
        assert_eq!(t.dst, "10.0.0.6".parse::<IpAddr>().unwrap());
        assert_eq!(
            (t.protocol, t.src_port, t.dst_port),
            (TCP, Some(41234), Some(80))
        );
    }

    #[test]
    fn decodes_ipv6_udp_after_a_hop_by_hop_header() {
        let mut p = vec![0x60, 0, 0, 0, 0, 16, 0, 64];
        p.extend_from_slice(&"fd00::1".parse::<Ipv6Addr>().unwrap().octets());
        p.extend_from_slice(&"fd00::2".parse::<Ipv6Addr>().unwrap().octets());
        p.extend_from_slice(&[UDP, 0, 0, 0, 0, 0, 0, 0]); // hop-by-hop, 8 bytes
        p.extend_from_slice(&[0x30, 0x39, 0, 53]);
        let t = decode(&p).unwrap();
        assert_eq!(
            (t.protocol, t.src_port, t.dst_port),
            (UDP, Some(12345), Some(53))
        );
        assert_eq!(t.dst, "fd00::2".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn icmp_has_no_ports_and_garbage_is_an_error() {
        let mut p = SYN4;
        p[9] = ICMP;
        let t = decode(&p).unwrap();
        assert_eq!((t.src_port, t.dst_port), (None, None));
        assert_eq!(protocol_name(ICMPV6), "ICMP");
        assert_eq!(decode(&[0x45, 0]), Err(DecodeError::Short("IPv4")));
        assert_eq!(decode(&[0x20]), Err(DecodeError::Version(2)));
        assert_eq!(decode(&[]), Err(DecodeError::Short("IP")));
    }
}
