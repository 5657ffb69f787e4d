use super::*;
use crate::case::{Expectation, Kind, Mutation, Target};
use palisade_eval::{Endpoint, PortRef};
use palisade_model::{PodId, Protocol};

const GOOD: &str = r#"name: small
description: one pod pair
world: standard
policies:
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: deny, namespace: x}
    spec:
      podSelector: {}
expect:
  - port: serve-80-tcp
    protocol: TCP
    table: |
      -   x/a x/b
      x/a .   X
      x/b X   .
  - external:
      - {from: x/a, to: 192.0.2.10, port: 80, protocol: UDP, allowed: true}
steps:
  - label: {namespace: "y", set: {team: blue}}
    expect: []
  - unlabel: {pod: x/b, keys: [pod]}
    expect: []
  - delete: {kind: NetworkPolicy, namespace: x, name: deny}
    expect: []
  - add:
      apiVersion: v1
      kind: Namespace
      metadata: {name: w}
    expect: []
"#;

/// `(line, column, field, message)` of every error of `text`.
fn errors(text: &str) -> Vec<(usize, usize, String, String)> {
    let e = parse_case("c.yaml", text).unwrap_err();
    e.into_iter()
        .map(|d| (d.line, d.column, d.field, d.message))
        .collect()
}

/// `GOOD` with `from` replaced by `to` (which must occur once).
fn good_with(from: &str, to: &str) -> String {
    assert_eq!(GOOD.matches(from).count(), 1, "{from:?}");
    GOOD.replace(from, to)
}

#[test]
fn a_valid_case_reads_completely() {
    let case = parse_case("c.yaml", GOOD).unwrap();
    assert_eq!(
        (case.name.as_str(), case.world_standard, case.file.as_str()),
        ("small", true, "c.yaml")
    );
    assert_eq!(case.policies[0].name, "deny");
    let Expectation::Table(t) = &case.expect[0] else {
        panic!("{:?}", case.expect[0])
    };
    assert_eq!(
        (t.line, &t.port, t.protocol),
        (11, &PortRef::Named("serve-80-tcp".into()), Protocol::Tcp)
    );
    assert_eq!(t.cells, [[true, false], [false, true]]);
    let Expectation::External(probes) = &case.expect[1] else {
        panic!()
    };
    assert_eq!(probes[0].to, Endpoint::Addr("192.0.2.10".parse().unwrap()));
    assert!(probes[0].allowed && probes[0].protocol == Protocol::Udp);
    assert_eq!(case.steps.len(), 4);
    assert_eq!(case.steps[0].line, 20);
    assert!(
        matches!(&case.steps[0].mutation, Mutation::Label { target: Target::Namespace(n), .. } if n == "y")
    );
    let Mutation::Unlabel { target, keys } = &case.steps[1].mutation else {
        panic!()
    };
    assert_eq!(
        (target, keys.as_slice()),
        (
            &Target::Pod(PodId::new("x", "b")),
            ["pod".to_string()].as_slice()
        )
    );
    assert!(matches!(
        &case.steps[2].mutation,
        Mutation::Delete {
            kind: Kind::NetworkPolicy,
            ..
        }
    ));
    assert_eq!(case.steps[3].mutation.to_string(), "add Namespace w");
}

#[test]
fn a_malformed_table_row_is_located_in_its_step() {
    let text = good_with("x/b X   .\n", "x/b X   ?\n");
    assert_eq!(
        errors(&text),
        [(
            16,
            15,
            "expect[0].table".into(),
            r#"unknown cell "?" (expected `.` allowed or `X` denied)"#.into()
        )]
    );
}

#[test]
fn ragged_rows_in_steps_carry_the_step_path() {
    let text = good_with(
        "  - unlabel: {pod: x/b, keys: [pod]}\n    expect: []\n",
        "  - unlabel: {pod: x/b, keys: [pod]}\n    expect:\n      - port: 80\n        protocol: TCP\n        table: |\n          - x/a\n          x/a . .\n",
    );
    let e = errors(&text);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(
        (e[0].0, e[0].1, e[0].2.as_str()),
        (28, 17, "steps[1].expect[0].table")
    );
    assert!(e[0].3.contains("2 cells"));
}

#[test]
fn unknown_and_conflicting_step_keys_are_errors() {
    let e = errors(&good_with(
        "expect: []\n  - unlabel",
        "expect: []\n    wait: 3\n  - unlabel",
    ));
    assert_eq!((e[0].0, e[0].2.as_str()), (22, "steps[0].wait"));
    assert!(e[0].3.starts_with("unknown key \"wait\""));
    let e = errors(&good_with(
        "  - unlabel: {pod: x/b, keys: [pod]}\n",
        "  - unlabel: {pod: x/b, keys: [pod]}\n    label: {pod: x/b, set: {a: b}}\n",
    ));
    assert!(e[0].3.contains("exactly one mutation"), "{e:?}");
}

#[test]
fn manifest_errors_pass_through_with_the_case_path() {
    let e = errors(&good_with(
        "podSelector: {}",
        "podSelector: {}\n      policyTypes: [Sideways]",
    ));
    assert!(!e.is_empty());
    assert!(
        e.iter()
            .all(|(line, _, field, _)| *line == 10 && field.starts_with("policies[0].spec")),
        "{e:?}"
    );
}

#[test]
fn scalars_are_checked() {
    let e = errors(&good_with("protocol: UDP", "protocol: udp"));
    assert_eq!(
        (e[0].0, e[0].2.as_str()),
        (18, "expect[1].external[0].protocol")
    );
    let e = errors(&good_with(
        "port: 80, protocol: UDP",
        "port: 0, protocol: UDP",
    ));
    assert!(e[0].3.contains("out of range"), "{e:?}");
    let e = errors(&good_with("to: 192.0.2.10", "to: nowhere"));
    assert!(e[0].3.contains("NAMESPACE/POD or an IP"), "{e:?}");
    let e = errors(&good_with("set: {team: blue}", "set: {team: 3}"));
    assert!(e[0].3.contains("quote it"), "{e:?}");
    let e = errors(&good_with("world: standard", "world: big"));
    assert_eq!(e[0].2, "world");
}

#[test]
fn missing_keys_and_bad_documents_are_errors() {
    let e = errors(&good_with(", name: deny}", "}"));
    assert!(
        e.iter()
            .any(|(_, _, f, m)| f.starts_with("steps[2].delete") && m.contains("\"name\"")),
        "{e:?}"
    );
    assert_eq!(errors("name: a\n---\nname: b\n")[0].0, 3);
    assert_eq!(errors("")[0].3, "empty case file");
    assert!(errors("name: [\n")[0].0 >= 1);
}

#[test]
fn delete_namespace_takes_no_namespace() {
    let e = errors(&good_with(
        "{kind: NetworkPolicy, namespace: x, name: deny}",
        "{kind: Namespace, namespace: x, name: y}",
    ));
    assert!(e[0].3.contains("has no namespace"));
    let case = parse_case(
        "c.yaml",
        &good_with(
            "{kind: NetworkPolicy, namespace: x, name: deny}",
            "{kind: Namespace, name: z}",
        ),
    )
    .unwrap();
    assert_eq!(case.steps[2].mutation.to_string(), "delete Namespace z");
}

#[test]
fn unquoted_yaml11_booleans_are_warned_about() {
    let case = parse_case("c.yaml", &good_with("namespace: \"y\"", "namespace: y")).unwrap();
    let w = &case.warnings[0];
    assert_eq!((w.line, w.field.as_str()), (20, "steps[0].label.namespace"));
    assert!(w.message.contains("quote it"));
}
