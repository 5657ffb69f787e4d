//! Loading case files from disk, and printing results.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use palisade_manifest::yaml::Pos;
use palisade_manifest::{Diagnostic, Severity};

use crate::case::Case;
use crate::failure::CaseReport;
use crate::parse::parse_case;

/// Prints one line per case (`PASS 017-ingress-named-port`, or
/// `FAIL 036-... (path)` followed by its failures indented by four spaces),
/// then the summary line `N passed, M failed` that CI reads.
pub fn render(reports: &[CaseReport], out: &mut impl fmt::Write) -> fmt::Result {
    for report in reports {
        let label = Path::new(&report.file)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or(&report.name);
        if report.passed() {
            writeln!(out, "PASS {label}")?;
            continue;
        }
        writeln!(out, "FAIL {label} ({})", report.file)?;
        for failure in &report.failures {
            writeln!(out, "    {failure}")?;
        }
    }
    let passed = reports.iter().filter(|r| r.passed()).count();
    writeln!(out, "{passed} passed, {} failed", reports.len() - passed)
}

/// Reads the cases in `paths`: files as given, directories as all their
/// `*.yaml` / `*.yml` files in name order. Returns the cases that parsed,
/// and every diagnostic: errors of the files that did not, unreadable
/// paths, duplicate case names, and warnings of the cases that did.
pub fn load_cases(paths: &[PathBuf]) -> (Vec<Case>, Vec<Diagnostic>) {
    let mut cases = Vec::new();
    let mut diagnostics = Vec::new();
    for file in expand(paths, &mut diagnostics) {
        let name = file.display().to_string();
        match std::fs::read_to_string(&file) {
            Ok(text) => match parse_case(&name, &text) {
                Ok(case) => {
                    diagnostics.extend(case.warnings.iter().cloned());
                    cases.push(case);
                }
                Err(errors) => diagnostics.extend(errors),
            },
            Err(e) => diagnostics.push(io_error(&file, &e)),
        }
    }
    diagnostics.extend(duplicate_names(&cases));
    (cases, diagnostics)
}

fn io_error(path: &Path, e: &std::io::Error) -> Diagnostic {
    Diagnostic::new(
        Severity::Error,
        &path.display().to_string(),
        Pos::default(),
        "",
        format!("cannot read: {e}"),
    )
}

/// Directories become their case files, sorted; files stay as given.
fn expand(paths: &[PathBuf], diagnostics: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in paths {
        if !path.is_dir() {
            out.push(path.clone());
            continue;
        }
        match std::fs::read_dir(path) {
            Ok(entries) => {
                let mut files: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| is_case_file(p))
                    .collect();
                files.sort();
                out.extend(files);
            }
            Err(e) => diagnostics.push(io_error(path, &e)),
        }
    }
    out
}

fn is_case_file(path: &Path) -> bool {
    path.is_file()
        && matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        )
}

/// Case names are unique slugs: a second case with a name is an error.
fn duplicate_names(cases: &[Case]) -> Vec<Diagnostic> {
    let mut first: BTreeMap<&str, &str> = BTreeMap::new();
    let mut out = Vec::new();
    for case in cases {
        if let Some(other) = first.get(case.name.as_str()) {
            let message = format!("case name {:?} is also used by {other}", case.name);
            out.push(Diagnostic::new(
                Severity::Error,
                &case.file,
                Pos { line: 1, col: 1 },
                "name",
                message,
            ));
        } else {
            first.insert(&case.name, &case.file);
        }
    }
    out
}

#[cfg(test)]
mod tests;
