//! Every update over netlink: one `NETLINK_NETFILTER` batch per update,
//! opened in the table's network namespace, instead of a new `nft` process
//! that parses text and first fetches the whole table into its cache.
//!
//! - [`full_batch`]: the whole table (`NEWTABLE` / `DELTABLE` / `NEWTABLE`,
//!   then chains, counters, sets with their elements, rules), what
//!   [`crate::render::full`] writes as text;
//! - [`plan_batch`]: a delta between a table state and the desired one, in
//!   the order of [`crate::delta`] (chains flushed and rewritten, sets
//!   patched, objects created and deleted);
//! - [`ir_batch`]: the hot element-only delta computed from two IRs.
//!
//! Objects are encoded as nft 1.0.6 sends them ([`objects`], [`expr`]), so a
//! table loaded either way lists identically. Anything the encoder does not
//! know (a rule text outside the renderer's language, a foreign set type
//! met on read-back) is [`Unsupported`] and that update goes through
//! `nft -f`. The kernel applies the batch atomically or not at all; its ACKs
//! are read back and an error names the object it refused.

mod direct;
mod encode;
mod expr;
mod full;
mod objects;
mod plan;
mod socket;

#[doc(hidden)]
pub mod golden;

pub(crate) use direct::set_element_diffs;
pub(crate) use full::full_batch;
pub(crate) use plan::{plan_batch, plan_into, recreates};

use palisade_compile::Ruleset;

use crate::element::{Datatype, Element};
use crate::incremental::Changed;

pub use direct::ir_batch;
pub use encode::{Batch, Elem, IntervalElem, Op};

/// Something the netlink encoder does not encode (the update then goes
/// through `nft -f`): names what it met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not encodable over netlink: {0}")]
pub struct Unsupported(pub &'static str);

/// The batch that (re)creates table `inet table` holding what `rs` wants,
/// as [`crate::render::full`] does in text.
pub fn full_load(rs: &Ruleset, table: &str) -> Result<Batch, crate::ApplyError> {
    crate::render::check_table(table)?;
    let desired = crate::desired::Desired::from_ir(rs)?;
    full_batch(&desired, table, 1).map_err(|e| crate::ApplyError::Encode(e.to_string()))
}
pub use socket::{generation, send, NetlinkError};

/// The element-only batch from the table `old` programmed to the one `new`
/// wants (as [`crate::Nft::reconcile_from`] sends it), or `None` when the
/// delta needs `nft -f` (or nothing differs: an empty batch is `Some`).
pub fn batch_between(old: &Ruleset, new: &Ruleset, table: &str) -> Option<Batch> {
    ir_batch(old, new, &Changed::between(old, new), table, 1)
}

/// The batch that turns the table `old` programmed into the one `new`
/// wants (whole tables compared, as a read-back reconcile does), or `None`
/// when nothing differs.
pub fn delta_between(
    old: &Ruleset,
    new: &Ruleset,
    table: &str,
) -> Result<Option<Batch>, crate::ApplyError> {
    crate::render::check_table(table)?;
    let cur = crate::desired::Desired::from_ir(old)?.state();
    let want = crate::desired::Desired::from_ir(new)?;
    let interval = |name: &str| {
        new.port_sets.contains_key(name) || new.addr_sets.get(name).is_some_and(|s| s.interval)
    };
    plan_batch(&cur, &want, table, &interval, 1)
        .map_err(|e| crate::ApplyError::Encode(e.to_string()))
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

/// One rule encoded alone (a `NEWRULE` in chain `c_x` of table
/// `palisade`), for the fuzzers (`tests/fuzz.rs`, `fuzz/`): `interval`
/// says which sets hold intervals.
#[doc(hidden)]
pub fn encode_rule(
    text: &str,
    comment: &str,
    interval: &dyn Fn(&str) -> bool,
) -> Result<Batch, Unsupported> {
    let mut batch = Batch::new(1);
    let rule = crate::fingerprint::RenderedRule {
        text: text.into(),
        comment: comment.into(),
        fingerprint: String::new(),
    };
    expr::new_rule(
        &mut batch,
        "palisade",
        "c_x",
        &rule,
        &|_| None,
        interval,
        "rule",
    )?;
    Ok(batch.finish())
}
