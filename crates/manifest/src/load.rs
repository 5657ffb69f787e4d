//! Reading manifests from texts, files, directories and standard input.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::decode::decode_document;
use crate::diag::{Diagnostic, Severity};
use crate::loaded::Loaded;
use crate::parallel;
use crate::yaml::{self, Node, Pos, Value, YamlError};

/// Extensions of the files a directory is searched for.
const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// Parses a whole YAML or JSON text (any number of documents) and decodes
/// every document. A syntax error becomes an error diagnostic with its line
/// and column; the documents around it (split at `---` lines) are still read.
/// Diagnostics come out in source order. Large texts are read on several
/// threads, a run of documents each; the result is the same.
pub fn parse_str(file: &str, text: &str) -> Loaded {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let pieces = pieces(text, piece_target(text.len()));
    file_loaded(parallel::map(&pieces, |&(line, piece)| {
        parse_piece(file, piece, line)
    }))
}

/// Below this size a text is one piece: threads would cost more than they
/// save.
const PARALLEL_MIN: usize = 64 * 1024;

/// The size to aim at when cutting texts of `total` bytes into pieces:
/// a few pieces per thread, so that threads finish together.
fn piece_target(total: usize) -> usize {
    let threads = parallel::threads();
    if threads <= 1 {
        return usize::MAX;
    }
    (total / (threads * 4)).max(PARALLEL_MIN / 2)
}

/// One file's pieces, merged: objects in order, duplicates reported,
/// diagnostics in source order.
fn file_loaded(pieces: Vec<Loaded>) -> Loaded {
    let mut out = Loaded::default();
    out.merge(pieces);
    out.diagnostics.sort_by_key(|d| (d.line, d.column));
    out
}

/// Parses and decodes `text`, a run of whole documents starting on line
/// `first_line` of `file`.
fn parse_piece(file: &str, text: &str, first_line: usize) -> Loaded {
    let mut out = Loaded::default();
    match yaml::parse(text) {
        Ok(mut docs) => {
            if first_line > 1 {
                docs.iter_mut().for_each(|doc| shift(doc, first_line - 1));
            }
            out.merge(docs.iter().map(|d| decode_document(file, d)));
        }
        Err(_) => parse_chunks(file, text, first_line, &mut out),
    }
    out
}

/// After a syntax error: parses each `---`-separated document on its own,
/// so one malformed document does not hide the others.
fn parse_chunks(file: &str, text: &str, first_line: usize, out: &mut Loaded) {
    for (line, chunk) in chunks(text) {
        let line = first_line + line - 1;
        match yaml::parse(chunk) {
            Ok(mut docs) => {
                docs.iter_mut().for_each(|doc| shift(doc, line - 1));
                out.merge(docs.iter().map(|d| decode_document(file, d)));
            }
            Err(e) => out.diagnostics.push(syntax_error(file, &e, line - 1)),
        }
    }
}

/// The text split before every document marker line, with the 1-based line
/// each piece starts on.
fn chunks(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let (mut start, mut start_line, mut at) = (0, 1, 0);
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if i > 0 && is_marker(line) {
            out.push((start_line, &text[start..at]));
            (start, start_line) = (at, i + 1);
        }
        at += line.len();
    }
    out.push((start_line, &text[start..]));
    out
}

/// `---` alone or followed by a blank: a document start. YAML forbids such
/// a line inside any scalar, so a text can always be cut before one.
fn is_marker(line: &str) -> bool {
    line.strip_prefix("---")
        .is_some_and(|rest| rest.trim().is_empty() || rest.starts_with([' ', '\t']))
}

/// `text` cut into runs of whole documents of about `target` bytes, each
/// with its first line. Texts with directives (`%YAML`, `%TAG`: they apply
/// to the document after them) stay whole.
fn pieces(text: &str, target: usize) -> Vec<(usize, &str)> {
    let directives = text.starts_with('%') || text.contains("\n%");
    if text.len() < PARALLEL_MIN || directives {
        return vec![(1, text)];
    }
    let mut out: Vec<(usize, &str)> = Vec::new();
    let (mut start, mut start_line) = (0, 1);
    for (line, chunk) in chunks(text) {
        let at = chunk.as_ptr() as usize - text.as_ptr() as usize;
        if at - start >= target {
            out.push((start_line, &text[start..at]));
            (start, start_line) = (at, line);
        }
    }
    out.push((start_line, &text[start..]));
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
    let mut inputs = Vec::new();
    for path in paths {
        load_path(path.as_ref(), &mut inputs);
    }
    // Every text cut into pieces, all pieces parsed in parallel, then put
    // back together file by file, in order.
    let total = inputs.iter().map(Input::len).sum();
    let target = piece_target(total);
    let mut work = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        if let Input::Text(name, text) = input {
            let text = text.strip_prefix('\u{feff}').unwrap_or(text);
            let mine = pieces(text, target).into_iter();
            work.extend(mine.map(|(line, p)| (i, name.as_str(), line, p)));
        }
    }
    let parsed = parallel::map(&work, |&(_, name, line, piece)| {
        parse_piece(name, piece, line)
    });
    let owners: Vec<usize> = work.iter().map(|p| p.0).collect();
    drop(work);
    let mut parsed = owners.into_iter().zip(parsed).peekable();
    let mut parts = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.into_iter().enumerate() {
        match input {
            Input::Loaded(l) => parts.push(l),
            Input::Text(..) => {
                let mut mine = Vec::new();
                while let Some((_, l)) = parsed.next_if(|(at, _)| *at == i) {
                    mine.push(l);
                }
                parts.push(file_loaded(mine));
            }
        }
    }
    let mut out = Loaded::default();
    out.merge(parts);
    out
}

/// A path's contribution before parsing: a text, or what went wrong.
enum Input {
    Text(String, String),
    Loaded(Loaded),
}

impl Input {
    fn len(&self) -> usize {
        match self {
            Input::Text(_, text) => text.len(),
            Input::Loaded(_) => 0,
        }
    }
}

fn load_path(path: &Path, inputs: &mut Vec<Input>) {
    if path == Path::new("-") {
        return inputs.push(read_input("<stdin>", std::io::stdin().lock()));
    }
    match fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            let mut files = Vec::new();
            let mut problems = Loaded::default();
            walk(path, &mut files, &mut problems);
            files.sort();
            inputs.push(Input::Loaded(problems));
            inputs.extend(files.iter().map(|f| read_file(f)));
        }
        Ok(_) => inputs.push(read_file(path)),
        Err(e) => inputs.push(Input::Loaded(error_only(io_error(path, &e)))),
    }
}

/// Reads and decodes everything from `reader`, reported as file `name`.
#[cfg(test)]
pub(crate) fn load_reader(name: &str, reader: impl Read) -> Loaded {
    match read_input(name, reader) {
        Input::Text(name, text) => parse_str(&name, &text),
        Input::Loaded(l) => l,
    }
}

/// Reads all of `reader` as UTF-8 text, reported as file `name`.
fn read_input(name: &str, mut reader: impl Read) -> Input {
    let mut bytes = Vec::new();
    if let Err(e) = reader.read_to_end(&mut bytes) {
        return Input::Loaded(error_only(io_error(Path::new(name), &e)));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Input::Text(name.to_string(), text),
        Err(e) => {
            let message = format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            );
            Input::Loaded(error_only(Diagnostic::new(
                Severity::Error,
                name,
                Pos::default(),
                "",
                message,
            )))
        }
    }
}

fn read_file(path: &Path) -> Input {
    match fs::File::open(path) {
        Ok(f) => read_input(&path.display().to_string(), f),
        Err(e) => Input::Loaded(error_only(io_error(path, &e))),
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
