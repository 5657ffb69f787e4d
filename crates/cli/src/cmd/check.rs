//! `palisade check`: is one connection allowed, and why.

use std::process::ExitCode;

use anyhow::Context;
use palisade_eval::{evaluate, Connection, Endpoint};

use crate::args::{Input, PortArg};
use crate::input;
use crate::output::CheckFormat;

/// Is one connection allowed, and why?
///
/// Explains both sides: the source's egress and the
/// destination's ingress, which policies isolate each, and which rule
/// (policy, rule, peer, port entry) allowed it, or why none did.
///
/// Example: palisade check -f examples/walkthrough --from ns-1/busybox --to ns-1/http-echo --port 80/tcp
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: Input,
    /// Source: NAMESPACE/POD, or an IP address (a pod's address means that pod).
    #[arg(long, value_name = "ENDPOINT")]
    from: Endpoint,
    /// Destination: NAMESPACE/POD, or an IP address.
    #[arg(long, value_name = "ENDPOINT")]
    to: Endpoint,
    /// Destination port: 80 (TCP), 80/udp, 81/sctp, or a named port such as http or dns/udp.
    #[arg(long, value_name = "PORT[/PROTO]")]
    port: PortArg,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = CheckFormat::Text)]
    output: CheckFormat,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let loaded = input::load(&a.input);
    let cluster = loaded.to_cluster();
    let conn = Connection {
        from: a.from,
        to: a.to,
        protocol: a.port.protocol,
        port: a.port.port,
    };
    let verdict = evaluate(&cluster, &conn).context("cannot evaluate the connection")?;
    match a.output {
        CheckFormat::Json => println!("{}", serde_json::to_string_pretty(&verdict)?),
        CheckFormat::Text => print!("{}", verdict.explain()),
    }
    Ok(match (loaded.has_errors(), verdict.allowed) {
        (true, _) => ExitCode::from(2),
        (false, true) => ExitCode::SUCCESS,
        (false, false) => ExitCode::from(1),
    })
}
