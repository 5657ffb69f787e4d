//! `steps`: one mutation each, and the expectations that follow it.

use std::collections::BTreeMap;

use palisade_manifest::yaml::{Node, Value};
use palisade_model::{names, Labels};

use super::ctx::{index, join, Ctx};
use crate::case::{Kind, Mutation, Step, Target};

const MUTATIONS: &[&str] = &["label", "unlabel", "add", "delete"];
const STEP_KEYS: &[&str] = &["label", "unlabel", "add", "delete", "expect"];
const LABEL_KEYS: &[&str] = &["pod", "namespace", "set"];
const UNLABEL_KEYS: &[&str] = &["pod", "namespace", "keys"];
const DELETE_KEYS: &[&str] = &["kind", "namespace", "name"];

impl Ctx<'_> {
    /// The `steps` list; absent means none.
    pub fn steps(&mut self, node: Option<&Node>) -> Vec<Step> {
        let Some(items) = node.and_then(|n| self.seq(n, "steps")) else {
            return Vec::new();
        };
        let steps: Vec<Option<Step>> = items
            .iter()
            .enumerate()
            .map(|(i, item)| self.step(item, &index("steps", i)))
            .collect();
        steps.into_iter().flatten().collect()
    }

    fn step(&mut self, node: &Node, field: &str) -> Option<Step> {
        let entries = self.mapping(node, field, STEP_KEYS)?;
        let expect = self
            .required(node, "expect", field)
            .map(|n| self.expect_list(Some(n), &join(field, "expect")));
        let (key, value) = self.the_mutation(entries, node, field)?;
        let mutation = self.mutation(key, value, &join(field, key))?;
        Some(Step {
            line: node.pos.line,
            mutation,
            expect: expect?,
        })
    }

    /// The one mutation key of a step, and its value.
    fn the_mutation<'n>(
        &mut self,
        entries: &'n [(Node, Node)],
        step: &Node,
        field: &str,
    ) -> Option<(&'n str, &'n Node)> {
        let found: Vec<(&str, &Node, &Node)> = entries
            .iter()
            .filter_map(|(k, v)| {
                k.as_str()
                    .filter(|k| MUTATIONS.contains(k))
                    .map(|s| (s, k, v))
            })
            .collect();
        match found.as_slice() {
            [(key, _, value)] => Some((key, value)),
            [] => {
                let message = format!("a step needs one of: {}", MUTATIONS.join(", "));
                self.error(step.pos, field, message)
            }
            [(first, ..), (second, at, _), ..] => {
                let message =
                    format!("a step makes exactly one mutation, found {first:?} and {second:?}");
                self.error(at.pos, field, message)
            }
        }
    }

    fn mutation(&mut self, key: &str, node: &Node, field: &str) -> Option<Mutation> {
        match key {
            "label" => self.label(node, field),
            "unlabel" => self.unlabel(node, field),
            "add" => self.add(node, field),
            _ => self.delete(node, field),
        }
    }

    fn label(&mut self, node: &Node, field: &str) -> Option<Mutation> {
        self.mapping(node, field, LABEL_KEYS)?;
        let target = self.target(node, field);
        let set = self
            .required(node, "set", field)
            .and_then(|n| self.label_set(n, &join(field, "set")));
        Some(Mutation::Label {
            target: target?,
            set: set?,
        })
    }

    fn unlabel(&mut self, node: &Node, field: &str) -> Option<Mutation> {
        self.mapping(node, field, UNLABEL_KEYS)?;
        let target = self.target(node, field);
        let keys = self
            .required(node, "keys", field)
            .and_then(|n| self.label_keys(n, &join(field, "keys")));
        Some(Mutation::Unlabel {
            target: target?,
            keys: keys?,
        })
    }

    /// Exactly one of `pod: ns/name` and `namespace: name`.
    fn target(&mut self, node: &Node, field: &str) -> Option<Target> {
        match (node.get("pod"), node.get("namespace")) {
            (Some(pod), None) => self.pod_id(pod, &join(field, "pod")).map(Target::Pod),
            (None, Some(ns)) => self
                .namespace_name(ns, &join(field, "namespace"))
                .map(Target::Namespace),
            _ => self.error(
                node.pos,
                field,
                "expected exactly one of `pod: NAMESPACE/NAME` and `namespace: NAME`",
            ),
        }
    }

    fn label_set(&mut self, node: &Node, field: &str) -> Option<BTreeMap<String, String>> {
        let Value::Map(entries) = &node.value else {
            return self.error(
                node.pos,
                field,
                format!("expected a mapping of labels, found {}", node.kind()),
            );
        };
        if entries.is_empty() {
            return self.error(node.pos, field, "no labels to set");
        }
        let pairs: Vec<Option<(String, String)>> = entries
            .iter()
            .map(|(k, v)| self.label_pair(k, v, field))
            .collect();
        pairs.into_iter().collect()
    }

    fn label_pair(&mut self, key: &Node, value: &Node, field: &str) -> Option<(String, String)> {
        let k = self.string(key, field)?;
        let field = join(field, &k);
        let Some(v) = value.as_str() else {
            let message = format!(
                "label values are strings, found {} (quote it)",
                value.kind()
            );
            return self.error(value.pos, &field, message);
        };
        match Labels::validate(&k, v) {
            Ok(()) => Some((k, v.to_string())),
            Err(e) => self.error(key.pos, &field, e.to_string()),
        }
    }

    fn label_keys(&mut self, node: &Node, field: &str) -> Option<Vec<String>> {
        let items = self.seq(node, field)?;
        if items.is_empty() {
            return self.error(node.pos, field, "no label keys to remove");
        }
        let keys: Vec<Option<String>> = items
            .iter()
            .enumerate()
            .map(|(i, n)| self.label_key(n, &index(field, i)))
            .collect();
        keys.into_iter().collect()
    }

    fn label_key(&mut self, node: &Node, field: &str) -> Option<String> {
        let key = self.string(node, field)?;
        match names::qualified_name(&key) {
            Ok(()) => Some(key),
            Err(e) => self.error(node.pos, field, format!("invalid label key {key:?}: {e}")),
        }
    }

    fn add(&mut self, node: &Node, field: &str) -> Option<Mutation> {
        let had_errors = self.errors.len();
        let mut objects = self.manifest(node, field);
        match objects.len() {
            1 => objects.pop().map(Mutation::Add),
            0 if self.errors.len() > had_errors => None,
            n => self.error(
                node.pos,
                field,
                format!("`add` creates one Namespace, Pod or NetworkPolicy, found {n} objects"),
            ),
        }
    }

    fn delete(&mut self, node: &Node, field: &str) -> Option<Mutation> {
        self.mapping(node, field, DELETE_KEYS)?;
        let kind = self
            .required(node, "kind", field)
            .and_then(|n| self.kind(n, &join(field, "kind")));
        let name = self
            .required(node, "name", field)
            .and_then(|n| self.string(n, &join(field, "name")));
        let namespace = match (kind?, node.get("namespace")) {
            (Kind::Namespace, None) => None,
            (Kind::Namespace, Some(ns)) => {
                return self.error(ns.pos, field, "a Namespace has no namespace")
            }
            (_, Some(ns)) => Some(self.namespace_name(ns, &join(field, "namespace"))?),
            (_, None) => return self.error(node.pos, field, "missing required key \"namespace\""),
        };
        Some(Mutation::Delete {
            kind: kind?,
            namespace,
            name: name?,
        })
    }

    fn kind(&mut self, node: &Node, field: &str) -> Option<Kind> {
        let s = self.string(node, field)?;
        match Kind::parse(&s) {
            Some(kind) => Some(kind),
            None => self.error(
                node.pos,
                field,
                format!("unknown kind {s:?} (expected Namespace, Pod or NetworkPolicy)"),
            ),
        }
    }
}
