//! The `Table` format (`meta.k8s.io/v1`) `kubectl get` asks for: column
//! definitions and one row of server-computed cells per object.

/// A column of a kind's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    /// `string`, `integer`, `date`.
    pub kind: &'static str,
    /// `name` for the Name column, else empty.
    pub format: &'static str,
    pub description: &'static str,
    /// 0: shown by default; 1: with `-o wide`.
    pub priority: u8,
}

use serde_json::{json, Value};

use crate::resource::Resource;

/// What each row carries besides its cells (`?includeObject=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncludeObject {
    None,
    /// A `PartialObjectMetadata` (the default): kubectl takes the
    /// namespace (`-A`) and labels (`--show-labels`) from it.
    #[default]
    Metadata,
    Object,
}

impl IncludeObject {
    pub fn parse(s: &str) -> Self {
        match s {
            "None" => IncludeObject::None,
            "Object" => IncludeObject::Object,
            _ => IncludeObject::Metadata,
        }
    }
}

/// The name column every kind starts with.
pub const NAME: Column = Column {
    name: "Name",
    kind: "string",
    format: "name",
    description: "Name must be unique within a namespace. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
    priority: 0,
};

/// The age column most kinds end with.
pub const AGE: Column = Column {
    name: "Age",
    kind: "string",
    format: "",
    description: "CreationTimestamp is a timestamp representing the server time when this object was created.",
    priority: 0,
};

fn column_definitions(r: &Resource) -> Value {
    r.columns
        .iter()
        .map(|c| {
            json!({"name": c.name, "type": c.kind, "format": c.format,
                   "description": c.description, "priority": c.priority})
        })
        .collect()
}

fn row(r: &Resource, obj: &Value, now: i64, include: IncludeObject) -> Value {
    let mut row = json!({"cells": (r.cells)(obj, now)});
    match include {
        IncludeObject::None => {}
        IncludeObject::Metadata => {
            row["object"] = json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": obj.get("metadata").cloned().unwrap_or(json!({})),
            })
        }
        IncludeObject::Object => row["object"] = obj.clone(),
    }
    row
}

/// A `Table` of `objects`; `headers` false leaves out the column
/// definitions (watch events after the first, as upstream does).
pub fn table<'a>(
    r: &Resource,
    objects: impl IntoIterator<Item = &'a Value>,
    resource_version: u64,
    now: i64,
    include: IncludeObject,
    headers: bool,
) -> Value {
    let rows: Vec<Value> = objects
        .into_iter()
        .map(|o| row(r, o, now, include))
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version.to_string()},
        "columnDefinitions": if headers { column_definitions(r) } else { Value::Null },
        "rows": rows,
    })
}

/// A string cell read at a JSON pointer (`<none>` when absent or empty).
pub fn text_at(obj: &Value, pointer: &str) -> Value {
    match obj.pointer(pointer) {
        Some(Value::String(s)) if !s.is_empty() => json!(s),
        Some(Value::Number(n)) => json!(n.to_string()),
        _ => json!("<none>"),
    }
}

/// The object's name cell.
pub fn name_cell(obj: &Value) -> Value {
    obj.pointer("/metadata/name").cloned().unwrap_or(json!(""))
}

/// The object's age cell.
pub fn age_cell(obj: &Value, now: i64) -> Value {
    json!(crate::time::age_of(
        obj.pointer("/metadata/creationTimestamp")
            .and_then(Value::as_str),
        now
    ))
}

/// `a=b,c=d` from a map of labels (a selector as `kubectl get -o wide`
/// shows it), `<none>` when empty.
pub fn label_map(v: Option<&Value>) -> Value {
    let pairs: Vec<String> = v
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    if pairs.is_empty() {
        json!("<none>")
    } else {
        json!(pairs.join(","))
    }
}
