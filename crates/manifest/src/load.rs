//! Reading manifests from texts, files, directories and standard input.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::decode::decode_document;
use crate::diag::{Diagnostic, Severity};
use crate::loaded::Loaded;
use crate::yaml::{self, Node, Pos, Value, YamlError};

/// Extensions of the files a directory is searched for.
const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// Parses a whole YAML or JSON text (any number of documents) and decodes
/// every document. A syntax error becomes an error diagnostic with its line
/// and column; the documents around it (split at `---` lines) are still read.
/// Diagnostics come out in source order.
pub fn parse_str(file: &str, text: &str) -> Loaded {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Loaded::default();
    match yaml::parse(text) {
        Ok(docs) => out.merge(docs.iter().map(|d| decode_document(file, d))),
        Err(_) => parse_chunks(file, text, &mut out),
    }
    out.diagnostics.sort_by_key(|d| (d.line, d.column));
    out
}

/// After a syntax error: parses each `---`-separated document on its own,
/// so one malformed document does not hide the others.
fn parse_chunks(file: &str, text: &str, out: &mut Loaded) {
    for (first_line, chunk) in chunks(text) {
        match yaml::parse(&chunk) {
            Ok(mut docs) => {
                docs.iter_mut().for_each(|doc| shift(doc, first_line - 1));
                out.merge(docs.iter().map(|d| decode_document(file, d)));
            }
            Err(e) => out.diagnostics.push(syntax_error(file, &e, first_line - 1)),
        }
    }
}

/// The text split before every document marker line, with the 1-based line
/// each piece starts on.
fn chunks(text: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = vec![(1, String::new())];
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let marker = line
            .strip_prefix("---")
            .is_some_and(|rest| rest.trim().is_empty() || rest.starts_with([' ', '\t']));
        if marker && i > 0 {
            out.push((i + 1, String::new()));
        }
        if let Some((_, chunk)) = out.last_mut() {
            chunk.push_str(line);
        }
    }
    out
}

fn shift(node: &mut Node, lines: usize) {
    node.pos.line += lines;
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|n| shift(n, lines)),
        Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            shift(k, lines);
            shift(v, lines);
        }),
        _ => {}
    }
}

fn syntax_error(file: &str, e: &YamlError, lines: usize) -> Diagnostic {
    let pos = Pos {
        line: e.pos.line + lines,
        col: e.pos.col,
    };
    Diagnostic::new(
        Severity::Error,
        file,
        pos,
        "",
        format!("invalid YAML: {}", e.message),
    )
}

/// Loads files, directories and `-` (standard input, reported as file
/// `<stdin>`). Directories are searched recursively for `*.yaml`, `*.yml`
/// and `*.json`, in sorted path order; hidden entries (`.git`, `..data`)
/// and symlinked directories are skipped. An unreadable path is an error
/// diagnostic at line 0. The same object (kind + namespace/name) loaded
/// twice is an error on the later one; the first is kept.
pub fn load_paths<P: AsRef<Path>>(paths: &[P]) -> Loaded {
    let mut parts = Vec::new();
    for path in paths {
        load_path(path.as_ref(), &mut parts);
    }
    let mut out = Loaded::default();
    out.merge(parts);
    out
}

fn load_path(path: &Path, parts: &mut Vec<Loaded>) {
    if path == Path::new("-") {
        return parts.push(load_reader("<stdin>", std::io::stdin().lock()));
    }
    match fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            let mut files = Vec::new();
            let mut problems = Loaded::default();
            walk(path, &mut files, &mut problems);
            files.sort();
            parts.push(problems);
            parts.extend(files.iter().map(|f| load_file(f)));
        }
        Ok(_) => parts.push(load_file(path)),
        Err(e) => parts.push(error_only(io_error(path, &e))),
    }
}

/// Reads and decodes everything from `reader`, reported as file `name`.
pub(crate) fn load_reader(name: &str, mut reader: impl Read) -> Loaded {
    let mut bytes = Vec::new();
    if let Err(e) = reader.read_to_end(&mut bytes) {
        return error_only(io_error(Path::new(name), &e));
    }
    match String::from_utf8(bytes) {
        Ok(text) => parse_str(name, &text),
        Err(e) => {
            let message = format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            );
            error_only(Diagnostic::new(
                Severity::Error,
                name,
                Pos::default(),
                "",
                message,
            ))
        }
    }
}

fn load_file(path: &Path) -> Loaded {
    match fs::File::open(path) {
        Ok(f) => load_reader(&path.display().to_string(), f),
        Err(e) => error_only(io_error(path, &e)),
    }
}

/// Collects manifest files under `dir` (unsorted).
fn walk(dir: &Path, files: &mut Vec<PathBuf>, out: &mut Loaded) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return out.diagnostics.push(io_error(dir, &e)),
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => return out.diagnostics.push(io_error(dir, &e)),
        };
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        match entry.file_type() {
            Ok(t) if t.is_dir() => walk(&path, files, out),
            Ok(_) if is_manifest(&path) && path.is_file() => files.push(path),
            Ok(_) => {}
            Err(e) => out.diagnostics.push(io_error(&path, &e)),
        }
    }
}

fn is_manifest(path: &Path) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default();
    EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(ext))
}

fn io_error(path: &Path, e: &std::io::Error) -> Diagnostic {
    let file = path.display().to_string();
    Diagnostic::new(
        Severity::Error,
        &file,
        Pos::default(),
        "",
        format!("cannot read {file}: {e}"),
    )
}

fn error_only(d: Diagnostic) -> Loaded {
    Loaded {
        objects: Vec::new(),
        diagnostics: vec![d],
    }
}

#[cfg(test)]
mod tests;
