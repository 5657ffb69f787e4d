//! Label selectors: `matchLabels` and `matchExpressions`.

use std::collections::BTreeMap;

use palisade_model::{
    names, LabelError, LabelSelector, Labels, Operator, Requirement, SelectorError,
};

use super::cursor::Fields;
use super::cx::{At, Cx};
use super::maps::{label_error, string_map};
use super::scalar::{label_string, list, string};
use crate::yaml::{Pos, Value};
use crate::Severity;

/// Decodes a selector; `None` after reporting an error.
pub(crate) fn selector(cx: &mut Cx<'_>, at: &At<'_>) -> Option<LabelSelector> {
    let mut f = Fields::open(cx, at)?;
    let labels = f
        .get("matchLabels")
        .map_or(Some(BTreeMap::new()), |a| match_labels(cx, &a));
    let exprs: Vec<Option<Requirement>> = match f.get("matchExpressions") {
        Some(a) => list(cx, &a).iter().map(|e| requirement(cx, e)).collect(),
        None => Vec::new(),
    };
    f.finish(cx);
    let exprs: Option<Vec<Requirement>> = exprs.into_iter().collect();
    LabelSelector::new(labels?, exprs?)
        .map_err(|e| cx.error(at, e.to_string()))
        .ok()
}

/// `matchLabels` (or a ReplicationController's map selector): each pair
/// validated as a label; `None` after reporting a bad one.
pub(crate) fn match_labels(cx: &mut Cx<'_>, at: &At<'_>) -> Option<BTreeMap<String, String>> {
    let mut ok = true;
    let mut labels = BTreeMap::new();
    for p in string_map(cx, at) {
        match Labels::validate(&p.key, &p.value) {
            Ok(()) => {
                labels.insert(p.key.clone(), p.value.clone());
            }
            Err(e) => {
                label_error(cx, &p, &e);
                ok = false;
            }
        }
    }
    ok.then_some(labels)
}

fn requirement(cx: &mut Cx<'_>, at: &At<'_>) -> Option<Requirement> {
    let before = cx.error_count();
    let mut f = Fields::open(cx, at)?;
    let key = f.require(cx, "key").and_then(|a| valid_key(cx, &a));
    let operator = f.require(cx, "operator").and_then(|a| operator(cx, &a));
    let values_at = f.get("values");
    let values = values_at.as_ref().map(|a| values(cx, a, key.as_deref()));
    let is_list = values_at
        .as_ref()
        .is_none_or(|a| matches!(a.node.value, Value::Seq(_)));
    if let Some(op) = operator.filter(|_| is_list) {
        let count = values.as_ref().map_or(0, Vec::len);
        let (pos, path) = match &values_at {
            Some(a) => (a.node.pos, a.path.clone()),
            None => (f.at().0, f.path_of("values")),
        };
        count_check(cx, op, count, pos, &path);
    }
    f.finish(cx);
    if cx.error_count() > before {
        return None;
    }
    let values: Option<Vec<String>> = values.unwrap_or_default().into_iter().collect();
    Requirement::new(&key?, operator?, values?)
        .map_err(|e| cx.error(at, e.to_string()))
        .ok()
}

fn valid_key(cx: &mut Cx<'_>, at: &At<'_>) -> Option<String> {
    let key = label_string(cx, at)?;
    match Labels::validate(&key, "") {
        Ok(()) => Some(key),
        Err(e) => {
            cx.error(at, e.to_string());
            None
        }
    }
}

fn operator(cx: &mut Cx<'_>, at: &At<'_>) -> Option<Operator> {
    let op = string(cx, at)?;
    Operator::parse(&op)
        .map_err(|e| cx.error(at, e.to_string()))
        .ok()
}

/// Each value, validated as a label value (`None` for a bad one).
fn values(cx: &mut Cx<'_>, at: &At<'_>, key: Option<&str>) -> Vec<Option<String>> {
    let check = |cx: &mut Cx<'_>, v: &At<'_>| {
        let value = label_string(cx, v)?;
        match names::label_value(&value) {
            Ok(()) => Some(value),
            Err(reason) => {
                let key = key.unwrap_or_default().to_string();
                cx.error(v, LabelError::Value { key, value, reason }.to_string());
                None
            }
        }
    };
    list(cx, at).iter().map(|v| check(cx, v)).collect()
}

fn count_check(cx: &mut Cx<'_>, op: Operator, count: usize, pos: Pos, path: &str) {
    let needs_values = matches!(op, Operator::In | Operator::NotIn);
    let error = match (needs_values, count) {
        (true, 0) => SelectorError::MissingValues(op.as_str()),
        (false, n) if n > 0 => SelectorError::UnexpectedValues(op.as_str()),
        _ => return,
    };
    cx.report(Severity::Error, pos, path, error.to_string());
}

#[cfg(test)]
mod tests;
