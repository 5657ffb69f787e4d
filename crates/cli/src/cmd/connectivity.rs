//! `palisade connectivity`: every allowed connection, computed at cluster scale.

use std::process::ExitCode;

use std::io::{BufWriter, Write};

use palisade_analyze::{Allow, ClassConnectivity, Connectivity, End, Sources};

use super::analyze_fmt as fmt;
use crate::args::Input;
use crate::input;
use crate::parallel;
use crate::progress::Progress;

/// Every allowed connection between endpoints, and with the outside world.
///
/// Endpoints are pods and workloads (Deployment, StatefulSet, DaemonSet,
/// ReplicaSet, ReplicationController, Job, CronJob: one endpoint each, with
/// the pod template's labels and named ports). Addresses outside every
/// endpoint are grouped into CIDRs. Computed on equivalence classes, so it
/// scales to tens of thousands of pods.
///
/// Example: palisade connectivity -f manifests/ -o json
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: Input,
    /// Output: text (grouped for people: `sources => destinations : ports`;
    /// pods no policy tells apart share a line and appear among their own
    /// destinations), json (exact, one connection per line), csv, md, dot
    /// (Graphviz).
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Text)]
    output: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Csv,
    Md,
    Dot,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let progress = Progress::new();
    progress.say("loading manifests");
    let loaded = input::load(&a.input);
    let cluster = loaded.to_cluster();
    progress.say(&format!(
        "computing connectivity of {} endpoints",
        cluster.pods().count()
    ));
    let classes = ClassConnectivity::new(&cluster);
    let stats = classes.stats();
    progress.say(&format!(
        "writing {} connections ({} classes)",
        stats.connections(),
        stats.classes
    ));
    let mut out = BufWriter::new(std::io::stdout().lock());
    match a.output {
        // JSON and CSV stream from the lazy iterator: constant memory at any scale.
        Format::Json => stream_json(&classes, stats.connections(), ROWS_PER_CHUNK, &mut out)?,
        Format::Csv => {
            out.write_all(fmt::CSV_HEADER.as_bytes())?;
            for c in classes.connections() {
                out.write_all(fmt::csv_rows(&c).as_bytes())?;
            }
        }
        // Text is grouped on classes: its size follows the classes too.
        Format::Text => out.write_all(fmt::text(&classes).as_bytes())?,
        Format::Md | Format::Dot => {
            let c = Connectivity {
                endpoints: classes.endpoints().to_vec(),
                connections: classes.connections().collect(),
                notes: classes.notes().to_vec(),
            };
            let text = match a.output {
                Format::Md => fmt::markdown(&c),
                _ => fmt::dot(&c),
            };
            out.write_all(text.as_bytes())?;
        }
    }
    out.flush()?;
    progress.done();
    Ok(if loaded.has_errors() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// `{"endpoints": [...], "connections": [...], "notes": [...]}`, one
/// connection per line, written as they are produced.
fn stream_json(
    classes: &ClassConnectivity,
    rows: u64,
    rows_per_chunk: u64,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    out.write_all(b"{\n  \"endpoints\": ")?;
    serde_json::to_writer(&mut *out, classes.endpoints())?;
    out.write_all(b",\n  \"connections\": [")?;
    let json = JsonRows::new(classes);
    let sources = classes.sources();
    // Every row starts with ",\n    "; the very first one must not have the comma.
    let mut first = true;
    let per_source = rows / (sources.len() as u64).max(1);
    parallel::ordered(
        sources.len(),
        parallel::chunk_len(per_source, rows_per_chunk),
        |i, buf| json.source(&sources, i, buf),
        |chunk| {
            let chunk = match chunk.split_first() {
                Some((b',', rest)) if first => rest,
                _ => chunk,
            };
            first &= chunk.is_empty();
            out.write_all(chunk)
        },
    )?;
    out.write_all(b"\n  ]")?;
    if !classes.notes().is_empty() {
        out.write_all(b",\n  \"notes\": ")?;
        serde_json::to_writer(&mut *out, classes.notes())?;
    }
    out.write_all(b"\n}\n")?;
    Ok(())
}

/// Rows per unit of work handed to a writer thread: big enough to make the
/// hand-over cheap, small enough to keep memory flat at any scale.
const ROWS_PER_CHUNK: u64 = 4096;

/// The JSON text of every row, precomputed per part: a row is the bytes of
/// its `from`, its `to` and its allowed ports, copied one after the other.
/// This loop writes millions of rows; nothing in it formats or escapes.
struct JsonRows<'a> {
    classes: &'a ClassConnectivity,
    /// Per endpoint: `,\n    {"from":"ns/name","to":`.
    from: Vec<Vec<u8>>,
    /// Per endpoint: `"ns/name"`.
    to: Vec<Vec<u8>>,
    /// Per allow set: `,"allow":[...]}`.
    allow: Vec<Vec<u8>>,
}

impl<'a> JsonRows<'a> {
    fn new(classes: &'a ClassConnectivity) -> Self {
        let names = classes.endpoints().iter().map(|e| e.name.as_str());
        let from = names.clone().map(from_json).collect();
        let to = names.map(string_json).collect();
        let allow = classes.allow_sets().iter().map(|a| allow_json(a)).collect();
        JsonRows {
            classes,
            from,
            to,
            allow,
        }
    }

    /// Appends the rows of source number `i`.
    fn source(&self, sources: &Sources<'_>, i: usize, out: &mut Vec<u8>) {
        let mut cidr_from = Vec::new();
        sources.visit(i, &mut |from, to, allow| {
            match from {
                End::Endpoint(a) => out.extend_from_slice(&self.from[a]),
                End::Cidr(_) => {
                    if cidr_from.is_empty() {
                        cidr_from = from_json(self.classes.name(from));
                    }
                    out.extend_from_slice(&cidr_from);
                }
            }
            match to {
                End::Endpoint(b) => out.extend_from_slice(&self.to[b]),
                End::Cidr(c) => out.extend_from_slice(&string_json(c)),
            }
            out.extend_from_slice(&self.allow[allow]);
        });
    }
}

fn from_json(name: &str) -> Vec<u8> {
    let mut out = b",\n    {\"from\":".to_vec();
    out.extend_from_slice(&string_json(name));
    out.extend_from_slice(b",\"to\":");
    out
}

/// `,"allow":[...]}`: the end of a row, exactly as serde writes it.
fn allow_json(allow: &[Allow]) -> Vec<u8> {
    let mut out = b",\"allow\":".to_vec();
    serde_json::to_writer(&mut out, allow).expect("writing to a Vec cannot fail");
    out.push(b'}');
    out
}

/// A name or CIDR as a JSON string.
fn string_json(s: &str) -> Vec<u8> {
    serde_json::to_vec(s).expect("a string always serialises")
}

#[cfg(test)]
mod tests {
    use palisade_analyze::{ClassConnectivity, Connectivity};

    const CLUSTER: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: team-a, labels: {team: a}}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: team-a, labels: {app: a}}
spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: team-a, labels: {app: b}}
spec: {containers: [{name: c}]}
status: {podIP: 10.0.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: c, namespace: team-a, labels: {app: c}}
spec: {containers: [{name: c}]}
status: {podIP: 10.0.0.3}
---
apiVersion: v1
kind: Pod
metadata: {name: d, namespace: team-a, labels: {app: b}}
spec: {containers: [{name: c}]}
status: {podIP: 10.0.0.4}
---
apiVersion: v1
kind: Namespace
metadata: {name: team-b}
---
apiVersion: v1
kind: Pod
metadata: {name: e, namespace: team-b, labels: {app: e}}
spec: {containers: [{name: c}]}
status: {podIP: 10.0.1.1}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: team-a}
spec:
  podSelector: {matchLabels: {app: a}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: b}}}, {ipBlock: {cidr: 192.168.0.0/16, except: [192.168.1.0/24]}}]
    ports: [{port: http}, {port: 9000, endPort: 9100, protocol: UDP}]
  egress:
  - to: [{ipBlock: {cidr: 172.16.0.0/12}}]
"#;

    /// People's text: same-class pods share a line, whole namespaces fold
    /// to `ns/*`, the space outside endpoints gets one word per family.
    #[test]
    fn text_groups_sources_and_destinations() {
        let loaded = palisade_manifest::parse_str("t.yaml", CLUSTER);
        let classes = ClassConnectivity::new(&loaded.to_cluster());
        insta::assert_snapshot!(super::fmt::text(&classes));
    }

    /// The streamed JSON, in any chunking, is the analyzer's answer.
    #[test]
    fn streamed_json_is_the_connectivity_in_any_chunking() {
        let loaded = palisade_manifest::parse_str("t.yaml", CLUSTER);
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        let cluster = loaded.to_cluster();
        let want = palisade_analyze::connectivity(&cluster);
        // Pod to pod, pod to CIDR and CIDR to pod rows are all there.
        let cidr = |s: &str| s.starts_with(|c: char| c.is_ascii_digit() || c == ':');
        let has =
            |f: &dyn Fn(&palisade_analyze::Connection) -> bool| want.connections.iter().any(f);
        assert!(has(&|c| !cidr(&c.from) && !cidr(&c.to)));
        assert!(has(&|c| cidr(&c.from)));
        assert!(has(&|c| cidr(&c.to)));
        let classes = ClassConnectivity::new(&cluster);
        for rows_per_chunk in [1, 2, 5, 4096] {
            let mut out = Vec::new();
            let rows = want.connections.len() as u64;
            super::stream_json(&classes, rows, rows_per_chunk, &mut out).unwrap();
            let got: Connectivity = serde_json::from_slice(&out).unwrap();
            assert_eq!(got, want, "chunks of {rows_per_chunk}");
            // Each connection on a line of its own, in serde's compact form.
            let text = String::from_utf8(out).unwrap();
            for c in &want.connections {
                let line = format!("    {}", serde_json::to_string(c).unwrap());
                assert!(
                    text.lines().any(|l| l.trim_end_matches(',') == line),
                    "{line}"
                );
            }
        }
    }
}
