//! SARIF 2.1.0, for code-scanning annotations on pull requests.

use serde_json::{json, Value};

use crate::catalog::{Check, CHECKS};
use crate::finding::sort;
use crate::Finding;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// One run by tool `palisade` with one rule per check code (all of them,
/// in code order, so `ruleIndex` is stable) and one result per finding,
/// sorted as [`crate::render_text`] sorts them. A result is located in its
/// file (a relative URI as given, `\` turned into `/` and percent-encoded)
/// at the object's start line; the object and field are its logical location.
pub fn to_sarif(findings: &[Finding], tool_version: &str) -> Value {
    let mut sorted = findings.to_vec();
    sort(&mut sorted);
    let rules: Vec<Value> = CHECKS.iter().map(rule).collect();
    let results: Vec<Value> = sorted.iter().map(result).collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "palisade",
                "version": tool_version,
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

fn rule(c: &Check) -> Value {
    json!({
        "id": c.code,
        "name": c.name,
        "shortDescription": { "text": c.summary },
        "help": { "text": c.help },
        "defaultConfiguration": { "level": c.severity.sarif_level() },
    })
}

fn result(f: &Finding) -> Value {
    let index = CHECKS.iter().position(|c| c.code == f.code);
    let text = if f.field.is_empty() {
        format!("{}: {}\nhint: {}", f.object, f.message, f.hint)
    } else {
        format!("{}: {}: {}\nhint: {}", f.object, f.field, f.message, f.hint)
    };
    let mut location = json!({
        "logicalLocations": [{ "fullyQualifiedName": logical_name(f) }],
    });
    if let Some(file) = &f.file {
        let mut physical = json!({ "artifactLocation": { "uri": file_uri(file) } });
        if let Some(line) = f.line.filter(|l| *l > 0) {
            physical["region"] = json!({ "startLine": line });
        }
        location["physicalLocation"] = physical;
    }
    json!({
        "ruleId": f.code,
        "ruleIndex": index,
        "level": f.severity.sarif_level(),
        "message": { "text": text },
        "locations": [location],
    })
}

/// `NetworkPolicy ns/x spec.ingress[0]`, or just the object.
fn logical_name(f: &Finding) -> String {
    if f.field.is_empty() {
        f.object.clone()
    } else {
        format!("{} {}", f.object, f.field)
    }
}

/// A URI for a path: `/` separators, every byte outside RFC 3986's
/// unreserved characters and `/` percent-encoded; relative paths stay
/// relative (to the repository root, as code scanning expects), absolute
/// ones become `file://` URIs.
pub(crate) fn file_uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut out = String::from(if path.starts_with('/') { "file://" } else { "" });
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::file_uri;

    #[test]
    fn uris_are_percent_encoded_with_forward_slashes() {
        assert_eq!(file_uri("deploy/np.yaml"), "deploy/np.yaml");
        assert_eq!(file_uri("a b\\c%.yaml"), "a%20b/c%25.yaml");
        assert_eq!(file_uri("/repo/np.yaml"), "file:///repo/np.yaml");
        assert_eq!(file_uri("<stdin>"), "%3Cstdin%3E");
    }
}
