//! A structure-aware fuzzer of the reader and decoder: valid NetworkPolicy
//! and Pod manifests (YAML and JSON, and the inputs kept in `corpus/`)
//! mutated with aliases, anchors, merge keys, deep nesting, duplicated
//! lines, odd scalars, repeated labels and byte edits, then read with small
//! limits. For every input:
//!
//! - reading finishes without a panic (a stack overflow would abort);
//! - every diagnostic is located inside the text;
//! - a document the reader accepts respects the limits (depth, keys per
//!   mapping, nodes bounded by the input plus the alias allowance);
//! - writing it back as flow YAML and reading that gives the same values.
//!
//! The normal test run tries 200 cases; `PALISADE_FUZZ_CASES=N` sets the
//! number (a long run: `PALISADE_FUZZ_CASES=200000 cargo test --release -p
//! palisade-manifest --test fuzz`). Every `corpus/` file is also checked as
//! it is. Coverage-guided fuzzing (libFuzzer, nightly) is in `../fuzz`.

use std::fmt::Write as _;
use std::path::PathBuf;

use palisade_manifest::yaml::{self, Limits, Node, Value};
use palisade_manifest::{load_paths_with, parse_str_with};
use proptest::prelude::*;

const LIMITS: Limits = Limits {
    input_bytes: 1 << 20,
    depth: 40,
    alias_nodes: 2_000,
    keys: 300,
};

const POLICY: &str = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-to-db
  namespace: shop
  labels: {team: db, tier: backend}
spec:
  podSelector:
    matchLabels: {app: db}
    matchExpressions:
    - {key: tier, operator: In, values: [backend, data]}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - podSelector:
        matchLabels: {app: web}
      namespaceSelector: {}
    - ipBlock:
        cidr: 10.0.0.0/8
        except: [10.1.0.0/16]
    ports:
    - {protocol: TCP, port: 5432}
    - port: metrics
      endPort: null
  egress:
  - to:
    - namespaceSelector:
        matchLabels: {kubernetes.io/metadata.name: kube-system}
    ports:
    - {protocol: UDP, port: 53}
    - {protocol: TCP, port: 53, endPort: 60}
";

const POD: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: web-0
  namespace: shop
  labels:
    app: web
    version: \"1.2\"
  annotations:
    palisade.dev/mode: audit
spec:
  hostNetwork: false
  containers:
  - name: web
    image: nginx
    ports:
    - {name: http, containerPort: 8080, protocol: TCP}
    - name: dns
      containerPort: 53
      protocol: UDP
status:
  podIP: 10.0.1.10
  podIPs:
  - ip: 10.0.1.10
  - ip: fd00::10
";

const LIST_JSON: &str = r#"{
  "apiVersion": "v1",
  "kind": "List",
  "items": [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"team": "shop"}}},
    {"apiVersion": "v1", "kind": "Pod",
     "metadata": {"name": "db-0", "namespace": "shop", "labels": {"app": "db", "replica": "0"}},
     "spec": {"containers": [{"name": "db", "ports": [{"name": "pg", "containerPort": 5432}]}]},
     "status": {"podIP": "10.0.1.11"}},
    {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
     "metadata": {"name": "deny", "namespace": "shop"},
     "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}
  ]
}
"#;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// The texts mutations start from: the manifests above and the corpus.
fn seeds() -> Vec<String> {
    let mut out = vec![POLICY.to_string(), POD.to_string(), LIST_JSON.to_string()];
    out.push(format!("{POLICY}---\n{POD}"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    for f in files {
        if let Ok(text) = std::fs::read_to_string(&f) {
            if text.len() <= 16 * 1024 {
                out.push(text);
            }
        }
    }
    out
}

const ODD_SCALARS: &[&str] = &[
    "~",
    "null",
    "yes",
    "no",
    "y",
    "On",
    "0x1F",
    "0o17",
    "017",
    "-0",
    "+1",
    "1e400",
    "-1e400",
    ".inf",
    ".nan",
    "nan",
    "inf",
    "1_000",
    "9223372036854775808",
    "-9223372036854775809",
    "!!str 1",
    "!!int x",
    "!!float 1",
    "!!bool yes",
    "!!null ''",
    "!custom v",
    "''",
    "\"\"",
    "\"\\u0000\"",
    "\"\\x41\\t\"",
    "'it''s'",
    "\"caf\u{e9}\"",
    "|\n  block\n",
    ">-\n  folded\n",
    "2001:db8::/64",
    "10.0.0.0/33",
    "80/TCP",
    "&x 1",
    "*x",
    "[]",
    "{}",
    "[1, [2, [3]]]",
    "{a: 1, a: 2}",
    "\"<<\"",
    "<<",
    "-",
    "?",
    "@",
    "`",
    "%",
    "#",
];

const BYTES: &[&str] = &[
    "{", "}", "[", "]", ":", ",", "-", "&a", "*a", "!", "|", ">", "'", "\"", "#", "%", "@", "`",
    " ", "\n", "\t", "?", "<<", "\u{0}", "\u{e9}", "\u{feff}", "---\n", "...\n", "\r\n",
];

#[derive(Debug, Clone)]
enum Mutation {
    /// Anchor the value at one `key: ` line, alias it at a later one.
    Alias(usize, usize),
    /// A merge key line after line `at`, with the given value.
    Merge(usize, u8),
    /// The value at a `key: ` line wrapped in `depth` flow sequences.
    FlowNest(usize, usize),
    /// A block sequence nested `depth` deep, inserted after line `at`.
    BlockNest(usize, usize),
    /// Line `at` repeated (duplicate keys, most of the time).
    Duplicate(usize),
    /// The value at a `key: ` line replaced by an odd scalar.
    Scalar(usize, usize),
    /// `n` labels (some repeated) in place of the value at a `key: ` line.
    Labels(usize, usize),
    /// A nested alias structure: `levels` levels of `width` aliases.
    Bomb(usize, usize),
    Insert(usize, usize),
    Delete(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = 0..10_000usize;
    prop_oneof![
        3 => (at.clone(), at.clone()).prop_map(|(a, b)| Mutation::Alias(a, b)),
        3 => (at.clone(), any::<u8>()).prop_map(|(a, v)| Mutation::Merge(a, v)),
        1 => (at.clone(), 1..80usize).prop_map(|(a, d)| Mutation::FlowNest(a, d)),
        1 => (at.clone(), 1..80usize).prop_map(|(a, d)| Mutation::BlockNest(a, d)),
        2 => at.clone().prop_map(Mutation::Duplicate),
        3 => (at.clone(), 0..ODD_SCALARS.len()).prop_map(|(a, s)| Mutation::Scalar(a, s)),
        1 => (at.clone(), 0..500usize).prop_map(|(a, n)| Mutation::Labels(a, n)),
        1 => (1..10usize, 1..12usize).prop_map(|(l, w)| Mutation::Bomb(l, w)),
        3 => (at.clone(), 0..BYTES.len()).prop_map(|(a, b)| Mutation::Insert(a, b)),
        1 => (at.clone(), 1..40usize).prop_map(|(a, n)| Mutation::Delete(a, n)),
        1 => at.prop_map(Mutation::Truncate),
    ]
}

/// Byte offsets just after `key: ` on lines that have one.
fn value_spots(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if let Some(i) = line.find(": ") {
            out.push(at + i + 2);
        }
        at += line.len();
    }
    out
}

/// Byte offsets of line starts.
fn line_starts(text: &str) -> Vec<usize> {
    let mut out = vec![0];
    out.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    out
}

/// The end of the value starting at `at` on its line.
fn line_end(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |i| at + i)
}

fn floor(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn indent_of(text: &str, line_start: usize) -> usize {
    text[line_start..]
        .bytes()
        .take_while(|&b| b == b' ')
        .count()
}

fn apply(text: &mut String, m: &Mutation, n: usize) {
    let spots = value_spots(text);
    let starts = line_starts(text);
    let pick = |v: &[usize], i: usize| (!v.is_empty()).then(|| v[i % v.len()]);
    match *m {
        Mutation::Alias(a, b) => {
            let (Some(x), Some(y)) = (pick(&spots, a), pick(&spots, b)) else {
                return;
            };
            let (x, y) = (x.min(y), x.max(y));
            if x == y {
                return;
            }
            let end = line_end(text, y);
            text.replace_range(y..end, &format!("*a{n}"));
            text.insert_str(x, &format!("&a{n} "));
        }
        Mutation::Merge(a, v) => {
            let Some(s) = pick(&starts, a) else { return };
            let indent = " ".repeat(indent_of(text, s));
            let value = match v % 6 {
                0 => format!("*a{}", v % 4),
                1 => format!("[*a{}, *a{}]", v % 3, v % 5),
                2 => "{app: merged, x: 1}".to_string(),
                3 => "[{a: 1}, {a: 2, b: 2}]".to_string(),
                4 => "1".to_string(),
                _ => "[1, {a: 1}]".to_string(),
            };
            text.insert_str(s, &format!("{indent}<<: {value}\n"));
        }
        Mutation::FlowNest(a, depth) => {
            let Some(x) = pick(&spots, a) else { return };
            let end = line_end(text, x);
            let inner = text[x..end].to_string();
            let nested = format!("{}{inner}{}", "[".repeat(depth), "]".repeat(depth));
            text.replace_range(x..end, &nested);
        }
        Mutation::BlockNest(a, depth) => {
            let Some(x) = pick(&spots, a) else { return };
            let end = line_end(text, x);
            text.replace_range(x..end, &format!("\n{}x", "- ".repeat(depth)));
        }
        Mutation::Duplicate(a) => {
            let Some(s) = pick(&starts, a) else { return };
            let end = (line_end(text, s) + 1).min(text.len());
            let line = text[s..end].to_string();
            text.insert_str(s, &line);
        }
        Mutation::Scalar(a, i) => {
            let Some(x) = pick(&spots, a) else { return };
            let end = line_end(text, x);
            text.replace_range(x..end, ODD_SCALARS[i]);
        }
        Mutation::Labels(a, count) => {
            let Some(x) = pick(&spots, a) else { return };
            let end = line_end(text, x);
            let mut labels = String::from("{");
            for i in 0..count {
                let _ = write!(labels, "k{}: v{i}, ", i % (count / 2 + 1) * (i % 2));
            }
            labels.push('}');
            text.replace_range(x..end, &labels);
        }
        Mutation::Bomb(levels, width) => {
            text.push_str("\n---\nb0: &b0 [x, y]\n");
            for l in 1..=levels {
                let refs = vec![format!("*b{}", l - 1); width].join(", ");
                let _ = writeln!(text, "b{l}: &b{l} [{refs}]");
            }
        }
        Mutation::Insert(a, b) => {
            let at = floor(text, a % (text.len() + 1));
            text.insert_str(at, BYTES[b]);
        }
        Mutation::Delete(a, len) => {
            let at = floor(text, a % (text.len() + 1));
            let end = floor(text, at + len);
            text.replace_range(at..end, "");
        }
        Mutation::Truncate(a) => {
            let at = floor(text, a % (text.len() + 1));
            text.truncate(at);
        }
    }
}

/// Values equal, positions aside.
fn same(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::Float(x), Value::Float(y)) => x == y || (x.is_nan() && y.is_nan()),
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| same(ka, kb) && same(va, vb))
        }
        (x, y) => x == y,
    }
}

/// `node` as flow YAML; `None` for what flow YAML cannot say the same way
/// (non-finite floats, which the core schema reads as strings).
fn emit(node: &Node, out: &mut String) -> Option<()> {
    match &node.value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => write!(out, "{b}").ok()?,
        Value::Int(i) => write!(out, "{i}").ok()?,
        Value::Float(f) if f.is_finite() => write!(out, "{f:?}").ok()?,
        Value::Float(_) => return None,
        Value::Str(s) => quote(s, out),
        Value::Seq(items) => {
            out.push('[');
            for item in items {
                emit(item, out)?;
                out.push_str(", ");
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (k, v) in entries {
                if matches!(k.value, Value::Seq(_) | Value::Map(_)) {
                    out.push_str("? ");
                }
                emit(k, out)?;
                out.push_str(": ");
                emit(v, out)?;
                out.push_str(", ");
            }
            out.push('}');
        }
    }
    Some(())
}

fn quote(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{feff}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            // Line and paragraph separators, next line: escaped so that
            // they stay in the scalar as they are.
            '\u{85}' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Depth, largest mapping and node count of a tree (iteratively).
fn shape(doc: &Node) -> (usize, usize, usize) {
    let (mut depth, mut keys, mut nodes) = (0, 0, 0);
    let mut stack = vec![(doc, 0usize)];
    while let Some((n, d)) = stack.pop() {
        nodes += 1;
        match &n.value {
            Value::Seq(items) => {
                depth = depth.max(d + 1);
                stack.extend(items.iter().map(|i| (i, d + 1)));
            }
            Value::Map(entries) => {
                depth = depth.max(d + 1);
                keys = keys.max(entries.len());
                for (k, v) in entries {
                    stack.push((k, d + 1));
                    stack.push((v, d + 1));
                }
            }
            _ => {}
        }
    }
    (depth, keys, nodes)
}

/// The properties every input must have (see the module doc).
fn check(text: &str) -> Result<(), TestCaseError> {
    // Lines as YAML counts them: `\r\n`, `\r` and `\n` end one.
    let lines = text
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .split('\n')
        .count();
    let loaded = parse_str_with("f.yaml", text, &LIMITS);
    for d in &loaded.diagnostics {
        prop_assert!(
            d.line >= 1 && d.line <= lines,
            "{d} ({lines} lines) in {text:?}"
        );
        prop_assert!(d.column >= 1, "{d}");
        prop_assert!(d.to_string().starts_with("f.yaml:"), "{d}");
    }
    let Ok(docs) = yaml::parse_with(text, &LIMITS) else {
        return Ok(());
    };
    let mut nodes = 0;
    for doc in &docs {
        let (depth, keys, n) = shape(doc);
        prop_assert!(depth <= LIMITS.depth, "depth {depth}");
        prop_assert!(keys <= LIMITS.keys, "keys {keys}");
        nodes += n;
        let mut again = String::new();
        if emit(doc, &mut again).is_some() {
            let back = yaml::parse_with(&again, &Limits::DEFAULT);
            let back = back.map_err(|e| TestCaseError::fail(format!("{e}: {again}")))?;
            prop_assert_eq!(back.len(), 1, "{}", again);
            prop_assert!(same(doc, &back[0]), "{:?}\n{}", doc, again);
        }
    }
    // Each node is at least one byte of text, unless an alias copied it.
    let allowance =
        text.len() + LIMITS.alias_nodes * (docs.len() + text.matches("---").count() + 1);
    prop_assert!(nodes <= allowance, "{nodes} nodes");
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PALISADE_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        max_shrink_iters: 2_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn mutated_manifests_are_read_safely(
        seed in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 0..8),
        json in any::<bool>(),
    ) {
        let seeds = seeds();
        let mut text = seed.get(&seeds).clone();
        if json {
            // The same document as JSON-style flow text, when it reads.
            if let Ok(docs) = yaml::parse(&text) {
                let mut flow = String::new();
                for doc in &docs {
                    if emit(doc, &mut flow).is_some() {
                        flow.push_str("\n---\n");
                    }
                }
                text = flow;
            }
        }
        for (i, m) in mutations.iter().enumerate() {
            apply(&mut text, m, i);
        }
        check(&text)?;
    }
}

#[test]
fn the_corpus_is_read_safely() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    assert!(files.len() >= 10, "{files:?}");
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        if let Ok(text) = std::str::from_utf8(&bytes) {
            check(text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        }
        // Through the file reader too, with the default limits.
        let loaded = load_paths_with(&[f], &Limits::DEFAULT);
        for d in &loaded.diagnostics {
            assert!(d.line >= 1 && d.column >= 1, "{d}");
        }
    }
}
