//! `ipBlock`: a CIDR minus its `except` CIDRs.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

mod parse;

pub use parse::{is_standard_cidr, parse_ip_sloppy};

/// Why an ipBlock was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpBlockError {
    #[error(
        "invalid CIDR {0:?}: expected an address and a prefix length, e.g. 10.0.0.0/16 or fd00::/8"
    )]
    InvalidCidr(String),
    #[error("except entry {except} is not a strict subset of cidr {cidr}")]
    ExceptOutsideCidr { cidr: IpNet, except: IpNet },
}

/// A validated `ipBlock`. The CIDRs are stored with host bits cleared.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct IpBlock {
    pub cidr: IpNet,
    pub except: Vec<IpNet>,
}

/// Parses a CIDR the way the API server does (Kubernetes 1.32: valid iff
/// `k8s.io/utils/net.ParseCIDRSloppy` accepts it; see `parse.rs` for the
/// exact reading, with the code it follows). Leading zeros in IPv4 octets
/// and in the prefix length are accepted and read as decimal (`010.0.0.0/8`
/// is 10.0.0.0/8); use [`is_standard_cidr`] to warn about them. Host bits
/// set after the prefix are accepted (the API server only warns); use
/// [`has_host_bits`] to warn.
pub fn parse_cidr(s: &str) -> Result<IpNet, IpBlockError> {
    parse::cidr_sloppy(s).ok_or_else(|| IpBlockError::InvalidCidr(s.into()))
}

/// True when `net` has bits set after its prefix (e.g. `10.0.0.1/8`).
pub fn has_host_bits(net: &IpNet) -> bool {
    net.trunc() != *net
}

impl IpBlock {
    pub fn new(cidr: IpNet, except: Vec<IpNet>) -> Result<Self, IpBlockError> {
        let cidr = cidr.trunc();
        let mut except: Vec<IpNet> = except.into_iter().map(|e| e.trunc()).collect();
        for e in &except {
            let strict = e.prefix_len() > cidr.prefix_len() && cidr.contains(e);
            if !strict {
                return Err(IpBlockError::ExceptOutsideCidr { cidr, except: *e });
            }
        }
        except.sort();
        except.dedup();
        Ok(Self { cidr, except })
    }

    /// Parses `cidr` and `except` strings; errors name the bad entry.
    pub fn parse(cidr: &str, except: &[&str]) -> Result<Self, IpBlockError> {
        let cidr = parse_cidr(cidr)?;
        let except = except
            .iter()
            .map(|e| parse_cidr(e))
            .collect::<Result<_, _>>()?;
        Self::new(cidr, except)
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        self.cidr.contains(&addr) && !self.except.iter().any(|e| e.contains(&addr))
    }

    /// The block as sorted, disjoint, inclusive address ranges: `cidr` with
    /// every `except` carved out. This is what interval sets are built from.
    pub fn ranges(&self) -> Vec<(IpAddr, IpAddr)> {
        let v4 = matches!(self.cidr, IpNet::V4(_));
        let (lo, hi) = bounds(&self.cidr);
        let mut holes: Vec<(u128, u128)> = self.except.iter().map(bounds).collect();
        holes.sort();
        let mut out = Vec::new();
        // `next` is the first address not yet emitted nor carved out.
        let mut next = Some(lo);
        for (hlo, hhi) in holes {
            let Some(start) = next else { break };
            if start < hlo {
                out.push((start, hlo - 1));
            }
            if hhi >= start {
                next = hhi.checked_add(1).filter(|n| *n <= hi);
            }
        }
        if let Some(start) = next {
            out.push((start, hi));
        }
        out.into_iter()
            .map(|(a, b)| (to_addr(a, v4), to_addr(b, v4)))
            .collect()
    }
}

fn bounds(net: &IpNet) -> (u128, u128) {
    match net {
        IpNet::V4(n) => (
            u32::from(n.network()).into(),
            u32::from(n.broadcast()).into(),
        ),
        IpNet::V6(n) => (n.network().into(), n.broadcast().into()),
    }
}

fn to_addr(v: u128, v4: bool) -> IpAddr {
    if v4 {
        IpAddr::V4((v as u32).into())
    } else {
        IpAddr::V6(v.into())
    }
}

impl fmt::Display for IpBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.cidr)?;
        if !self.except.is_empty() {
            let ex: Vec<String> = self.except.iter().map(ToString::to_string).collect();
            write!(f, " except {}", ex.join(", "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
