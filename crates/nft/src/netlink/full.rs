//! The whole table as one batch: `NEWTABLE`, `DELTABLE`, `NEWTABLE` (the
//! text path's `add table` / `delete table` / `table {...}`, which replaces
//! any previous table atomically), then the chains, the named counters,
//! each set and map with its elements, and the rules, in the order nft
//! sends the rendered script (so objects are created, and listed, in the
//! same order as with `nft -f`).

use std::collections::BTreeMap;

use super::encode::{Batch, Op};
use super::expr::new_rule;
use super::objects::SetRef;
use super::Unsupported;
use crate::desired::Desired;

/// The batch that (re)creates table `inet table` holding `d`.
pub(crate) fn full_batch(d: &Desired, table: &str, seq: u32) -> Result<Batch, Unsupported> {
    let mut b = Batch::new(seq);
    b.new_table(table);
    b.del_table(table);
    b.new_table(table);
    let (base, subject): (Vec<_>, Vec<_>) = d.chains.iter().partition(|(_, c)| c.hook.is_some());
    let chains: Vec<_> = subject.into_iter().chain(base).collect();
    for (name, chain) in &chains {
        b.new_chain(table, name, chain.hook.as_ref(), &chain.label)?;
    }
    for (name, label) in &d.counters {
        b.new_counter(table, name, label);
    }
    let mut ids: BTreeMap<&str, u32> = BTreeMap::new();
    for (name, set) in &d.sets {
        let id = ids.len() as u32 + 1;
        ids.insert(name, id);
        b.new_set(table, name, &set.state, &set.comment, id, &set.label)?;
        let kind = (set.state.key_type.as_str(), set.state.interval);
        let elements = &set.state.elements;
        let to = SetRef {
            table,
            name,
            id: Some(id),
        };
        b.set_elements(Op::Add, to, kind, elements, &set.label)?;
    }
    for (name, (map, label)) in &d.maps {
        let id = ids.len() as u32 + 1;
        ids.insert(name, id);
        b.new_map(table, name, map, id, label)?;
        b.map_elements(Op::Add, table, name, Some(id), &map.elements, label)?;
    }
    let id_of = |set: &str| ids.get(set).copied();
    let interval = |set: &str| d.sets.get(set).is_some_and(|s| s.state.interval);
    for (name, chain) in &chains {
        for rule in &chain.rules {
            new_rule(&mut b, table, name, rule, &id_of, &interval, &chain.label)?;
        }
    }
    Ok(b.finish())
}
