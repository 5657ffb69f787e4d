use super::*;
use crate::parse_case;
use palisade_model::Cluster;

/// Allows everything except the probes listed; counts syncs.
#[derive(Debug, Default)]
struct Fake {
    deny: Vec<String>,
    syncs: usize,
    probes: Vec<String>,
    fail_sync: bool,
}

impl Backend for Fake {
    fn name(&self) -> &str {
        "fake"
    }

    fn sync(&mut self, _cluster: &Cluster) -> Result<(), String> {
        self.syncs += 1;
        if self.fail_sync {
            return Err("kernel said no".into());
        }
        Ok(())
    }

    fn probe(&mut self, _cluster: &Cluster, probe: &Probe) -> Result<bool, String> {
        let text = probe.to_string();
        self.probes.push(text.clone());
        Ok(!self.deny.contains(&text))
    }
}

const CASE: &str = "name: tiny
objects:
  - {apiVersion: v1, kind: Pod, metadata: {name: a, namespace: n}, status: {podIP: 10.9.0.1}}
  - apiVersion: v1
    kind: Pod
    metadata: {name: b, namespace: n}
    spec:
      containers:
        - {name: c, ports: [{name: web, containerPort: 8080}]}
    status: {podIP: 10.9.0.2}
expect:
  - port: web
    protocol: TCP
    table: |
      -   n/a n/b
      n/a .   .
      n/b .   .
  - external:
      - {from: n/a, to: 192.0.2.1, port: 53, protocol: UDP, allowed: false}
steps:
  - add:
      apiVersion: networking.k8s.io/v1
      kind: NetworkPolicy
      metadata: {name: deny, namespace: n}
      spec: {podSelector: {}}
    expect:
      - port: 80
        protocol: TCP
        table: |
          -   n/a n/b
          n/a .   X
          n/b X   .
";

fn run(text: &str, backend: &mut Fake) -> Vec<String> {
    let case = parse_case("tiny.yaml", text).unwrap();
    run_case(&case, backend)
        .failures
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn named_ports_resolve_per_destination_and_undefined_ones_are_reported() {
    let mut fake = Fake {
        deny: vec!["n/a -> 192.0.2.1 53/UDP".into()],
        ..Fake::default()
    };
    let failures = run(CASE, &mut fake);
    assert_eq!(
        failures[0],
        "n/b -> n/a web/TCP: expected ., but the destination defines no port web/TCP"
    );
    assert!(
        fake.probes.contains(&"n/a -> n/b 8080/TCP".to_string()),
        "{:?}",
        fake.probes
    );
    assert!(
        !fake.probes.iter().any(|p| p.ends_with("-> n/a web/TCP")),
        "unresolvable cells are not probed"
    );
    assert_eq!(fake.syncs, 2, "once for the initial state, once per step");
    let steps: Vec<&String> = failures[1..].iter().collect();
    assert_eq!(
        steps,
        [
            "step 1 (add NetworkPolicy n/deny): n/a -> n/b 80/TCP: expected X, got .",
            "step 1 (add NetworkPolicy n/deny): n/b -> n/a 80/TCP: expected X, got .",
        ]
    );
}

#[test]
fn a_table_must_list_exactly_the_pods_that_exist_in_order() {
    let text = CASE.replace(
        "      -   n/a n/b\n      n/a .   .\n      n/b .   .\n",
        "      -   n/b n/a\n      n/b .   .\n      n/a .   .\n",
    );
    let failures = run(&text, &mut Fake::default());
    assert!(failures[0].starts_with("line 12: table rows are [n/b n/a], but the pods that exist are, in creation order, [n/a n/b]"), "{failures:?}");
    assert!(failures[1].starts_with("line 12: table columns are"));
}

#[test]
fn a_step_that_cannot_apply_ends_the_run() {
    let text = CASE.replace(
        "  - add:",
        "  - delete: {kind: Pod, namespace: n, name: zz}\n    expect: []\n  - add:",
    );
    let failures = run(&text, &mut Fake::default());
    assert_eq!(
        failures.last().unwrap(),
        "step 1 (delete Pod n/zz): no Pod n/zz"
    );
}

#[test]
fn sync_errors_are_reported_once_per_point_without_probing() {
    let mut fake = Fake {
        fail_sync: true,
        ..Fake::default()
    };
    let failures = run(CASE, &mut fake);
    assert_eq!(
        failures,
        [
            "backend error: kernel said no",
            "step 1 (add NetworkPolicy n/deny): backend error: kernel said no"
        ]
    );
    assert!(fake.probes.is_empty());
}
