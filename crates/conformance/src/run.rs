//! Running a case against a backend: build the state, check every
//! expectation, apply each step and check again.

use palisade_eval::{Endpoint, PortRef};
use palisade_model::PodId;

use crate::backend::{Backend, Probe};
use crate::case::{Case, Expectation, ExternalProbe, Table};
use crate::failure::{CaseReport, Cell, Failure, Problem, StepRef};
use crate::state::State;

/// Runs one case. A step that cannot be applied (it names an object that
/// does not exist, or creates one that does) ends the run with a failure.
pub fn run_case(case: &Case, backend: &mut dyn Backend) -> CaseReport {
    let mut run = Run {
        backend,
        failures: Vec::new(),
        pending: Vec::new(),
    };
    run.case(case);
    CaseReport {
        name: case.name.clone(),
        file: case.file.clone(),
        failures: run.failures,
    }
}

/// Runs every case, in order.
pub fn run_cases(cases: &[Case], backend: &mut dyn Backend) -> Vec<CaseReport> {
    cases.iter().map(|case| run_case(case, backend)).collect()
}

struct Run<'b> {
    backend: &'b mut dyn Backend,
    failures: Vec<Failure>,
    /// Probes of the current point, sent to the backend in one batch.
    pending: Vec<Pending>,
}

/// A probe waiting for its answer, with what to report if it differs.
struct Pending {
    probe: Probe,
    cell: Cell,
    line: usize,
    expected: bool,
}

/// The point of a run being checked: the step (none for the initial state)
/// and the state after it.
#[derive(Clone, Copy)]
struct Point<'a> {
    step: Option<&'a StepRef>,
    state: &'a State,
}

impl Run<'_> {
    fn fail(&mut self, step: Option<&StepRef>, line: Option<usize>, problem: Problem) {
        let step = step.cloned();
        self.failures.push(Failure {
            step,
            line,
            problem,
        });
    }

    fn case(&mut self, case: &Case) {
        let mut state = match State::initial(case) {
            Ok(state) => state,
            Err(message) => return self.fail(None, None, Problem::State(message)),
        };
        self.point(
            Point {
                step: None,
                state: &state,
            },
            &case.expect,
        );
        for (i, step) in case.steps.iter().enumerate() {
            let summary = step.mutation.to_string();
            let at = StepRef {
                index: i + 1,
                summary,
            };
            if let Err(message) = state.apply(&step.mutation) {
                return self.fail(Some(&at), Some(step.line), Problem::State(message));
            }
            self.point(
                Point {
                    step: Some(&at),
                    state: &state,
                },
                &step.expect,
            );
        }
    }

    /// Syncs the backend to the point's state, then checks `expect` against it.
    fn point(&mut self, at: Point<'_>, expect: &[Expectation]) {
        if let Err(message) = self.backend.sync(&at.state.cluster) {
            let problem = Problem::Backend {
                cell: None,
                message,
            };
            return self.fail(at.step, None, problem);
        }
        for expectation in expect {
            match expectation {
                Expectation::Table(table) => self.table(at, table),
                Expectation::External(probes) => {
                    for probe in probes {
                        self.external(at, probe);
                    }
                }
            }
        }
        self.flush(at);
    }

    /// Sends the point's probes as one batch and records every difference.
    fn flush(&mut self, at: Point<'_>) {
        let pending = std::mem::take(&mut self.pending);
        let probes: Vec<Probe> = pending.iter().map(|p| p.probe.clone()).collect();
        let answers = self.backend.probe_many(&at.state.cluster, &probes);
        for (p, answer) in pending.into_iter().zip(answers) {
            let problem = match answer {
                Ok(got) if got == p.expected => continue,
                Ok(got) => Problem::Mismatch {
                    cell: p.cell,
                    expected: p.expected,
                    got,
                },
                Err(message) => Problem::Backend {
                    cell: Some(p.cell),
                    message,
                },
            };
            self.fail(at.step, Some(p.line), problem);
        }
    }

    fn table(&mut self, at: Point<'_>, table: &Table) {
        if !self.structure(at, table) {
            return;
        }
        for (from, row) in table.rows.iter().zip(&table.cells) {
            for (to, &expected) in table.cols.iter().zip(row) {
                self.cell(at, table, (from, to), expected);
            }
        }
    }

    /// Checks the rows and columns list exactly the pods that exist, in order.
    fn structure(&mut self, at: Point<'_>, table: &Table) -> bool {
        let order = &at.state.order;
        let mut ok = true;
        for (what, pods) in [("rows", &table.rows), ("columns", &table.cols)] {
            if pods != order {
                let message = format!(
                    "line {}: table {what} are [{}], but the pods that exist are, in creation order, [{}]",
                    table.line,
                    list(pods),
                    list(order)
                );
                self.fail(at.step, Some(table.line), Problem::Structure(message));
                ok = false;
            }
        }
        ok
    }

    fn cell(&mut self, at: Point<'_>, table: &Table, (from, to): (&PodId, &PodId), expected: bool) {
        let cell = Cell {
            from: Endpoint::Pod(from.clone()),
            to: Endpoint::Pod(to.clone()),
            port: table.port.to_string(),
            protocol: table.protocol,
        };
        let port = match &table.port {
            PortRef::Number(n) => Some(*n),
            PortRef::Named(name) => at
                .state
                .cluster
                .pod(to)
                .and_then(|pod| pod.named_port(name, table.protocol)),
        };
        match port {
            Some(port) => self.verdict(table.line, cell, port, expected),
            // A pod always reaches itself, whatever the port.
            None if from == to || !expected => {}
            None => self.fail(at.step, Some(table.line), Problem::PortUndefined { cell }),
        }
    }

    fn external(&mut self, at: Point<'_>, probe: &ExternalProbe) {
        for end in [&probe.from, &probe.to] {
            if let Endpoint::Pod(id) = end {
                if at.state.cluster.pod(id).is_none() {
                    let message = format!(
                        "line {}: external probe names pod {id}, which does not exist",
                        probe.line
                    );
                    return self.fail(at.step, Some(probe.line), Problem::Structure(message));
                }
            }
        }
        let cell = Cell {
            from: probe.from.clone(),
            to: probe.to.clone(),
            port: probe.port.to_string(),
            protocol: probe.protocol,
        };
        self.verdict(probe.line, cell, probe.port, probe.allowed);
    }

    /// Queues `cell` for probing on the numeric `port`, to compare with `expected`.
    fn verdict(&mut self, line: usize, cell: Cell, port: u16, expected: bool) {
        let probe = Probe {
            from: cell.from.clone(),
            to: cell.to.clone(),
            protocol: cell.protocol,
            port,
        };
        self.pending.push(Pending {
            probe,
            cell,
            line,
            expected,
        });
    }
}

fn list(pods: &[PodId]) -> String {
    pods.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests;
