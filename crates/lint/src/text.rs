//! The human-readable report.

use std::fmt::Write;

use crate::finding::sort;
use crate::Finding;

/// Indent of hint continuation lines: the width of `  hint: `.
const HINT_INDENT: &str = "        ";

/// One finding per block, sorted by file, line and code:
///
/// ```text
/// np.yaml:3: warning[PL003]: NetworkPolicy ns/x: spec.ingress[0].from[0]: message
///   hint: how to fix it
/// ```
///
/// Without a file the location is left out; without a field, the field.
pub fn render_text(findings: &[Finding]) -> String {
    let mut sorted = findings.to_vec();
    sort(&mut sorted);
    let mut out = String::new();
    for f in &sorted {
        write_one(&mut out, f).expect("writing to a String cannot fail");
    }
    out
}

fn write_one(out: &mut String, f: &Finding) -> std::fmt::Result {
    match (&f.file, f.line) {
        (Some(file), Some(line)) => write!(out, "{file}:{line}: ")?,
        (Some(file), None) => write!(out, "{file}: ")?,
        (None, _) => {}
    }
    write!(out, "{}[{}]: {}: ", f.severity, f.code, f.object)?;
    if !f.field.is_empty() {
        write!(out, "{}: ", f.field)?;
    }
    writeln!(out, "{}", f.message)?;
    let mut lines = f.hint.lines();
    if let Some(first) = lines.next() {
        writeln!(out, "  hint: {first}")?;
    }
    for line in lines {
        writeln!(out, "{HINT_INDENT}{line}")?;
    }
    Ok(())
}
