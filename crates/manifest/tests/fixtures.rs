//! Golden test: a directory of real-looking manifests, loaded through the
//! public API, and every diagnostic it produces.

use std::path::Path;

use palisade_manifest::{load_paths, Loaded};

const EXPECTED: &str = "\
deployment.yml:1:1: notice: skipped Deployment apps/v1 shop/web (not used by NetworkPolicy evaluation)
pods.json:15:92: error: Pod shop/db-0: items[1].metadata.labels[replica]: expected a string, found integer 0; quote the value to keep it a string
policies/bad.yaml:11:19: error: NetworkPolicy shop/egress-out: spec.egress[0].to[0].ipBlock.cidr: invalid CIDR \"10.0.0.0/33\": expected an address and a prefix length, e.g. 10.0.0.0/16 or fd00::/8
policies/bad.yaml:14:20: error: NetworkPolicy shop/egress-out: spec.egress[0].to[1].ipBlock: ipBlock may not be combined with podSelector or namespaceSelector in one peer; use separate peers
policies/bad.yaml:16:22: error: NetworkPolicy shop/egress-out: spec.egress[0].ports[0].protocol: unsupported protocol \"tcp\" (expected TCP, UDP or SCTP)
policies/bad.yaml:16:33: error: NetworkPolicy shop/egress-out: spec.egress[0].ports[0].port: invalid port name \"443\": must contain at least one letter; for a port number write 443 without quotes
policies/bad.yaml:17:33: error: NetworkPolicy shop/egress-out: spec.egress[0].ports[1].endPort: endPort 7000 must be greater than or equal to port 8000
policies/bad.yaml:18:3: warning: NetworkPolicy shop/egress-out: spec.policyType: unknown field \"policyType\" (did you mean \"policyTypes\"?)
policies/bad.yaml:20:1: error: NetworkPolicy shop/allow-monitoring: duplicate NetworkPolicy shop/allow-monitoring, first defined at policies/allow.yaml:2
";

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cluster")
}

/// Every diagnostic, one per line, with paths relative to the fixtures.
fn shown(loaded: &Loaded) -> String {
    let prefix = format!("{}/", fixtures().display());
    loaded
        .diagnostics
        .iter()
        .map(|d| format!("{d}\n").replace(&prefix, ""))
        .collect()
}

#[test]
fn a_directory_of_manifests_loads_with_located_diagnostics() {
    let loaded = load_paths(&[fixtures()]);
    let got = shown(&loaded);
    assert_eq!(got, EXPECTED, "\nexpected:\n{EXPECTED}\ngot:\n{got}");
    let keys: Vec<String> = loaded.objects.iter().map(|o| o.key()).collect();
    let expected = [
        "Namespace shop",
        "Namespace monitoring",
        "Pod shop/web-0",
        "NetworkPolicy shop/allow-monitoring",
        "NetworkPolicy shop/web-to-db",
    ];
    assert_eq!(keys, expected);
    assert!(loaded.has_errors());
    let cluster = loaded.to_cluster();
    assert_eq!(cluster.policies().count(), 2);
    assert_eq!(cluster.namespace_labels("shop").get("team"), Some("web"));
}
