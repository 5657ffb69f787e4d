//! Helpers for decoding tests: parse a text, find a diagnostic by field.

use crate::diag::{Diagnostic, Severity};
use crate::load::parse_str;
use crate::loaded::Loaded;
use crate::object::Object;

/// Decodes `text` as file `t.yaml`.
pub(crate) fn load(text: &str) -> Loaded {
    parse_str("t.yaml", text)
}

/// The only diagnostic on `field`; panics listing all of them otherwise.
pub(crate) fn diag<'a>(loaded: &'a Loaded, field: &str) -> &'a Diagnostic {
    let found: Vec<&Diagnostic> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.field == field)
        .collect();
    match found.as_slice() {
        [d] => d,
        _ => panic!(
            "expected one diagnostic on {field:?}, got:\n{}",
            listing(loaded)
        ),
    }
}

/// Asserts the diagnostic on `field` has this severity, line and message fragment.
pub(crate) fn expect(
    loaded: &Loaded,
    field: &str,
    severity: Severity,
    line: usize,
    fragment: &str,
) {
    let d = diag(loaded, field);
    assert_eq!((d.severity, d.line), (severity, line), "{d}");
    assert!(d.message.contains(fragment), "{d:?} lacks {fragment:?}");
}

/// Asserts there is no diagnostic at all.
pub(crate) fn clean(loaded: &Loaded) {
    assert!(
        loaded.diagnostics.is_empty(),
        "unexpected diagnostics:\n{}",
        listing(loaded)
    );
}

/// The only object, which must have been accepted.
pub(crate) fn only(loaded: &Loaded) -> &Object {
    match loaded.objects.as_slice() {
        [o] => o,
        _ => panic!(
            "expected one object, got {}:\n{}",
            loaded.objects.len(),
            listing(loaded)
        ),
    }
}

fn listing(loaded: &Loaded) -> String {
    loaded
        .diagnostics
        .iter()
        .map(|d| format!("  {d}\n"))
        .collect()
}

/// A NetworkPolicy document `ns-1/np` with `spec` (indented by 2) appended.
pub(crate) fn policy(spec: &str) -> String {
    format!("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: np\n  namespace: ns-1\nspec:\n{spec}")
}

/// A Pod document `ns-1/p` with `rest` (top-level fields) appended.
pub(crate) fn pod(rest: &str) -> String {
    format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: ns-1\n{rest}")
}
