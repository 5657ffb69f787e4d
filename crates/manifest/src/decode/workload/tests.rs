//! Workloads: one endpoint per kind, selectors, templates, keys.

use palisade_model::{ContainerPort, Labels, Pod, Protocol};

use super::super::testutil::{clean, diag, expect, load, only, pod};
use crate::{Object, Severity};

/// A pod template (two container ports) indented for a top-level `spec`.
const TEMPLATE: &str = "  template:
    metadata:
      labels: {app: web, tier: front}
    spec:
      containers:
        - name: c
          image: nginx
          ports: [{name: http, containerPort: 8080}, {containerPort: 53, protocol: UDP}]
";

const MATCH_WEB: &str = "  selector:\n    matchLabels: {app: web}\n";

/// A `kind` document `ns-1/web` with `spec` (lines 7 on) appended.
fn workload(api: &str, kind: &str, spec: &str) -> String {
    format!(
        "apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: web\n  namespace: ns-1\nspec:\n{spec}"
    )
}

fn decoded(text: &str) -> Pod {
    let l = load(text);
    clean(&l);
    match only(&l) {
        Object::Pod(p) => p.clone(),
        other => panic!("not a pod: {other:?}"),
    }
}

fn labels<const N: usize>(pairs: [(&str, &str); N]) -> Labels {
    Labels::from(pairs)
}

fn template_ports() -> Vec<ContainerPort> {
    let http = ContainerPort {
        name: Some("http".into()),
        port: 8080,
        protocol: Protocol::Tcp,
    };
    let dns = ContainerPort {
        name: None,
        port: 53,
        protocol: Protocol::Udp,
    };
    vec![http, dns]
}

/// Asserts `p` is the `kind` endpoint ns-1/web with the template's labels and ports.
fn assert_endpoint(p: &Pod, kind: &str) {
    assert_eq!(p.workload.as_deref(), Some(kind));
    assert_eq!((p.namespace.as_str(), p.name.as_str()), ("ns-1", "web"));
    assert_eq!(p.labels, labels([("app", "web"), ("tier", "front")]));
    assert_eq!(p.ports, template_ports());
    assert!(p.ips.is_empty() && !p.host_network);
}

#[test]
fn a_deployment_is_one_endpoint_with_the_template_labels_and_ports() {
    let text = workload("apps/v1", "Deployment", &format!("{MATCH_WEB}{TEMPLATE}"));
    let p = decoded(&text);
    assert_endpoint(&p, "Deployment");
    let l = load(&text);
    assert_eq!(
        (only(&l).kind(), only(&l).key()),
        ("Deployment", "Deployment ns-1/web".into())
    );
}

#[test]
fn a_statefulset_selects_with_match_expressions() {
    let selector =
        "  selector:\n    matchExpressions: [{key: tier, operator: In, values: [front, back]}]\n";
    let p = decoded(&workload(
        "apps/v1",
        "StatefulSet",
        &format!("{selector}{TEMPLATE}"),
    ));
    assert_endpoint(&p, "StatefulSet");
}

#[test]
fn a_daemonset_keeps_host_network_and_defaults_the_namespace() {
    let text = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent}\nspec:\n  selector: {matchLabels: {app: agent}}\n  template:\n    metadata: {labels: {app: agent}}\n    spec: {hostNetwork: true, containers: [{name: a, ports: [{name: metrics, containerPort: 9100}]}]}\n";
    let p = decoded(text);
    assert_eq!(p.workload.as_deref(), Some("DaemonSet"));
    assert_eq!(p.id().to_string(), "default/agent");
    assert!(p.host_network);
    assert_eq!(p.named_port("metrics", Protocol::Tcp), Some(9100));
}

#[test]
fn a_replicaset_is_one_endpoint() {
    let p = decoded(&workload(
        "apps/v1",
        "ReplicaSet",
        &format!("{MATCH_WEB}{TEMPLATE}"),
    ));
    assert_endpoint(&p, "ReplicaSet");
}

#[test]
fn a_replication_controller_selects_with_a_label_map() {
    let selector = "  selector: {app: web}\n";
    let p = decoded(&workload(
        "v1",
        "ReplicationController",
        &format!("{selector}{TEMPLATE}"),
    ));
    assert_endpoint(&p, "ReplicationController");
}

#[test]
fn a_replication_controller_selector_defaults_to_the_template_labels() {
    let p = decoded(&workload("v1", "ReplicationController", TEMPLATE));
    assert_endpoint(&p, "ReplicationController");
}

#[test]
fn a_replication_controller_without_template_labels_is_rejected() {
    let template = "  selector: {app: web}\n  template:\n    spec: {containers: [{name: c}]}\n";
    let l = load(&workload("v1", "ReplicationController", template));
    expect(
        &l,
        "spec.template.metadata.labels",
        Severity::Error,
        9,
        "`selector` does not match template `labels`: the selector app=web (line 7) does not select <none>",
    );
    assert!(l.objects.is_empty());
}

#[test]
fn a_replication_controller_needs_a_selector_or_template_labels() {
    let template = "  template:\n    spec: {containers: [{name: c}]}\n";
    let l = load(&workload("v1", "ReplicationController", template));
    expect(
        &l,
        "spec.selector",
        Severity::Error,
        7,
        "missing required field \"selector\"",
    );
}

#[test]
fn a_replication_controller_selector_is_not_a_label_selector() {
    let spec = format!("{MATCH_WEB}{TEMPLATE}");
    let l = load(&workload("v1", "ReplicationController", &spec));
    expect(
        &l,
        "spec.selector",
        Severity::Error,
        8,
        "a map of labels (e.g. {app: web}), not a label selector with matchLabels",
    );
    assert_eq!(l.diagnostics.len(), 1);
}

#[test]
fn a_job_gets_the_job_name_labels() {
    let p = decoded(&workload("batch/v1", "Job", TEMPLATE));
    assert_eq!(p.workload.as_deref(), Some("Job"));
    let expected = labels([
        ("app", "web"),
        ("tier", "front"),
        ("job-name", "web"),
        ("batch.kubernetes.io/job-name", "web"),
    ]);
    assert_eq!(p.labels, expected);
    assert_eq!(p.ports, template_ports());
}

#[test]
fn a_job_with_a_manual_selector_keeps_the_template_labels() {
    let spec = format!("  manualSelector: true\n{MATCH_WEB}{TEMPLATE}");
    assert_endpoint(&decoded(&workload("batch/v1", "Job", &spec)), "Job");
}

#[test]
fn a_manual_job_selector_is_required() {
    let spec = format!("  manualSelector: true\n{TEMPLATE}");
    let l = load(&workload("batch/v1", "Job", &spec));
    expect(
        &l,
        "spec.selector",
        Severity::Error,
        7,
        "missing required field \"selector\"",
    );
}

#[test]
fn a_job_template_may_not_relabel_the_job_name() {
    let template = "  template:\n    metadata:\n      labels: {job-name: other}\n";
    let l = load(&workload("batch/v1", "Job", template));
    expect(
        &l,
        "spec.template.metadata.labels[job-name]",
        Severity::Error,
        9,
        "must be \"web\"",
    );
}

#[test]
fn a_cronjob_reads_the_nested_job_template() {
    let nested = TEMPLATE
        .replace("\n  ", "\n      ")
        .replacen("  template", "      template", 1);
    let spec = format!("  schedule: '0 * * * *'\n  jobTemplate:\n    spec:\n{nested}");
    let p = decoded(&workload("batch/v1", "CronJob", &spec));
    assert_endpoint(&p, "CronJob");
}

#[test]
fn cronjob_diagnostics_carry_the_nested_path() {
    let spec = "  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers: [{name: c, ports: [{name: HTTP, containerPort: 80}]}]\n";
    let l = load(&workload("batch/v1", "CronJob", spec));
    let field = "spec.jobTemplate.spec.template.spec.containers[0].ports[0].name";
    expect(&l, field, Severity::Error, 11, "invalid port name \"HTTP\"");
    assert_eq!(diag(&l, field).object.as_deref(), Some("CronJob ns-1/web"));
}

#[test]
fn cronjob_names_are_at_most_52_characters() {
    let name = "a".repeat(53);
    let text = format!("apiVersion: batch/v1\nkind: CronJob\nmetadata: {{name: {name}}}\nspec: {{jobTemplate: {{spec: {{template: {{}}}}}}}}\n");
    let l = load(&text);
    expect(
        &l,
        "metadata.name",
        Severity::Error,
        3,
        "no more than 52 characters",
    );
}

#[test]
fn a_selector_that_misses_the_template_is_rejected_at_the_template_labels() {
    let selector = "  selector:\n    matchLabels: {app: api}\n";
    let l = load(&workload(
        "apps/v1",
        "Deployment",
        &format!("{selector}{TEMPLATE}"),
    ));
    let message = "`selector` does not match template `labels`: the selector app=api (line 8) does not select app=web,tier=front";
    let d = diag(&l, "spec.template.metadata.labels");
    assert_eq!((d.severity, d.line, d.column), (Severity::Error, 11, 15));
    assert_eq!(d.message, message);
    assert_eq!(d.object.as_deref(), Some("Deployment ns-1/web"));
    assert!(l.objects.is_empty());
}

#[test]
fn apps_selectors_are_required_and_not_empty() {
    let l = load(&workload("apps/v1", "Deployment", TEMPLATE));
    expect(
        &l,
        "spec.selector",
        Severity::Error,
        7,
        "missing required field \"selector\"",
    );
    let l = load(&workload(
        "apps/v1",
        "DaemonSet",
        &format!("  selector: {{}}\n{TEMPLATE}"),
    ));
    expect(
        &l,
        "spec.selector",
        Severity::Error,
        7,
        "empty selector is invalid for daemonset",
    );
}

#[test]
fn the_template_is_required() {
    let l = load(&workload("apps/v1", "Deployment", MATCH_WEB));
    expect(
        &l,
        "spec.template",
        Severity::Error,
        7,
        "missing required field \"template\"",
    );
    let l = load("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n");
    expect(
        &l,
        "spec",
        Severity::Error,
        1,
        "missing required field \"spec\"",
    );
}

#[test]
fn template_labels_are_validated() {
    let template = "  template:\n    metadata:\n      labels: {app: 'web!'}\n";
    let l = load(&workload("batch/v1", "Job", template));
    expect(
        &l,
        "spec.template.metadata.labels[app]",
        Severity::Error,
        9,
        "invalid label value \"web!\"",
    );
}

#[test]
fn workload_fields_are_not_reported_but_container_port_fields_are() {
    let spec = "  replicas: 3\n  strategy: {type: RollingUpdate}\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}, annotations: {a: b}}\n    spec:\n      serviceAccountName: web\n      containers: [{name: c, image: x, ports: [{containerPort: 80, hostport: 1}]}]\n";
    let text = format!(
        "{}status: {{replicas: 3}}\n",
        workload("apps/v1", "Deployment", spec)
    );
    let l = load(&text);
    let field = "spec.template.spec.containers[0].ports[0].hostport";
    expect(
        &l,
        field,
        Severity::Warning,
        14,
        "unknown field \"hostport\"",
    );
    assert_eq!(l.diagnostics.len(), 1);
    assert_eq!(l.objects.len(), 1);
}

#[test]
fn workload_api_versions_are_checked() {
    let l = load(&workload("extensions/v1beta1", "Deployment", MATCH_WEB));
    expect(
        &l,
        "apiVersion",
        Severity::Error,
        1,
        "unsupported apiVersion \"extensions/v1beta1\" for Deployment (expected \"apps/v1\")",
    );
}

#[test]
fn workload_names_are_dns_subdomains() {
    let l =
        load("apiVersion: batch/v1\nkind: Job\nmetadata: {name: Migrate}\nspec: {template: {}}\n");
    expect(
        &l,
        "metadata.name",
        Severity::Error,
        3,
        "invalid Job name \"Migrate\"",
    );
}

#[test]
fn a_pod_and_a_deployment_may_share_a_name() {
    let deployment = workload("apps/v1", "Deployment", &format!("{MATCH_WEB}{TEMPLATE}"));
    let text = format!(
        "{}---\n{deployment}",
        pod("spec: {}\n").replace("name: p", "name: web")
    );
    let l = load(&text);
    clean(&l);
    let keys: Vec<String> = l.objects.iter().map(Object::key).collect();
    assert_eq!(keys, ["Pod ns-1/web", "Deployment ns-1/web"]);
}

#[test]
fn a_repeated_deployment_is_a_duplicate() {
    let deployment = workload("apps/v1", "Deployment", &format!("{MATCH_WEB}{TEMPLATE}"));
    let l = load(&format!("{deployment}---\n{deployment}"));
    let d = diag(&l, "");
    assert_eq!(
        d.message,
        "duplicate Deployment ns-1/web, first defined at t.yaml:1"
    );
    assert_eq!(l.objects.len(), 1);
}

#[test]
fn typed_workload_lists_imply_kind_and_api_version() {
    let item = "  - metadata: {name: NAME}\n    spec: {selector: {matchLabels: {app: a}}, template: {metadata: {labels: {app: a}}}}\n";
    let items = format!("{}{}", item.replace("NAME", "a"), item.replace("NAME", "b"));
    let l = load(&format!(
        "apiVersion: apps/v1\nkind: DeploymentList\nitems:\n{items}"
    ));
    clean(&l);
    let keys: Vec<String> = l.objects.iter().map(Object::key).collect();
    assert_eq!(keys, ["Deployment default/a", "Deployment default/b"]);
}
