//! Progress lines on stderr for long runs, only when stderr is a terminal.

use std::io::{IsTerminal, Write};
use std::time::Instant;

/// Prints `palisade: <phase>... (1.2s)` lines while a command works.
#[derive(Debug)]
pub struct Progress {
    on: bool,
    started: Instant,
}

impl Progress {
    pub fn new() -> Self {
        Self {
            on: std::io::stderr().is_terminal(),
            started: Instant::now(),
        }
    }

    pub fn say(&self, phase: &str) {
        if self.on {
            let t = self.started.elapsed().as_secs_f64();
            let _ = write!(std::io::stderr(), "\r\x1b[2Kpalisade: {phase}... ({t:.1}s)");
        }
    }

    pub fn done(&self) {
        if self.on {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}
