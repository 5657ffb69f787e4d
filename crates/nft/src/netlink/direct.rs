//! The element-only batch computed from the two IRs directly: the sorted
//! element lists of each changed set and the dispatch entries are merged
//! against each other, so a one-pod change costs in proportion to the sets
//! it touches, without building the nft form of whole sets (a set of 10,000
//! addresses is 10,000 allocations in that form).

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::net::IpAddr;

use palisade_compile::{Family, Ruleset};

use super::encode::{Batch, Elem, Op};
use super::{set_key, CHUNK};
use crate::element::{addr_value, proto_value, Datatype, Element};
use crate::incremental::Changed;
use crate::layout::{hairpin_set, map_name, BASE_PREFIX, MAPS};

/// The batch, or `None` when the difference is more than element changes
/// of plain sets and dispatch maps (or something is off that the full path
/// reports properly: an address of the wrong family, a dangling chain).
pub fn ir_batch(
    old: &Ruleset,
    new: &Ruleset,
    changed: &Changed,
    table: &str,
    seq: u32,
) -> Option<Batch> {
    if !changed.chains.is_empty() || !changed.counters.is_empty() {
        return None;
    }
    let mut batch = Batch::new(seq);
    let mut map_adds = Vec::new();
    for (direction, family) in MAPS {
        let name = map_name(direction, family);
        if !changed.maps.contains(name) {
            continue;
        }
        let entries = |rs: &Ruleset| -> Vec<(IpAddr, String)> {
            rs.dispatch
                .get(&direction)
                .into_iter()
                .flatten()
                .filter(|(ip, _)| Family::of(ip) == family)
                .map(|(ip, c)| (*ip, c.clone()))
                .collect()
        };
        let (a, b) = (entries(old), entries(new));
        let (gone, added) = diff(&a, &b);
        for (_, chain) in &added {
            if !new.chains.contains_key(chain) || chain.starts_with(BASE_PREFIX) {
                return None;
            }
        }
        let key = |ip: &IpAddr| addr_key(ip, family);
        let gone: Vec<Elem> = gone.iter().map(|(ip, _)| key(ip)).collect::<Option<_>>()?;
        let added: Vec<Elem> = added
            .iter()
            .map(|(ip, c)| {
                key(ip).map(|e| Elem {
                    jump: Some(c.clone()),
                    ..e
                })
            })
            .collect::<Option<_>>()?;
        push(
            &mut batch,
            Op::Delete,
            table,
            name,
            &gone,
            "delete elements of map",
        );
        map_adds.push((name, added));
    }
    for name in &changed.sets {
        let (gone, added) = set_diff(old, new, name)?;
        replace_in_set(&mut batch, table, name, &gone, &added);
    }
    for family in &changed.hairpin {
        hairpin_diff(old, new, *family, table, &mut batch)?;
    }
    for (name, added) in map_adds {
        push(
            &mut batch,
            Op::Add,
            table,
            name,
            &added,
            "add elements to map",
        );
    }
    Some(batch.finish())
}

/// Writes the element changes of the sets `changed` lists that exist on
/// both sides as plain sets (and of the hairpin sets) straight from the two
/// IRs; returns the names of the sets it left (new, gone, interval or
/// retyped sets), for the object-level plan. `None` when an address is of
/// the wrong family (the plan reports it properly).
pub(crate) fn set_element_diffs(
    old: &Ruleset,
    new: &Ruleset,
    changed: &Changed,
    table: &str,
    batch: &mut Batch,
) -> Option<BTreeSet<String>> {
    let mut left = BTreeSet::new();
    for name in &changed.sets {
        match set_diff(old, new, name) {
            Some((gone, added)) => replace_in_set(batch, table, name, &gone, &added),
            None => {
                left.insert(name.clone());
            }
        }
    }
    for family in &changed.hairpin {
        hairpin_diff(old, new, *family, table, batch)?;
    }
    Some(left)
}

/// The element changes of the hairpin set of `family`.
fn hairpin_diff(
    old: &Ruleset,
    new: &Ruleset,
    family: Family,
    table: &str,
    batch: &mut Batch,
) -> Option<()> {
    let pairs = |rs: &Ruleset| -> Vec<(IpAddr, ())> {
        crate::desired::dispatched(family, rs)
            .into_iter()
            .map(|ip| (ip, ()))
            .collect()
    };
    let (gone, added) = diff(&pairs(old), &pairs(new));
    let key = |(ip, _): &(IpAddr, ())| hairpin_key(ip, family);
    let gone: Vec<Elem> = gone.iter().map(key).collect::<Option<_>>()?;
    let added: Vec<Elem> = added.iter().map(key).collect::<Option<_>>()?;
    replace_in_set(batch, table, hairpin_set(family), &gone, &added);
    Some(())
}

/// Elements gone and added in one changed set; `None` unless it is a plain
/// address or named-port set on both sides, of one family.
fn set_diff(old: &Ruleset, new: &Ruleset, name: &str) -> Option<(Vec<Elem>, Vec<Elem>)> {
    if let (Some(a), Some(b)) = (old.addr_sets.get(name), new.addr_sets.get(name)) {
        if a.interval || b.interval || a.family != b.family {
            return None;
        }
        let family = b.family;
        let singles = |ranges: &[(IpAddr, IpAddr)]| -> Option<Vec<(IpAddr, ())>> {
            ranges
                .iter()
                .map(|(lo, hi)| (lo == hi && Family::of(lo) == family).then_some((*lo, ())))
                .collect()
        };
        let (gone, added) = diff(&singles(&a.ranges)?, &singles(&b.ranges)?);
        let keys = |v: Vec<(IpAddr, ())>| -> Option<Vec<Elem>> {
            v.iter().map(|(ip, _)| addr_key(ip, family)).collect()
        };
        return Some((keys(gone)?, keys(added)?));
    }
    let (a, b) = (
        old.named_port_sets.get(name)?,
        new.named_port_sets.get(name)?,
    );
    if a.family != b.family {
        return None;
    }
    let family = b.family;
    let fields = [
        Datatype::addr(family),
        Datatype::InetProto,
        Datatype::InetService,
    ];
    let tagged = |v: &[(IpAddr, palisade_model::Protocol, u16)]| -> Option<Vec<(_, ())>> {
        v.iter()
            .map(|e| (Family::of(&e.0) == family).then_some((*e, ())))
            .collect()
    };
    let (gone, added) = diff(&tagged(&a.elements)?, &tagged(&b.elements)?);
    let keys = |v: Vec<((IpAddr, palisade_model::Protocol, u16), ())>| {
        v.iter()
            .map(|((ip, proto, port), _)| {
                let values = [addr_value(ip), proto_value(*proto), u128::from(*port)];
                set_key(&Element::single(&values), &fields)
            })
            .collect::<Option<Vec<Elem>>>()
    };
    Some((keys(gone)?, keys(added)?))
}

/// Entries gone, and entries added.
type GoneAdded<K, V> = (Vec<(K, V)>, Vec<(K, V)>);

/// Entries of `a` not in `b` (or with another value there), and of `b` not
/// in `a` (or with another value), by a merge of the two key-sorted lists
/// (the IR keeps them sorted; an unsorted input is sorted first).
fn diff<K: Ord + Clone, V: PartialEq + Clone>(a: &[(K, V)], b: &[(K, V)]) -> GoneAdded<K, V> {
    let sorted = |v: &[(K, V)]| v.windows(2).all(|w| w[0].0 < w[1].0);
    if !(sorted(a) && sorted(b)) {
        let mut a = a.to_vec();
        let mut b = b.to_vec();
        a.sort_by(|x, y| x.0.cmp(&y.0));
        a.dedup_by(|x, y| x.0 == y.0);
        b.sort_by(|x, y| x.0.cmp(&y.0));
        b.dedup_by(|x, y| x.0 == y.0);
        return diff(&a, &b);
    }
    let (mut gone, mut added) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let order = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => x.0.cmp(&y.0),
            (Some(_), None) => Ordering::Less,
            _ => Ordering::Greater,
        };
        match order {
            Ordering::Less => {
                gone.push(a[i].clone());
                i += 1;
            }
            Ordering::Greater => {
                added.push(b[j].clone());
                j += 1;
            }
            Ordering::Equal => {
                if a[i].1 != b[j].1 {
                    gone.push(a[i].clone());
                    added.push(b[j].clone());
                }
                i += 1;
                j += 1;
            }
        }
    }
    (gone, added)
}

fn addr_key(ip: &IpAddr, family: Family) -> Option<Elem> {
    (Family::of(ip) == family).then_some(())?;
    set_key(
        &Element::single(&[addr_value(ip)]),
        &[Datatype::addr(family)],
    )
}

fn hairpin_key(ip: &IpAddr, family: Family) -> Option<Elem> {
    let v = addr_value(ip);
    set_key(&Element::single(&[v, v]), &[Datatype::addr(family); 2])
}

/// Deletes `gone` from set `set`, then adds `added`.
fn replace_in_set(batch: &mut Batch, table: &str, set: &str, gone: &[Elem], added: &[Elem]) {
    push(
        batch,
        Op::Delete,
        table,
        set,
        gone,
        "delete elements of set",
    );
    push(batch, Op::Add, table, set, added, "add elements to set");
}

fn push(batch: &mut Batch, op: Op, table: &str, set: &str, elems: &[Elem], what: &str) {
    for chunk in elems.chunks(CHUNK) {
        batch.elements(op, table, set, chunk, format!("{what} {set}"));
    }
}

#[cfg(test)]
mod tests {
    use super::diff;

    #[test]
    fn diff_finds_gone_added_and_changed_values() {
        let a = [(1, 'a'), (2, 'b'), (4, 'd')];
        let b = [(2, 'x'), (3, 'c'), (4, 'd')];
        let (gone, added) = diff(&a, &b);
        assert_eq!(gone, [(1, 'a'), (2, 'b')]);
        assert_eq!(added, [(2, 'x'), (3, 'c')]);
        let (gone, added) = diff(&[(3, ()), (1, ())], &[(1, ())]);
        assert_eq!((gone, added), (vec![(3, ())], vec![]));
    }
}
