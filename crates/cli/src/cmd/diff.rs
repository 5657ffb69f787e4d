//! `palisade diff`: the connections added and removed between two versions.

use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use palisade_analyze::{connectivity, diff::diff};

use super::analyze_fmt::allow_text;
use crate::args::Input;
use crate::input;
use crate::progress::Progress;

/// The connections added and removed between two versions of a cluster's
/// manifests. Exits 1 when anything changed (like `git diff --exit-code`),
/// so it can gate a pull request.
///
/// Example: palisade diff --before main/manifests --after pr/manifests
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The manifests before the change (file, directory or -). Repeatable.
    #[arg(long, required = true, value_name = "PATH")]
    before: Vec<PathBuf>,
    /// The manifests after the change. Repeatable.
    #[arg(long, required = true, value_name = "PATH")]
    after: Vec<PathBuf>,
    /// Output: text (grouped for people) or json (exact).
    #[arg(short = 'o', long, value_enum, default_value_t = crate::output::CheckFormat::Text)]
    output: crate::output::CheckFormat,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let progress = Progress::new();
    progress.say("loading the 'before' manifests");
    let before = input::load(&Input { files: a.before });
    progress.say("loading the 'after' manifests");
    let after = input::load(&Input { files: a.after });
    progress.say("computing both connectivities");
    let d = diff(
        &connectivity(&before.to_cluster()),
        &connectivity(&after.to_cluster()),
    );
    progress.done();
    match a.output {
        crate::output::CheckFormat::Json => {
            crate::output::emit(&(serde_json::to_string_pretty(&d)? + "\n"))?
        }
        crate::output::CheckFormat::Text => crate::output::emit(&text(&d))?,
    }
    if before.has_errors() || after.has_errors() {
        return Ok(ExitCode::from(2));
    }
    Ok(if d.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn text(d: &palisade_analyze::diff::Diff) -> String {
    let mut out = String::new();
    for (sign, list) in [("+", &d.added), ("-", &d.removed)] {
        for c in list {
            writeln!(
                out,
                "{sign} {} => {} : {}",
                c.from,
                c.to,
                allow_text(&c.allow)
            )
            .unwrap();
        }
    }
    if out.is_empty() {
        out.push_str("no connectivity change\n");
    } else {
        writeln!(out, "{} added, {} removed", d.added.len(), d.removed.len()).unwrap();
    }
    out
}
