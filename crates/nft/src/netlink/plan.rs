//! A delta as one netlink batch: the same classification and the same
//! order as the text plan of [`crate::delta`] (new counters; chains to
//! rewrite, recreate or delete flushed; stale map elements deleted;
//! drifted objects deleted; sets and maps created or patched; chains
//! created; rules appended; map elements added; gone objects deleted), so
//! every intermediate reference is valid and a chain, rule or set change
//! costs messages in proportion to what changed.

use std::collections::{BTreeMap, BTreeSet};

use super::encode::{Batch, Op};
use super::expr::{new_rule, IsInterval};
use super::objects::SetRef;
use super::Unsupported;
use crate::delta::Classes;
use crate::desired::Desired;
use crate::state::{Element, TableState};

/// The batch that turns `cur` into `want` (both the same selection of
/// objects), or `None` when nothing differs. `interval` says whether a set
/// the rules reference holds intervals when neither side lists it.
pub(crate) fn plan_batch(
    cur: &TableState,
    want: &Desired,
    table: &str,
    interval: IsInterval,
    seq: u32,
) -> Result<Option<Batch>, Unsupported> {
    let mut batch = Batch::new(seq);
    plan_into(&mut batch, cur, want, table, interval)?;
    Ok((!batch.messages.is_empty()).then(|| batch.finish()))
}

/// Appends the messages that turn `cur` into `want` to `batch`.
pub(crate) fn plan_into(
    batch: &mut Batch,
    cur: &TableState,
    want: &Desired,
    table: &str,
    interval: IsInterval,
) -> Result<(), Unsupported> {
    let mut p = Plan::new(cur, want, table, std::mem::take(batch));
    let written = p.write(interval);
    *batch = p.batch;
    written
}

struct Plan<'a> {
    cur: &'a TableState,
    want: &'a Desired,
    table: &'a str,
    classes: Classes<'a>,
    /// Sets and maps created in this batch, by id.
    ids: BTreeMap<String, u32>,
    batch: Batch,
}

impl<'a> Plan<'a> {
    fn new(cur: &'a TableState, want: &'a Desired, table: &'a str, batch: Batch) -> Self {
        Plan {
            cur,
            want,
            table,
            classes: Classes::new(cur, want),
            ids: BTreeMap::new(),
            batch,
        }
    }

    fn write(&mut self, interval: IsInterval) -> Result<(), Unsupported> {
        let (t, cur, want) = (self.table, self.cur, self.want);
        for (name, label) in &want.counters {
            if !cur.counters.contains(name) {
                self.batch.new_counter(t, name, label);
            }
        }
        self.flush_chains();
        self.delete_map_elements()?;
        for n in self
            .classes
            .recreate_sets
            .iter()
            .chain(&self.classes.recreate_maps)
        {
            self.batch.del_set(t, n, &format!("set {n} (recreated)"));
        }
        for n in &self.classes.recreate_chains {
            let label = chain_label(want, n);
            self.batch.del_chain(t, n, &label);
        }
        self.add_sets_and_maps()?;
        for (name, chain) in &want.chains {
            if self.fresh_chain(name) {
                self.batch
                    .new_chain(t, name, chain.hook.as_ref(), &chain.label)?;
            }
        }
        self.add_rules(interval)?;
        self.add_map_elements()?;
        self.delete_gone();
        Ok(())
    }

    fn fresh_chain(&self, name: &str) -> bool {
        !self.cur.chains.contains_key(name) || self.classes.recreate_chains.contains(name)
    }

    fn flush_chains(&mut self) {
        let gone = self
            .cur
            .chains
            .keys()
            .filter(|n| !self.want.chains.contains_key(*n))
            .map(String::as_str);
        let flushed: BTreeSet<&str> = self
            .classes
            .rewrite_chains
            .iter()
            .chain(&self.classes.recreate_chains)
            .copied()
            .chain(gone)
            .collect();
        for name in flushed {
            let label = chain_label(self.want, name);
            self.batch.flush_chain(self.table, name, &label);
        }
    }

    fn delete_map_elements(&mut self) -> Result<(), Unsupported> {
        for (name, (want, label)) in &self.want.maps {
            if self.classes.recreate_maps.contains(name.as_str()) {
                continue;
            }
            let Some(cur) = self.cur.maps.get(name) else {
                continue;
            };
            let stale = cur.elements.iter().filter(|(key, chain)| {
                want.elements.get(*key) != Some(chain)
                    || self.classes.recreate_chains.contains(chain.as_str())
            });
            self.batch
                .map_elements(Op::Delete, self.table, name, None, stale, label)?;
        }
        Ok(())
    }

    fn add_sets_and_maps(&mut self) -> Result<(), Unsupported> {
        let t = self.table;
        for (name, set) in &self.want.sets {
            let kind = (set.state.key_type.as_str(), set.state.interval);
            let at = |id| SetRef { table: t, name, id };
            let cur = self
                .cur
                .sets
                .get(name)
                .filter(|_| !self.classes.recreate_sets.contains(name.as_str()));
            match cur {
                None => {
                    let id = self.next_id(name);
                    self.batch
                        .new_set(t, name, &set.state, &set.comment, id, &set.label)?;
                    let all = &set.state.elements;
                    self.batch
                        .set_elements(Op::Add, at(Some(id)), kind, all, &set.label)?;
                }
                Some(cur) if cur.elements == set.state.elements => {}
                Some(_) if set.state.interval => {
                    self.batch.flush_set(t, name, &set.label);
                    let all = &set.state.elements;
                    self.batch
                        .set_elements(Op::Add, at(None), kind, all, &set.label)?;
                }
                Some(cur) => {
                    let gone: Vec<&Element> =
                        cur.elements.difference(&set.state.elements).collect();
                    let new: Vec<&Element> = set.state.elements.difference(&cur.elements).collect();
                    self.batch
                        .set_elements(Op::Delete, at(None), kind, gone, &set.label)?;
                    self.batch
                        .set_elements(Op::Add, at(None), kind, new, &set.label)?;
                }
            }
        }
        for (name, (map, label)) in &self.want.maps {
            if !self.cur.maps.contains_key(name)
                || self.classes.recreate_maps.contains(name.as_str())
            {
                let id = self.next_id(name);
                self.batch.new_map(t, name, map, id, label)?;
            }
        }
        Ok(())
    }

    fn add_rules(&mut self, interval: IsInterval) -> Result<(), Unsupported> {
        let (cur, want, ids) = (self.cur, self.want, &self.ids);
        let id_of = |set: &str| ids.get(set).copied();
        let is_interval = |set: &str| match (want.sets.get(set), cur.sets.get(set)) {
            (Some(w), _) => w.state.interval,
            (None, Some(c)) => c.interval,
            (None, None) => interval(set),
        };
        for (name, chain) in &want.chains {
            let fresh = !cur.chains.contains_key(name)
                || self.classes.recreate_chains.contains(name.as_str());
            if fresh || self.classes.rewrite_chains.contains(name.as_str()) {
                for rule in &chain.rules {
                    new_rule(
                        &mut self.batch,
                        self.table,
                        name,
                        rule,
                        &id_of,
                        &is_interval,
                        &chain.label,
                    )?;
                }
            }
        }
        Ok(())
    }

    fn add_map_elements(&mut self) -> Result<(), Unsupported> {
        for (name, (want, label)) in &self.want.maps {
            let cur = self
                .cur
                .maps
                .get(name)
                .filter(|_| !self.classes.recreate_maps.contains(name.as_str()));
            let new = want.elements.iter().filter(|(key, chain)| {
                let present = cur.and_then(|m| m.elements.get(*key)) == Some(*chain);
                !present || self.classes.recreate_chains.contains(chain.as_str())
            });
            let id = self.ids.get(name).copied();
            self.batch
                .map_elements(Op::Add, self.table, name, id, new, label)?;
        }
        Ok(())
    }

    fn delete_gone(&mut self) {
        let (t, cur, want) = (self.table, self.cur, self.want);
        let gone = |kind: &str, name: &str| format!("{kind} {name} (no longer in the ruleset)");
        for n in cur.maps.keys().filter(|n| !want.maps.contains_key(*n)) {
            self.batch.del_set(t, n, &gone("map", n));
        }
        for n in cur.chains.keys().filter(|n| !want.chains.contains_key(*n)) {
            self.batch.del_chain(t, n, &gone("chain", n));
        }
        for n in cur.sets.keys().filter(|n| !want.sets.contains_key(*n)) {
            self.batch.del_set(t, n, &gone("set", n));
        }
        for n in cur
            .counters
            .iter()
            .filter(|n| !want.counters.contains_key(*n))
        {
            self.batch.del_counter(t, n, &gone("counter", n));
        }
    }

    fn next_id(&mut self, name: &str) -> u32 {
        let id = self.ids.len() as u32 + 1;
        self.ids.insert(name.to_string(), id);
        id
    }
}

fn chain_label(want: &Desired, name: &str) -> String {
    want.chains.get(name).map_or_else(
        || format!("chain {name} (no longer in the ruleset)"),
        |c| c.label.clone(),
    )
}

/// Whether turning `cur` into `want` deletes and re-adds a set, map or
/// chain (an object changed type or hook): the hot path then plans over
/// whole tables, since unchanged chains that use it must be rewritten.
pub(crate) fn recreates(cur: &TableState, want: &Desired) -> bool {
    Classes::new(cur, want).recreates()
}
