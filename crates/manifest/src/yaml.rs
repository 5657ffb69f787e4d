//! A YAML 1.2 reader that keeps the position of every node.
//!
//! JSON is YAML 1.2, so `.json` files go through the same reader. Built on
//! `saphyr-parser`'s event stream; scalars are resolved with the core schema.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::RwLock;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};

/// A 1-based line and column in a source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// A node's value. Mappings keep their source order.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// A value with the position where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
    /// For strings: written as a plain (unquoted) scalar. Lets callers warn
    /// about `yes`/`no`/`y`/`n`, which YAML 1.1 readers such as kubectl take
    /// for booleans.
    pub plain: bool,
}

impl Node {
    /// A short name of the node's type, for "expected X, found Y" messages.
    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::Seq(_) => "list",
            Value::Map(_) => "mapping",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value of key `key` in a mapping node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
}

/// A syntax error, or a limit of [`Limits`] reached, with its position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pos}: {message}")]
pub struct YamlError {
    pub pos: Pos,
    pub message: String,
}

/// What the reader accepts, so that no input can take unbounded memory,
/// time or stack. Reaching a limit is an error located where it was
/// reached, naming the limit; [`Limits::parse`] reads the `name=value`
/// settings that raise them (the CLI reads them from [`Limits::ENV`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `input`: bytes in one input (a file, standard input, one text).
    pub input_bytes: usize,
    /// `depth`: sequences and mappings nested in one another.
    pub depth: usize,
    /// `alias-nodes`: nodes copied by anchors and aliases in one document
    /// (the reader keeps a copy of each anchored node for its aliases, and
    /// each alias copies it again: `&a {k: v}` and one `*a` copy 6 nodes).
    pub alias_nodes: usize,
    /// `keys`: keys in one mapping, merged keys included.
    pub keys: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl Limits {
    /// 256 MiB per input, depth 256, 1,000,000 nodes copied by aliases
    /// per document, 1,000,000 keys per mapping.
    pub const DEFAULT: Limits = Limits {
        input_bytes: 256 << 20,
        depth: 256,
        alias_nodes: 1_000_000,
        keys: 1_000_000,
    };

    /// The highest `depth` that can be set: values are dropped and compared
    /// recursively, and this depth stays well within a thread's stack.
    pub const MAX_DEPTH: usize = 1024;

    /// The environment variable the CLI reads limits from.
    pub const ENV: &'static str = "PALISADE_MANIFEST_LIMITS";

    /// The defaults with the settings of `spec` applied: comma-separated
    /// `name=value`, names `input`, `depth`, `alias-nodes`, `keys`; values
    /// are counts, with an optional `K`, `M` or `G` (powers of 1024 for
    /// `input`, of 1000 otherwise). Example: `input=1G,depth=500`.
    pub fn parse(spec: &str) -> Result<Limits, String> {
        let mut limits = Limits::DEFAULT;
        for setting in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let Some((name, value)) = setting.split_once('=') else {
                return Err(format!("{setting:?}: expected name=value"));
            };
            let (name, value) = (name.trim(), value.trim());
            let binary = name == "input";
            let n = count(value, binary).ok_or_else(|| {
                format!("{setting:?}: {value:?} is not a count (e.g. 500, 64K, 2M)")
            })?;
            let slot = match name {
                "input" => &mut limits.input_bytes,
                "depth" => &mut limits.depth,
                "alias-nodes" => &mut limits.alias_nodes,
                "keys" => &mut limits.keys,
                _ => {
                    return Err(format!(
                    "{setting:?}: unknown limit {name:?} (known: input, depth, alias-nodes, keys)"
                ))
                }
            };
            *slot = n;
        }
        if limits.depth > Self::MAX_DEPTH {
            return Err(format!(
                "depth={}: at most {}",
                limits.depth,
                Self::MAX_DEPTH
            ));
        }
        Ok(limits)
    }

    /// The limits set in [`Limits::ENV`] (the defaults when it is unset).
    pub fn from_env() -> Result<Limits, String> {
        match std::env::var(Self::ENV) {
            Ok(spec) => Self::parse(&spec).map_err(|e| format!("{}: {e}", Self::ENV)),
            Err(std::env::VarError::NotPresent) => Ok(Self::DEFAULT),
            Err(e) => Err(format!("{}: {e}", Self::ENV)),
        }
    }

    /// The error for limit `name` (set to `value`) reached at `pos`.
    pub(crate) fn error(pos: Pos, what: impl fmt::Display, name: &str, value: usize) -> YamlError {
        YamlError {
            pos,
            message: format!(
                "{what} (limit {name}={value}; raise it with {}={name}=N)",
                Self::ENV
            ),
        }
    }

    /// The error for an input longer than `input_bytes`; `text` holds at
    /// least the first `input_bytes` bytes.
    pub(crate) fn too_large(&self, text: &[u8]) -> YamlError {
        let what = format!("input larger than {} bytes", self.input_bytes);
        Self::error(
            pos_at(text, self.input_bytes),
            what,
            "input",
            self.input_bytes,
        )
    }
}

/// `value` as a count: digits with an optional K, M or G.
fn count(value: &str, binary: bool) -> Option<usize> {
    let unit: usize = if binary { 1024 } else { 1000 };
    let (digits, scale) = match value.as_bytes().last()?.to_ascii_uppercase() {
        b'K' => (&value[..value.len() - 1], unit),
        b'M' => (&value[..value.len() - 1], unit * unit),
        b'G' => (&value[..value.len() - 1], unit * unit * unit),
        _ => (value, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<usize>().ok()?.checked_mul(scale)
}

static LIMITS: RwLock<Limits> = RwLock::new(Limits::DEFAULT);

/// Sets the limits that [`parse`], [`crate::parse_str`] and
/// [`crate::load_paths`] apply from now on, in this process.
pub fn set_limits(limits: Limits) {
    *LIMITS.write().unwrap_or_else(|e| e.into_inner()) = limits;
}

/// The limits in force (see [`set_limits`]).
pub fn limits() -> Limits {
    *LIMITS.read().unwrap_or_else(|e| e.into_inner())
}

/// The line and column of byte `offset` of `text` (the end when past it);
/// the column counts characters, as the parser's positions do.
pub(crate) fn pos_at(text: &[u8], offset: usize) -> Pos {
    let before = &text[..offset.min(text.len())];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    // Characters, not bytes: every byte but UTF-8 continuation bytes.
    let col = 1 + before[line_start..]
        .iter()
        .filter(|&&b| b & 0xC0 != 0x80)
        .count();
    Pos { line, col }
}

/// The position just past the last character of `text`, with lines
/// counted as YAML counts them (`\r\n`, `\r` or `\n` ends a line).
fn end_pos(text: &str) -> Pos {
    let mut pos = Pos { line: 1, col: 1 };
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            chars.next_if_eq(&'\n');
        }
        if c == '\n' || c == '\r' {
            pos = Pos {
                line: pos.line + 1,
                col: 1,
            };
        } else {
            pos.col += 1;
        }
    }
    pos
}

fn pos_of(span: &Span) -> Pos {
    Pos {
        line: span.start.line(),
        col: span.start.col() + 1,
    }
}

/// Parses every document of a YAML (or JSON) stream, with the limits in
/// force ([`limits`]). Empty documents are skipped.
pub fn parse(text: &str) -> Result<Vec<Node>, YamlError> {
    parse_with(text, &limits())
}

/// [`parse`] with the given limits.
pub fn parse_with(text: &str, limits: &Limits) -> Result<Vec<Node>, YamlError> {
    if text.len() > limits.input_bytes {
        return Err(limits.too_large(text.as_bytes()));
    }
    let mut docs = Vec::new();
    parse_each(text, limits, 1, |doc| docs.push(doc))?;
    Ok(docs)
}

/// Parses `text`, which starts on line `first_line` of its file, handing
/// each non-empty document to `sink` as soon as it is complete (so one
/// document's nodes are freed before the next is read). Positions, errors'
/// included, are lines of the file. The input size is not checked here.
pub(crate) fn parse_each(
    text: &str,
    limits: &Limits,
    first_line: usize,
    mut sink: impl FnMut(Node),
) -> Result<(), YamlError> {
    if text.trim_start_matches([' ', '\t']).starts_with(['{', '[']) {
        // A flow collection that starts a document in block context could
        // be a key (`{a: 1}: b`), and the parser keeps every token of it
        // until it is closed: a JSON document is tokenized whole before
        // its first event (most of the memory it took, 17-35 × the text).
        // After `--- ` on the same line it cannot be a key, so tokens are
        // handed on as they come. Should the parser reject the text so
        // read before any document, it is read again as it is.
        let mut emitted = false;
        let chars = PREFIX.chars().chain(text.chars());
        let parser = Parser::new_from_iter(chars);
        let prefixed = run(parser, text, limits, first_line, PREFIX.len(), |doc| {
            emitted = true;
            sink(doc);
        });
        match prefixed {
            Err(Failure::Syntax(_)) if !emitted => {}
            done => return done.map_err(Failure::into_error),
        }
    }
    let parser = Parser::new_from_str(text);
    run(parser, text, limits, first_line, 0, sink).map_err(Failure::into_error)
}

/// Why [`run`] stopped: the parser rejected the text, or the builder did
/// (a limit, a duplicate key...).
enum Failure {
    Syntax(YamlError),
    Content(YamlError),
}

impl Failure {
    fn into_error(self) -> YamlError {
        match self {
            Failure::Syntax(e) | Failure::Content(e) => e,
        }
    }
}

const PREFIX: &str = "--- ";

/// Reads `parser`'s events (from `text`, after `skip` characters put
/// before it on its first line) into documents.
fn run<'a, I: saphyr_parser::Input>(
    parser: Parser<'a, I>,
    text: &str,
    limits: &Limits,
    first_line: usize,
    skip: usize,
    sink: impl FnMut(Node),
) -> Result<(), Failure> {
    let lines = first_line.saturating_sub(1);
    let shifted = |pos: Pos| Pos {
        line: pos.line + lines,
        col: if pos.line == 1 {
            pos.col.saturating_sub(skip).max(1)
        } else {
            pos.col
        },
    };
    // At the end of the input the parser can point one line past the
    // last (an error, or an empty scalar there): point at the end instead.
    let mut end = end_pos(text);
    if end.line == 1 {
        end.col += skip;
    }
    let mut builder = Builder::new(*limits, sink);
    for event in parser {
        let (event, span) = event.map_err(|e| {
            let pos = Pos {
                line: e.marker().line(),
                col: e.marker().col() + 1,
            };
            Failure::Syntax(YamlError {
                pos: shifted(pos.min(end)),
                message: e.info().to_string(),
            })
        })?;
        builder
            .event(event, shifted(pos_of(&span).min(end)))
            .map_err(Failure::Content)?;
    }
    Ok(())
}

/// A sequence or mapping being read.
struct Frame {
    node: Node,
    anchor: usize,
    /// Nodes in it so far, itself included (what an alias of it copies).
    nodes: usize,
    /// Collections nested in it so far, itself included.
    height: usize,
    /// A mapping's key waiting for its value, and whether it is `<<`.
    key: Option<(Node, bool)>,
    /// The indexes of a mapping's `<<` entries.
    merges: Vec<usize>,
    /// A mapping's keys, once it has a few (see [`KeyIndex`]).
    index: Option<KeyIndex>,
}

struct Builder<F> {
    sink: F,
    limits: Limits,
    stack: Vec<Frame>,
    /// Anchored nodes of the current document, with their node counts
    /// and heights.
    anchors: HashMap<usize, (Node, usize, usize)>,
    /// Nodes copied by aliases in the current document.
    copied: usize,
    hasher: RandomState,
}

/// Mappings with fewer keys are searched for duplicates linearly.
const INDEX_FROM: usize = 8;

impl<F: FnMut(Node)> Builder<F> {
    fn new(limits: Limits, sink: F) -> Self {
        Self {
            sink,
            limits,
            stack: Vec::new(),
            anchors: HashMap::new(),
            copied: 0,
            hasher: RandomState::new(),
        }
    }

    fn event(&mut self, event: Event<'_>, pos: Pos) -> Result<(), YamlError> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                // `<<` as a plain, untagged key: a YAML 1.1 merge key, which
                // kubectl's reader expands.
                let merge = text == "<<" && matches!(style, ScalarStyle::Plain) && tag.is_none();
                let node = scalar(&text, style, tag.as_deref(), pos)?;
                self.push(node, 1, 0, anchor, merge)
            }
            Event::SequenceStart(anchor, _) => self.open(Value::Seq(Vec::new()), anchor, pos),
            Event::MappingStart(anchor, _) => self.open(Value::Map(Vec::new()), anchor, pos),
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(frame) if frame.key.is_none() => {
                    let (node, nodes, height, anchor) = self.close(frame)?;
                    self.push(node, nodes, height, anchor, false)
                }
                _ => Err(YamlError {
                    pos,
                    message: "unbalanced collection".into(),
                }),
            },
            Event::Alias(id) => {
                let Some(&(_, nodes, height)) = self.anchors.get(&id) else {
                    return Err(YamlError {
                        pos,
                        message: "alias to an unknown anchor".into(),
                    });
                };
                // A copy lands deeper than its anchor may have been.
                let depth = self.limits.depth;
                if self.stack.len() + height > depth {
                    let what = format!(
                        "sequences and mappings nested more than {depth} deep (through this alias)"
                    );
                    return Err(Limits::error(pos, what, "depth", depth));
                }
                self.copy(nodes, pos)?;
                let node = self.anchors[&id].0.clone();
                self.push(node, nodes, height, 0, false)
            }
            Event::DocumentStart(_) => {
                self.anchors.clear();
                self.copied = 0;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn open(&mut self, value: Value, anchor: usize, pos: Pos) -> Result<(), YamlError> {
        let depth = self.limits.depth;
        if self.stack.len() >= depth {
            let what = format!("sequences and mappings nested more than {depth} deep");
            return Err(Limits::error(pos, what, "depth", depth));
        }
        self.stack.push(Frame {
            node: node(value, pos),
            anchor,
            nodes: 1,
            height: 1,
            key: None,
            merges: Vec::new(),
            index: None,
        });
        Ok(())
    }

    /// A finished collection: merge keys expanded, spare capacity freed.
    fn close(&mut self, frame: Frame) -> Result<(Node, usize, usize, usize), YamlError> {
        let Frame {
            mut node,
            anchor,
            nodes,
            height,
            merges,
            ..
        } = frame;
        match &mut node.value {
            Value::Map(entries) => {
                if !merges.is_empty() {
                    let explicit = std::mem::take(entries);
                    *entries = merged(explicit, &merges, &self.hasher)?;
                    let keys = self.limits.keys;
                    if entries.len() > keys {
                        let what =
                            format!("a mapping with more than {keys} keys (merged keys included)");
                        return Err(Limits::error(node.pos, what, "keys", keys));
                    }
                }
                entries.shrink_to_fit();
            }
            Value::Seq(items) => items.shrink_to_fit(),
            _ => {}
        }
        Ok((node, nodes, height, anchor))
    }

    /// Counts `nodes` copied (by an alias, or kept for an anchor) at `pos`.
    fn copy(&mut self, nodes: usize, pos: Pos) -> Result<(), YamlError> {
        let limit = self.limits.alias_nodes;
        self.copied = self.copied.saturating_add(nodes);
        if self.copied > limit {
            let what = format!("anchors and aliases copy more than {limit} nodes in this document");
            return Err(Limits::error(pos, what, "alias-nodes", limit));
        }
        Ok(())
    }

    fn push(
        &mut self,
        n: Node,
        nodes: usize,
        height: usize,
        anchor: usize,
        merge: bool,
    ) -> Result<(), YamlError> {
        if anchor != 0 {
            // The anchored node is kept (copied) for its aliases: counted,
            // so that nested anchors cannot copy a large node many times.
            self.copy(nodes, n.pos)?;
            self.anchors.insert(anchor, (n.clone(), nodes, height));
        }
        let Some(frame) = self.stack.last_mut() else {
            if n.value != Value::Null {
                (self.sink)(n);
            }
            return Ok(());
        };
        frame.nodes = frame.nodes.saturating_add(nodes);
        frame.height = frame.height.max(height + 1);
        match &mut frame.node.value {
            Value::Seq(items) => items.push(n),
            Value::Map(entries) => match frame.key.take() {
                None => frame.key = Some((n, merge)),
                Some((key, is_merge)) => {
                    let keys = self.limits.keys;
                    if entries.len() >= keys {
                        let what = format!("a mapping with more than {keys} keys");
                        return Err(Limits::error(key.pos, what, "keys", keys));
                    }
                    let hash = key_hash(&self.hasher, &key.value);
                    let dup = match &mut frame.index {
                        Some(index) => index.find(hash, &key.value, entries),
                        None => entries.iter().position(|(k, _)| k.value == key.value),
                    };
                    if let Some(i) = dup {
                        let message =
                            format!("duplicate key (first at line {})", entries[i].0.pos.line);
                        return Err(YamlError {
                            pos: key.pos,
                            message,
                        });
                    }
                    if is_merge {
                        frame.merges.push(entries.len());
                    }
                    match &mut frame.index {
                        Some(index) => index.insert(hash, entries.len()),
                        None if entries.len() + 1 >= INDEX_FROM => {
                            let mut index = KeyIndex::default();
                            for (i, (k, _)) in entries.iter().enumerate() {
                                index.insert(key_hash(&self.hasher, &k.value), i);
                            }
                            index.insert(hash, entries.len());
                            frame.index = Some(index);
                        }
                        None => {}
                    }
                    entries.push((key, n));
                }
            },
            _ => {}
        }
        Ok(())
    }
}

/// A mapping's entries with its `<<` entries (at indexes `merges`) replaced
/// by the entries they merge, as YAML 1.1 (and kubectl) reads them: the
/// value of `<<` is a mapping or a sequence of mappings; keys written in
/// the mapping itself win over merged ones, and of the merged mappings,
/// earlier ones win. Explicit entries come first, then the merged ones.
fn merged(
    entries: Vec<(Node, Node)>,
    merges: &[usize],
    hasher: &RandomState,
) -> Result<Vec<(Node, Node)>, YamlError> {
    let mut out = Vec::with_capacity(entries.len());
    let mut sources = Vec::new();
    let mut next = merges.iter().peekable();
    for (i, entry) in entries.into_iter().enumerate() {
        if next.next_if(|&&m| m == i).is_some() {
            sources.push(entry.1);
        } else {
            out.push(entry);
        }
    }
    let mut index = KeyIndex::default();
    for (i, (k, _)) in out.iter().enumerate() {
        index.insert(key_hash(hasher, &k.value), i);
    }
    for source in sources {
        let maps = match source.value {
            Value::Map(_) => vec![source],
            Value::Seq(items) if items.iter().all(|n| matches!(n.value, Value::Map(_))) => items,
            _ => {
                let message = format!(
                    "a merge key (<<) takes a mapping or a list of mappings, found {}",
                    source.kind()
                );
                return Err(YamlError {
                    pos: source.pos,
                    message,
                });
            }
        };
        for map in maps {
            let Value::Map(entries) = map.value else {
                continue;
            };
            for (k, v) in entries {
                let hash = key_hash(hasher, &k.value);
                if index.find(hash, &k.value, &out).is_none() {
                    index.insert(hash, out.len());
                    out.push((k, v));
                }
            }
        }
    }
    Ok(out)
}

/// The keys of a mapping by hash, so that a duplicate is found in constant
/// time (a mapping of n keys is read in O(n), not O(n²)).
#[derive(Default)]
struct KeyIndex(HashMap<u64, usize>);

impl KeyIndex {
    fn insert(&mut self, hash: u64, i: usize) {
        self.0.entry(hash).or_insert(i);
    }

    /// The index of the entry whose key equals `key` (of hash `hash`).
    fn find(&self, hash: u64, key: &Value, entries: &[(Node, Node)]) -> Option<usize> {
        let &i = self.0.get(&hash)?;
        if entries[i].0.value == *key {
            return Some(i);
        }
        // Two different keys with one 64-bit hash: as good as never.
        entries.iter().position(|(k, _)| k.value == *key)
    }
}

/// A hash of a key's value, consistent with `Value`'s equality (nested
/// nodes compare with their positions, so they are hashed with them).
/// Iterative: keys can be deep collections.
fn key_hash(hasher: &RandomState, value: &Value) -> u64 {
    let mut h = hasher.build_hasher();
    let mut stack: Vec<&Node> = Vec::new();
    hash_value(&mut h, value, &mut stack);
    while let Some(n) = stack.pop() {
        n.pos.hash(&mut h);
        n.plain.hash(&mut h);
        hash_value(&mut h, &n.value, &mut stack);
    }
    h.finish()
}

fn hash_value<'a>(h: &mut impl Hasher, value: &'a Value, stack: &mut Vec<&'a Node>) {
    match value {
        Value::Null => h.write_u8(0),
        Value::Bool(b) => {
            h.write_u8(1);
            b.hash(h);
        }
        Value::Int(i) => {
            h.write_u8(2);
            i.hash(h);
        }
        Value::Float(f) => {
            h.write_u8(3);
            // 0.0 == -0.0; NaN equals nothing, so any hash will do.
            h.write_u64(if *f == 0.0 { 0 } else { f.to_bits() });
        }
        Value::Str(s) => {
            h.write_u8(4);
            s.hash(h);
        }
        Value::Seq(items) => {
            h.write_u8(5);
            h.write_usize(items.len());
            stack.extend(items.iter().rev());
        }
        Value::Map(entries) => {
            h.write_u8(6);
            h.write_usize(entries.len());
            for (k, v) in entries.iter().rev() {
                stack.push(v);
                stack.push(k);
            }
        }
    }
}

fn node(value: Value, pos: Pos) -> Node {
    Node {
        value,
        pos,
        plain: false,
    }
}

/// Resolves a scalar with the YAML 1.2 core schema (plain scalars only;
/// quoted ones are strings; `!!str`, `!!int`... tags are honoured).
fn scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>, pos: Pos) -> Result<Node, YamlError> {
    let plain = matches!(style, ScalarStyle::Plain);
    let forced = tag
        .filter(|t| t.is_yaml_core_schema())
        .map(|t| t.suffix.as_str());
    let value = match forced {
        Some("str") => Value::Str(text.to_string()),
        Some(kind) => match resolve(text) {
            v @ Value::Int(_) if kind == "int" => v,
            v @ (Value::Float(_) | Value::Int(_)) if kind == "float" => v,
            v @ Value::Bool(_) if kind == "bool" => v,
            v @ Value::Null if kind == "null" => v,
            _ => {
                return Err(YamlError {
                    pos,
                    message: format!("{text:?} is not a valid !!{kind}"),
                })
            }
        },
        None if plain => resolve(text),
        None => Value::Str(text.to_string()),
    };
    Ok(Node { value, pos, plain })
}

fn resolve(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(i) = parse_int(text) {
        return Value::Int(i);
    }
    let looks_numeric = text.starts_with(|c: char| c.is_ascii_digit() || "+-.".contains(c));
    match text.parse::<f64>() {
        Ok(f) if looks_numeric && !text.eq_ignore_ascii_case("inf") => Value::Float(f),
        _ => Value::Str(text.to_string()),
    }
}

fn parse_int(text: &str) -> Option<i64> {
    let (neg, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let magnitude = if let Some(hex) = digits.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(oct) = digits.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()?
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()?
    } else {
        return None;
    };
    Some(if neg { -magnitude } else { magnitude })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let docs = parse("a: 1\nb:\n  - x\n  - 'y'\n").unwrap();
        let b = docs[0].get("b").unwrap();
        let Value::Seq(items) = &b.value else {
            panic!()
        };
        assert_eq!(items[1].pos, Pos { line: 4, col: 5 });
        assert!(items[0].plain && !items[1].plain);
        assert_eq!(docs[0].get("a").unwrap().value, Value::Int(1));
    }

    #[test]
    fn multi_document_and_json() {
        let docs = parse("---\nkind: A\n---\n---\nkind: B\n").unwrap();
        assert_eq!(docs.len(), 2);
        let json =
            "{\n\t\"kind\": \"List\",\n\t\"items\": [{\"port\": 80}, {\"port\": \"80\"}]\n}\n";
        let docs = parse(json).unwrap();
        let Value::Seq(items) = &docs[0].get("items").unwrap().value else {
            panic!()
        };
        assert_eq!(items[0].get("port").unwrap().value, Value::Int(80));
        assert_eq!(items[1].get("port").unwrap().value, Value::Str("80".into()));
    }

    #[test]
    fn core_schema_scalars() {
        let docs = parse("[~, TRUE, 0x1F, -3, 1.5, y, '1', !!str 2, 10.0.0.0/8]").unwrap();
        let Value::Seq(v) = &docs[0].value else {
            panic!()
        };
        let values: Vec<&Value> = v.iter().map(|n| &n.value).collect();
        assert_eq!(
            values,
            [
                &Value::Null,
                &Value::Bool(true),
                &Value::Int(31),
                &Value::Int(-3),
                &Value::Float(1.5),
                &Value::Str("y".into()),
                &Value::Str("1".into()),
                &Value::Str("2".into()),
                &Value::Str("10.0.0.0/8".into()),
            ]
        );
    }

    #[test]
    fn errors_and_duplicates_have_positions() {
        let e = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(e.pos.line >= 1, "{e}");
        let e = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(e.pos, Pos { line: 3, col: 1 });
        assert!(e.message.contains("line 1"));
    }

    #[test]
    fn an_error_at_the_end_of_the_input_is_on_its_last_line() {
        for (text, end) in [
            ("a: 1\nm", (2, 2)),
            ("a: [x\r]\nm", (3, 2)),
            ("a: 1\r\nm", (2, 2)),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!((e.pos.line, e.pos.col), end, "{text:?}: {e}");
        }
    }

    #[test]
    fn flow_documents_keep_their_positions() {
        let docs = parse("  {\"a\": 1,\n \"b\": [x, {c: 2}]}\n---\n[1]\n").unwrap();
        assert_eq!(docs[0].pos, Pos { line: 1, col: 3 });
        assert_eq!(docs[0].get("a").unwrap().pos, Pos { line: 1, col: 9 });
        let Value::Seq(b) = &docs[0].get("b").unwrap().value else {
            panic!()
        };
        assert_eq!(b[1].get("c").unwrap().pos, Pos { line: 2, col: 15 });
        assert_eq!(docs[1].pos, Pos { line: 4, col: 1 });
        let e = parse("{\"a\": [1}").unwrap_err();
        assert_eq!((e.pos.line, e.pos.col), (1, 9), "{e}");
        // The parser takes no flow collection for a key in block context
        // (read as it is, after the `--- ` reading failed): the error is
        // where it was.
        let e = parse("{a: 1}: b\n").unwrap_err();
        assert_eq!((e.pos.line, e.pos.col), (1, 7), "{e}");
    }

    #[test]
    fn an_empty_key_at_the_end_of_the_input_is_on_its_last_line() {
        // Found by libFuzzer: the second null key's position was line 3.
        let e = parse("? [0, 2]\n: a\n? \n? # c").unwrap_err();
        assert_eq!((e.pos.line, e.pos.col), (4, 6), "{e}");
        assert!(e.message.contains("duplicate key"), "{e}");
    }

    #[test]
    fn anchors_and_aliases() {
        let docs = parse("x: &l {app: web}\ny: *l\n").unwrap();
        assert_eq!(
            docs[0].get("y").unwrap().get("app").unwrap().as_str(),
            Some("web")
        );
    }
}
