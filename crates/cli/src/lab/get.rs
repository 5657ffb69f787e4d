//! `lab get`: kubectl-like tables.

use std::process::ExitCode;

use anyhow::Result;
use palisade_compile::{compile, LocalPods};
use palisade_model::Direction;

use super::cli::GetWhat;
use super::state::LabState;

fn table(rows: Vec<Vec<String>>) -> String {
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:w$}"))
            .collect();
        out += cells.join("   ").trim_end();
        out.push('\n');
    }
    out
}

pub fn run(
    state: &LabState,
    what: GetWhat,
    ns: Option<&str>,
    output: Option<&str>,
) -> Result<ExitCode> {
    let wide = output == Some("wide");
    let in_ns = |n: &str| ns.is_none_or(|x| x == n);
    let with_ns = ns.is_none();
    let head = |cols: &[&str]| -> Vec<String> {
        let mut h: Vec<String> = if with_ns {
            vec!["NAMESPACE".into()]
        } else {
            vec![]
        };
        h.extend(cols.iter().map(|c| c.to_string()));
        h
    };
    let mut rows = Vec::new();
    match what {
        GetWhat::Ns => {
            rows.push(vec!["NAME".into(), "LABELS".into()]);
            for (name, labels) in &state.namespaces {
                rows.push(vec![name.clone(), labels.to_string()]);
            }
        }
        GetWhat::Pods => {
            let rs = wide.then(|| compile(&state.to_cluster(), &LocalPods::All));
            let mut h = head(&["NAME", "STATUS", "IP", "LABELS"]);
            if wide {
                h.extend(["EGRESS CHAIN".into(), "INGRESS CHAIN".into()]);
            }
            rows.push(h);
            for p in state.pods.values().filter(|p| in_ns(&p.namespace)) {
                let alive = p
                    .pid
                    .is_some_and(|pid| palisade_lab::process::is_alive(pid as u32));
                let mut r: Vec<String> = if with_ns {
                    vec![p.namespace.clone()]
                } else {
                    vec![]
                };
                r.extend([
                    p.name.clone(),
                    if alive { "Running" } else { "Completed" }.into(),
                    p.ip.to_string(),
                    p.labels.to_string(),
                ]);
                if let Some(rs) = &rs {
                    for d in [Direction::Egress, Direction::Ingress] {
                        let chain = rs.dispatch.get(&d).and_then(|m| m.get(&p.ip));
                        r.push(chain.cloned().unwrap_or_else(|| "<not isolated>".into()));
                    }
                }
                rows.push(r);
            }
        }
        GetWhat::Netpol => {
            rows.push(head(&["NAME", "POD-SELECTOR", "POLICY-TYPES"]));
            for p in state.policies.values().filter(|p| in_ns(&p.namespace)) {
                let mut types = vec![];
                p.policy_types.ingress.then(|| types.push("Ingress"));
                p.policy_types.egress.then(|| types.push("Egress"));
                let sel = if p.pod_selector.is_everything() {
                    "<none>".to_string()
                } else {
                    p.pod_selector.to_string()
                };
                let mut r: Vec<String> = if with_ns {
                    vec![p.namespace.clone()]
                } else {
                    vec![]
                };
                r.extend([p.name.clone(), sel, types.join(",")]);
                rows.push(r);
            }
        }
        GetWhat::Svc => {
            let mut h = head(&["NAME", "CLUSTER-IP", "PORT(S)"]);
            if wide {
                h.extend(["SELECTOR".into(), "ENDPOINTS".into()]);
            }
            rows.push(h);
            for s in state.services.values().filter(|s| in_ns(&s.namespace)) {
                let ports: Vec<String> = s
                    .ports
                    .iter()
                    .map(|(p, _, proto)| format!("{p}/{proto}"))
                    .collect();
                let mut r: Vec<String> = if with_ns {
                    vec![s.namespace.clone()]
                } else {
                    vec![]
                };
                r.extend([s.name.clone(), s.cluster_ip.to_string(), ports.join(",")]);
                if wide {
                    let eps: Vec<String> = state
                        .endpoints(s)
                        .iter()
                        .map(|p| p.ip.to_string())
                        .collect();
                    r.extend([
                        s.selector.to_string(),
                        if eps.is_empty() {
                            "<none>".into()
                        } else {
                            eps.join(",")
                        },
                    ]);
                }
                rows.push(r);
            }
        }
    }
    if rows.len() == 1 {
        println!(
            "No resources found{}.",
            ns.map(|n| format!(" in {n} namespace")).unwrap_or_default()
        );
    } else {
        print!("{}", table(rows));
    }
    Ok(ExitCode::SUCCESS)
}
