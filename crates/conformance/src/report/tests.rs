use super::*;
use crate::failure::{Failure, Problem};

fn report(file: &str, failures: Vec<Failure>) -> CaseReport {
    CaseReport {
        name: "n".into(),
        file: file.into(),
        failures,
    }
}

#[test]
fn render_prints_one_line_per_case_then_the_summary() {
    let failure = Failure {
        step: None,
        line: Some(3),
        problem: Problem::State("no pod q/a".into()),
    };
    let reports = [
        report("cases/017-ingress-named-port.yaml", Vec::new()),
        report("cases/036-x.yaml", vec![failure]),
    ];
    let mut out = String::new();
    render(&reports, &mut out).unwrap();
    let expected = "PASS 017-ingress-named-port\nFAIL 036-x (cases/036-x.yaml)\n    no pod q/a\n1 passed, 1 failed\n";
    assert_eq!(out, expected);
}

/// A fresh directory under the system temp dir.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "palisade-conformance-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn load_cases_reads_directories_sorted_and_reports_problems() {
    let dir = scratch("load");
    std::fs::write(dir.join("b.yaml"), "name: same\n").unwrap();
    std::fs::write(dir.join("a.yaml"), "name: same\n").unwrap();
    std::fs::write(dir.join("c.yaml"), "name: bad\nwat: 1\n").unwrap();
    std::fs::write(dir.join("notes.txt"), "not a case").unwrap();
    let (cases, diagnostics) = load_cases(&[dir.clone(), dir.join("missing.yaml")]);
    let files: Vec<&str> = cases
        .iter()
        .map(|c| c.file.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(files, ["a.yaml", "b.yaml"]);
    let messages: Vec<String> = diagnostics.iter().map(|d| d.message.clone()).collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert!(messages[0].starts_with("unknown key \"wat\""));
    assert!(messages[1].starts_with("cannot read"));
    assert!(messages[2].starts_with("case name \"same\" is also used by"));
    std::fs::remove_dir_all(dir).unwrap();
}
