//! `palisade connectivity`: every allowed connection, computed at cluster scale.

use std::process::ExitCode;

use std::io::{BufWriter, Write};

use palisade_analyze::{Allow, ClassConnectivity, Connectivity};

use super::analyze_fmt as fmt;
use crate::args::Input;
use crate::input;
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
    /// Output: text (grouped for people), json (exact), csv, md, dot (Graphviz).
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
        Format::Json => stream_json(&classes, &mut out)?,
        Format::Csv => {
            out.write_all(fmt::CSV_HEADER.as_bytes())?;
            for c in classes.connections() {
                out.write_all(fmt::csv_rows(&c).as_bytes())?;
            }
        }
        Format::Text | Format::Md | Format::Dot => {
            let c = Connectivity {
                endpoints: classes.endpoints().to_vec(),
                connections: classes.connections().collect(),
                notes: classes.notes().to_vec(),
            };
            let text = match a.output {
                Format::Text => fmt::text(&c),
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
fn stream_json(classes: &ClassConnectivity, out: &mut impl Write) -> anyhow::Result<()> {
    out.write_all(b"{\n  \"endpoints\": ")?;
    serde_json::to_writer(&mut *out, classes.endpoints())?;
    out.write_all(b",\n  \"connections\": [")?;
    let mut line = Vec::with_capacity(256);
    let mut first = true;
    let mut result = Ok(());
    classes.for_each_connection(|from, to, allow| {
        if result.is_err() {
            return;
        }
        line.clear();
        line.extend_from_slice(if first { b"\n    " } else { b",\n    " });
        first = false;
        result =
            connection_json(from, to, allow, &mut line).and_then(|()| Ok(out.write_all(&line)?));
    });
    result?;
    out.write_all(b"\n  ]")?;
    if !classes.notes().is_empty() {
        out.write_all(b",\n  \"notes\": ")?;
        serde_json::to_writer(&mut *out, classes.notes())?;
    }
    out.write_all(b"\n}\n")?;
    Ok(())
}

/// One connection as compact JSON, exactly as serde would write it, but
/// without serde's per-value overhead (this loop runs millions of times).
fn connection_json(from: &str, to: &str, allow: &[Allow], out: &mut Vec<u8>) -> anyhow::Result<()> {
    out.extend_from_slice(b"{\"from\":");
    string_json(from, out)?;
    out.extend_from_slice(b",\"to\":");
    string_json(to, out)?;
    out.extend_from_slice(b",\"allow\":[");
    for (i, a) in allow.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"protocol\":\"");
        out.extend_from_slice(a.protocol.as_str().as_bytes());
        out.extend_from_slice(b"\",\"ports\":[");
        for (j, [lo, hi]) in a.ports.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            write!(out, "[{lo},{hi}]")?;
        }
        out.extend_from_slice(b"]}");
    }
    out.extend_from_slice(b"]}");
    Ok(())
}

/// Names and CIDRs are plain ASCII; anything else goes through serde.
fn string_json(s: &str, out: &mut Vec<u8>) -> anyhow::Result<()> {
    if s.bytes()
        .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
    {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(&mut *out, s)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use palisade_analyze::{Allow, Connection};
    use palisade_model::Protocol;

    #[test]
    fn hand_written_json_equals_serde() {
        let c = Connection {
            from: "ns-1/a".into(),
            to: "we\"ird\u{e9}".into(),
            allow: vec![
                Allow {
                    protocol: Protocol::Tcp,
                    ports: vec![[80, 80], [8000, 9000]],
                },
                Allow {
                    protocol: Protocol::Sctp,
                    ports: vec![],
                },
            ],
        };
        let mut out = Vec::new();
        super::connection_json(&c.from, &c.to, &c.allow, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string(&c).unwrap()
        );
    }
}
