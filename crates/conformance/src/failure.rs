//! What a case run found wrong, and how it reads.

use std::fmt;

use palisade_eval::Endpoint;
use palisade_model::Protocol;

use crate::case::cell_char;

/// The outcome of running one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseReport {
    /// The case's `name`.
    pub name: String,
    /// The file it was read from.
    pub file: String,
    /// Empty when the case passed.
    pub failures: Vec<Failure>,
}

impl CaseReport {
    /// True when nothing failed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// The step a failure belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRef {
    /// 1-based, as people count steps.
    pub index: usize,
    /// The mutation, e.g. `add NetworkPolicy x/foo`.
    pub summary: String,
}

/// One thing that went wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `None` for the initial state (before any step).
    pub step: Option<StepRef>,
    /// The line of the expectation (or step) in the case file, when known.
    pub line: Option<usize>,
    /// What went wrong.
    pub problem: Problem,
}

/// A probe as the case wrote it: `x/a -> y/b 80/TCP`, `x/a -> y/b serve-81-tcp/TCP`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub from: Endpoint,
    pub to: Endpoint,
    /// The port as written in the case: a number or a container port name.
    pub port: String,
    pub protocol: Protocol,
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} -> {} {}/{}",
            self.from, self.to, self.port, self.protocol
        )
    }
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The backend's verdict differs from the case's.
    Mismatch {
        cell: Cell,
        expected: bool,
        got: bool,
    },
    /// The case expects a named port to be reachable on a pod that does not define it.
    PortUndefined { cell: Cell },
    /// A table does not list exactly the pods that exist, in creation order.
    Structure(String),
    /// The state could not be built or a step could not be applied; the case stops there.
    State(String),
    /// The backend failed to sync, or to probe `cell`.
    Backend { cell: Option<Cell>, message: String },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Mismatch {
                cell,
                expected,
                got,
            } => {
                write!(
                    f,
                    "{cell}: expected {}, got {}",
                    cell_char(*expected),
                    cell_char(*got)
                )
            }
            Problem::PortUndefined { cell } => write!(
                f,
                "{cell}: expected {}, but the destination defines no port {}/{}",
                cell_char(true),
                cell.port,
                cell.protocol
            ),
            Problem::Structure(message) | Problem::State(message) => f.write_str(message),
            Problem::Backend {
                cell: Some(cell),
                message,
            } => write!(f, "{cell}: backend error: {message}"),
            Problem::Backend {
                cell: None,
                message,
            } => write!(f, "backend error: {message}"),
        }
    }
}

/// `step 2 (add NetworkPolicy x/foo): x/a -> y/b 80/TCP: expected X, got .`;
/// without the step prefix for the initial state.
impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(step) = &self.step {
            write!(f, "step {} ({}): ", step.index, step.summary)?;
        }
        self.problem.fmt(f)
    }
}
