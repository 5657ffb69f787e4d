//! Port sets as sorted, disjoint, merged ranges per protocol.

use palisade_model::Protocol;

use crate::Allow;

const ALL: (u16, u16) = (1, 65535);

/// Ports per protocol (TCP, UDP, SCTP), as inclusive ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PortSet([Vec<(u16, u16)>; 3]);

fn index(p: Protocol) -> usize {
    Protocol::ALL
        .iter()
        .position(|q| *q == p)
        .expect("a known protocol")
}

impl PortSet {
    /// An `Allow` with no ports means every port of its protocol.
    pub(crate) fn from_allows(allows: &[Allow]) -> Self {
        let mut set = PortSet::default();
        for a in allows {
            let ranges: Vec<(u16, u16)> = match a.ports.is_empty() {
                true => vec![ALL],
                false => a.ports.iter().map(|[lo, hi]| (*lo, *hi)).collect(),
            };
            let i = index(a.protocol);
            set.0[i] = union(&set.0[i], &normalise(ranges));
        }
        set
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.iter().all(Vec::is_empty)
    }

    pub(crate) fn union(&self, other: &Self) -> Self {
        PortSet(std::array::from_fn(|i| union(&self.0[i], &other.0[i])))
    }

    /// Ports in `self` and not in `other`.
    pub(crate) fn minus(&self, other: &Self) -> Self {
        PortSet(std::array::from_fn(|i| minus(&self.0[i], &other.0[i])))
    }

    /// Back to output form: every port of a protocol is an empty list.
    pub(crate) fn to_allows(&self) -> Vec<Allow> {
        let each = Protocol::ALL.into_iter().zip(&self.0);
        each.filter(|(_, r)| !r.is_empty())
            .map(|(protocol, r)| Allow {
                protocol,
                ports: match r[..] {
                    [ALL] => Vec::new(),
                    _ => r.iter().map(|&(lo, hi)| [lo, hi]).collect(),
                },
            })
            .collect()
    }
}

/// Sorted, merged (touching ranges join), empty ranges dropped.
fn normalise(mut ranges: Vec<(u16, u16)>) -> Vec<(u16, u16)> {
    ranges.retain(|(lo, hi)| lo <= hi);
    ranges.sort_unstable();
    let mut out: Vec<(u16, u16)> = Vec::with_capacity(ranges.len());
    for (lo, hi) in ranges {
        match out.last_mut() {
            Some(last) if u32::from(last.1) + 1 >= u32::from(lo) => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

fn union(a: &[(u16, u16)], b: &[(u16, u16)]) -> Vec<(u16, u16)> {
    normalise(a.iter().chain(b).copied().collect())
}

fn minus(a: &[(u16, u16)], b: &[(u16, u16)]) -> Vec<(u16, u16)> {
    let mut out = Vec::new();
    for &(lo, hi) in a {
        let mut cur = u32::from(lo);
        for &(blo, bhi) in b.iter().filter(|(x, y)| *y >= lo && *x <= hi) {
            if cur < u32::from(blo) {
                out.push((cur as u16, blo - 1));
            }
            cur = cur.max(u32::from(bhi) + 1);
        }
        if cur <= u32::from(hi) {
            out.push((cur as u16, hi));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(p: Protocol, ports: &[[u16; 2]]) -> PortSet {
        PortSet::from_allows(&[Allow {
            protocol: p,
            ports: ports.to_vec(),
        }])
    }

    #[test]
    fn minus_splits_ranges_exactly() {
        let a = set(Protocol::Tcp, &[]);
        let b = set(Protocol::Tcp, &[[80, 80], [8000, 8100]]);
        let d = a.minus(&b).to_allows();
        assert_eq!(d[0].ports, [[1, 79], [81, 7999], [8101, 65535]]);
        assert!(b.minus(&a).is_empty());
        assert_eq!(b.union(&a.minus(&b)), a);
    }
}
