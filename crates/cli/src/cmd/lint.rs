//! `palisade lint`: findings for platform teams reviewing policies.

use std::process::ExitCode;

use ipnet::IpNet;
use palisade_lint::{lint, render_text, to_sarif, Options, Severity};

use crate::args::Input;
use crate::input;

/// Find policies that do not do what their authors think.
///
/// Each finding has a stable code (PL001...), a severity, file:line, the
/// field path and a fix hint: policies selecting no pod, peers that can
/// match nothing, named ports no pod defines (or only for another protocol),
/// rules ignored because their direction is missing from policyTypes,
/// redundant policies, egress isolation that blocks DNS, ipBlocks naming pod
/// addresses, and (opt-in) namespaces without a default deny.
///
/// Example: palisade lint -f manifests/ -o sarif > palisade.sarif
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: Input,
    /// Output: text, json, or sarif (SARIF 2.1.0 for code-scanning tools).
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Text)]
    output: Format,
    /// Also report namespaces with pods and no default-deny ingress policy.
    #[arg(long)]
    require_default_deny: bool,
    /// The pod network (repeatable). Default: the /16 (IPv4) or /64 (IPv6) around each pod address.
    #[arg(long = "pod-cidr", value_name = "CIDR")]
    pod_cidrs: Vec<IpNet>,
    /// Exit 1 when a finding has this severity or worse.
    #[arg(long, value_enum, default_value_t = FailOn::Warning)]
    fail_on: FailOn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Info,
    Warning,
    Error,
    Never,
}

fn rank(s: Severity) -> u8 {
    match s {
        Severity::Info => 1,
        Severity::Warning => 2,
        Severity::Error => 3,
    }
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let loaded = input::load(&a.input);
    let opts = Options {
        require_default_deny: a.require_default_deny,
        pod_cidrs: a.pod_cidrs,
    };
    let findings = lint(&loaded.to_cluster(), &opts);
    match a.output {
        Format::Text if findings.is_empty() => println!("no findings"),
        Format::Text => crate::output::emit(&render_text(&findings))?,
        Format::Json => crate::output::emit(&(serde_json::to_string_pretty(&findings)? + "\n"))?,
        Format::Sarif => println!(
            "{}",
            serde_json::to_string_pretty(&to_sarif(&findings, env!("CARGO_PKG_VERSION")))?
        ),
    }
    let threshold = match a.fail_on {
        FailOn::Info => 1,
        FailOn::Warning => 2,
        FailOn::Error => 3,
        FailOn::Never => u8::MAX,
    };
    if loaded.has_errors() {
        return Ok(ExitCode::from(2));
    }
    Ok(if findings.iter().any(|f| rank(f.severity) >= threshold) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
