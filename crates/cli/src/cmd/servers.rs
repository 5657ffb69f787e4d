//! Built-in workloads for lab pods: `http-echo` and `serve`.

use std::process::ExitCode;

/// An HTTP server that answers every request with a JSON echo of its method,
/// path, headers and body, and logs one line per request.
#[derive(Debug, clap::Args)]
pub struct HttpEchoArgs {
    #[arg(long, default_value_t = 80)]
    port: u16,
}

pub fn http_echo(a: HttpEchoArgs) -> anyhow::Result<ExitCode> {
    let never = palisade_lab::http_echo::serve(a.port)?;
    match never {}
}

/// The conformance pod server: accepts TCP connections and echoes UDP
/// datagrams on the given ports (SCTP is probed with raw packets).
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[arg(long, value_delimiter = ',', default_value = "80,81")]
    tcp: Vec<u16>,
    #[arg(long, value_delimiter = ',', default_value = "80,81")]
    udp: Vec<u16>,
}

pub fn serve(a: ServeArgs) -> anyhow::Result<ExitCode> {
    let never = palisade_lab::serve::serve(&a.tcp, &a.udp)?;
    match never {}
}
