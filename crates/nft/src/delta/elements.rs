//! The element-level steps of a [`Plan`]: sets and maps.

use crate::desired::DesiredSet;
use crate::element::{datatypes, render};
use crate::render::{element_items, elements_block, map_items, set_decl};
use crate::state::{Element, MapState, SetState};

use super::plan::Plan;

impl Plan<'_> {
    pub(super) fn delete_map_elements(&mut self) {
        for (name, (want, label)) in &self.want.maps {
            let Some(cur) = self
                .cur
                .maps
                .get(name)
                .filter(|_| !self.classes.recreate_maps.contains(name.as_str()))
            else {
                continue;
            };
            let stale: Vec<String> = cur
                .elements
                .iter()
                .filter(|(key, chain)| {
                    want.elements.get(*key) != Some(chain)
                        || self.classes.recreate_chains.contains(chain.as_str())
                })
                .map(|(key, _)| key.clone())
                .collect();
            let open = format!("delete element inet {} {name} {{", self.table);
            self.out
                .push(label, &elements_block(&open, &stale, "\t", "}"));
        }
    }

    pub(super) fn add_sets_and_maps(&mut self) {
        for (name, set) in &self.want.sets {
            match self
                .cur
                .sets
                .get(name)
                .filter(|_| !self.classes.recreate_sets.contains(name.as_str()))
            {
                None => self.add_set(name, set),
                Some(cur) if cur.elements != set.state.elements => self.patch_set(name, set, cur),
                Some(_) => {}
            }
        }
        for (name, (map, label)) in &self.want.maps {
            if !self.cur.maps.contains_key(name)
                || self.classes.recreate_maps.contains(name.as_str())
            {
                let line = format!(
                    "add map inet {} {name} {{ type {}; }}",
                    self.table, map.key_type
                );
                self.out.push(label, &[line]);
            }
        }
    }

    pub(super) fn add_set(&mut self, name: &str, set: &DesiredSet) {
        let mut lines = vec![format!(
            "add set inet {} {name} {{ {} }}",
            self.table,
            set_decl(&set.state, &set.comment)
        )];
        let open = format!("add element inet {} {name} {{", self.table);
        lines.extend(elements_block(&open, &element_items(&set.state), "\t", "}"));
        self.out.push(&set.label, &lines);
    }

    pub(super) fn patch_set(&mut self, name: &str, set: &DesiredSet, cur: &SetState) {
        let t = self.table;
        let want = &set.state;
        let mut lines = Vec::new();
        let (gone, new): (Vec<&Element>, Vec<&Element>) = if want.interval {
            lines.push(format!("flush set inet {t} {name}"));
            (Vec::new(), want.elements.iter().collect())
        } else {
            (
                cur.elements.difference(&want.elements).collect(),
                want.elements.difference(&cur.elements).collect(),
            )
        };
        let fields = datatypes(&want.key_type).unwrap_or_default();
        let show = |elements: Vec<&Element>| {
            elements
                .into_iter()
                .map(|e| render(e, &fields))
                .collect::<Vec<_>>()
        };
        lines.extend(elements_block(
            &format!("delete element inet {t} {name} {{"),
            &show(gone),
            "\t",
            "}",
        ));
        lines.extend(elements_block(
            &format!("add element inet {t} {name} {{"),
            &show(new),
            "\t",
            "}",
        ));
        self.out.push(&set.label, &lines);
    }

    pub(super) fn add_map_elements(&mut self) {
        for (name, (want, label)) in &self.want.maps {
            let cur = self
                .cur
                .maps
                .get(name)
                .filter(|_| !self.classes.recreate_maps.contains(name.as_str()));
            let new = want
                .elements
                .iter()
                .filter(|(key, chain)| self.needs_add(cur, key, chain));
            let open = format!("add element inet {} {name} {{", self.table);
            self.out
                .push(label, &elements_block(&open, &map_items(new), "\t", "}"));
        }
    }

    pub(super) fn needs_add(&self, cur: Option<&MapState>, key: &str, chain: &String) -> bool {
        let present = cur.and_then(|m| m.elements.get(key)) == Some(chain);
        !present || self.classes.recreate_chains.contains(chain.as_str())
    }
}
