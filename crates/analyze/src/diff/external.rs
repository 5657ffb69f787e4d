//! Diffing connections with the outside world by address, not by text:
//! the same addresses may be grouped into different CIDRs on each side
//! (an ipBlock edge moved, a pod came or went), so both sides are cut into
//! common address segments and compared segment by segment.

use ipnet::IpNet;

use super::portset::PortSet;
use crate::addr::{bounds, cover, Family};

/// External CIDRs of one endpoint and direction, with their ports.
pub(crate) type Cidrs = Vec<(IpNet, PortSet)>;

/// `(added, removed)`: ports allowed after and not before per address
/// range, and the reverse, each as the fewest CIDRs.
pub(crate) fn diff(before: &Cidrs, after: &Cidrs) -> (Cidrs, Cidrs) {
    let (mut added, mut removed) = (Vec::new(), Vec::new());
    for f in Family::BOTH {
        let (b, a) = (family(before, f), family(after, f));
        let cuts = cuts(&b, &a, f);
        let (sb, sa) = (segments(&b, &cuts), segments(&a, &cuts));
        let plus = sa.iter().zip(&sb).map(|(x, y)| x.minus(y)).collect();
        let minus = sb.iter().zip(&sa).map(|(x, y)| x.minus(y)).collect();
        emit(f, &cuts, plus, &mut added);
        emit(f, &cuts, minus, &mut removed);
    }
    (added, removed)
}

type Ranges<'a> = Vec<(u128, u128, &'a PortSet)>;

fn family(cidrs: &Cidrs, f: Family) -> Ranges<'_> {
    let each = cidrs.iter().map(|(net, ports)| (bounds(net), ports));
    each.filter(|((nf, _, _), _)| *nf == f)
        .map(|((_, lo, hi), ports)| (lo, hi, ports))
        .collect()
}

/// Segment starts: every range's first and one-past-last address.
fn cuts(b: &Ranges<'_>, a: &Ranges<'_>, f: Family) -> Vec<u128> {
    let ends = b
        .iter()
        .chain(a)
        .flat_map(|&(lo, hi, _)| [Some(lo), hi.checked_add(1).filter(|n| *n <= f.max())]);
    let mut cuts: Vec<u128> = ends.flatten().collect();
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

/// The ports of each segment (union over the ranges covering it).
fn segments(ranges: &Ranges<'_>, cuts: &[u128]) -> Vec<PortSet> {
    let mut out = vec![PortSet::default(); cuts.len()];
    for &(lo, hi, ports) in ranges {
        let first = cuts.partition_point(|&c| c < lo);
        for seg in out[first..]
            .iter_mut()
            .zip(&cuts[first..])
            .take_while(|(_, &c)| c <= hi)
        {
            *seg.0 = seg.0.union(ports);
        }
    }
    out
}

/// Joins neighbouring segments with equal non-empty ports into CIDRs.
fn emit(f: Family, cuts: &[u128], sets: Vec<PortSet>, out: &mut Cidrs) {
    let end = |i: usize| cuts.get(i + 1).map_or(f.max(), |n| n - 1);
    let mut i = 0;
    while i < sets.len() {
        let mut j = i;
        while j + 1 < sets.len() && sets[j + 1] == sets[i] {
            j += 1;
        }
        if !sets[i].is_empty() {
            let mut nets = Vec::new();
            cover(f, cuts[i], end(j), &mut nets);
            out.extend(nets.into_iter().map(|n| (n, sets[i].clone())));
        }
        i = j + 1;
    }
}
