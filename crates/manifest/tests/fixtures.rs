//! Golden tests: directories of real-looking manifests, loaded through the
//! public API, and every diagnostic they produce. `cluster` is a cluster
//! dump (pods with IPs); `repo` is a repository of manifests as written
//! (workloads, Services, a Kustomization).

use std::path::{Path, PathBuf};

use palisade_manifest::{load_paths, Loaded};
use palisade_model::{PodId, Protocol};

const EXPECTED: &str = "\
pods.json:15:92: error: Pod shop/db-0: items[1].metadata.labels[replica]: expected a string, found integer 0; quote the value to keep it a string
policies/bad.yaml:7:3: warning: NetworkPolicy shop/egress-out: spec: palisade cannot enforce this policy (field spec.egress[0].to[0].ipBlock.cidr): it is read as isolating the pods it selects for Ingress and Egress and allowing nothing
policies/bad.yaml:11:19: error: NetworkPolicy shop/egress-out: spec.egress[0].to[0].ipBlock.cidr: invalid CIDR \"10.0.0.0/33\": expected an address and a prefix length, e.g. 10.0.0.0/16 or fd00::/8
policies/bad.yaml:14:20: error: NetworkPolicy shop/egress-out: spec.egress[0].to[1].ipBlock: ipBlock may not be combined with podSelector or namespaceSelector in one peer; use separate peers
policies/bad.yaml:16:22: error: NetworkPolicy shop/egress-out: spec.egress[0].ports[0].protocol: unsupported protocol \"tcp\" (expected TCP, UDP or SCTP)
policies/bad.yaml:16:33: error: NetworkPolicy shop/egress-out: spec.egress[0].ports[0].port: invalid port name \"443\": must contain at least one letter; for a port number write 443 without quotes
policies/bad.yaml:17:33: error: NetworkPolicy shop/egress-out: spec.egress[0].ports[1].endPort: endPort 7000 must be greater than or equal to port 8000
policies/bad.yaml:18:3: warning: NetworkPolicy shop/egress-out: spec.policyType: unknown field \"policyType\" (did you mean \"policyTypes\"?)
policies/bad.yaml:20:1: error: NetworkPolicy shop/allow-monitoring: duplicate NetworkPolicy shop/allow-monitoring, first defined at policies/allow.yaml:2
service.yml:1:1: notice: skipped Service v1 shop/web (not used by NetworkPolicy evaluation)
";

fn fixtures(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Every diagnostic, one per line, with paths relative to fixture `name`.
fn shown(loaded: &Loaded, name: &str) -> String {
    let prefix = format!("{}/", fixtures(name).display());
    loaded
        .diagnostics
        .iter()
        .map(|d| format!("{d}\n").replace(&prefix, ""))
        .collect()
}

#[test]
fn a_directory_of_manifests_loads_with_located_diagnostics() {
    let loaded = load_paths(&[fixtures("cluster")]);
    let got = shown(&loaded, "cluster");
    assert_eq!(got, EXPECTED, "\nexpected:\n{EXPECTED}\ngot:\n{got}");
    let keys: Vec<String> = loaded.objects.iter().map(|o| o.key()).collect();
    let expected = [
        "Namespace shop",
        "Namespace monitoring",
        "Pod shop/web-0",
        "NetworkPolicy shop/allow-monitoring",
        "NetworkPolicy shop/web-to-db",
        "NetworkPolicy shop/egress-out",
    ];
    assert_eq!(keys, expected);
    assert!(loaded.has_errors());
    let cluster = loaded.to_cluster();
    // egress-out's errors are all in its rules: kept, unenforceable.
    assert_eq!(cluster.policies().count(), 3);
    assert_eq!(cluster.namespace_labels("shop").get("team"), Some("web"));
}

const REPO_EXPECTED: &str = "\
db/statefulset.yaml:1:1: notice: skipped ConfigMap v1 shop/db-config (not used by NetworkPolicy evaluation)
kustomization.yaml:1:1: notice: skipped Kustomization kustomize.config.k8s.io/v1beta1 (not used by NetworkPolicy evaluation)
legacy/controllers.yaml:41:15: error: Deployment shop/api: spec.template.metadata.labels: `selector` does not match template `labels`: the selector app=api (line 38) does not select app=api-v2
web/service.yaml:1:1: notice: skipped Service v1 shop/web (not used by NetworkPolicy evaluation)
";

#[test]
fn a_repository_of_workloads_loads_one_endpoint_per_workload() {
    let loaded = load_paths(&[fixtures("repo")]);
    let got = shown(&loaded, "repo");
    assert_eq!(
        got, REPO_EXPECTED,
        "\nexpected:\n{REPO_EXPECTED}\ngot:\n{got}"
    );
    let keys: Vec<String> = loaded.objects.iter().map(|o| o.key()).collect();
    let expected = [
        "StatefulSet shop/db",
        "CronJob shop/backup",
        "Job shop/migrate",
        "ReplicationController shop/legacy",
        "ReplicaSet shop/cache",
        "Namespace shop",
        "DaemonSet monitoring/node-exporter",
        "NetworkPolicy shop/db-from-web",
        "Deployment shop/web",
    ];
    assert_eq!(keys, expected);
    let cluster = loaded.to_cluster();
    let pods: Vec<String> = cluster
        .pods()
        .map(|p| format!("{} {} {}", p.kind(), p.id(), p.labels))
        .collect();
    let expected = [
        "DaemonSet monitoring/node-exporter app=node-exporter",
        "CronJob shop/backup app=backup",
        "ReplicaSet shop/cache app=cache",
        "StatefulSet shop/db app=db",
        "ReplicationController shop/legacy app=legacy",
        "Job shop/migrate app=migrate,batch.kubernetes.io/job-name=migrate,job-name=migrate",
        "Deployment shop/web app=web,tier=frontend",
    ];
    assert_eq!(pods, expected);
}

#[test]
fn repository_endpoints_carry_template_ports_and_host_network() {
    let cluster = load_paths(&[fixtures("repo")]).to_cluster();
    let pod = |ns: &str, name: &str| {
        cluster
            .pod(&PodId::new(ns, name))
            .unwrap_or_else(|| panic!("no endpoint {ns}/{name}"))
    };
    let web = pod("shop", "web");
    assert_eq!(web.named_port("metrics", Protocol::Tcp), Some(9090));
    assert!(web.ips.is_empty());
    assert_eq!(
        pod("shop", "db").named_port("postgres", Protocol::Tcp),
        Some(5432)
    );
    assert!(pod("monitoring", "node-exporter").host_network);
}
