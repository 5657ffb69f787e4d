//! Reading manifests from texts, files, directories and standard input.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::decode::decode_document;
use crate::diag::{Diagnostic, Severity};
use crate::loaded::Loaded;
use crate::parallel;
use crate::yaml::{self, Limits, Pos, YamlError};

/// Extensions of the files a directory is searched for.
const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// Parses a whole YAML or JSON text (any number of documents) and decodes
/// every document. A syntax error becomes an error diagnostic with its line
/// and column; the documents around it (split at `---` lines) are still read.
/// Diagnostics come out in source order. Large texts are read on several
/// threads, a run of documents each; the result is the same. The limits in
/// force ([`yaml::limits`]) apply.
pub fn parse_str(file: &str, text: &str) -> Loaded {
    parse_str_with(file, text, &yaml::limits())
}

/// [`parse_str`] with the given limits.
pub fn parse_str_with(file: &str, text: &str, limits: &Limits) -> Loaded {
    if text.len() > limits.input_bytes {
        return error_only(limit_error(file, &limits.too_large(text.as_bytes())));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let pieces = pieces(text, piece_target(text.len()));
    file_loaded(parallel::map(&pieces, |&(line, piece)| {
        parse_piece(file, piece, line, limits)
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
/// `first_line` of `file`. Each document is decoded as soon as it is read,
/// and its nodes freed.
fn parse_piece(file: &str, text: &str, first_line: usize, limits: &Limits) -> Loaded {
    let mut out = Loaded::default();
    let mut parts = Vec::new();
    let decode = |doc: yaml::Node| parts.push(decode_document(file, &doc));
    match yaml::parse_each(text, limits, first_line, decode) {
        Ok(()) => out.merge(parts),
        Err(_) => parse_chunks(file, text, first_line, limits, &mut out),
    }
    out
}

/// After a syntax error: parses each `---`-separated document on its own,
/// so one malformed document does not hide the others.
fn parse_chunks(file: &str, text: &str, first_line: usize, limits: &Limits, out: &mut Loaded) {
    for (line, chunk) in chunks(text) {
        let line = first_line + line - 1;
        let mut parts = Vec::new();
        let decode = |doc: yaml::Node| parts.push(decode_document(file, &doc));
        match yaml::parse_each(chunk, limits, line, decode) {
            Ok(()) => out.merge(parts),
            Err(e) => out.diagnostics.push(syntax_error(file, &e)),
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

/// An input over the size limit: not read, so not "invalid YAML".
fn limit_error(file: &str, e: &YamlError) -> Diagnostic {
    Diagnostic::new(Severity::Error, file, e.pos, "", e.message.clone())
}

fn syntax_error(file: &str, e: &YamlError) -> Diagnostic {
    Diagnostic::new(
        Severity::Error,
        file,
        e.pos,
        "",
        format!("invalid YAML: {}", e.message),
    )
}

/// Loads files, directories and `-` (standard input, reported as file
/// `<stdin>`). Directories are searched recursively for `*.yaml`, `*.yml`
/// and `*.json`, in sorted path order; hidden entries (`.git`, `..data`)
/// and symlinked directories are skipped. An unreadable path is an error
/// diagnostic at line 0. The same object (kind + namespace/name) loaded
/// twice is an error on the later one; the first is kept. The limits in
/// force ([`yaml::limits`]) apply to each file.
pub fn load_paths<P: AsRef<Path>>(paths: &[P]) -> Loaded {
    load_paths_with(paths, &yaml::limits())
}

/// [`load_paths`] with the given limits.
pub fn load_paths_with<P: AsRef<Path>>(paths: &[P], limits: &Limits) -> Loaded {
    let mut inputs = Vec::new();
    for path in paths {
        load_path(path.as_ref(), limits, &mut inputs);
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
        parse_piece(name, piece, line, limits)
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

fn load_path(path: &Path, limits: &Limits, inputs: &mut Vec<Input>) {
    if path == Path::new("-") {
        let stdin = std::io::stdin().lock();
        return inputs.push(read_input("<stdin>", stdin, 0, limits));
    }
    match fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            let mut files = Vec::new();
            let mut problems = Loaded::default();
            walk(path, &mut files, &mut problems);
            files.sort();
            inputs.push(Input::Loaded(problems));
            inputs.extend(files.iter().map(|f| read_file(f, limits)));
        }
        Ok(_) => inputs.push(read_file(path, limits)),
        Err(e) => inputs.push(Input::Loaded(error_only(io_error(path, &e)))),
    }
}

/// Reads and decodes everything from `reader`, reported as file `name`.
#[cfg(test)]
pub(crate) fn load_reader(name: &str, reader: impl Read, limits: &Limits) -> Loaded {
    match read_input(name, reader, 0, limits) {
        Input::Text(name, text) => parse_str_with(&name, &text, limits),
        Input::Loaded(l) => l,
    }
}

/// Reads `reader` as UTF-8 text, reported as file `name`: at most
/// `limits.input_bytes` bytes (a longer input is an error where the limit
/// was reached, and is not read further). `size` is the expected size, if
/// known.
fn read_input(name: &str, reader: impl Read, size: u64, limits: &Limits) -> Input {
    let cap = limits.input_bytes.saturating_add(1);
    let expected = usize::try_from(size).unwrap_or(usize::MAX).min(cap);
    let mut bytes = Vec::with_capacity(expected.saturating_add(1));
    let limit = u64::try_from(cap).unwrap_or(u64::MAX);
    if let Err(e) = reader.take(limit).read_to_end(&mut bytes) {
        return Input::Loaded(error_only(io_error(Path::new(name), &e)));
    }
    if bytes.len() > limits.input_bytes {
        return Input::Loaded(error_only(limit_error(name, &limits.too_large(&bytes))));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Input::Text(name.to_string(), text),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let bytes = e.as_bytes();
            let message = format!(
                "not UTF-8 text (invalid byte 0x{:02x} at offset {at})",
                bytes[at]
            );
            Input::Loaded(error_only(Diagnostic::new(
                Severity::Error,
                name,
                yaml::pos_at(bytes, at),
                "",
                message,
            )))
        }
    }
}

fn read_file(path: &Path, limits: &Limits) -> Input {
    let name = path.display().to_string();
    match fs::File::open(path) {
        Ok(f) => {
            let size = f.metadata().map_or(0, |m| m.len());
            read_input(&name, f, size, limits)
        }
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
