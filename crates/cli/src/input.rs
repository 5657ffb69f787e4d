//! Loading manifests and reporting their diagnostics on stderr.

use palisade_manifest::{load_paths, Loaded, Severity};

use crate::args::Input;

/// Loads every input and prints its diagnostics (errors, warnings, notices)
/// to stderr, one line each, with file:line:column.
pub fn load(input: &Input) -> Loaded {
    let loaded = load_paths(&input.files);
    print_diagnostics(&loaded);
    loaded
}

pub fn print_diagnostics(loaded: &Loaded) {
    for d in &loaded.diagnostics {
        eprintln!("{d}");
    }
    let errors = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    if errors > 0 {
        eprintln!(
            "palisade: {errors} error(s): the objects they name were rejected; the rest were used"
        );
    }
}
