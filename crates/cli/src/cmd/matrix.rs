//! `palisade matrix`: the reachability table of all pods for one port.

use std::fmt::Write;
use std::process::ExitCode;

use palisade_eval::Matrix;

use crate::args::{Input, PortArg};
use crate::input;
use crate::output::Format;

/// Which pod may reach which, on one port: the reachability table.
///
/// Printed in the layout of the conformance cases: rows are sources, columns destinations, `.` allowed,
/// `X` denied, `-` the destination defines no such named port.
///
/// Example: palisade matrix -f examples/walkthrough --port 80/tcp
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: Input,
    /// Destination port: 80 (TCP), 80/udp, 81/sctp, or a named port resolved on each destination pod.
    #[arg(long, value_name = "PORT[/PROTO]")]
    port: PortArg,
    /// Output format: text, json, csv or md.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Text)]
    output: Format,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let loaded = input::load(&a.input);
    let m = Matrix::build(&loaded.to_cluster(), a.port.protocol, &a.port.port);
    let out = match a.output {
        Format::Text => text(&m),
        Format::Json => serde_json::to_string_pretty(&m)? + "\n",
        Format::Csv => csv(&m),
        Format::Md => markdown(&m),
    };
    print!("{out}");
    Ok(if loaded.has_errors() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn names(m: &Matrix) -> Vec<String> {
    m.pods.iter().map(ToString::to_string).collect()
}

/// The conformance-case table layout, columns padded to the longest name.
pub fn text(m: &Matrix) -> String {
    let names = names(m);
    let w = names.iter().map(String::len).max().unwrap_or(1);
    let mut out = format!("{:w$}", "-");
    for n in &names {
        write!(out, " {n:w$}").unwrap();
    }
    out = out.trim_end().to_string() + "\n";
    for (name, row) in names.iter().zip(&m.cells) {
        let mut line = format!("{name:w$}");
        for c in row {
            write!(line, " {:w$}", c.symbol()).unwrap();
        }
        out += line.trim_end();
        out.push('\n');
    }
    out
}

fn csv(m: &Matrix) -> String {
    let names = names(m);
    let mut out = format!("from\\to,{}\n", names.join(","));
    for (name, row) in names.iter().zip(&m.cells) {
        let cells: Vec<String> = row.iter().map(|c| c.symbol().to_string()).collect();
        out += &format!("{name},{}\n", cells.join(","));
    }
    out
}

fn markdown(m: &Matrix) -> String {
    let names = names(m);
    let mut out = format!("| from \\ to | {} |\n", names.join(" | "));
    out += &format!("|---|{}\n", "---|".repeat(names.len()));
    for (name, row) in names.iter().zip(&m.cells) {
        let cells: Vec<String> = row.iter().map(|c| format!("`{}`", c.symbol())).collect();
        out += &format!("| {name} | {} |\n", cells.join(" | "));
    }
    out
}
