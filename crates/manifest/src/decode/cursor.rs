//! A cursor over a mapping node: hands out fields by name, remembers which
//! were read, and reports the others as unknown when finished.

use super::cx::{child_path, describe, At, Cx};
use super::suggest::closest;
use crate::yaml::{Node, Pos, Value};

/// The fields of one mapping being decoded.
#[derive(Debug)]
pub(crate) struct Fields<'n> {
    pos: Pos,
    path: String,
    entries: &'n [(Node, Node)],
    used: Vec<bool>,
    asked: Vec<&'static str>,
}

impl<'n> Fields<'n> {
    /// Opens a mapping. A null counts as an empty mapping (as the API reads
    /// it); any other type is an error and gives `None`.
    pub fn open(cx: &mut Cx<'_>, at: &At<'n>) -> Option<Self> {
        let entries: &[(Node, Node)] = match &at.node.value {
            Value::Map(entries) => entries,
            Value::Null => &[],
            _ => {
                cx.error(
                    at,
                    format!("expected a mapping, found {}", describe(at.node)),
                );
                return None;
            }
        };
        let used = vec![false; entries.len()];
        Some(Self {
            pos: at.node.pos,
            path: at.path.clone(),
            entries,
            used,
            asked: Vec::new(),
        })
    }

    /// The mapping's own location.
    pub fn at(&self) -> (Pos, &str) {
        (self.pos, &self.path)
    }

    /// The path of field `key` of this mapping.
    pub fn path_of(&self, key: &str) -> String {
        child_path(&self.path, key)
    }

    /// Field `key`, marked as read. A null value counts as absent.
    pub fn get(&mut self, key: &'static str) -> Option<At<'n>> {
        self.entry(key).filter(|at| at.node.value != Value::Null)
    }

    /// Field `key`, which must be present and not null (an error otherwise,
    /// located at this mapping).
    pub fn require(&mut self, cx: &mut Cx<'_>, key: &'static str) -> Option<At<'n>> {
        match self.entry(key) {
            Some(at) if at.node.value == Value::Null => {
                cx.error(&at, format!("required field \"{key}\" has no value"));
                None
            }
            Some(at) => Some(at),
            None => {
                let message = format!("missing required field \"{key}\"");
                cx.report(
                    crate::Severity::Error,
                    self.pos,
                    &self.path_of(key),
                    message,
                );
                None
            }
        }
    }

    /// Marks fields as known without decoding them.
    pub fn skip(&mut self, keys: &[&'static str]) {
        for key in keys {
            self.entry(key);
        }
    }

    /// Warns about field `key`, if present, with `message`: for a field
    /// that is valid elsewhere but not here (a better hint than "unknown").
    pub fn misplaced(&mut self, cx: &mut Cx<'_>, key: &str, message: &str) {
        if let Some(i) = self
            .entries
            .iter()
            .position(|(k, _)| k.as_str() == Some(key))
        {
            self.used[i] = true;
            cx.warn(&At::new(&self.entries[i].0, self.path_of(key)), message);
        }
    }

    fn entry(&mut self, key: &'static str) -> Option<At<'n>> {
        self.asked.push(key);
        let i = self
            .entries
            .iter()
            .position(|(k, _)| k.as_str() == Some(key))?;
        self.used[i] = true;
        Some(At::new(&self.entries[i].1, self.path_of(key)))
    }

    /// Warns about every field that was never asked for, suggesting the
    /// closest known name.
    pub fn finish(self, cx: &mut Cx<'_>) {
        for ((key, _), used) in self.entries.iter().zip(&self.used) {
            if !used {
                unknown_field(cx, &self.path, key, &self.asked);
            }
        }
    }
}

fn unknown_field(cx: &mut Cx<'_>, parent: &str, key: &Node, known: &[&str]) {
    let Some(name) = key.as_str() else {
        let at = At::new(key, parent);
        cx.warn(
            &at,
            format!(
                "unknown field: a key must be a field name, found {}",
                describe(key)
            ),
        );
        return;
    };
    let mut message = format!("unknown field {name:?}");
    if let Some(s) = closest(name, known) {
        message.push_str(&format!(" (did you mean {s:?}?)"));
    }
    cx.warn(&At::new(key, child_path(parent, name)), message);
}

#[cfg(test)]
mod tests;
