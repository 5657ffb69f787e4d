//! Per-policy counters on `/metrics`: the named nftables counters of every
//! policy rule and every default deny (`CounterKind` in the IR), read with
//! one `nft -j list counters table inet T` per scrape, summed per
//! (namespace, policy, direction).
//!
//! - `palisade_policy_allowed_{packets,bytes}_total`: accepted by a rule of
//!   the policy (first packets of connections: replies are accepted earlier).
//! - `palisade_policy_denied_{packets,bytes}_total`: dropped at the end of a
//!   chain the policy isolates (a drop is counted for every policy that
//!   isolates the pod, so sums over policies can exceed the packets dropped).
//! - `palisade_policy_audited_{packets,bytes}_total`: the same for audit
//!   chains (would-be denials, accepted).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Command;

use palisade_compile::CounterKind;
use palisade_model::Direction;
use serde_json::Value;

/// (namespace, policy, direction) -> (packets, bytes), per metric.
type Sums = BTreeMap<(&'static str, String, String, Direction), (u64, u64)>;

/// Reads the table's counters: name -> (packets, bytes).
pub fn read(table: &str, netns: Option<&str>) -> Result<BTreeMap<String, (u64, u64)>, String> {
    let args = ["-j", "list", "counters", "table", "inet", table];
    let mut cmd = match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, "nft"]);
            c
        }
        None => Command::new("nft"),
    };
    let out = cmd.args(args).output().map_err(|e| format!("nft: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    parse(&String::from_utf8_lossy(&out.stdout))
}

/// Parses `nft -j list counters` output.
pub fn parse(json: &str) -> Result<BTreeMap<String, (u64, u64)>, String> {
    let root: Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let items = root["nftables"].as_array().ok_or("no nftables array")?;
    Ok(items
        .iter()
        .filter_map(|i| i.get("counter"))
        .filter_map(|c| {
            let name = c["name"].as_str()?.to_string();
            Some((name, (c["packets"].as_u64()?, c["bytes"].as_u64()?)))
        })
        .collect())
}

/// The OpenMetrics lines for `values`, attributed through `kinds`.
pub fn encode(
    kinds: &BTreeMap<String, CounterKind>,
    values: &BTreeMap<String, (u64, u64)>,
) -> String {
    let mut sums = Sums::new();
    for (name, kind) in kinds {
        let Some(&(packets, bytes)) = values.get(name) else {
            continue;
        };
        let mut add = |metric: &'static str, p: &palisade_model::PolicyRef, d: Direction| {
            let e = sums
                .entry((metric, p.namespace.clone(), p.name.clone(), d))
                .or_default();
            e.0 += packets;
            e.1 += bytes;
        };
        match kind {
            CounterKind::Rule {
                policy, direction, ..
            } => add("allowed", policy, *direction),
            CounterKind::DefaultDeny {
                direction,
                isolated_by,
                audit,
            } => {
                let metric = if *audit { "audited" } else { "denied" };
                isolated_by.iter().for_each(|p| add(metric, p, *direction));
            }
        }
    }
    let mut out = String::new();
    for metric in ["allowed", "denied", "audited"] {
        for (unit, pick) in [("packets", 0), ("bytes", 1)] {
            let name = format!("palisade_policy_{metric}_{unit}");
            let _ = writeln!(out, "# HELP {name} {}", help(metric, unit));
            let _ = writeln!(out, "# TYPE {name} counter");
            for ((m, ns, policy, d), v) in &sums {
                if *m == metric {
                    let value = if pick == 0 { v.0 } else { v.1 };
                    let _ = writeln!(
                        out,
                        "{name}_total{{namespace=\"{ns}\",policy=\"{policy}\",direction=\"{d}\"}} {value}"
                    );
                }
            }
        }
    }
    out
}

fn help(metric: &str, unit: &str) -> String {
    match metric {
        "allowed" => format!("First-packet {unit} accepted by a rule of the policy"),
        "denied" => format!("{unit} dropped because the policy (among others) isolates the pod and no rule allowed them"),
        _ => format!("{unit} an audit-mode policy would have dropped (accepted and logged)"),
    }
}

/// Inserts `extra` before the final `# EOF` of an OpenMetrics text.
pub fn splice(metrics: String, extra: &str) -> String {
    match metrics.rfind("# EOF") {
        Some(at) => format!("{}{extra}{}", &metrics[..at], &metrics[at..]),
        None => metrics + extra,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_per_policy_and_direction() {
        let p = |s: &str| s.parse::<palisade_model::PolicyRef>().unwrap();
        let kinds = BTreeMap::from([
            (
                "r_1".to_string(),
                CounterKind::Rule {
                    policy: p("ns-1/allow"),
                    direction: Direction::Ingress,
                    rule: 0,
                },
            ),
            (
                "d_1".to_string(),
                CounterKind::DefaultDeny {
                    direction: Direction::Ingress,
                    isolated_by: vec![p("ns-1/allow"), p("ns-1/deny")],
                    audit: false,
                },
            ),
        ]);
        let values = parse(r#"{"nftables":[{"metainfo":{}},{"counter":{"family":"inet","name":"r_1","table":"palisade","handle":2,"packets":3,"bytes":180}},{"counter":{"family":"inet","name":"d_1","table":"palisade","handle":3,"packets":2,"bytes":120}}]}"#).unwrap();
        let text = encode(&kinds, &values);
        for line in [
            "palisade_policy_allowed_packets_total{namespace=\"ns-1\",policy=\"allow\",direction=\"ingress\"} 3",
            "palisade_policy_allowed_bytes_total{namespace=\"ns-1\",policy=\"allow\",direction=\"ingress\"} 180",
            "palisade_policy_denied_packets_total{namespace=\"ns-1\",policy=\"deny\",direction=\"ingress\"} 2",
            "palisade_policy_denied_packets_total{namespace=\"ns-1\",policy=\"allow\",direction=\"ingress\"} 2",
            "# TYPE palisade_policy_audited_packets counter",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
        assert_eq!(splice("a\n# EOF\n".into(), "b\n"), "a\nb\n# EOF\n");
    }
}
