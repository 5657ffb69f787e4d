//! Element-only deltas over netlink: one `NETLINK_NETFILTER` batch per
//! update, opened in the table's network namespace, instead of a new `nft`
//! process that first fetches the whole table into its cache. Used by
//! [`crate::Nft::reconcile_from`] when a delta only adds or deletes
//! elements of plain (non-interval) sets and of the dispatch maps (a pod
//! added, removed or relabelled); every other delta goes through `nft -f`.
//!
//! The kernel applies the batch atomically or not at all; its ACKs are read
//! back and an error names the set and the kind of change it refused.

mod direct;
mod encode;
mod socket;

use palisade_compile::Ruleset;

use crate::element::{Datatype, Element};
use crate::incremental::Changed;

pub use direct::ir_batch;
pub use encode::{Batch, Elem, Op};
pub use socket::{send, NetlinkError};

/// The element-only batch from the table `old` programmed to the one `new`
/// wants (as [`crate::Nft::reconcile_from`] sends it), or `None` when the
/// delta needs `nft -f` (or nothing differs: an empty batch is `Some`).
pub fn batch_between(old: &Ruleset, new: &Ruleset, table: &str) -> Option<Batch> {
    ir_batch(old, new, &Changed::between(old, new), table, 1)
}

/// Elements per message (keeps each nested attribute well under 64 KiB).
const CHUNK: usize = 256;

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
