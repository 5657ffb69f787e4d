//! What differs between the table and the desired state, and the ordered
//! statements that repair it (see the parent module for the order).

use std::collections::{BTreeMap, BTreeSet};

use crate::desired::{Desired, DesiredChain};
use crate::layout::hook_spec;
use crate::script::{Script, ScriptBuilder};
use crate::state::TableState;

/// The classified differences, and the script being written.
pub struct Plan<'a> {
    pub(super) cur: &'a TableState,
    pub(super) want: &'a Desired,
    pub(super) table: &'a str,
    pub(super) classes: Classes<'a>,
    pub(super) out: ScriptBuilder,
}

impl<'a> Plan<'a> {
    /// Classifies the differences between `cur` and `want`.
    pub fn new(cur: &'a TableState, want: &'a Desired, table: &'a str) -> Self {
        Plan {
            cur,
            want,
            table,
            classes: Classes::new(cur, want),
            out: ScriptBuilder::default(),
        }
    }

    /// Writes the statements in the order the kernel accepts.
    pub fn write(mut self) -> Script {
        self.add_counters();
        self.flush_chains();
        self.delete_map_elements();
        self.delete_recreated();
        self.add_sets_and_maps();
        self.add_chains();
        self.add_rules();
        self.add_map_elements();
        self.delete_gone();
        self.out.finish()
    }

    fn add_counters(&mut self) {
        for (name, label) in &self.want.counters {
            if !self.cur.counters.contains(name) {
                let line = format!("add counter inet {} {name}", self.table);
                self.out.push(label, &[line]);
            }
        }
    }

    fn flush_chains(&mut self) {
        let gone = self
            .cur
            .chains
            .keys()
            .filter(|n| !self.want.chains.contains_key(*n));
        let flushed: BTreeSet<&str> = self
            .classes
            .rewrite_chains
            .iter()
            .chain(&self.classes.recreate_chains)
            .copied()
            .chain(gone.map(String::as_str))
            .collect();
        for name in flushed {
            let line = format!("flush chain inet {} {name}", self.table);
            self.out.push(&self.chain_label(name), &[line]);
        }
    }

    fn delete_recreated(&mut self) {
        let t = self.table;
        let lines: Vec<(String, String)> = (self
            .classes
            .recreate_sets
            .iter()
            .map(|n| (self.set_label(n), format!("delete set inet {t} {n}"))))
        .chain(
            self.classes
                .recreate_maps
                .iter()
                .map(|n| (self.map_label(n), format!("delete map inet {t} {n}"))),
        )
        .chain(
            self.classes
                .recreate_chains
                .iter()
                .map(|n| (self.chain_label(n), format!("delete chain inet {t} {n}"))),
        )
        .collect();
        for (label, line) in lines {
            self.out.push(&label, &[line]);
        }
    }

    fn add_chains(&mut self) {
        for (name, chain) in &self.want.chains {
            if self.cur.chains.contains_key(name)
                && !self.classes.recreate_chains.contains(name.as_str())
            {
                continue;
            }
            let line = match &chain.hook {
                Some(hook) => format!(
                    "add chain inet {} {name} {{ {} }}",
                    self.table,
                    hook_spec(hook)
                ),
                None => format!("add chain inet {} {name}", self.table),
            };
            self.out.push(&chain.label, &[line]);
        }
    }

    fn add_rules(&mut self) {
        for (name, chain) in &self.want.chains {
            let fresh = !self.cur.chains.contains_key(name)
                || self.classes.recreate_chains.contains(name.as_str());
            if fresh || self.classes.rewrite_chains.contains(name.as_str()) {
                let lines: Vec<String> = chain
                    .rules
                    .iter()
                    .map(|r| format!("add rule inet {} {name} {}", self.table, r.line()))
                    .collect();
                self.out.push(&chain.label, &lines);
            }
        }
    }

    fn delete_gone(&mut self) {
        let t = self.table;
        let gone = |kind: &str, name: &str| {
            (
                format!("{kind} {name} (no longer in the ruleset)"),
                format!("delete {kind} inet {t} {name}"),
            )
        };
        let mut lines = Vec::new();
        lines.extend(
            self.cur
                .maps
                .keys()
                .filter(|n| !self.want.maps.contains_key(*n))
                .map(|n| gone("map", n)),
        );
        lines.extend(
            self.cur
                .chains
                .keys()
                .filter(|n| !self.want.chains.contains_key(*n))
                .map(|n| gone("chain", n)),
        );
        lines.extend(
            self.cur
                .sets
                .keys()
                .filter(|n| !self.want.sets.contains_key(*n))
                .map(|n| gone("set", n)),
        );
        lines.extend(
            self.cur
                .counters
                .iter()
                .filter(|n| !self.want.counters.contains_key(*n))
                .map(|n| gone("counter", n)),
        );
        for (label, line) in lines {
            self.out.push(&label, &[line]);
        }
    }

    fn chain_label(&self, name: &str) -> String {
        self.want.chains.get(name).map_or_else(
            || format!("chain {name} (no longer in the ruleset)"),
            |c| c.label.clone(),
        )
    }

    fn set_label(&self, name: &str) -> String {
        self.want
            .sets
            .get(name)
            .map_or_else(|| format!("set {name}"), |s| s.label.clone())
    }

    fn map_label(&self, name: &str) -> String {
        self.want
            .maps
            .get(name)
            .map_or_else(|| format!("map {name}"), |m| m.1.clone())
    }
}

/// What differs between the table and the desired state, by the repair it
/// needs: the one classification the text script ([`Plan`]) and the
/// netlink batch (`crate::netlink::plan`) both follow.
pub(crate) struct Classes<'a> {
    /// In both, but key type or interval flag differ: delete and re-add.
    pub recreate_sets: BTreeSet<&'a str>,
    /// In both, but key type differs: delete and re-add.
    pub recreate_maps: BTreeSet<&'a str>,
    /// In both, but the hook differs: delete and re-add.
    pub recreate_chains: BTreeSet<&'a str>,
    /// In both with the same hook, but rules differ or reference a recreated
    /// set or map: flush and re-add the rules.
    pub rewrite_chains: BTreeSet<&'a str>,
}

impl<'a> Classes<'a> {
    pub(crate) fn new(cur: &'a TableState, want: &'a Desired) -> Self {
        let recreate_sets: BTreeSet<&str> = both(&want.sets, &cur.sets)
            .filter(|(_, w, c)| (&w.state.key_type, w.state.interval) != (&c.key_type, c.interval))
            .map(|(n, _, _)| n)
            .collect();
        let recreate_maps: BTreeSet<&str> = both(&want.maps, &cur.maps)
            .filter(|(_, w, c)| w.0.key_type != c.key_type)
            .map(|(n, _, _)| n)
            .collect();
        let recreate_chains: BTreeSet<&str> = both(&want.chains, &cur.chains)
            .filter(|(_, w, c)| w.hook != c.hook)
            .map(|(n, _, _)| n)
            .collect();
        let refs_recreated = |chain: &DesiredChain| {
            chain
                .refs
                .iter()
                .any(|r| recreate_sets.contains(r.as_str()) || recreate_maps.contains(r.as_str()))
        };
        let rewrite_chains = both(&want.chains, &cur.chains)
            .filter(|(n, w, c)| {
                !recreate_chains.contains(n) && (w.state() != **c || refs_recreated(w))
            })
            .map(|(n, _, _)| n)
            .collect();
        Classes {
            recreate_sets,
            recreate_maps,
            recreate_chains,
            rewrite_chains,
        }
    }

    /// Whether a set, map or chain is deleted and re-added.
    pub(crate) fn recreates(&self) -> bool {
        !(self.recreate_sets.is_empty()
            && self.recreate_maps.is_empty()
            && self.recreate_chains.is_empty())
    }
}

/// Entries present in both maps: (name, wanted, current).
fn both<'a, W, C>(
    want: &'a BTreeMap<String, W>,
    cur: &'a BTreeMap<String, C>,
) -> impl Iterator<Item = (&'a str, &'a W, &'a C)> {
    want.iter()
        .filter_map(|(n, w)| cur.get(n).map(|c| (n.as_str(), w, c)))
}
