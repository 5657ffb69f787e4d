//! Output formats of the analyzer: compact text for people; CSV, Markdown
//! and DOT for tools and pictures (JSON is the serde form of the result).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use palisade_analyze::{Allow, Connection, Connectivity};

/// `All`, or `TCP 80,8000-9000; UDP 53` (`TCP *` for every TCP port).
pub fn allow_text(allow: &[Allow]) -> String {
    let every = allow.len() == 3 && allow.iter().all(|a| a.ports.is_empty());
    if every {
        return "All".into();
    }
    let parts: Vec<String> = allow
        .iter()
        .map(|a| format!("{} {}", a.protocol, ports_text(&a.ports, ",")))
        .collect();
    parts.join("; ")
}

fn ports_text(ports: &[[u16; 2]], sep: &str) -> String {
    if ports.is_empty() {
        return "*".into();
    }
    let r: Vec<String> = ports
        .iter()
        .map(|[a, b]| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect();
    r.join(sep)
}

/// Names, with every complete namespace folded into `ns/*`.
fn fold(names: &BTreeSet<String>, by_ns: &BTreeMap<String, BTreeSet<String>>) -> String {
    let mut out = Vec::new();
    let mut done = BTreeSet::new();
    for name in names {
        // Addresses (CIDRs) contain '/' too: only endpoint names fold.
        let Some((ns, all)) = name
            .split_once('/')
            .and_then(|(ns, _)| by_ns.get_key_value(ns))
            .filter(|(_, all)| all.contains(name))
        else {
            out.push(name.clone());
            continue;
        };
        if all.len() > 1 && all.is_subset(names) {
            if done.insert(ns.to_string()) {
                out.push(format!("{ns}/*"));
            }
        } else {
            out.push(name.clone());
        }
    }
    out.join(", ")
}

/// Addresses in a CIDR string, or None for an endpoint name.
fn cidr_size(s: &str) -> Option<(bool, u128)> {
    let net: ipnet::IpNet = s.parse().ok()?;
    let bits = if net.addr().is_ipv4() { 32 } else { 128 };
    let host_bits = bits - u32::from(net.prefix_len());
    Some((
        net.addr().is_ipv4(),
        if host_bits == 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        },
    ))
}

/// Replaces a set of CIDRs that covers every address outside the endpoints
/// (of one family) with one readable word, e.g. `0.0.0.0/0 (outside endpoints)`.
fn fold_external(names: &BTreeSet<String>, endpoint_ips: (u128, u128)) -> BTreeSet<String> {
    // Sizes are counted as (addresses - 1) so that ::/0 fits in a u128.
    let mut covered = [0u128; 2];
    let mut count = [0u128; 2];
    for (v4, size_minus_1) in names.iter().filter_map(|n| cidr_size(n)) {
        let f = usize::from(!v4);
        covered[f] = covered[f].wrapping_add(size_minus_1);
        count[f] += 1;
    }
    let whole = [(1u128 << 32) - 1, u128::MAX];
    let mut out = BTreeSet::new();
    let full: Vec<bool> = (0..2)
        .map(|f| {
            let n_ips = [endpoint_ips.0, endpoint_ips.1][f];
            count[f] > 0
                && covered[f].wrapping_add(count[f]).wrapping_sub(1) == whole[f].wrapping_sub(n_ips)
        })
        .collect();
    for n in names {
        match cidr_size(n) {
            Some((v4, _)) if full[usize::from(!v4)] => {}
            _ => {
                out.insert(n.clone());
            }
        }
    }
    if full[0] {
        out.insert("0.0.0.0/0 (outside endpoints)".into());
    }
    if full[1] {
        out.insert("::/0 (outside endpoints)".into());
    }
    out
}

/// Groups connections for people: one line per (sources, destinations, allow).
pub fn text(c: &Connectivity) -> String {
    let ips: BTreeSet<&str> = c
        .endpoints
        .iter()
        .flat_map(|e| e.ips.iter().map(String::as_str))
        .collect();
    let v4 = ips.iter().filter(|ip| ip.contains('.')).count() as u128;
    let endpoint_ips = (v4, ips.len() as u128 - v4);
    let mut by_ns: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for e in &c.endpoints {
        by_ns
            .entry(e.namespace.clone())
            .or_default()
            .insert(e.name.clone());
    }
    let mut tos: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for conn in &c.connections {
        tos.entry((conn.from.clone(), allow_text(&conn.allow)))
            .or_default()
            .insert(conn.to.clone());
    }
    let mut froms: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for ((from, allow), to) in tos {
        froms
            .entry((fold(&fold_external(&to, endpoint_ips), &by_ns), allow))
            .or_default()
            .insert(from);
    }
    let mut out = String::new();
    for ((to, allow), from) in &froms {
        writeln!(
            out,
            "{} => {to} : {allow}",
            fold(&fold_external(from, endpoint_ips), &by_ns)
        )
        .unwrap();
    }
    for n in &c.notes {
        writeln!(out, "note: {n}").unwrap();
    }
    if c.connections.is_empty() {
        out.push_str("no connection is allowed\n");
    }
    out
}

fn rows(c: &[Connection]) -> impl Iterator<Item = (&str, &str, String, String)> {
    c.iter().flat_map(|conn| {
        conn.allow.iter().map(move |a| {
            (
                conn.from.as_str(),
                conn.to.as_str(),
                a.protocol.to_string(),
                ports_text(&a.ports, ";"),
            )
        })
    })
}

pub const CSV_HEADER: &str = "from,to,protocol,ports\n";

/// The CSV rows of one connection (one per protocol).
pub fn csv_rows(c: &Connection) -> String {
    let mut out = String::new();
    for (f, t, p, ports) in rows(std::slice::from_ref(c)) {
        writeln!(
            out,
            "{f},{t},{p},{}",
            if ports == "*" { "all".into() } else { ports }
        )
        .unwrap();
    }
    out
}

pub fn markdown(c: &Connectivity) -> String {
    let mut out = String::from("| from | to | protocol | ports |\n|---|---|---|---|\n");
    for (f, t, p, ports) in rows(&c.connections) {
        writeln!(
            out,
            "| {f} | {t} | {p} | {} |",
            if ports == "*" {
                "all".into()
            } else {
                ports.replace(';', ", ")
            }
        )
        .unwrap();
    }
    out
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\\\""))
}

/// A Graphviz digraph: one cluster per namespace, external ranges as boxes.
pub fn dot(c: &Connectivity) -> String {
    let mut out = String::from(
        "digraph connectivity {\n  rankdir=LR;\n  node [shape=ellipse, fontname=\"Helvetica\"];\n",
    );
    let mut by_ns: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for e in &c.endpoints {
        by_ns.entry(&e.namespace).or_default().push(&e.name);
    }
    for (i, (ns, names)) in by_ns.iter().enumerate() {
        writeln!(
            out,
            "  subgraph cluster_{i} {{\n    label={};\n    style=rounded;",
            quote(ns)
        )
        .unwrap();
        for n in names {
            let short = n.split_once('/').map_or(*n, |(_, p)| p);
            writeln!(out, "    {} [label={}];", quote(n), quote(short)).unwrap();
        }
        out.push_str("  }\n");
    }
    let endpoints: BTreeSet<&str> = c.endpoints.iter().map(|e| e.name.as_str()).collect();
    let externals: BTreeSet<&str> = c
        .connections
        .iter()
        .flat_map(|x| [x.from.as_str(), x.to.as_str()])
        .filter(|n| !endpoints.contains(n))
        .collect();
    for x in externals {
        writeln!(out, "  {} [shape=box, style=dashed];", quote(x)).unwrap();
    }
    for conn in &c.connections {
        writeln!(
            out,
            "  {} -> {} [label={}];",
            quote(&conn.from),
            quote(&conn.to),
            quote(&allow_text(&conn.allow))
        )
        .unwrap();
    }
    out.push_str("}\n");
    out
}
