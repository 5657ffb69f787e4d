//! Element-only deltas over netlink: one `NETLINK_NETFILTER` batch per
//! update, opened in the table's network namespace, instead of a new `nft`
//! process that first fetches the whole table into its cache. Used by
//! [`crate::Nft::reconcile_from`] when a delta only adds or deletes
//! elements of plain (non-interval) sets and of the dispatch maps (a pod
//! added, removed or relabelled); every other delta goes through `nft -f`.
//!
//! The kernel applies the batch atomically or not at all; its ACKs are read
//! back and an error names the set and the kind of change it refused.

mod encode;
mod socket;

use std::net::IpAddr;

use crate::desired::Desired;
use crate::element::{addr_value, datatypes, Datatype, Element};
use crate::state::TableState;

pub use encode::{Batch, Elem, Op};
pub use socket::{send, NetlinkError};

/// The element-only batch from the table `old` programmed to the one `new`
/// wants (as [`crate::Nft::reconcile_from`] would send it), or `None` when
/// the delta needs `nft -f` or nothing differs.
pub fn batch_between(
    old: &palisade_compile::Ruleset,
    new: &palisade_compile::Ruleset,
    table: &str,
) -> Option<Batch> {
    match crate::delta::between_parts(old, new, table).ok()? {
        crate::delta::Hot::Parts { cur, want } => element_batch(&cur, &want, table, 1),
        _ => None,
    }
}

/// Elements per message (keeps each nested attribute well under 64 KiB).
const CHUNK: usize = 256;

/// The element changes that turn `cur` into `want`, as one batch, or `None`
/// when the difference is more than element changes of plain sets and maps
/// (new or deleted objects, chains, counters, interval sets): those need
/// `nft -f`. `cur` and `want` hold the same selection of objects.
pub fn element_batch(cur: &TableState, want: &Desired, table: &str, seq: u32) -> Option<Batch> {
    let same_sets = cur.sets.keys().eq(want.sets.keys());
    let same_maps = cur.maps.keys().eq(want.maps.keys());
    let same_chains = cur.chains.is_empty() && want.chains.is_empty();
    let same_counters = cur.counters.iter().eq(want.counters.keys());
    if !(same_sets && same_maps && same_chains && same_counters) {
        return None;
    }
    let mut batch = Batch::new(seq);
    // Map elements first: a retargeted key is deleted, then re-added.
    let mut adds = Vec::new();
    for (name, (map, _)) in &want.maps {
        let old = &cur.maps[name];
        if old.key_type != map.key_type {
            return None;
        }
        let gone: Vec<Elem> = old
            .elements
            .iter()
            .filter(|(k, c)| map.elements.get(*k) != Some(*c))
            .map(|(k, _)| map_key(k))
            .collect::<Option<_>>()?;
        let new: Vec<Elem> = map
            .elements
            .iter()
            .filter(|(k, c)| old.elements.get(*k) != Some(*c))
            .map(|(k, c)| {
                map_key(k).map(|e| Elem {
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
        adds.push((name, new));
    }
    for (name, set) in &want.sets {
        let old = &cur.sets[name];
        if set.state.interval || old.interval || old.key_type != set.state.key_type {
            return None;
        }
        let fields = datatypes(&set.state.key_type)?;
        let encode = |e: &Element| set_key(e, &fields);
        let gone: Vec<Elem> = old
            .elements
            .difference(&set.state.elements)
            .map(encode)
            .collect::<Option<_>>()?;
        let new: Vec<Elem> = set
            .state
            .elements
            .difference(&old.elements)
            .map(encode)
            .collect::<Option<_>>()?;
        push(
            &mut batch,
            Op::Delete,
            table,
            name,
            &gone,
            "delete elements of set",
        );
        push(
            &mut batch,
            Op::Add,
            table,
            name,
            &new,
            "add elements to set",
        );
    }
    for (name, new) in adds {
        push(
            &mut batch,
            Op::Add,
            table,
            name,
            &new,
            "add elements to map",
        );
    }
    Some(batch.finish())
}

fn push(batch: &mut Batch, op: Op, table: &str, set: &str, elems: &[Elem], what: &str) {
    for chunk in elems.chunks(CHUNK) {
        batch.elements(op, table, set, chunk, format!("{what} {set}"));
    }
}

/// A dispatch map key: a canonical address.
fn map_key(text: &str) -> Option<Elem> {
    let ip: IpAddr = text.parse().ok()?;
    let fields = [match ip {
        IpAddr::V4(_) => Datatype::Ipv4Addr,
        IpAddr::V6(_) => Datatype::Ipv6Addr,
    }];
    set_key(&Element::single(&[addr_value(&ip)]), &fields)
}

/// The key of a single-valued element in kernel layout: each field in
/// network byte order, padded to 4 bytes when the key is a concatenation
/// (as nft does: every field of a concatenation takes whole registers).
pub fn set_key(element: &Element, fields: &[Datatype]) -> Option<Elem> {
    if element.0.len() != fields.len() || element.0.iter().any(|(lo, hi)| lo != hi) {
        return None;
    }
    let concat = fields.len() > 1;
    let mut key = Vec::with_capacity(16 * fields.len());
    for (&(value, _), field) in element.0.iter().zip(fields) {
        let width = (field.bits() / 8) as usize;
        let bytes = value.to_be_bytes();
        key.extend_from_slice(&bytes[16 - width..]);
        if concat {
            key.resize(key.len().next_multiple_of(4), 0);
        }
    }
    Some(Elem { key, jump: None })
}

#[cfg(test)]
mod tests;
