//! The parsing context: the source text, and the findings collected so far.
//!
//! Helpers return `None` after recording an error, so a parse carries on and
//! reports every problem of a file at once.

use palisade_manifest::yaml::{Node, Pos, Value};
use palisade_manifest::{Diagnostic, Severity};

/// Plain scalars that YAML 1.1 readers (kubectl, via go-yaml) take for booleans.
const YAML11_BOOLS: [&str; 16] = [
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
    "OFF",
];

/// Joins a field path and a child: `steps[2]` + `expect` = `steps[2].expect`.
pub(crate) fn join(path: &str, child: &str) -> String {
    match (path.is_empty(), child.is_empty()) {
        (true, _) => child.to_string(),
        (_, true) => path.to_string(),
        _ => format!("{path}.{child}"),
    }
}

/// `path[i]`.
pub(crate) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// One case file being parsed.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub file: &'a str,
    /// The source, line by line (line `n` is `lines[n - 1]`).
    pub lines: Vec<&'a str>,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

impl<'a> Ctx<'a> {
    pub fn new(file: &'a str, text: &'a str) -> Self {
        Self {
            file,
            lines: text.lines().collect(),
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Records an error at `pos`; returns `None` for the caller to pass on.
    pub fn error<T>(&mut self, pos: Pos, field: &str, message: impl Into<String>) -> Option<T> {
        self.errors.push(Diagnostic::new(
            Severity::Error,
            self.file,
            pos,
            field,
            message,
        ));
        None
    }

    /// The value of `result`, or its error recorded at `pos`.
    pub fn check<T, E: std::fmt::Display>(
        &mut self,
        result: Result<T, E>,
        pos: Pos,
        field: &str,
    ) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) => self.error(pos, field, e.to_string()),
        }
    }

    /// Records a finding from another reader, its field path prefixed with `field`.
    pub fn pass_through(&mut self, mut d: Diagnostic, field: &str) {
        d.field = join(field, &d.field);
        if d.is_error() {
            self.errors.push(d);
        } else {
            self.warnings.push(d);
        }
    }

    /// The entries of a mapping whose keys must all be in `allowed`.
    pub fn mapping<'n>(
        &mut self,
        node: &'n Node,
        field: &str,
        allowed: &[&str],
    ) -> Option<&'n [(Node, Node)]> {
        let Value::Map(entries) = &node.value else {
            return self.error(
                node.pos,
                field,
                format!("expected a mapping, found {}", node.kind()),
            );
        };
        for (key, _) in entries {
            match key.as_str() {
                Some(k) if allowed.contains(&k) => {}
                Some(k) => {
                    let message = format!(
                        "unknown key {k:?} (expected one of: {})",
                        allowed.join(", ")
                    );
                    self.errors.push(Diagnostic::new(
                        Severity::Error,
                        self.file,
                        key.pos,
                        &join(field, k),
                        message,
                    ));
                }
                None => {
                    let message = format!("expected a string key, found {}", key.kind());
                    self.errors.push(Diagnostic::new(
                        Severity::Error,
                        self.file,
                        key.pos,
                        field,
                        message,
                    ));
                }
            }
        }
        Some(entries)
    }

    /// The value of `key` in `map`, or an error located at the mapping.
    pub fn required<'n>(&mut self, map: &'n Node, key: &str, field: &str) -> Option<&'n Node> {
        match map.get(key) {
            Some(v) => Some(v),
            None => self.error(map.pos, field, format!("missing required key {key:?}")),
        }
    }

    /// The items of a list.
    pub fn seq<'n>(&mut self, node: &'n Node, field: &str) -> Option<&'n [Node]> {
        match &node.value {
            Value::Seq(items) => Some(items),
            _ => self.error(
                node.pos,
                field,
                format!("expected a list, found {}", node.kind()),
            ),
        }
    }

    /// A string value. Warns about unquoted strings that YAML 1.1 readers
    /// take for booleans (`y`, `no`, ...), as the manifest reader does.
    pub fn string(&mut self, node: &Node, field: &str) -> Option<String> {
        let Some(s) = node.as_str() else {
            return self.error(
                node.pos,
                field,
                format!("expected a string, found {}", node.kind()),
            );
        };
        if node.plain && YAML11_BOOLS.contains(&s) {
            let message = format!("YAML 1.1 readers take unquoted '{s}' for a boolean; quote it");
            let d = Diagnostic::new(Severity::Warning, self.file, node.pos, field, message);
            self.warnings.push(d);
        }
        Some(s.to_string())
    }

    /// A boolean value.
    pub fn boolean(&mut self, node: &Node, field: &str) -> Option<bool> {
        match node.value {
            Value::Bool(b) => Some(b),
            _ => self.error(
                node.pos,
                field,
                format!("expected true or false, found {}", node.kind()),
            ),
        }
    }
}
