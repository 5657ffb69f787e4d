//! `palisade-synth`: writes a synthetic cluster as Kubernetes YAML files.
//!
//! ```text
//! palisade-synth --pods N --policies M [--namespaces K] [--seed S]
//!                [--ipblocks-outside] [--nca-compat] --out DIR
//! ```
//!
//! Writes three multi-document files into `DIR` (created if missing):
//! `namespaces.yaml`, `pods.yaml` and `policies.yaml`. `palisade -f DIR`
//! reads the directory; analyzers that want topology and policies apart
//! (e.g. `nca --ns_list … --pod_list … --connectivity …`) take the files.
//! The cluster depends only on the arguments: see `palisade_synth::Params`.
//!
//! `--nca-compat` writes the same cluster in the part of the API that the
//! Network Config Analyzer (nca) 2.1.0 accepts, without changing what any
//! policy allows:
//!
//! - nca turns every scalar of a policy file that parses as an integer into
//!   a number, quoted or not, then rejects the policy (`label value for
//!   "version" must be a string`), although `"1"` is a valid label value.
//!   Such values become `v1`, ... in pod and namespace labels and in every
//!   selector alike, so each selector matches the same pods.
//! - nca rejects a policy whose `policyTypes` leaves out a direction it has
//!   rules for (`A NetworkPolicy with egress field but no "Egress" in its
//!   policyTypes`); the API accepts it and ignores those rules, so they are
//!   left out.

use std::path::PathBuf;
use std::process::ExitCode;
use std::{env, fs};

use palisade_model::{Cluster, LabelSelector, Labels, NetworkPolicy, Peer, METADATA_NAME_LABEL};
use palisade_synth::{generate, to_yaml, Params};

const USAGE: &str = "\
usage: palisade-synth --pods N --policies M [--namespaces K] [--seed S]
                      [--ipblocks-outside] [--nca-compat] --out DIR

Writes DIR/namespaces.yaml, DIR/pods.yaml and DIR/policies.yaml for a
synthetic cluster that depends only on the arguments.

  --pods N            number of pods
  --policies M        number of NetworkPolicies
  --namespaces K      number of namespaces (default: max(1, N / 100))
  --seed S            seed, decimal or 0x-hex (default: the library's DEFAULT_SEED)
  --ipblocks-outside  keep every ipBlock in 172.16.0.0/12 and 192.168.0.0/16,
                      away from the pod IPs in 10.0.0.0/8 (default: ipBlocks
                      may be anywhere, pod IPs and IPv6 included)
  --nca-compat        same meaning, in the subset of the API the Network Config
                      Analyzer 2.1.0 accepts: label values that read as integers
                      become \"v1\", ... in labels and selectors alike, and rules
                      of a direction policyTypes leaves out (ignored by the API)
                      are not written
  --out DIR           where to write the files
  -h, --help          print this help";

#[derive(Debug)]
struct Args {
    params: Params,
    nca_compat: bool,
    out: PathBuf,
}

fn main() -> ExitCode {
    let args = match parse(env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("palisade-synth: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match write(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("palisade-synth: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `Ok(None)` for `--help`.
fn parse(mut argv: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let (mut pods, mut policies, mut namespaces, mut seed, mut out) =
        (None, None, None, None, None);
    let (mut outside, mut nca_compat) = (false, false);
    while let Some(arg) = argv.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| argv.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--pods" => pods = Some(count(&flag, &value()?)?),
            "--policies" => policies = Some(count(&flag, &value()?)?),
            "--namespaces" => namespaces = Some(count(&flag, &value()?)?),
            "--seed" => seed = Some(parse_seed(&value()?)?),
            "--out" => out = Some(PathBuf::from(value()?)),
            "--ipblocks-outside" if inline.is_none() => outside = true,
            "--nca-compat" if inline.is_none() => nca_compat = true,
            _ => return Err(format!("unexpected argument `{arg}`")),
        }
    }
    let pods = pods.ok_or("--pods is required")?;
    let policies = policies.ok_or("--policies is required")?;
    let out = out.ok_or("--out is required")?;
    let mut params = Params::new(pods, policies);
    if let Some(n) = namespaces {
        params.namespaces = n;
    }
    if let Some(s) = seed {
        params.seed = s;
    }
    params.ipblocks_outside_pod_network = outside;
    Ok(Some(Args {
        params,
        nca_compat,
        out,
    }))
}

fn count(flag: &str, v: &str) -> Result<usize, String> {
    v.parse()
        .map_err(|_| format!("{flag}: `{v}` is not a non-negative integer"))
}

fn parse_seed(v: &str) -> Result<u64, String> {
    let parsed = match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse(),
    };
    parsed.map_err(|_| format!("--seed: `{v}` is not a decimal or 0x-hex u64"))
}

fn write(args: &Args) -> Result<(), String> {
    if args.params.pods >= (1 << 24) - 1 {
        return Err("at most 2^24 - 2 pods fit in 10.0.0.0/8".into());
    }
    let mut cluster = generate(&args.params);
    if args.nca_compat {
        cluster = nca_compatible(&cluster);
    }
    let yaml = to_yaml(&cluster);
    let [namespaces, pods, policies] = split(&yaml)?;
    fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    for (name, text) in [
        ("namespaces.yaml", namespaces),
        ("pods.yaml", pods),
        ("policies.yaml", policies),
    ] {
        let path = args.out.join(name);
        fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// Sorts the `---` documents of `to_yaml` by kind: namespaces, pods,
/// policies, each keeping its order.
fn split(yaml: &str) -> Result<[String; 3], String> {
    let mut out: [String; 3] = Default::default();
    for doc in yaml.split("---\n").filter(|d| !d.trim().is_empty()) {
        let kind = doc
            .lines()
            .find_map(|l| l.strip_prefix("kind: "))
            .ok_or("a generated document has no kind")?;
        let slot = match kind.trim_matches('"') {
            "Namespace" => 0,
            "Pod" => 1,
            "NetworkPolicy" => 2,
            other => return Err(format!("unexpected generated kind `{other}`")),
        };
        out[slot].push_str("---\n");
        out[slot].push_str(doc);
    }
    Ok(out)
}

/// Whether Python's `int()` reads a (valid) label value as a number: label
/// values start and end with an alphanumeric, and `int()` also takes `_`
/// between digits.
fn reads_as_integer(value: &str) -> bool {
    value.bytes().any(|b| b.is_ascii_digit())
        && value.bytes().all(|b| b.is_ascii_digit() || b == b'_')
}

/// `v` in front of values that read as integers, others unchanged.
fn renamed(value: &str) -> String {
    if reads_as_integer(value) {
        format!("v{value}")
    } else {
        value.to_string()
    }
}

fn renamed_labels(labels: &Labels) -> Labels {
    let mut out = Labels::new();
    for (k, v) in labels.iter() {
        out.insert(k, &renamed(v))
            .expect("a valid value with a letter in front stays valid");
    }
    out
}

/// The selector with renamed values, except on `kubernetes.io/metadata.name`
/// (namespace names are kept).
fn renamed_selector(s: &LabelSelector) -> LabelSelector {
    let mut s = s.clone();
    for (k, v) in &mut s.match_labels {
        if k != METADATA_NAME_LABEL {
            *v = renamed(v);
        }
    }
    for r in &mut s.match_expressions {
        if r.key != METADATA_NAME_LABEL {
            r.values = r.values.iter().map(|v| renamed(v)).collect();
        }
    }
    s
}

/// The policy with renamed selector values and without the rules of a
/// direction its `policyTypes` leaves out.
fn renamed_policy(np: &NetworkPolicy) -> NetworkPolicy {
    let mut np = np.clone();
    if !np.policy_types.ingress {
        np.ingress.clear();
    }
    if !np.policy_types.egress {
        np.egress.clear();
    }
    np.pod_selector = renamed_selector(&np.pod_selector);
    for rule in np.ingress.iter_mut().chain(np.egress.iter_mut()) {
        for peer in &mut rule.peers {
            if let Peer::Pods { namespaces, pods } = peer {
                *pods = renamed_selector(pods);
                if let Some(ns) = namespaces {
                    *ns = renamed_selector(ns);
                }
            }
        }
    }
    np
}

/// The same cluster as nca 2.1.0 accepts it: every label value that reads
/// as an integer renamed, in labels and selectors alike (namespace names and
/// the `kubernetes.io/metadata.name` label excepted), so that every selector
/// matches what it matched before; and no rules that `policyTypes` ignores.
fn nca_compatible(c: &Cluster) -> Cluster {
    let mut out = Cluster::new();
    for ns in c.namespaces() {
        let mut ns = ns.clone();
        let mut labels = renamed_labels(ns.labels());
        labels
            .insert(METADATA_NAME_LABEL, &ns.name)
            .expect("a namespace name is a valid label value");
        ns.set_labels(labels);
        out.upsert_namespace(ns);
    }
    for pod in c.pods() {
        let mut pod = pod.clone();
        pod.labels = renamed_labels(&pod.labels);
        out.upsert_pod(pod);
    }
    for np in c.policies() {
        out.upsert_policy(renamed_policy(np));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pods: usize, policies: usize) -> Params {
        let mut p = Params::new(pods, policies);
        p.ipblocks_outside_pod_network = true;
        p
    }

    #[test]
    fn integers_as_python_reads_them() {
        for v in ["1", "2", "10", "1_0"] {
            assert!(reads_as_integer(v), "{v}");
        }
        for v in ["1.10", "v1", "true", "y", "", "ns-0", "1a"] {
            assert!(!reads_as_integer(v), "{v}");
        }
    }

    #[test]
    fn split_keeps_every_document_in_its_file() {
        let yaml = to_yaml(&generate(&params(300, 40)));
        let [ns, pods, pols] = split(&yaml).unwrap();
        let count = |s: &str, kind: &str| s.matches(&format!("kind: \"{kind}\"")).count();
        assert_eq!(count(&ns, "Namespace"), 3);
        assert_eq!(count(&pods, "Pod"), 300);
        assert_eq!(count(&pols, "NetworkPolicy"), 40);
        assert_eq!(ns.len() + pods.len() + pols.len(), yaml.len());
    }

    /// Every selector of the compatible cluster matches exactly the pods
    /// and namespaces it matched before, and no label value reads as an
    /// integer any more.
    #[test]
    fn nca_compat_keeps_the_meaning() {
        let before = generate(&params(400, 150));
        let after = nca_compatible(&before);
        let pods: Vec<_> = before.pods().zip(after.pods()).collect();
        let nss: Vec<_> = before.namespaces().zip(after.namespaces()).collect();
        assert!(after
            .pods()
            .all(|p| p.labels.iter().all(|(_, v)| !reads_as_integer(v))));
        assert!(
            pods.iter().any(|(b, a)| b.labels != a.labels),
            "nothing renamed"
        );
        let same = |b: &LabelSelector, a: &LabelSelector, labels: &[(&Labels, &Labels)]| {
            labels.iter().all(|(lb, la)| b.matches(lb) == a.matches(la))
        };
        let pod_labels: Vec<_> = pods.iter().map(|(b, a)| (&b.labels, &a.labels)).collect();
        let ns_labels: Vec<_> = nss.iter().map(|(b, a)| (b.labels(), a.labels())).collect();
        let mut ignored = 0;
        for (b, a) in before.policies().zip(after.policies()) {
            assert_eq!((&b.namespace, &b.name), (&a.namespace, &a.name));
            assert!(same(&b.pod_selector, &a.pod_selector, &pod_labels));
            assert_eq!(b.policy_types, a.policy_types);
            for (d, (rb, ra)) in [
                (true, (&b.ingress, &a.ingress)),
                (false, (&b.egress, &a.egress)),
            ] {
                let on = if d {
                    b.policy_types.ingress
                } else {
                    b.policy_types.egress
                };
                if !on {
                    ignored += rb.len();
                    assert!(ra.is_empty());
                    continue;
                }
                assert_eq!(rb.len(), ra.len());
                for (rb, ra) in rb.iter().zip(ra.iter()) {
                    assert_eq!(rb.ports, ra.ports);
                    assert_eq!(rb.peers.len(), ra.peers.len());
                    for (pb, pa) in rb.peers.iter().zip(ra.peers.iter()) {
                        match (pb, pa) {
                            (
                                Peer::Pods {
                                    namespaces: nb,
                                    pods: sb,
                                },
                                Peer::Pods {
                                    namespaces: na,
                                    pods: sa,
                                },
                            ) => {
                                assert!(same(sb, sa, &pod_labels));
                                match (nb, na) {
                                    (Some(nb), Some(na)) => assert!(same(nb, na, &ns_labels)),
                                    (None, None) => {}
                                    _ => panic!("namespace selector lost or added"),
                                }
                            }
                            (b, a) => assert_eq!(b, a),
                        }
                    }
                }
            }
        }
        assert!(ignored > 0, "no ignored rules in the sample");
    }
}
