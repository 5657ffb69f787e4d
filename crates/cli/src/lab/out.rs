//! What a lab command prints, collected by the controller and printed by
//! the client (`client.rs`) as if the command had run in its own process.

use std::fmt::Write as _;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A command's standard output and standard error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Out {
    pub stdout: String,
    pub stderr: String,
    /// `PALISADE_LAB_VERBOSE` was set for the command: [`Out::trace`] writes.
    #[serde(skip)]
    pub verbose: bool,
}

impl Out {
    pub fn new(verbose: bool) -> Self {
        Out {
            verbose,
            ..Self::default()
        }
    }

    /// A line on standard output.
    pub fn say(&mut self, line: impl std::fmt::Display) {
        let _ = writeln!(self.stdout, "{line}");
    }

    /// A line on standard error.
    pub fn warn(&mut self, line: impl std::fmt::Display) {
        let _ = writeln!(self.stderr, "{line}");
    }

    /// A `palisade: ...` line on standard error when verbose (where the time went).
    pub fn trace(&mut self, line: impl std::fmt::Display) {
        if self.verbose {
            let _ = writeln!(self.stderr, "palisade: {line}");
        }
    }
}

/// Milliseconds, for trace lines.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// True when `PALISADE_LAB_VERBOSE` is set in this process.
pub fn verbose_env() -> bool {
    std::env::var_os("PALISADE_LAB_VERBOSE").is_some()
}
