//! The decoding context: located nodes and the diagnostics sink.

use crate::diag::{Diagnostic, Severity};
use crate::yaml::{Node, Pos, Value};

/// A node together with its field path, e.g. `spec.ingress[0].from`.
#[derive(Debug, Clone)]
pub(crate) struct At<'n> {
    pub node: &'n Node,
    pub path: String,
}

impl<'n> At<'n> {
    pub fn new(node: &'n Node, path: impl Into<String>) -> Self {
        Self {
            node,
            path: path.into(),
        }
    }

    /// Item `i` of this (list) node's path.
    pub fn item(&self, node: &'n Node, i: usize) -> Self {
        Self::new(node, format!("{}[{i}]", self.path))
    }
}

/// `parent.key`, or `key` at the top.
pub(crate) fn child_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// Collects the diagnostics of one object (or of one document's framing).
#[derive(Debug)]
pub(crate) struct Cx<'f> {
    pub file: &'f str,
    pub diags: Vec<Diagnostic>,
    /// How many of `diags` are errors: kept, not counted, since decoders
    /// ask after every list item (counting would be quadratic).
    errors: usize,
}

impl<'f> Cx<'f> {
    pub fn new(file: &'f str) -> Self {
        Self {
            file,
            diags: Vec::new(),
            errors: 0,
        }
    }

    pub fn report(
        &mut self,
        severity: Severity,
        pos: Pos,
        field: &str,
        message: impl Into<String>,
    ) {
        self.errors += usize::from(severity == Severity::Error);
        self.diags
            .push(Diagnostic::new(severity, self.file, pos, field, message));
    }

    /// An error located at `at`'s node.
    pub fn error(&mut self, at: &At<'_>, message: impl Into<String>) {
        self.report(Severity::Error, at.node.pos, &at.path, message);
    }

    /// A warning located at `at`'s node.
    pub fn warn(&mut self, at: &At<'_>, message: impl Into<String>) {
        self.report(Severity::Warning, at.node.pos, &at.path, message);
    }

    pub fn has_errors(&self) -> bool {
        self.error_count() > 0
    }

    /// How many errors so far: compare before and after decoding a part.
    pub fn error_count(&self) -> usize {
        self.errors
    }
}

const MAX_SHOWN: usize = 40;

/// A node's type and, for scalars, its value: `integer 1`, `string "x"`, `mapping`.
pub(crate) fn describe(node: &Node) -> String {
    match &node.value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Int(i) => format!("integer {i}"),
        Value::Float(f) => format!("number {f:?}"),
        Value::Str(s) => format!("string {:?}", shorten(s)),
        Value::Seq(_) | Value::Map(_) => node.kind().into(),
    }
}

/// `s`, cut to a readable length for messages.
pub(crate) fn shorten(s: &str) -> String {
    match s.char_indices().nth(MAX_SHOWN) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}
