//! CIDRs and IP addresses read exactly as the Kubernetes API server reads them.
//!
//! Reference: Kubernetes 1.32. `ValidateIPBlock`
//! (kubernetes/kubernetes `pkg/apis/networking/validation/validation.go`)
//! checks `ipBlock.cidr` and every `except` entry with
//! `apivalidation.IsValidCIDRForLegacyField`, which in 1.32 is
//! `k8s.io/apimachinery/pkg/util/validation.IsValidCIDR`: a value is valid
//! iff `k8s.io/utils/net.ParseCIDRSloppy` accepts it, and the network the
//! API server (and every Go implementation) then works with is the one
//! `ParseCIDRSloppy` returns. Pod IPs are checked the same way with
//! `ParseIPSloppy`. `ParseCIDRSloppy` is Go's `net.ParseCIDR`, retried once
//! after the `matchZeros` rewrite: when the value ends in a dotted quad
//! (at its start or after a `:`) optionally followed by `/prefix`, leading
//! zeros are stripped from each octet and from the prefix length, so
//! `010.0.0.0/8` is 10.0.0.0/8 (decimal, not octal). The strict form
//! (`netip.ParsePrefix`, no leading zeros) is only enforced from 1.33 on,
//! behind the `StrictIPCIDRValidation` feature gate; objects stored before
//! it are kept, so these forms must be read, not rejected.
//!
//! Go's reading, reproduced here:
//! - `net.ParseCIDR` splits at the first `/`; the prefix length is Go's
//!   `dtoi`: ASCII digits only (no sign), leading zeros allowed, at most the
//!   address's bit length;
//! - an IPv4-mapped IPv6 network (`::ffff:10.0.0.0/104`) is, for
//!   `IPNet.Contains` and `IPNet.String`, the IPv4 network with the last 32
//!   bits of the mask (10.0.0.0/8); it matches IPv4 addresses only.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

/// Go's `net.ParseCIDR` (Go 1.22+, on `netip.ParseAddr`), as an address and
/// a prefix length. Rust's address parser and `netip.ParseAddr` accept the
/// same texts (no leading zeros in IPv4 octets, no zones).
fn parse_cidr_go(s: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = s.split_once('/')?;
    let addr: IpAddr = addr.parse().ok()?;
    let bits = if addr.is_ipv4() { 32 } else { 128 };
    let len = dtoi(len).filter(|n| *n <= bits)?;
    Some((addr, len as u8))
}

/// Go's `dtoi`: decimal digits only, leading zeros allowed, saturating at
/// 0xFFFFFF (then rejected).
fn dtoi(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut n: u32 = 0;
    for b in s.bytes() {
        n = n * 10 + u32::from(b - b'0');
        if n >= 0xFF_FFFF {
            return None;
        }
    }
    Some(n)
}

/// `matchZeros.ReplaceAllString(s, stripZeros)` of `k8s.io/utils/net`:
/// `(^|:)0*(0|[1-9][0-9]*)\.` x4 `((/)0*(0|[1-9][0-9]*))?$`. `None` when
/// the pattern does not match (the text is left as it is, and fails again).
fn strip_zeros(s: &str) -> Option<String> {
    let (head, prefix) = match s.rsplit_once('/') {
        Some((head, prefix)) => (head, Some(prefix)),
        None => (s, None),
    };
    let (before, quad) = match head.rfind(':') {
        Some(i) => head.split_at(i + 1),
        None => ("", head),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let octets: Vec<&str> = quad.split('.').collect();
    if octets.len() != 4 || !octets.iter().all(|o| digits(o)) {
        return None;
    }
    let strip = |t: &str| match t.trim_start_matches('0') {
        "" => "0".to_string(),
        rest => rest.to_string(),
    };
    let mut out = before.to_string();
    out.push_str(
        &octets
            .iter()
            .map(|o| strip(o))
            .collect::<Vec<_>>()
            .join("."),
    );
    if let Some(p) = prefix {
        if !digits(p) {
            return None;
        }
        out.push('/');
        out.push_str(&strip(p));
    }
    Some(out)
}

/// An IPv4-mapped IPv6 network read as Go reads it: the IPv4 network with
/// the mask's last 32 bits.
fn unmap(addr: IpAddr, len: u8) -> (IpAddr, u8) {
    match addr {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => (IpAddr::V4(v4), len.saturating_sub(96)),
            None => (addr, len),
        },
        IpAddr::V4(_) => (addr, len),
    }
}

/// `ParseCIDRSloppy`, then the network Go works with; `None` when the API
/// server rejects the value.
pub(super) fn cidr_sloppy(s: &str) -> Option<IpNet> {
    let (addr, len) = parse_cidr_go(s).or_else(|| parse_cidr_go(&strip_zeros(s)?))?;
    let (addr, len) = unmap(addr, len);
    IpNet::new(addr, len).ok()
}

/// True when the value is in the standard form Kubernetes 1.33's strict
/// validation (`netip.ParsePrefix`) accepts: no leading zeros, not
/// IPv4-mapped. The API server warns about the other accepted forms.
pub fn is_standard_cidr(s: &str) -> bool {
    match s.split_once('/') {
        Some((addr, len)) => {
            let plain_len = len == "0" || !len.starts_with('0');
            let addr: Option<IpAddr> = addr.parse().ok();
            plain_len && parse_cidr_go(s).is_some() && addr.is_some_and(|a| unmap(a, 128).0 == a)
        }
        None => false,
    }
}

/// Parses an IP address as the API server validates pod IPs
/// (`ParseIPSloppy`: leading zeros in IPv4 octets are decimal); an
/// IPv4-mapped IPv6 address is the IPv4 address, as Go's `To4` reads it.
pub fn parse_ip_sloppy(s: &str) -> Option<IpAddr> {
    let addr: IpAddr = match s.parse() {
        Ok(a) => a,
        Err(_) if s.contains('/') => return None,
        Err(_) => strip_zeros(s)?.parse().ok()?,
    };
    Some(match addr {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or(addr, |v4: Ipv4Addr| IpAddr::V4(v4)),
        IpAddr::V4(_) => addr,
    })
}
