//! `lab apply -f FILE [-n NS]`: validate first, change nothing on error.

use std::path::Path;

use anyhow::{bail, Context, Result};
use palisade_manifest::{decode_document, yaml, Object};
use palisade_model::NetworkPolicy;

use super::out::Out;

/// Reads NetworkPolicies from `path` ("-" for stdin) the way `kubectl apply
/// -n NS` would: a manifest without a namespace goes to `ns`; one with a
/// different namespace is an error. Any invalid object rejects the whole file,
/// so rules in force are never weakened by a half-applied update. `stdin`
/// is the caller's standard input; warnings go to `out`.
pub fn read_policies(
    path: &Path,
    ns: &str,
    stdin: Option<&str>,
    out: &mut Out,
) -> Result<Vec<(NetworkPolicy, serde_json::Value)>> {
    let name = path.display().to_string();
    let text = match (name.as_str(), stdin) {
        ("-", Some(text)) => text.to_string(),
        ("-", None) => bail!("-f -: no standard input was sent"),
        _ => std::fs::read_to_string(path).with_context(|| format!("reading {name}"))?,
    };
    policies_from_text(&name, &text, ns, out)
}

/// The policies of `text`, each with its document as JSON (namespace set),
/// the object the API is sent.
pub fn policies_from_text(
    file: &str,
    text: &str,
    ns: &str,
    notes: &mut Out,
) -> Result<Vec<(NetworkPolicy, serde_json::Value)>> {
    let docs = yaml::parse(text).map_err(|e| anyhow::anyhow!("{file}:{e}"))?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for doc in &docs {
        let explicit_node = doc.get("metadata").and_then(|m| m.get("namespace"));
        let explicit = explicit_node.and_then(|n| n.as_str());
        // Where the document starts (its `kind`, when it has one).
        let at = doc.get("kind").map_or(doc.pos, |k| k.pos);
        let loaded = decode_document(file, doc);
        for d in &loaded.diagnostics {
            if d.is_error() {
                errors.push(d.to_string());
            } else {
                notes.warn(d);
            }
        }
        for obj in loaded.objects {
            match obj {
                Object::NetworkPolicy(mut p) => {
                    match explicit {
                        Some(e) if e != ns => errors.push(format!(
                            "{file}:{}: NetworkPolicy {}/{}: the namespace from the manifest ({e}) does not match the namespace from -n ({ns})",
                            explicit_node.map_or(at, |n| n.pos), e, p.name
                        )),
                        _ => p.namespace = ns.to_string(),
                    }
                    let mut json = to_json(doc);
                    json["metadata"]["namespace"] = serde_json::json!(ns);
                    out.push((p, json));
                }
                other => errors.push(format!("{file}:{at}: {} is not a NetworkPolicy: lab apply takes NetworkPolicies (use lab create/run for the rest)", other.key())),
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

/// A YAML document as the JSON object the API takes.
pub fn to_json(node: &yaml::Node) -> serde_json::Value {
    use serde_json::Value as J;
    match &node.value {
        yaml::Value::Null => J::Null,
        yaml::Value::Bool(b) => J::Bool(*b),
        yaml::Value::Int(i) => J::from(*i),
        yaml::Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        yaml::Value::Str(s) => J::String(s.clone()),
        yaml::Value::Seq(items) => J::Array(items.iter().map(to_json).collect()),
        yaml::Value::Map(entries) => J::Object(
            entries
                .iter()
                .map(|(k, v)| {
                    let key = match &k.value {
                        yaml::Value::Str(s) => s.clone(),
                        _ => to_json(k).to_string(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DENY: &str = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny}\nspec: {podSelector: {}}\n";

    #[test]
    fn namespace_comes_from_the_flag() {
        let p = policies_from_text("f", DENY, "ns-1", &mut Out::default()).unwrap();
        assert_eq!(p[0].0.namespace, "ns-1");
        assert_eq!(p[0].1["metadata"]["namespace"], "ns-1");
        assert_eq!(p[0].1["spec"]["podSelector"], serde_json::json!({}));
    }

    #[test]
    fn mismatched_namespace_and_invalid_objects_reject_everything() {
        let other = DENY.replace("{name: deny}", "{name: deny, namespace: x}");
        let e = policies_from_text("f", &other, "ns-1", &mut Out::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not match"), "{e}");
        assert!(
            e.contains("f:3:35: NetworkPolicy x/deny"),
            "file:line:col: {e}"
        );
        let bad = format!(
            "{DENY}---\n{}",
            DENY.replace("podSelector: {}", "podSelector: {matchLabels: {a: 1}}")
        );
        let e = policies_from_text("f", &bad, "ns-1", &mut Out::default())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("nothing was applied"), "{e}");
        assert!(e.contains("f:9:39: "), "file:line:col: {e}");
    }

    /// Every error names file:line:col.
    #[test]
    fn errors_carry_file_line_and_column() {
        let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: i}]}\n";
        let e = policies_from_text(
            "f",
            &format!("{DENY}---\n{pod}"),
            "ns-1",
            &mut Out::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("f:7:7: Pod ") && e.contains("is not a NetworkPolicy"),
            "{e}"
        );
        let e = policies_from_text("f", "a: [", "ns-1", &mut Out::default())
            .unwrap_err()
            .to_string();
        // The end of the input: line 1, after its 4 characters.
        assert!(e.starts_with("f:1:5: "), "{e}");
    }
}
