//! Diagnostics: what was wrong with the input, and exactly where.

use std::fmt;

use crate::yaml::Pos;

/// How bad a finding is. Errors reject the object they belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational, e.g. "skipped Service v1 ns/web".
    Notice,
    /// Accepted, but probably not what was meant (unknown field, host bits in a CIDR).
    Warning,
    /// Rejected, as the API server would reject it.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Notice => "notice",
            Self::Warning => "warning",
            Self::Error => "error",
        })
    }
}

/// One finding, located by file, line, column and field path.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The file name as given (`-` or `<stdin>` for standard input).
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// `Kind namespace/name` of the object, when known.
    pub object: Option<String>,
    /// The field path, e.g. `spec.ingress[0].from[1].ipBlock.cidr`; empty for the whole document.
    pub field: String,
    pub message: String,
}

impl Diagnostic {
    pub fn new(
        severity: Severity,
        file: &str,
        pos: Pos,
        field: &str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity,
            file: file.into(),
            line: pos.line,
            column: pos.col,
            object: None,
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// `file:line:col: error: NetworkPolicy ns/x: spec.ingress[0]...: message`
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: ",
            self.file, self.line, self.column, self.severity
        )?;
        if let Some(o) = &self.object {
            write!(f, "{o}: ")?;
        }
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}
