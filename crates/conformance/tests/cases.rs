//! Runs every shared conformance case against the evaluator.

use std::path::PathBuf;

use palisade_conformance::{
    load_cases, parse_case, render, run_case, run_cases, Case, EvalBackend, Expectation, Problem,
};

/// The repository's `conformance/` (a copy of `shared/conformance`).
fn conformance_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../conformance")
}

/// `conformance/cases`, in the repository.
fn cases_dir() -> PathBuf {
    let dir = conformance_dir().join("cases");
    assert!(
        dir.is_dir(),
        "conformance cases not found at {}",
        dir.display()
    );
    dir
}

/// Every file under `dir`, relative to it, with its bytes.
fn tree(dir: &std::path::Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_path_buf();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// The repository's copy equals `shared/conformance` beside it, when that
/// exists (our own checkouts): same files, same bytes. Refresh it with
/// `rm -r conformance && cp -r ../shared/conformance conformance`.
#[test]
fn the_in_repo_copy_equals_shared_conformance() {
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance");
    if !shared.is_dir() {
        return eprintln!("skipped: no {} beside the repository", shared.display());
    }
    let (ours, theirs) = (tree(&conformance_dir()), tree(&shared));
    let names =
        |t: &std::collections::BTreeMap<PathBuf, Vec<u8>>| t.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&ours), names(&theirs), "the file lists differ");
    for (name, bytes) in &ours {
        assert!(&theirs[name] == bytes, "{} differs", name.display());
    }
}

fn load_all() -> Vec<Case> {
    let (cases, diagnostics) = load_cases(&[cases_dir()]);
    let listed: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
    assert!(
        listed.is_empty(),
        "case files have findings:\n{}",
        listed.join("\n")
    );
    cases
}

fn load_one(file: &str) -> Case {
    let path = cases_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    parse_case(&path.display().to_string(), &text).unwrap()
}

#[test]
fn every_case_passes_against_the_evaluator() {
    let cases = load_all();
    let files = std::fs::read_dir(cases_dir()).unwrap().filter(|e| {
        e.as_ref()
            .unwrap()
            .path()
            .extension()
            .is_some_and(|x| x == "yaml")
    });
    assert_eq!(cases.len(), files.count(), "every case file loads");
    let reports = run_cases(&cases, &mut EvalBackend);
    let mut out = String::new();
    render(&reports, &mut out).unwrap();
    let failed = reports.iter().filter(|r| !r.passed()).count();
    assert_eq!(failed, 0, "\n{out}");
    assert!(
        out.ends_with(&format!("{} passed, 0 failed\n", cases.len())),
        "{out}"
    );
}

/// Flips one cell of a table in memory.
fn flip(expect: &mut [Expectation], table: usize, row: usize, col: usize) {
    let Expectation::Table(t) = &mut expect[table] else {
        panic!("expectation {table} is not a table")
    };
    t.cells[row][col] = !t.cells[row][col];
}

#[test]
fn a_wrong_initial_cell_is_reported_exactly() {
    let mut case = load_one("017-ingress-named-port.yaml");
    flip(&mut case.expect, 1, 1, 0); // x/b -> x/a on 80/TCP is denied: claim it is allowed
    let report = run_case(&case, &mut EvalBackend);
    let failures: Vec<String> = report.failures.iter().map(ToString::to_string).collect();
    assert_eq!(failures, ["x/b -> x/a 80/TCP: expected ., got X"]);
}

#[test]
fn a_wrong_step_cell_names_the_step() {
    let mut case = load_one("036-cidr-and-except-overlap-then-update.yaml");
    flip(&mut case.steps[1].expect, 0, 0, 2); // x/a -> x/c after the /32 update is denied
    let report = run_case(&case, &mut EvalBackend);
    let failures: Vec<String> = report.failures.iter().map(ToString::to_string).collect();
    assert_eq!(failures, ["step 2 (add NetworkPolicy x/allow-client-a-via-cidr-egress-rule): x/a -> x/c 80/TCP: expected ., got X"]);
    let mut out = String::new();
    render(&[report], &mut out).unwrap();
    assert!(
        out.starts_with("FAIL 036-cidr-and-except-overlap-then-update ("),
        "{out}"
    );
    assert!(
        out.ends_with(&format!("\n    {}\n0 passed, 1 failed\n", failures[0])),
        "{out}"
    );
}

#[test]
fn a_wrong_external_probe_is_reported_exactly() {
    let mut case = load_one("078-ingress-ipblock-except.yaml");
    let Expectation::External(probes) = &mut case.expect[1] else {
        panic!()
    };
    probes[1].allowed = true;
    let report = run_case(&case, &mut EvalBackend);
    let failures: Vec<String> = report.failures.iter().map(ToString::to_string).collect();
    assert_eq!(failures, ["10.0.2.200 -> x/a 80/TCP: expected ., got X"]);
}

/// Inverts every expectation; returns how many verdicts were inverted.
fn invert(expect: &mut [Expectation]) -> usize {
    let mut n = 0;
    for expectation in expect {
        match expectation {
            Expectation::Table(t) => t.cells.iter_mut().flatten().for_each(|c| {
                *c = !*c;
                n += 1;
            }),
            Expectation::External(probes) => probes.iter_mut().for_each(|p| {
                p.allowed = !p.allowed;
                n += 1;
            }),
        }
    }
    n
}

#[test]
fn every_cell_of_every_case_is_probed() {
    for mut case in load_all() {
        let mut inverted = invert(&mut case.expect);
        for step in &mut case.steps {
            inverted += invert(&mut step.expect);
        }
        let report = run_case(&case, &mut EvalBackend);
        let mismatches = report
            .failures
            .iter()
            .filter(|f| matches!(f.problem, Problem::Mismatch { .. }));
        assert_eq!(mismatches.count(), inverted, "{}", case.name);
        assert_eq!(
            report.failures.len(),
            inverted,
            "{}: {:?}",
            case.name,
            report.failures
        );
    }
}
