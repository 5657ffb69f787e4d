//! Golden output: the text report and SARIF for every fixture's findings,
//! and determinism of both.

mod common;

use common::{all_findings, cluster, FIXTURES};
use palisade_lint::{lint, render_text, to_sarif, Options};

#[test]
fn text_report() {
    insta::assert_snapshot!("text", render_text(&all_findings()));
}

#[test]
fn sarif_report() {
    insta::assert_json_snapshot!("sarif", to_sarif(&all_findings(), "0.1.0"));
}

#[test]
fn output_is_independent_of_input_order() {
    let findings = all_findings();
    let mut reversed = findings.clone();
    reversed.reverse();
    assert_eq!(render_text(&findings), render_text(&reversed));
    assert_eq!(to_sarif(&findings, "x"), to_sarif(&reversed, "x"));
}

#[test]
fn lint_is_deterministic_and_sorted() {
    for name in FIXTURES {
        let c = cluster(name);
        let opts = Options::default();
        let first = lint(&c, &opts);
        assert_eq!(first, lint(&c, &opts), "{name}");
        assert_eq!(render_text(&first), render_text(&lint(&c.clone(), &opts)));
        let keys: Vec<_> = first.iter().map(|f| (f.line, f.code)).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted, "{name}: sorted by line, then code");
    }
}
