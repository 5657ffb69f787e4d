//! One fixture per check: each finding's code, severity, file, line and field.

mod common;

use common::{lint_fixture, lint_with, row, rows};
use palisade_lint::Severity::{Info, Warning};
use palisade_lint::{lint, Options};

#[test]
fn clean_cluster_has_no_findings_even_with_default_deny_required() {
    let opts = Options {
        require_default_deny: true,
        ..Options::default()
    };
    let findings = lint_with("clean", &opts);
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn pl001_policy_selecting_no_pod() {
    let f = "pl001_selects_nothing";
    let findings = lint_fixture(f);
    assert_eq!(
        rows(&findings),
        [row("PL001", Warning, f, 7, "spec.podSelector")]
    );
    assert_eq!(findings[0].object, "NetworkPolicy app/typo");
    assert!(
        findings[0].message.contains("app=wbe"),
        "{}",
        findings[0].message
    );
}

#[test]
fn pl002_namespace_selector_matching_no_namespace() {
    let f = "pl002_namespace_selector";
    assert_eq!(
        rows(&lint_fixture(f)),
        [row(
            "PL002",
            Warning,
            f,
            11,
            "spec.ingress[0].from[1].namespaceSelector"
        )]
    );
}

#[test]
fn pl003_pod_selector_matching_no_pod() {
    let f = "pl003_pod_selector";
    let findings = lint_fixture(f);
    assert_eq!(
        rows(&findings),
        [
            row(
                "PL003",
                Warning,
                f,
                17,
                "spec.ingress[0].from[0].podSelector"
            ),
            row("PL003", Warning, f, 17, "spec.ingress[0].from[1]"),
        ]
    );
    assert!(findings[0].message.contains("in namespace app"));
    assert!(findings[1].message.contains("in namespaces empty"));
    assert!(findings[0].hint.contains("partial"));
}

#[test]
fn pl004_named_port_no_destination_defines() {
    let f = "pl004_named_port_undefined";
    let findings = lint_fixture(f);
    assert_eq!(
        rows(&findings),
        [
            row("PL004", Warning, f, 13, "spec.egress[0].ports[0]"),
            row("PL004", Warning, f, 13, "spec.ingress[0].ports[1]"),
        ]
    );
    assert!(findings[0].message.contains("ipBlocks"));
    assert!(findings[1].message.contains("\"metrics\""));
}

#[test]
fn pl005_named_port_defined_for_another_protocol() {
    let f = "pl005_named_port_protocol";
    let findings = lint_fixture(f);
    assert_eq!(
        rows(&findings),
        [row("PL005", Warning, f, 16, "spec.egress[0].ports[0]")]
    );
    assert!(
        findings[0].message.contains("only for UDP"),
        "{}",
        findings[0].message
    );
}

#[test]
fn pl006_rules_of_a_direction_missing_from_policy_types() {
    let f = "pl006_ignored_rules";
    let findings = lint_fixture(f);
    assert_eq!(
        rows(&findings),
        [row("PL006", Warning, f, 7, "spec.egress")]
    );
    assert!(findings[0].message.contains("[Ingress]"));
    assert!(findings[0].message.contains("2 egress rules are ignored"));
}

#[test]
fn pl007_redundant_policies_first_of_duplicates_only() {
    let f = "pl007_redundant";
    let findings = lint_fixture(f);
    assert_eq!(
        rows(&findings),
        [row("PL007", Info, f, 27, ""), row("PL007", Info, f, 36, ""),]
    );
    assert_eq!(findings[0].object, "NetworkPolicy app/web-narrow");
    assert!(findings[0].message.contains("app/web-broad"));
    assert_eq!(findings[1].object, "NetworkPolicy app/db-a");
    assert!(findings[1].message.contains("app/db-b"));
    assert_eq!(findings[0].hint, "remove it or merge it");
}

#[test]
fn pl008_egress_isolation_without_dns() {
    let f = "pl008_dns";
    let findings = lint_fixture(f);
    assert_eq!(
        rows(&findings),
        [row("PL008", Warning, f, 12, "spec.egress")]
    );
    assert!(findings[0].message.contains("app/client"));
    assert!(findings[0].hint.contains("k8s-app: kube-dns"));
}

#[test]
fn pl009_ipblock_naming_pods() {
    let f = "pl009_ipblock_pod_network";
    let findings = lint_fixture(f);
    assert_eq!(
        rows(&findings),
        [row(
            "PL009",
            Warning,
            f,
            13,
            "spec.ingress[0].from[0].ipBlock"
        )]
    );
    let m = &findings[0].message;
    assert!(m.contains("10.244.0.0/16 (derived from pod IPs)"), "{m}");
    assert!(m.contains("today it matches app/client"), "{m}");
}

#[test]
fn pl009_uses_the_given_pod_network() {
    let given = Options {
        pod_cidrs: vec!["10.0.0.0/8".parse().unwrap(), "fd00::/48".parse().unwrap()],
        ..Options::default()
    };
    // 10.0.0.0/8 except 10.244.0.0/16 now names part of the pod network.
    let findings = lint_with("pl009_ipblock_pod_network", &given);
    let fields: Vec<&str> = findings.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "spec.ingress[0].from[0].ipBlock",
            "spec.ingress[0].from[2].ipBlock"
        ]
    );
    assert!(findings[0].message.contains("(as given)"));
}

#[test]
fn pl010_is_opt_in() {
    let f = "pl010_default_deny";
    assert!(lint_fixture(f).is_empty());
    let opts = Options {
        require_default_deny: true,
        ..Options::default()
    };
    let findings = lint_with(f, &opts);
    assert_eq!(rows(&findings), [row("PL010", Warning, f, 3, "")]);
    assert_eq!(findings[0].object, "Namespace app");
    assert!(findings[0].hint.contains("namespace: app"));
}

#[test]
fn pl011_allow_all_rule_beside_other_rules() {
    let f = "pl011_allow_all_rule";
    let findings = lint_fixture(f);
    assert_eq!(
        rows(&findings),
        [
            row("PL007", Info, f, 13, ""),
            row("PL011", Warning, f, 13, "spec.ingress[1]"),
        ]
    );
    assert!(findings[0].message.contains("no other policy isolates"));
}

#[test]
fn policies_only_input_skips_checks_that_need_pods() {
    let mut c = common::cluster("pl001_selects_nothing");
    let pod = c.pods().next().unwrap().id();
    c.remove_pod(&pod);
    assert!(lint(&c, &Options::default()).is_empty());
}

#[test]
fn pl012_policy_in_audit_mode() {
    let f = "pl012_audit_mode";
    let findings: Vec<_> = lint_fixture(f)
        .into_iter()
        .filter(|x| x.code == "PL012")
        .collect();
    assert_eq!(
        rows(&findings),
        [row(
            "PL012",
            Info,
            f,
            13,
            "metadata.annotations[palisade.dev/mode]"
        )]
    );
    assert_eq!(findings[0].object, "NetworkPolicy app/deny-all");
    assert!(
        findings[0]
            .message
            .contains("namespace app's palisade.dev/mode"),
        "{}",
        findings[0].message
    );
}
