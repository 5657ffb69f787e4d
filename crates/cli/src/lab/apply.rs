//! `lab apply -f FILE [-n NS]`: validate first, change nothing on error.

use std::path::Path;

use anyhow::{bail, Result};
use palisade_manifest::{decode_document, yaml, Object};
use palisade_model::NetworkPolicy;

/// Reads NetworkPolicies from `path` ("-" for stdin) the way `kubectl apply
/// -n NS` would: a manifest without a namespace goes to `ns`; one with a
/// different namespace is an error. Any invalid object rejects the whole file,
/// so rules in force are never weakened by a half-applied update.
pub fn read_policies(path: &Path, ns: &str) -> Result<Vec<NetworkPolicy>> {
    let name = path.display().to_string();
    let text = if name == "-" {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(path)?
    };
    policies_from_text(&name, &text, ns)
}

pub fn policies_from_text(file: &str, text: &str, ns: &str) -> Result<Vec<NetworkPolicy>> {
    let docs = yaml::parse(text).map_err(|e| anyhow::anyhow!("{file}:{e}"))?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for doc in &docs {
        let explicit = doc
            .get("metadata")
            .and_then(|m| m.get("namespace"))
            .and_then(|n| n.as_str());
        let loaded = decode_document(file, doc);
        for d in &loaded.diagnostics {
            if d.is_error() {
                errors.push(d.to_string());
            } else {
                eprintln!("{d}");
            }
        }
        for obj in loaded.objects {
            match obj {
                Object::NetworkPolicy(mut p) => {
                    match explicit {
                        Some(e) if e != ns => errors.push(format!(
                            "{file}: NetworkPolicy {}/{}: the namespace from the manifest ({e}) does not match the namespace from -n ({ns})",
                            e, p.name
                        )),
                        _ => p.namespace = ns.to_string(),
                    }
                    out.push(p);
                }
                other => errors.push(format!("{file}: {} is not a NetworkPolicy: lab apply takes NetworkPolicies (use lab create/run for the rest)", other.key())),
            }
        }
    }
    if !errors.is_empty() {
        bail!("nothing was applied:\n  {}", errors.join("\n  "));
    }
    if out.is_empty() {
        bail!("{file}: no NetworkPolicy found");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DENY: &str = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny}\nspec: {podSelector: {}}\n";

    #[test]
    fn namespace_comes_from_the_flag() {
        let p = policies_from_text("f", DENY, "ns-1").unwrap();
        assert_eq!(p[0].namespace, "ns-1");
    }

    #[test]
    fn mismatched_namespace_and_invalid_objects_reject_everything() {
        let other = DENY.replace("{name: deny}", "{name: deny, namespace: x}");
        let e = policies_from_text("f", &other, "ns-1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not match"), "{e}");
        let bad = format!(
            "{DENY}---\n{}",
            DENY.replace("podSelector: {}", "podSelector: {matchLabels: {a: 1}}")
        );
        let e = policies_from_text("f", &bad, "ns-1")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("nothing was applied"), "{e}");
    }
}
