//! Typed readers for scalar and list nodes, with "expected X, found Y" errors.

use super::cx::{describe, At, Cx};
use crate::yaml::Value;

/// Plain scalars that YAML 1.1 readers (kubectl, via go-yaml) take for booleans.
const YAML11_BOOLS: [&str; 16] = [
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
    "OFF",
];

/// A string value. Warns about unquoted YAML 1.1 booleans.
pub(crate) fn string(cx: &mut Cx<'_>, at: &At<'_>) -> Option<String> {
    match &at.node.value {
        Value::Str(s) => {
            yaml11_bool_check(cx, at);
            Some(s.clone())
        }
        _ => {
            cx.error(
                at,
                format!("expected a string, found {}", describe(at.node)),
            );
            None
        }
    }
}

/// A string that Kubernetes keeps in a `map[string]string` or a label
/// selector: numbers and booleans are rejected with a hint to quote them, and
/// null reads as "" (with a warning).
pub(crate) fn label_string(cx: &mut Cx<'_>, at: &At<'_>) -> Option<String> {
    match &at.node.value {
        Value::Null => {
            cx.warn(
                at,
                "null is read as the empty string \"\"; write '' to say so",
            );
            Some(String::new())
        }
        // The source text is not kept (`1.10` reads as 1.1), so the hint
        // cannot show the quoted form.
        Value::Bool(_) | Value::Int(_) | Value::Float(_) => {
            let found = describe(at.node);
            cx.error(
                at,
                format!("expected a string, found {found}; quote the value to keep it a string"),
            );
            None
        }
        Value::Str(_) | Value::Seq(_) | Value::Map(_) => string(cx, at),
    }
}

/// Warns when an unquoted string would be a boolean to a YAML 1.1 reader.
pub(crate) fn yaml11_bool_check(cx: &mut Cx<'_>, at: &At<'_>) {
    if let Some(s) = at
        .node
        .as_str()
        .filter(|s| at.node.plain && YAML11_BOOLS.contains(s))
    {
        cx.warn(
            at,
            format!("kubectl (YAML 1.1) reads unquoted '{s}' as a boolean; quote it"),
        );
    }
}

/// An integer value.
pub(crate) fn int(cx: &mut Cx<'_>, at: &At<'_>) -> Option<i64> {
    match &at.node.value {
        Value::Int(i) => Some(*i),
        _ => {
            cx.error(
                at,
                format!("expected an integer, found {}", describe(at.node)),
            );
            None
        }
    }
}

/// A boolean value.
pub(crate) fn boolean(cx: &mut Cx<'_>, at: &At<'_>) -> Option<bool> {
    match &at.node.value {
        Value::Bool(b) => Some(*b),
        _ => {
            cx.error(
                at,
                format!(
                    "expected a boolean (true or false), found {}",
                    describe(at.node)
                ),
            );
            None
        }
    }
}

/// The items of a list, each with its path (`path[i]`). Null is the empty
/// list; any other type is an error and gives no items.
pub(crate) fn list<'n>(cx: &mut Cx<'_>, at: &At<'n>) -> Vec<At<'n>> {
    match &at.node.value {
        Value::Seq(items) => items
            .iter()
            .enumerate()
            .map(|(i, n)| at.item(n, i))
            .collect(),
        Value::Null => Vec::new(),
        _ => {
            cx.error(at, format!("expected a list, found {}", describe(at.node)));
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests;
