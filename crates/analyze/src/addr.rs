//! Addresses as integers: families, minimal CIDR covers of ranges, and the
//! set of addresses taken by endpoints.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// An address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Family {
    V4,
    V6,
}

impl Family {
    pub(crate) const BOTH: [Family; 2] = [Family::V4, Family::V6];

    pub(crate) fn of(ip: IpAddr) -> Self {
        if ip.is_ipv4() {
            Family::V4
        } else {
            Family::V6
        }
    }

    /// The last address of the family, as an integer.
    pub(crate) fn max(self) -> u128 {
        match self {
            Family::V4 => u32::MAX.into(),
            Family::V6 => u128::MAX,
        }
    }

    fn bits(self) -> u32 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }
}

/// An address as (family, integer).
pub(crate) fn value(ip: IpAddr) -> (Family, u128) {
    match ip {
        IpAddr::V4(a) => (Family::V4, u32::from(a).into()),
        IpAddr::V6(a) => (Family::V6, a.into()),
    }
}

/// The inclusive integer bounds of a network.
pub(crate) fn bounds(net: &IpNet) -> (Family, u128, u128) {
    let (f, lo) = value(net.network());
    let (_, hi) = value(net.broadcast());
    (f, lo, hi)
}

fn net(f: Family, start: u128, prefix: u8) -> IpNet {
    match f {
        Family::V4 => {
            let a = Ipv4Addr::from(u32::try_from(start).expect("an IPv4 value"));
            Ipv4Net::new(a, prefix).expect("prefix <= 32").into()
        }
        Family::V6 => Ipv6Net::new(Ipv6Addr::from(start), prefix)
            .expect("prefix <= 128")
            .into(),
    }
}

/// The fewest CIDRs that exactly cover `lo..=hi`, in address order.
pub(crate) fn cover(f: Family, lo: u128, hi: u128, out: &mut Vec<IpNet>) {
    let bits = f.bits();
    let mut lo = lo;
    loop {
        let align = if lo == 0 { bits } else { lo.trailing_zeros() };
        let span = hi - lo;
        let fit = match span.checked_add(1) {
            None => 128,
            Some(n) => 127 - n.leading_zeros(),
        };
        let k = align.min(fit).min(bits);
        out.push(net(f, lo, (bits - k) as u8));
        if k == 128 {
            return;
        }
        let end = lo + ((1u128 << k) - 1);
        if end >= hi {
            return;
        }
        lo = end + 1;
    }
}

/// Every endpoint address, as sorted disjoint inclusive ranges per family.
#[derive(Debug, Clone, Default)]
pub(crate) struct Taken {
    v4: Vec<(u128, u128)>,
    v6: Vec<(u128, u128)>,
}

impl Taken {
    pub(crate) fn new(ips: impl Iterator<Item = IpAddr>) -> Self {
        let mut t = Taken::default();
        for ip in ips {
            let (f, v) = value(ip);
            t.family_mut(f).push((v, v));
        }
        for f in Family::BOTH {
            merge(t.family_mut(f));
        }
        t
    }

    fn family_mut(&mut self, f: Family) -> &mut Vec<(u128, u128)> {
        match f {
            Family::V4 => &mut self.v4,
            Family::V6 => &mut self.v6,
        }
    }

    fn family(&self, f: Family) -> &[(u128, u128)] {
        match f {
            Family::V4 => &self.v4,
            Family::V6 => &self.v6,
        }
    }

    /// Calls `free` with each maximal piece of `lo..=hi` that holds no
    /// endpoint address, in order.
    pub(crate) fn free(&self, f: Family, lo: u128, hi: u128, mut free: impl FnMut(u128, u128)) {
        let taken = self.family(f);
        let first = taken.partition_point(|&(_, end)| end < lo);
        let mut next = Some(lo);
        for &(start, end) in taken[first..].iter().take_while(|(s, _)| *s <= hi) {
            let Some(cur) = next else { return };
            if cur < start {
                free(cur, start - 1);
            }
            next = end.checked_add(1).filter(|n| *n <= hi);
        }
        if let Some(cur) = next {
            free(cur, hi);
        }
    }
}

fn merge(ranges: &mut Vec<(u128, u128)>) {
    ranges.sort_unstable();
    let mut out: Vec<(u128, u128)> = Vec::with_capacity(ranges.len());
    for &(lo, hi) in ranges.iter() {
        match out.last_mut() {
            Some(last) if last.1.checked_add(1).is_none_or(|n| n >= lo) => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    *ranges = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidrs(f: Family, lo: u128, hi: u128) -> Vec<String> {
        let mut out = Vec::new();
        cover(f, lo, hi, &mut out);
        out.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn covers_are_minimal_and_exact() {
        assert_eq!(cidrs(Family::V4, 0, u32::MAX.into()), ["0.0.0.0/0"]);
        assert_eq!(cidrs(Family::V6, 0, u128::MAX), ["::/0"]);
        assert_eq!(
            cidrs(Family::V4, 1, 6),
            ["0.0.0.1/32", "0.0.0.2/31", "0.0.0.4/31", "0.0.0.6/32"]
        );
        let last = u128::from(u32::MAX);
        assert_eq!(cidrs(Family::V4, last, last), ["255.255.255.255/32"]);
        assert_eq!(
            cidrs(Family::V6, u128::MAX - 1, u128::MAX),
            ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127"]
        );
    }

    #[test]
    fn free_pieces_skip_taken_addresses() {
        let ips = ["10.0.0.1", "10.0.0.2", "10.0.0.9"].map(|s| s.parse().unwrap());
        let t = Taken::new(ips.into_iter());
        let (_, lo) = value("10.0.0.0".parse().unwrap());
        let mut pieces = Vec::new();
        t.free(Family::V4, lo, lo + 15, |a, b| {
            pieces.push((a - lo, b - lo))
        });
        assert_eq!(pieces, [(0, 0), (3, 8), (10, 15)]);
    }
}
