//! Output formats of the analyzer: compact text for people; CSV, Markdown
//! and DOT for tools and pictures (JSON is the serde form of the result).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write;

use palisade_analyze::{Allow, ClassConnectivity, Connection, Connectivity, End};

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

/// Endpoint names and namespace sizes, for folding whole namespaces.
struct Namespaces<'a> {
    /// Endpoint name -> its namespace.
    of: HashMap<&'a str, &'a str>,
    size: HashMap<&'a str, usize>,
}

impl<'a> Namespaces<'a> {
    fn new(endpoints: &'a [palisade_analyze::Endpoint]) -> Self {
        let mut size: HashMap<&str, usize> = HashMap::new();
        for e in endpoints {
            *size.entry(e.namespace.as_str()).or_default() += 1;
        }
        let of = (endpoints.iter())
            .map(|e| (e.name.as_str(), e.namespace.as_str()))
            .collect();
        Namespaces { of, size }
    }

    /// Sorted, distinct names, with every complete namespace (of more than
    /// one endpoint) folded into `ns/*`.
    fn fold(&self, names: &[&str]) -> String {
        // Addresses (CIDRs) contain '/' too: only endpoint names fold.
        let mut present: HashMap<&str, usize> = HashMap::new();
        for name in names {
            if let Some(ns) = self.of.get(name) {
                *present.entry(ns).or_default() += 1;
            }
        }
        let whole = |ns: &str| self.size[ns] > 1 && present[ns] == self.size[ns];
        let mut out: Vec<Cow<'_, str>> = Vec::new();
        let mut done = HashSet::new();
        for name in names {
            match self.of.get(name) {
                Some(ns) if whole(ns) => {
                    if done.insert(*ns) {
                        out.push(format!("{ns}/*").into());
                    }
                }
                _ => out.push(Cow::Borrowed(name)),
            }
        }
        out.join(", ")
    }
}

/// Addresses in a CIDR string, or None for an endpoint name.
fn cidr_size(s: &str) -> Option<(bool, u128)> {
    if !s.starts_with(|c: char| c.is_ascii_hexdigit() || c == ':') {
        return None; // endpoint names start with their namespace, a letter
    }
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
/// (of one family) with one readable word, e.g. `0.0.0.0/0 (outside
/// endpoints)`. `names` are sorted and distinct, and so is the result.
fn fold_external<'a>(names: &[&'a str], endpoint_ips: (u128, u128)) -> Vec<&'a str> {
    // Sizes are counted as (addresses - 1) so that ::/0 fits in a u128.
    let mut covered = [0u128; 2];
    let mut count = [0u128; 2];
    let sizes: Vec<Option<(bool, u128)>> = names.iter().map(|n| cidr_size(n)).collect();
    for (v4, size_minus_1) in sizes.iter().flatten() {
        let f = usize::from(!v4);
        covered[f] = covered[f].wrapping_add(*size_minus_1);
        count[f] += 1;
    }
    let whole = [(1u128 << 32) - 1, u128::MAX];
    let full: Vec<bool> = (0..2)
        .map(|f| {
            let n_ips = [endpoint_ips.0, endpoint_ips.1][f];
            count[f] > 0
                && covered[f].wrapping_add(count[f]).wrapping_sub(1) == whole[f].wrapping_sub(n_ips)
        })
        .collect();
    let mut out: Vec<&str> = (names.iter().zip(&sizes))
        .filter(|(_, size)| !matches!(size, Some((v4, _)) if full[usize::from(!v4)]))
        .map(|(n, _)| *n)
        .collect();
    if full[0] {
        out.push("0.0.0.0/0 (outside endpoints)");
    }
    if full[1] {
        out.push("::/0 (outside endpoints)");
    }
    out.sort_unstable();
    out
}

/// The sorted, distinct names of some connection ends.
fn names<'a>(cc: &'a ClassConnectivity, ends: &[End<'a>]) -> Vec<&'a str> {
    let mut v: Vec<&str> = ends.iter().map(|e| cc.name(*e)).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Groups connections for people: one line per (sources, destinations,
/// allow), from the analyzer's class-level groups, so it costs classes, not
/// pairs. A line's sources may include its destinations: a pod may always
/// reach itself.
pub fn text(cc: &ClassConnectivity) -> String {
    let endpoints = cc.endpoints();
    let ips: BTreeSet<&str> = endpoints
        .iter()
        .flat_map(|e| e.ips.iter().map(String::as_str))
        .collect();
    let v4 = ips.iter().filter(|ip| ip.contains('.')).count() as u128;
    let endpoint_ips = (v4, ips.len() as u128 - v4);
    let namespaces = Namespaces::new(endpoints);
    let groups = cc.grouped();
    let mut lines: BTreeMap<(String, String), Vec<&str>> = BTreeMap::new();
    for g in &groups {
        let to = namespaces.fold(&fold_external(&names(cc, &g.to), endpoint_ips));
        let allow = allow_text(&cc.allow_sets()[g.allow_set]);
        let from = lines.entry((to, allow)).or_default();
        from.extend(g.from.iter().map(|e| cc.name(*e)));
    }
    let mut out = String::new();
    for ((to, allow), from) in &mut lines {
        from.sort_unstable();
        from.dedup();
        let from = namespaces.fold(&fold_external(from, endpoint_ips));
        writeln!(out, "{from} => {to} : {allow}").unwrap();
    }
    for n in cc.notes() {
        writeln!(out, "note: {n}").unwrap();
    }
    if groups.is_empty() {
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
