//! A finding: what is wrong, where, and how to fix it.

use std::fmt;

use palisade_model::{Namespace, NetworkPolicy, Source};
use serde::Serialize;

use crate::catalog::Check;

/// How much a finding matters. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; nothing is wrong with the traffic (e.g. a redundant policy).
    Info,
    /// Probably not what the author meant.
    Warning,
    /// Certainly broken. No check emits errors today: every object lint sees
    /// was accepted by validation, so its effect is well defined.
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }

    /// The SARIF `level`: `note`, `warning` or `error`.
    pub fn sarif_level(self) -> &'static str {
        match self {
            Self::Info => "note",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One lint finding, located by file, line (of the object: the model keeps
/// where each object starts) and field path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Finding {
    /// Stable code, e.g. `PL003`; see the table in the crate docs.
    pub code: &'static str,
    pub severity: Severity,
    /// The manifest file the object came from, if known.
    pub file: Option<String>,
    /// The line the object starts on, if known.
    pub line: Option<usize>,
    /// `NetworkPolicy ns/name` or `Namespace name`.
    pub object: String,
    /// Field path inside the object, e.g. `spec.ingress[0].from[1]`; empty for the whole object.
    pub field: String,
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

impl Finding {
    /// A finding of `check` on policy `p`, with the check's default hint.
    pub(crate) fn on_policy(
        check: &Check,
        p: &NetworkPolicy,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            object: format!("NetworkPolicy {}/{}", p.namespace, p.name),
            field: field.into(),
            ..Self::new(check, p.source.as_ref(), message)
        }
    }

    /// A finding of `check` on namespace `ns` (the whole object).
    pub(crate) fn on_namespace(check: &Check, ns: &Namespace, message: impl Into<String>) -> Self {
        Self {
            object: format!("Namespace {}", ns.name),
            ..Self::new(check, ns.source.as_ref(), message)
        }
    }

    fn new(check: &Check, source: Option<&Source>, message: impl Into<String>) -> Self {
        Self {
            code: check.code,
            severity: check.severity,
            file: source.map(|s| s.file.clone()),
            line: source.map(|s| s.line),
            object: String::new(),
            field: String::new(),
            message: message.into(),
            hint: check.hint.into(),
        }
    }

    /// Replaces the hint.
    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = hint.into();
        self
    }

    /// The sort key: file, line, code, then the rest so ties are stable.
    fn key(&self) -> impl Ord + '_ {
        (
            self.file.is_none(),
            &self.file,
            self.line,
            self.code,
            &self.object,
            &self.field,
            &self.message,
        )
    }
}

/// Sorts findings by file, line and code (files before findings without one).
pub(crate) fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| a.key().cmp(&b.key()));
}
