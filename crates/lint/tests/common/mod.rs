//! Loading fixtures and summarising findings.

#![allow(dead_code)] // each test binary uses a different subset

use palisade_lint::{lint, Finding, Options, Severity};
use palisade_model::Cluster;

/// The path of a fixture, relative to the crate (the tests' working directory).
pub fn path(name: &str) -> String {
    format!("tests/fixtures/{name}.yaml")
}

/// Loads a fixture into a cluster; any load diagnostic fails the test.
pub fn cluster(name: &str) -> Cluster {
    let loaded = palisade_manifest::load_paths(&[path(name)]);
    assert!(
        loaded.diagnostics.is_empty(),
        "{name}: {:#?}",
        loaded.diagnostics
    );
    loaded.to_cluster()
}

/// Lints a fixture with `opts`.
pub fn lint_with(name: &str, opts: &Options) -> Vec<Finding> {
    lint(&cluster(name), opts)
}

/// Lints a fixture with default options.
pub fn lint_fixture(name: &str) -> Vec<Finding> {
    lint_with(name, &Options::default())
}

/// What the per-check tests assert: code, severity, file, line and field.
pub type Row = (
    &'static str,
    Severity,
    Option<String>,
    Option<usize>,
    String,
);

pub fn rows(findings: &[Finding]) -> Vec<Row> {
    findings
        .iter()
        .map(|f| (f.code, f.severity, f.file.clone(), f.line, f.field.clone()))
        .collect()
}

/// An expected row in fixture `name`.
pub fn row(code: &'static str, severity: Severity, name: &str, line: usize, field: &str) -> Row {
    (
        code,
        severity,
        Some(path(name)),
        Some(line),
        field.to_string(),
    )
}

/// Every fixture that has findings, in code order.
pub const FIXTURES: [&str; 11] = [
    "pl001_selects_nothing",
    "pl002_namespace_selector",
    "pl003_pod_selector",
    "pl004_named_port_undefined",
    "pl005_named_port_protocol",
    "pl006_ignored_rules",
    "pl007_redundant",
    "pl008_dns",
    "pl009_ipblock_pod_network",
    "pl010_default_deny",
    "pl011_allow_all_rule",
];

/// Findings of every fixture, concatenated (PL010 on for its own fixture only).
pub fn all_findings() -> Vec<Finding> {
    FIXTURES
        .iter()
        .flat_map(|f| {
            let opts = Options {
                require_default_deny: f.starts_with("pl010"),
                ..Options::default()
            };
            lint_with(f, &opts)
        })
        .collect()
}
