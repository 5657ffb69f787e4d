//! NetworkPolicy conformance: reads case files and runs them against a backend.
//!
//! A case file (format: `conformance/README.md`) pins down one
//! semantic point of `networking.k8s.io/v1` NetworkPolicy: a cluster state,
//! policies, the reachability that must follow, and steps that mutate the
//! state. Start with [`load_cases`] (or [`parse_case`] for one text), run
//! them with [`run_case`] against a [`Backend`] ([`EvalBackend`] asks the
//! evaluator; the lab will send real packets), and print the reports with
//! [`render`].

mod backend;
mod case;
mod failure;
mod parse;
mod report;
mod run;
mod state;
mod table;
pub mod world;

pub use backend::{Backend, EvalBackend, Probe};
pub use case::{cell_char, Case, Expectation, ExternalProbe, Kind, Mutation, Step, Table, Target};
pub use failure::{CaseReport, Cell, Failure, Problem, StepRef};
pub use parse::parse_case;
pub use report::{load_cases, render};
pub use run::{run_case, run_cases};
