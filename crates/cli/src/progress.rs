//! Progress lines on stderr for long runs, only when stderr is a terminal,
//! or as plain timed lines when `PALISADE_PROGRESS=1` (for logs and for
//! seeing where a run spends its time).

use std::io::{IsTerminal, Write};
use std::time::Instant;

/// Prints `palisade: <phase>... (1.2s)` lines while a command works.
#[derive(Debug)]
pub struct Progress {
    on: bool,
    /// Plain lines (`PALISADE_PROGRESS=1`) instead of one rewritten line.
    lines: bool,
    started: Instant,
}

impl Progress {
    pub fn new() -> Self {
        let lines = std::env::var_os("PALISADE_PROGRESS").is_some_and(|v| v == "1");
        Self {
            on: lines || std::io::stderr().is_terminal(),
            lines,
            started: Instant::now(),
        }
    }

    pub fn say(&self, phase: &str) {
        let t = self.started.elapsed().as_secs_f64();
        if self.lines {
            let _ = writeln!(std::io::stderr(), "palisade: {:.1} ms: {phase}", t * 1e3);
        } else if self.on {
            let _ = write!(std::io::stderr(), "\r\x1b[2Kpalisade: {phase}... ({t:.1}s)");
        }
    }

    pub fn done(&self) {
        if self.lines {
            self.say("done");
        } else if self.on {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}
