//! A structure-aware fuzzer of the netlink encoder ([`palisade_nft::netlink`]).
//!
//! Rule texts: the rules of compiled synth clusters (the renderer's closed
//! language), and mutations of them (words dropped, duplicated, swapped or
//! replaced by other words of the language, numbers at and past their
//! field's limit, names at and past the name limit, empty and oversized
//! concatenations, quotes), plus the inputs kept in `corpus/rules/`. For
//! every text:
//!
//! - encoding finishes without a panic;
//! - it is encoded exactly when [`in_language`] (this file's own reading
//!   of the closed language, written from the renderer and nft's limits)
//!   accepts it; everything else is `Unsupported` (the update then goes
//!   through `nft -f`);
//! - encoding twice gives the same bytes;
//! - an encoded batch decodes ([`palisade_nft::netlink::golden::messages`]
//!   and the attribute walk here): framing, every attribute and nested
//!   attribute length consistent, one `NEWRULE` whose comment reads back.
//!
//! IR objects: compiled rulesets mutated (odd set elements: whole ranges,
//! single addresses, edges, the other family; empty sets; port ranges at
//! 0 and 65535; chains emptied or dropped; dispatch entries to missing
//! chains), encoded whole ([`full_load`]) and as deltas ([`delta_between`],
//! [`batch_between`]): no panic, deterministic, and every batch decodes.
//!
//! The normal test run tries 300 cases each; `PALISADE_FUZZ_CASES=N` sets
//! the number (a long run: `PALISADE_FUZZ_CASES=200000 cargo test
//! --release -p palisade-nft --test fuzz`). Coverage-guided fuzzing of the
//! rule encoder (libFuzzer, nightly) is in `../fuzz`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use palisade_compile::{compile, Family, LocalPods, Ruleset};
use palisade_model::Protocol;
use palisade_nft::netlink::golden::messages;
use palisade_nft::netlink::{batch_between, delta_between, encode_rule, full_load};
use palisade_synth::{generate, Params};
use proptest::prelude::*;

/// The renderer's limits (names.rs) and the kernel's.
const MAX_NAME: usize = 200;
const MAX_LOG_PREFIX: usize = 127;
const MAX_KEY_WORDS: usize = 16;

fn cases() -> u32 {
    std::env::var("PALISADE_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300)
}

/// Compiled synth clusters: a small and a larger one, every node's pods.
fn rulesets() -> &'static [Ruleset] {
    static RS: OnceLock<Vec<Ruleset>> = OnceLock::new();
    RS.get_or_init(|| {
        [(40, 12), (200, 60)]
            .iter()
            .map(|&(pods, policies)| {
                compile(&generate(&Params::new(pods, policies)), &LocalPods::All)
            })
            .collect()
    })
}

/// Sets of `rs` that hold intervals (nft encodes their lookups differently).
fn interval_sets(rs: &Ruleset) -> Vec<String> {
    let addr = rs
        .addr_sets
        .iter()
        .filter(|(_, s)| s.interval)
        .map(|(n, _)| n.clone());
    rs.port_sets.keys().cloned().chain(addr).collect()
}

/// Every rule the renderer writes for the rulesets: (text, comment).
fn real_rules() -> &'static [(String, String)] {
    static RULES: OnceLock<Vec<(String, String)>> = OnceLock::new();
    RULES.get_or_init(|| {
        let mut out = Vec::new();
        for rs in rulesets() {
            let script = palisade_nft::render::full(rs, "palisade").expect("renders");
            for line in script.text.lines() {
                let line = line.trim();
                if line.contains(';') || line.starts_with("type ") {
                    continue; // a set's declaration
                }
                if let Some((text, comment)) = line.split_once(" comment \"") {
                    out.push((text.to_string(), comment.trim_end_matches('"').to_string()));
                }
            }
        }
        out.sort();
        out.dedup();
        assert!(out.len() > 50, "too few rules: {}", out.len());
        out
    })
}

fn all_intervals() -> &'static [String] {
    static SETS: OnceLock<Vec<String>> = OnceLock::new();
    SETS.get_or_init(|| rulesets().iter().flat_map(interval_sets).collect())
}

fn is_interval(name: &str) -> bool {
    all_intervals().iter().any(|n| n == name)
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/rules")
}

/// The corpus: one rule text per file.
fn corpus() -> Vec<(String, String)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).expect("corpus file");
            (
                f.display().to_string(),
                text.trim_end_matches('\n').to_string(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The language, read independently of the encoder.

/// Words of a rule, a quoted string one word (`None`: a quote not closed).
fn words(text: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        if let Some(q) = rest.strip_prefix('"') {
            let end = q.find('"')?;
            out.push(q[..end].to_string());
            rest = q[end + 1..].trim_start();
        } else {
            let end = rest.find(' ').unwrap_or(rest.len());
            out.push(rest[..end].to_string());
            rest = rest[end..].trim_start();
        }
    }
    Some(out)
}

fn is_name(s: &str) -> bool {
    s.len() <= MAX_NAME
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_set_ref(s: &str) -> bool {
    s.strip_prefix('@').is_some_and(is_name)
}

fn is_number<T: std::str::FromStr>(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && s.parse::<T>().is_ok()
}

/// A key field at the start of `w`: its width in 32-bit words.
fn field(w: &[String]) -> Option<(usize, &[String])> {
    let pair = (w.first()?.as_str(), w.get(1)?.as_str());
    let words = match pair {
        ("ip", "saddr" | "daddr") => 1,
        ("ip6", "saddr" | "daddr") => 4,
        ("meta", "l4proto") | ("th", "dport") => 1,
        _ => return None,
    };
    Some((words, &w[2..]))
}

/// Whether `text` is in the renderer's rule language (within nft's and
/// the kernel's limits).
fn in_language(text: &str) -> bool {
    let Some(w) = words(text) else { return false };
    let mut t: &[String] = &w;
    if t.is_empty() {
        return false;
    }
    let mut exprs = 0;
    // The family checked so far: nft checks it again only when it changes.
    let mut family = "";
    let load = |w: &[String], family: &mut &'static str| -> usize {
        let f = match w.first().map(String::as_str).unwrap_or_default() {
            "ip" => "ip",
            "ip6" => "ip6",
            _ => return 1,
        };
        match std::mem::replace(family, f) == f {
            true => 1,
            false => 3,
        }
    };
    while !t.is_empty() {
        let s: Vec<&str> = t.iter().take(12).map(String::as_str).collect();
        let (used, n) = match s.as_slice() {
            ["ct", "state", states, ..] => {
                let known = ["invalid", "established", "related", "new", "untracked"];
                if !states.split(',').all(|s| known.contains(&s)) {
                    return false;
                }
                (3, 3)
            }
            ["meta", "nfproto", p @ ("ipv4" | "ipv6"), ..] => {
                family = if *p == "ipv4" { "ip" } else { "ip6" };
                (3, 2)
            }
            ["counter", "name", name, ..] if is_name(name) => (3, 1),
            ["accept" | "drop", ..] => (1, 1),
            ["log", "prefix", prefix, "group", group, ..] => {
                let ok = prefix.len() <= MAX_LOG_PREFIX
                    && !prefix.chars().any(char::is_control)
                    && is_number::<u16>(group);
                if !ok {
                    return false;
                }
                (5, 1)
            }
            ["update", set, "{", ..] => {
                if !is_set_ref(set) {
                    return false;
                }
                let cost = load(&t[3..], &mut family);
                let Some((_, rest)) = field(&t[3..]) else {
                    return false;
                };
                let r: Vec<&str> = rest.iter().take(7).map(String::as_str).collect();
                let ["limit", "rate", rate, "burst", burst, "packets", "}"] = r.as_slice() else {
                    return false;
                };
                let Some((rate, unit)) = rate.split_once('/') else {
                    return false;
                };
                let unit_ok = ["second", "minute", "hour", "day"].contains(&unit);
                if !(unit_ok && is_number::<u64>(rate) && is_number::<u32>(burst)) {
                    return false;
                }
                (t.len() - rest.len() + 7, cost + 1)
            }
            _ => {
                // FIELD [. FIELD]... [vmap] @SET
                let (mut key, mut n, mut rest) = (0, 0, t);
                let (mut fields, mut l4) = (0, 0);
                loop {
                    let cost = if field(rest).is_some() {
                        load(rest, &mut family)
                    } else {
                        0
                    };
                    let Some((words, r)) = field(rest) else {
                        return false;
                    };
                    key += words;
                    n += cost;
                    fields += 1;
                    l4 += usize::from(rest[0] == "meta");
                    rest = r;
                    match rest.first().map(String::as_str) {
                        Some(".") => rest = &rest[1..],
                        _ => break,
                    }
                }
                if rest.first().map(String::as_str) == Some("vmap") {
                    rest = &rest[1..];
                }
                match rest.first() {
                    Some(set) if is_set_ref(set) && key <= MAX_KEY_WORDS => {
                        // byteorder of `meta l4proto` in an interval concatenation
                        if fields > 1 && is_interval(&set[1..]) {
                            n += l4;
                        }
                    }
                    _ => return false,
                }
                (t.len() - rest.len() + 1, n + 1)
            }
        };
        exprs += n;
        t = &t[used..];
        if exprs > 128 {
            return false;
        }
    }
    true
}

// ---------------------------------------------------------------------------
// Decoding what was encoded.

/// Walks attributes: every length within its parent, nested ones
/// recursively; returns the attributes of this level.
fn walk(mut b: &[u8], depth: usize) -> Result<Vec<(u16, &[u8])>, String> {
    let mut out = Vec::new();
    while !b.is_empty() {
        if b.len() < 4 {
            return Err(format!("{} stray bytes", b.len()));
        }
        let len = u16::from_ne_bytes([b[0], b[1]]) as usize;
        let kind = u16::from_ne_bytes([b[2], b[3]]);
        if len < 4 || len > b.len() {
            return Err(format!("attribute length {len} of {} bytes", b.len()));
        }
        let payload = &b[4..len];
        if kind & 0x8000 != 0 {
            if depth > 16 {
                return Err("nested too deep".into());
            }
            walk(payload, depth + 1)?;
        }
        out.push((kind & 0x3fff, payload));
        b = &b[len.next_multiple_of(4).min(b.len())..];
    }
    Ok(out)
}

/// Checks a batch's bytes decode: begin and end framing, consistent
/// lengths, and each message's attributes; returns the messages between
/// begin and end (type, body after the `nlmsghdr`).
fn decodes(b: &[u8]) -> Vec<(u16, Vec<u8>)> {
    let mut at = 0;
    let mut all = Vec::new();
    while at < b.len() {
        assert!(at + 20 <= b.len(), "truncated header at {at}");
        let len = u32::from_ne_bytes(b[at..at + 4].try_into().unwrap()) as usize;
        assert!(
            len >= 20 && at + len <= b.len(),
            "message length {len} at {at}"
        );
        if let Err(e) = walk(&b[at + 20..at + len], 0) {
            panic!("message at {at}: {e}");
        }
        all.push((
            u16::from_ne_bytes([b[at + 4], b[at + 5]]),
            b[at + 16..at + len].to_vec(),
        ));
        at += len.next_multiple_of(4);
    }
    assert_eq!(all.first().map(|m| m.0), Some(0x10), "batch begin");
    assert_eq!(all.last().map(|m| m.0), Some(0x11), "batch end");
    all[1..all.len() - 1].to_vec()
}

/// Encodes `text` twice, checks everything above; returns whether encoded.
fn check_rule(text: &str, comment: &str) -> Result<bool, TestCaseError> {
    let first = encode_rule(text, comment, &is_interval);
    let again = encode_rule(text, comment, &is_interval);
    let expect = in_language(text) && comment.len() < 255;
    match (&first, &again) {
        (Ok(a), Ok(b)) => prop_assert_eq!(&a.bytes, &b.bytes, "not deterministic: {:?}", text),
        (Err(a), Err(b)) => prop_assert_eq!(a, b),
        _ => prop_assert!(false, "differs between runs: {:?}", text),
    }
    prop_assert_eq!(
        first.is_ok(),
        expect,
        "{:?}: {:?}",
        text,
        first.as_ref().err()
    );
    let Ok(batch) = first else { return Ok(false) };
    let msgs = decodes(&batch.bytes);
    prop_assert_eq!(
        &msgs,
        &messages(&batch),
        "the golden helper reads the same messages"
    );
    prop_assert_eq!(msgs.len(), 1);
    prop_assert_eq!(msgs[0].0, (10 << 8) | 6, "NEWRULE");
    let attrs = walk(&msgs[0].1[4..], 0).map_err(TestCaseError::fail)?;
    let udata = attrs
        .iter()
        .find(|(k, _)| *k == 7)
        .expect("rule user data")
        .1;
    prop_assert_eq!(&udata[2..2 + comment.len()], comment.as_bytes());
    let exprs = attrs.iter().find(|(k, _)| *k == 4).expect("expressions").1;
    let n = walk(exprs, 0).map_err(TestCaseError::fail)?.len();
    prop_assert!((1..=128).contains(&n), "{} expressions", n);
    Ok(true)
}

// ---------------------------------------------------------------------------
// Mutations.

/// Words of the language and just outside it.
const VOCABULARY: &[&str] = &[
    "ct",
    "state",
    "new",
    "established,related",
    "new,untracked",
    "new,",
    ",",
    "bogus",
    "meta",
    "nfproto",
    "ipv4",
    "ipv6",
    "ipv5",
    "l4proto",
    "counter",
    "name",
    "accept",
    "drop",
    "reject",
    "jump",
    "update",
    "{",
    "}",
    "limit",
    "rate",
    "burst",
    "packets",
    "log",
    "prefix",
    "group",
    "ip",
    "ip6",
    "saddr",
    "daddr",
    "th",
    "dport",
    "sport",
    ".",
    "vmap",
    "@",
    "@s_x",
    "@egress4",
    "@0bad",
    "@s-x",
    "s_x",
    "\"\"",
    "\"unterminated",
    "0",
    "65535",
    "65536",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "+1",
    "-1",
    "1/second",
    "0/day",
    "1/fortnight",
    "+5/minute",
    "10/",
    "/second",
    "tcp",
    "\u{0}",
    "é",
    "\t",
];

#[derive(Debug, Clone)]
enum Edit {
    Drop(usize),
    Dup(usize),
    Swap(usize, usize),
    Replace(usize, usize),
    Insert(usize, usize),
    LongName(usize, usize),
    Number(usize, u64),
    Concat(usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::Drop),
        any::<usize>().prop_map(Edit::Dup),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::Swap(a, b)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::Replace(a, b)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::Insert(a, b)),
        (
            any::<usize>(),
            prop_oneof![
                Just(200usize),
                Just(201),
                Just(255),
                Just(256),
                Just(70_000),
                1..300usize
            ]
        )
            .prop_map(|(a, n)| Edit::LongName(a, n)),
        (
            any::<usize>(),
            prop_oneof![
                Just(0u64),
                Just(65_535),
                Just(65_536),
                Just(u32::MAX as u64),
                Just(u32::MAX as u64 + 1),
                Just(u64::MAX),
                any::<u64>()
            ]
        )
            .prop_map(|(a, n)| Edit::Number(a, n)),
        (1..40usize).prop_map(Edit::Concat),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

/// Re-quotes a word list into a rule text (words with spaces quoted).
fn join(words: &[String]) -> String {
    words
        .iter()
        .map(|w| match w.contains(' ') || w.is_empty() {
            true => format!("\"{w}\""),
            false => w.clone(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut w = words(text).unwrap_or_default();
    let mut raw: Option<String> = None;
    for e in edits {
        let n = w.len().max(1);
        match *e {
            Edit::Drop(i) if !w.is_empty() => {
                w.remove(i % n);
            }
            Edit::Dup(i) if !w.is_empty() => {
                let x = w[i % n].clone();
                w.insert(i % n, x);
            }
            Edit::Swap(a, b) if !w.is_empty() => w.swap(a % n, b % n),
            Edit::Replace(i, v) if !w.is_empty() => {
                w[i % n] = VOCABULARY[v % VOCABULARY.len()].into()
            }
            Edit::Insert(i, v) => {
                w.insert(i % (w.len() + 1), VOCABULARY[v % VOCABULARY.len()].into())
            }
            Edit::LongName(i, len) if !w.is_empty() => {
                let at = i % n;
                let at_ref = w[at].starts_with('@');
                let name = format!("s_{}", "a".repeat(len.saturating_sub(2)));
                w[at] = if at_ref { format!("@{name}") } else { name };
            }
            Edit::Number(i, v) if !w.is_empty() => {
                let at = i % n;
                w[at] = match w[at].split_once('/') {
                    Some((_, unit)) => format!("{v}/{unit}"),
                    None => v.to_string(),
                };
            }
            Edit::Concat(k) => {
                let f = ["ip6 saddr", "ip saddr", "meta l4proto", "th dport"];
                let key: Vec<&str> = (0..k).map(|i| f[(i * 7 + k) % 4]).collect();
                raw = Some(format!("{} @s_k accept", key.join(" . ")));
            }
            Edit::Truncate(i) => {
                let t = join(&w);
                let mut cut = i % (t.len() + 1);
                while !t.is_char_boundary(cut) {
                    cut -= 1;
                }
                raw = Some(t[..cut].to_string());
            }
            _ => {}
        }
    }
    raw.unwrap_or_else(|| join(&w))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_rules_encode_or_fall_back(
        pick in any::<usize>(),
        edits in prop::collection::vec(edit(), 0..5),
    ) {
        let rules = real_rules();
        let (text, comment) = &rules[pick % rules.len()];
        check_rule(&apply(text, &edits), comment)?;
    }

    #[test]
    fn rules_of_the_language_encode(
        statements in prop::collection::vec(statement(), 1..12),
    ) {
        let text = statements.join(" ");
        prop_assert!(check_rule(&text, "fuzz #0123456789ab")? || !in_language(&text), "{}", text);
    }


}

proptest! {
    // Each case encodes whole compiled tables: fewer in the normal run.
    #![proptest_config(ProptestConfig { cases: (cases() / 10).max(10), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_rulesets_encode_safely(
        pick in any::<usize>(),
        edits in prop::collection::vec(ir_edit(), 0..6),
    ) {
        let all = rulesets();
        let old = &all[pick % all.len()];
        let mut new = old.clone();
        for e in &edits {
            ir_apply(&mut new, e);
        }
        check_ir(old, &new)?;
    }
}

/// One statement of the language, with numbers and names over their range.
fn statement() -> impl Strategy<Value = String> {
    let states = prop::sample::subsequence(
        vec!["invalid", "established", "related", "new", "untracked"],
        1..5,
    )
    .prop_map(|s| format!("ct state {}", s.join(",")));
    let name = "[a-z][a-z0-9_]{0,30}";
    let field = prop::sample::select(vec![
        "ip saddr",
        "ip daddr",
        "ip6 saddr",
        "ip6 daddr",
        "meta l4proto",
        "th dport",
    ]);
    prop_oneof![
        states,
        prop::sample::select(vec![
            "meta nfproto ipv4",
            "meta nfproto ipv6",
            "accept",
            "drop"
        ])
        .prop_map(String::from),
        name.prop_map(|n| format!("counter name \"{n}\"")),
        (
            prop::collection::vec(field.clone(), 1..4),
            any::<bool>(),
            name
        )
            .prop_map(|(f, vmap, n)| format!(
                "{}{} @{n}",
                f.join(" . "),
                if vmap { " vmap" } else { "" }
            )),
        (
            name,
            field,
            any::<u64>(),
            prop::sample::select(vec!["second", "minute", "hour", "day"]),
            any::<u32>()
        )
            .prop_map(|(n, f, r, u, b)| format!(
                "update @{n} {{ {f} limit rate {r}/{u} burst {b} packets }}"
            )),
        ("[ !#-~]{0,127}", any::<u16>()).prop_map(|(p, g)| format!("log prefix \"{p}\" group {g}")),
    ]
}

// ---------------------------------------------------------------------------
// IR objects.

#[derive(Debug, Clone)]
enum IrEdit {
    /// An element added to an address set: the family's whole range, an
    /// edge, the other family's address.
    AddrElem(usize, u8),
    EmptySet(usize),
    PortEdge(usize, u8),
    EmptyChain(usize),
    DropChain(usize),
    DispatchToMissing(u8),
    NamedPort(usize, u8),
}

fn ir_edit() -> impl Strategy<Value = IrEdit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| IrEdit::AddrElem(a, b)),
        any::<usize>().prop_map(IrEdit::EmptySet),
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| IrEdit::PortEdge(a, b)),
        any::<usize>().prop_map(IrEdit::EmptyChain),
        any::<usize>().prop_map(IrEdit::DropChain),
        any::<u8>().prop_map(IrEdit::DispatchToMissing),
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| IrEdit::NamedPort(a, b)),
    ]
}

fn nth<K: Clone, V>(m: &std::collections::BTreeMap<K, V>, i: usize) -> Option<K> {
    (!m.is_empty()).then(|| m.keys().nth(i % m.len()).cloned().expect("in range"))
}

fn odd_range(family: Family, k: u8) -> (IpAddr, IpAddr) {
    let v4 = |a: u32| IpAddr::V4(Ipv4Addr::from(a));
    let v6 = |a: u128| IpAddr::V6(Ipv6Addr::from(a));
    match (family, k % 6) {
        (Family::V4, 0) => (v4(0), v4(u32::MAX)),
        (Family::V4, 1) => (v4(u32::MAX), v4(u32::MAX)),
        (Family::V4, 2) => (v4(0), v4(0)),
        (Family::V4, 3) => (v4(10 << 24), v4((10 << 24) - 1)), // lo > hi
        (Family::V6, 0) => (v6(0), v6(u128::MAX)),
        (Family::V6, 1) => (v6(u128::MAX), v6(u128::MAX)),
        (Family::V6, 2) => (v6(0), v6(0)),
        (Family::V6, 3) => (v6(1 << 64), v6((1 << 64) - 1)),
        (Family::V4, _) => (v6(1), v6(1)), // the other family
        (Family::V6, _) => (v4(1), v4(1)),
    }
}

fn ir_apply(rs: &mut Ruleset, e: &IrEdit) {
    match *e {
        IrEdit::AddrElem(i, k) => {
            if let Some(name) = nth(&rs.addr_sets, i) {
                let set = Arc::make_mut(rs.addr_sets.get_mut(&name).expect("set"));
                set.ranges.push(odd_range(set.family, k));
            }
        }
        IrEdit::EmptySet(i) => {
            if let Some(name) = nth(&rs.addr_sets, i) {
                Arc::make_mut(rs.addr_sets.get_mut(&name).expect("set"))
                    .ranges
                    .clear();
            } else if let Some(name) = nth(&rs.port_sets, i) {
                rs.port_sets.get_mut(&name).expect("set").ranges.clear();
            }
        }
        IrEdit::PortEdge(i, k) => {
            if let Some(name) = nth(&rs.port_sets, i) {
                let p = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp][k as usize % 3];
                let r = [(0, 0), (65535, 65535), (0, 65535), (80, 79), (1, 65535)][k as usize % 5];
                rs.port_sets
                    .get_mut(&name)
                    .expect("set")
                    .ranges
                    .push((p, r.0, r.1));
            }
        }
        IrEdit::EmptyChain(i) => {
            if let Some(name) = nth(&rs.chains, i) {
                Arc::make_mut(rs.chains.get_mut(&name).expect("chain"))
                    .rules
                    .clear();
            }
        }
        IrEdit::DropChain(i) => {
            if let Some(name) = nth(&rs.chains, i) {
                rs.chains.remove(&name);
            }
        }
        IrEdit::DispatchToMissing(k) => {
            if let Some(d) = nth(&rs.dispatch, k as usize) {
                let ip = IpAddr::V4(Ipv4Addr::new(10, 250, 0, k));
                rs.dispatch
                    .get_mut(&d)
                    .expect("direction")
                    .insert(ip, "c_missing".into());
            }
        }
        IrEdit::NamedPort(i, k) => {
            if let Some(name) = nth(&rs.named_port_sets, i) {
                let set = Arc::make_mut(rs.named_port_sets.get_mut(&name).expect("set"));
                let (ip, _) = odd_range(set.family, k);
                set.elements
                    .push((ip, Protocol::Tcp, [0, 65535, 80][k as usize % 3]));
            }
        }
    }
}

fn check_ir(old: &Ruleset, new: &Ruleset) -> Result<(), TestCaseError> {
    let full = |rs: &Ruleset| {
        full_load(rs, "palisade")
            .map(|b| b.bytes)
            .map_err(|e| e.to_string())
    };
    let a = full(new);
    prop_assert_eq!(&a, &full(new), "full load not deterministic");
    if let Ok(bytes) = &a {
        decodes(bytes);
    }
    let d = |o: &Ruleset, n: &Ruleset| {
        delta_between(o, n, "palisade")
            .map(|b| b.map(|b| b.bytes))
            .map_err(|e| e.to_string())
    };
    let delta = d(old, new);
    prop_assert_eq!(&delta, &d(old, new), "delta not deterministic");
    if let Ok(Some(bytes)) = &delta {
        decodes(bytes);
    }
    let hot = batch_between(old, new, "palisade").map(|b| b.bytes);
    prop_assert_eq!(&hot, &batch_between(old, new, "palisade").map(|b| b.bytes));
    if let Some(bytes) = hot {
        decodes(&bytes);
    }
    Ok(())
}

// ---------------------------------------------------------------------------

#[test]
fn every_real_rule_is_in_the_language_and_encodes() {
    for (text, comment) in real_rules() {
        assert!(in_language(text), "{text}");
        assert!(check_rule(text, comment).expect("checks"), "{text}");
    }
}

#[test]
fn the_corpus_is_encoded_or_refused_safely() {
    let corpus = corpus();
    assert!(
        !corpus.is_empty(),
        "no corpus in {}",
        corpus_dir().display()
    );
    for (file, text) in corpus {
        if let Err(e) = check_rule(&text, "corpus #0123456789ab") {
            panic!("{file}: {e}");
        }
    }
}
