//! `palisade`: Kubernetes NetworkPolicy, explained.
//!
//! Each subcommand lives in `cmd/`; input loading and diagnostics printing
//! in `input.rs`. Exit codes are documented in `--help` (see `EXIT_CODES`).

mod args;
mod cmd;
mod input;
mod lab;
mod output;
mod parallel;
mod progress;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

const EXIT_CODES: &str = "\
Exit codes:
  0  success (check: the connection is allowed)
  1  check: the connection is denied; conformance: a case failed; validate: input rejected
  2  usage error, unreadable input, or input rejected by validation (check, matrix)

Input limits (each input file or stdin; errors name the limit and file:line:column):
  PALISADE_MANIFEST_LIMITS=input=256M,depth=256,alias-nodes=1M,keys=1M (the defaults)
  input: bytes per input; depth: nested sequences/mappings (at most 1024);
  alias-nodes: nodes copied by anchors and aliases per document; keys: keys per mapping.
  Set any of them, e.g. PALISADE_MANIFEST_LIMITS=input=1G,depth=500";

/// palisade: Kubernetes NetworkPolicy, explained.
///
/// Reads Namespace, Pod and NetworkPolicy manifests (YAML or JSON, files,
/// directories or stdin), validates them as the API server would, and answers
/// which connections the policies allow, and why.
#[derive(Debug, Parser)]
#[command(name = "palisade", version, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Check(cmd::check::Args),
    Matrix(cmd::matrix::Args),
    Conformance(cmd::conformance::Args),
    Validate(cmd::validate::Args),
    Render(cmd::render::Args),
    Lint(cmd::lint::Args),
    Connectivity(cmd::connectivity::Args),
    Diff(cmd::diff::Args),
    Lab(lab::Args),
    Bench(cmd::bench::Args),
    /// Run the node agent: watch the Kubernetes API and enforce NetworkPolicy on this node.
    Agent(palisade_agent::Config),
    Probe(cmd::probe::Args),
    HttpEcho(cmd::servers::HttpEchoArgs),
    #[command(hide = true)]
    Serve(cmd::servers::ServeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match palisade_manifest::Limits::from_env() {
        Ok(limits) => palisade_manifest::set_limits(limits),
        Err(e) => {
            eprintln!("palisade: {e}");
            return ExitCode::from(2);
        }
    }
    let result = match cli.command {
        Command::Check(a) => cmd::check::run(a),
        Command::Matrix(a) => cmd::matrix::run(a),
        Command::Conformance(a) => cmd::conformance::run(a),
        Command::Validate(a) => cmd::validate::run(a),
        Command::Render(a) => cmd::render::run(a),
        Command::Lint(a) => cmd::lint::run(a),
        Command::Connectivity(a) => cmd::connectivity::run(a),
        Command::Diff(a) => cmd::diff::run(a),
        Command::Lab(a) => lab::run(a),
        Command::Bench(a) => cmd::bench::run(a),
        Command::Agent(c) => Ok(palisade_agent::main(c)),
        Command::Probe(a) => cmd::probe::run(a),
        Command::HttpEcho(a) => cmd::servers::http_echo(a),
        Command::Serve(a) => cmd::servers::serve(a),
    };
    match result {
        Ok(code) => code,
        // A closed pipe (`palisade ... | head`) is not an error.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("palisade: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
