//! `map[string]string` fields: labels, annotations, `matchLabels`.

use palisade_model::{LabelError, Labels, PolicyMode, MODE_ANNOTATION};

use super::cx::{describe, At, Cx};
use super::scalar::label_string;
use crate::yaml::{Node, Value};

/// One entry of a string map, with where its key and value are.
#[derive(Debug)]
pub(crate) struct Pair<'n> {
    pub key: String,
    pub value: String,
    pub key_at: At<'n>,
    pub value_at: At<'n>,
}

/// The entries of a string map whose keys and values are both strings
/// (entries with a wrong type are reported and left out). Entry paths are
/// `path[key]`, as the API server writes them.
pub(crate) fn string_map<'n>(cx: &mut Cx<'_>, at: &At<'n>) -> Vec<Pair<'n>> {
    let entries: &[(Node, Node)] = match &at.node.value {
        Value::Map(entries) => entries,
        Value::Null => &[],
        _ => {
            cx.error(
                at,
                format!("expected a mapping of strings, found {}", describe(at.node)),
            );
            return Vec::new();
        }
    };
    entries
        .iter()
        .filter_map(|(k, v)| pair(cx, at, k, v))
        .collect()
}

fn pair<'n>(cx: &mut Cx<'_>, map: &At<'n>, k: &'n Node, v: &'n Node) -> Option<Pair<'n>> {
    let key_at = At::new(k, map.path.clone());
    let key = label_string(cx, &key_at);
    let path = format!("{}[{}]", map.path, key.as_deref().unwrap_or("?"));
    let key_at = At::new(k, path.clone());
    let value_at = At::new(v, path);
    let value = label_string(cx, &value_at);
    Some(Pair {
        key: key?,
        value: value?,
        key_at,
        value_at,
    })
}

/// Labels, each pair validated as the API server does; errors point at the
/// bad key or value.
pub(crate) fn labels(cx: &mut Cx<'_>, at: &At<'_>) -> Labels {
    let mut labels = Labels::new();
    for p in string_map(cx, at) {
        if let Err(e) = labels.insert(&p.key, &p.value) {
            label_error(cx, &p, &e);
        }
    }
    labels
}

/// Reports a label error at the key or the value, whichever is wrong.
pub(crate) fn label_error(cx: &mut Cx<'_>, pair: &Pair<'_>, e: &LabelError) {
    match e {
        LabelError::Key { .. } => cx.error(&pair.key_at, e.to_string()),
        LabelError::Value { .. } => cx.error(&pair.value_at, e.to_string()),
    }
}

/// Annotations: string values, qualified-name keys. Only
/// `palisade.dev/mode` is kept; an invalid value is a warning and reads as
/// no annotation (the object stays enforced: a typo never weakens it).
pub(crate) fn annotations(cx: &mut Cx<'_>, at: &At<'_>) -> Option<PolicyMode> {
    let mut mode = None;
    for p in string_map(cx, at) {
        if p.key == MODE_ANNOTATION {
            match p.value.parse::<PolicyMode>() {
                Ok(m) => mode = Some(m),
                Err(e) => cx.warn(
                    &p.value_at,
                    format!("{e}; ignored (the default mode applies)"),
                ),
            }
        }
        let lower = p.key.to_ascii_lowercase();
        if let Err(reason) = palisade_model::names::qualified_name(&lower) {
            cx.error(
                &p.key_at,
                format!("invalid annotation key {:?}: {reason}", p.key),
            );
        }
    }
    mode
}
