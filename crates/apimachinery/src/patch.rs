//! The three patch types the API server applies to a stored object, by
//! the request's Content-Type:
//!
//! - `application/merge-patch+json`: RFC 7386 JSON merge patch;
//! - `application/json-patch+json`: RFC 6902 JSON patch;
//! - `application/strategic-merge-patch+json`: Kubernetes' strategic
//!   merge patch (what `kubectl apply`, `label`, `annotate`, `scale`,
//!   `set image`... send), with its directives (`$patch`,
//!   `$setElementOrder/<field>`, `$retainKeys`,
//!   `$deleteFromPrimitiveList/<field>`).
//!
//! Strategic merge patch needs to know, for each list field of a kind,
//! whether it is merged (and by which key) or replaced whole: upstream
//! reads the `patchStrategy`/`patchMergeKey` tags of the Go types. Here
//! they are the table [`field_meta`] answers from, transcribed from
//! `k8s.io/api` (`core/v1`, `apps/v1`, `batch/v1`) and
//! `k8s.io/apimachinery` (`ObjectMeta`) as of Kubernetes 1.32. A kind not
//! built in (a CRD) has no such tags, and strategic merge patch on it is
//! refused with 415, as upstream does.
//!
//! The merge follows upstream's `strategicpatch.StrategicMergePatch`
//! (`MergeParallelList` and `IgnoreUnmatchedNulls` on, as the API server
//! calls it), including its ordering of merged lists: the patch's items
//! in the patch's order, the items only on the server in their order,
//! interleaved where both orders know them; items new to the list come
//! before the server-only items they cannot be placed against. Where
//! upstream would leave a directive or a `null` in the result (an element
//! appended to a merge list, an atomic list replaced whole), it is
//! dropped here: the Go server drops them too, when decoding into the
//! typed object.

use std::fmt;

use serde_json::{Map, Value};

/// The patch type of a request, from its Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatchType {
    /// `application/merge-patch+json`
    Merge,
    /// `application/json-patch+json`
    Json,
    /// `application/strategic-merge-patch+json`
    Strategic,
}

impl PatchType {
    /// The patch type of a Content-Type header, parameters (`;
    /// charset=utf-8`) and case ignored. `application/apply-patch+yaml`
    /// (server-side apply) is not one of them.
    pub fn from_content_type(ct: &str) -> Option<PatchType> {
        let media = ct.split(';').next().unwrap_or_default().trim();
        match media.to_ascii_lowercase().as_str() {
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/json-patch+json" => Some(PatchType::Json),
            "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            PatchType::Merge => "application/merge-patch+json",
            PatchType::Json => "application/json-patch+json",
            PatchType::Strategic => "application/strategic-merge-patch+json",
        }
    }
}

/// The most operations a JSON patch may have (upstream's
/// `maxJSONPatchOperations`).
pub const MAX_JSON_PATCH_OPERATIONS: usize = 10_000;

/// A patch that could not be applied. [`PatchError::code`] is the HTTP
/// status of the reply, [`PatchError::reason`] its `Status` reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// 400: the body is not a patch of its type (not JSON, not a list of
    /// operations, a strategic merge patch that breaks its own rules).
    #[error("{0}")]
    BadRequest(String),
    /// 415: strategic merge patch on a kind that has no patch strategies
    /// (a custom resource).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 413: a JSON patch of more than [`MAX_JSON_PATCH_OPERATIONS`].
    #[error("{0}")]
    TooLarge(String),
    /// 422: a well-formed JSON patch whose operation failed (a `test`
    /// that did not match, a path that does not exist), as upstream
    /// answers it.
    #[error("{0}")]
    Unprocessable(String),
}

impl PatchError {
    pub fn code(&self) -> u16 {
        match self {
            PatchError::BadRequest(_) => 400,
            PatchError::UnsupportedMediaType(_) => 415,
            PatchError::TooLarge(_) => 413,
            PatchError::Unprocessable(_) => 422,
        }
    }

    /// The `Status` reason upstream gives the same failure.
    pub fn reason(&self) -> &'static str {
        match self {
            PatchError::BadRequest(_) => "BadRequest",
            PatchError::UnsupportedMediaType(_) => "UnsupportedMediaType",
            PatchError::TooLarge(_) => "RequestEntityTooLarge",
            PatchError::Unprocessable(_) => "Invalid",
        }
    }

    pub fn message(&self) -> &str {
        match self {
            PatchError::BadRequest(m)
            | PatchError::UnsupportedMediaType(m)
            | PatchError::TooLarge(m)
            | PatchError::Unprocessable(m) => m,
        }
    }
}

fn bad<T>(msg: impl Into<String>) -> Result<T, PatchError> {
    Err(PatchError::BadRequest(msg.into()))
}

/// Applies a patch body of type `ty` to `target`, the stored object of
/// kind `kind`. `kind_is_builtin` says whether the kind is one whose
/// patch strategies are known (a built-in kind: those of the table, and
/// any other built-in kind, whose lists are then all atomic); strategic
/// merge patch on any other kind is a 415.
pub fn apply(
    kind: &str,
    kind_is_builtin: bool,
    target: &Value,
    patch_body: &[u8],
    ty: PatchType,
) -> Result<Value, PatchError> {
    match ty {
        PatchType::Merge => {
            let patch: Value = serde_json::from_slice(patch_body)
                .map_err(|e| PatchError::BadRequest(format!("error decoding patch: {e}")))?;
            if !patch.is_object() {
                return bad("Invalid JSON Patch");
            }
            let mut out = target.clone();
            json_patch::merge(&mut out, &patch);
            Ok(out)
        }
        PatchType::Json => {
            let raw: Value = serde_json::from_slice(patch_body)
                .map_err(|e| PatchError::BadRequest(format!("error decoding patch: {e}")))?;
            let patch: json_patch::Patch = serde_json::from_value(raw)
                .map_err(|e| PatchError::BadRequest(format!("error decoding patch: {e}")))?;
            if patch.0.len() > MAX_JSON_PATCH_OPERATIONS {
                return Err(PatchError::TooLarge(format!(
                    "The allowed maximum operations in a JSON patch is {MAX_JSON_PATCH_OPERATIONS}, got {}",
                    patch.0.len()
                )));
            }
            let mut out = target.clone();
            json_patch::patch(&mut out, &patch.0)
                .map_err(|e| PatchError::Unprocessable(e.to_string()))?;
            Ok(out)
        }
        PatchType::Strategic => {
            if !kind_is_builtin {
                return Err(PatchError::UnsupportedMediaType(format!(
                    "strategic merge patch is not supported for {kind}"
                )));
            }
            let patch: Value = serde_json::from_slice(patch_body)
                .map_err(|e| PatchError::BadRequest(format!("error decoding patch: {e}")))?;
            strategic_merge(kind, target, &patch)
        }
    }
}

/// Applies a strategic merge patch (already decoded) to an object of a
/// built-in kind.
pub fn strategic_merge(kind: &str, target: &Value, patch: &Value) -> Result<Value, PatchError> {
    let (Value::Object(original), Value::Object(patch)) = (target, patch) else {
        return bad("invalid JSON document");
    };
    let ctx = Ctx { kind };
    merge_map(original.clone(), patch.clone(), "", &ctx).map(Value::Object)
}

/// How a strategic merge patch treats one field of a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FieldMeta {
    /// `patchStrategy` has `merge`: the list is merged (by `merge_key`
    /// for lists of objects, as a set for lists of primitives). Lists
    /// without it are replaced whole; maps are always merged.
    pub merge: bool,
    /// `patchMergeKey`.
    pub merge_key: Option<&'static str>,
    /// `patchStrategy` has `retainKeys` (`$retainKeys` is honoured
    /// wherever it appears, as upstream; this records the schema).
    pub retain_keys: bool,
}

const fn merge_by(key: &'static str) -> FieldMeta {
    FieldMeta {
        merge: true,
        merge_key: Some(key),
        retain_keys: false,
    }
}

const fn merge_retain_by(key: &'static str) -> FieldMeta {
    FieldMeta {
        merge: true,
        merge_key: Some(key),
        retain_keys: true,
    }
}

const MERGE_PRIMITIVES: FieldMeta = FieldMeta {
    merge: true,
    merge_key: None,
    retain_keys: false,
};

const RETAIN_KEYS: FieldMeta = FieldMeta {
    merge: false,
    merge_key: None,
    retain_keys: true,
};

type Fields = &'static [(&'static str, FieldMeta)];

/// `ObjectMeta` (`k8s.io/apimachinery/pkg/apis/meta/v1`).
const OBJECT_META: Fields = &[
    ("finalizers", MERGE_PRIMITIVES),
    ("ownerReferences", merge_by("uid")),
];

/// `PodSpec`, with `Container` under each of its container lists.
const POD_SPEC: Fields = &[
    ("volumes", merge_retain_by("name")),
    ("initContainers", merge_by("name")),
    ("initContainers[].ports", merge_by("containerPort")),
    ("initContainers[].env", merge_by("name")),
    ("initContainers[].volumeMounts", merge_by("mountPath")),
    ("initContainers[].volumeDevices", merge_by("devicePath")),
    ("containers", merge_by("name")),
    ("containers[].ports", merge_by("containerPort")),
    ("containers[].env", merge_by("name")),
    ("containers[].volumeMounts", merge_by("mountPath")),
    ("containers[].volumeDevices", merge_by("devicePath")),
    ("ephemeralContainers", merge_by("name")),
    ("ephemeralContainers[].ports", merge_by("containerPort")),
    ("ephemeralContainers[].env", merge_by("name")),
    ("ephemeralContainers[].volumeMounts", merge_by("mountPath")),
    (
        "ephemeralContainers[].volumeDevices",
        merge_by("devicePath"),
    ),
    ("imagePullSecrets", merge_by("name")),
    ("hostAliases", merge_by("ip")),
    ("topologySpreadConstraints", merge_by("topologyKey")),
    ("schedulingGates", merge_by("name")),
    ("resourceClaims", merge_retain_by("name")),
];

/// `PodStatus`, with `ContainerStatus` under its status lists.
const POD_STATUS: Fields = &[
    ("conditions", merge_by("type")),
    ("hostIPs", merge_by("ip")),
    ("podIPs", merge_by("ip")),
    ("resourceClaimStatuses", merge_retain_by("name")),
    ("containerStatuses[].volumeMounts", merge_by("mountPath")),
    (
        "containerStatuses[].allocatedResourcesStatus",
        merge_by("name"),
    ),
    (
        "initContainerStatuses[].volumeMounts",
        merge_by("mountPath"),
    ),
    (
        "initContainerStatuses[].allocatedResourcesStatus",
        merge_by("name"),
    ),
    (
        "ephemeralContainerStatuses[].volumeMounts",
        merge_by("mountPath"),
    ),
    (
        "ephemeralContainerStatuses[].allocatedResourcesStatus",
        merge_by("name"),
    ),
];

/// A `status` whose only strategic field is `conditions` by `type`.
const CONDITIONS: Fields = &[("conditions", merge_by("type"))];

const SERVICE_SPEC: Fields = &[("ports", merge_by("port"))];
const SERVICE_ACCOUNT: Fields = &[("secrets", merge_by("name"))];
const NODE_SPEC: Fields = &[("podCIDRs", MERGE_PRIMITIVES)];
const NODE_STATUS: Fields = &[
    ("conditions", merge_by("type")),
    ("addresses", merge_by("type")),
];
const DEPLOYMENT_SPEC: Fields = &[("strategy", RETAIN_KEYS)];

/// Every kind whose patch strategies are known, with the places (path
/// prefixes) where each table of fields applies. Every kind also has
/// `metadata.` as [`OBJECT_META`].
const KINDS: &[(&str, &[(&str, Fields)])] = &[
    ("Pod", &[("spec.", POD_SPEC), ("status.", POD_STATUS)]),
    (
        "Deployment",
        &[
            ("spec.", DEPLOYMENT_SPEC),
            ("spec.template.metadata.", OBJECT_META),
            ("spec.template.spec.", POD_SPEC),
            ("status.", CONDITIONS),
        ],
    ),
    (
        "ReplicaSet",
        &[
            ("spec.template.metadata.", OBJECT_META),
            ("spec.template.spec.", POD_SPEC),
            ("status.", CONDITIONS),
        ],
    ),
    (
        "StatefulSet",
        &[
            ("spec.template.metadata.", OBJECT_META),
            ("spec.template.spec.", POD_SPEC),
            ("status.", CONDITIONS),
        ],
    ),
    (
        "DaemonSet",
        &[
            ("spec.template.metadata.", OBJECT_META),
            ("spec.template.spec.", POD_SPEC),
            ("status.", CONDITIONS),
        ],
    ),
    (
        "ReplicationController",
        &[
            ("spec.template.metadata.", OBJECT_META),
            ("spec.template.spec.", POD_SPEC),
            ("status.", CONDITIONS),
        ],
    ),
    (
        "Job",
        &[
            ("spec.template.metadata.", OBJECT_META),
            ("spec.template.spec.", POD_SPEC),
            ("status.", CONDITIONS),
        ],
    ),
    (
        "CronJob",
        &[
            ("spec.jobTemplate.metadata.", OBJECT_META),
            ("spec.jobTemplate.spec.template.metadata.", OBJECT_META),
            ("spec.jobTemplate.spec.template.spec.", POD_SPEC),
        ],
    ),
    (
        "PodTemplate",
        &[
            ("template.metadata.", OBJECT_META),
            ("template.spec.", POD_SPEC),
        ],
    ),
    (
        "Service",
        &[("spec.", SERVICE_SPEC), ("status.", CONDITIONS)],
    ),
    ("Namespace", &[("status.", CONDITIONS)]),
    ("Node", &[("spec.", NODE_SPEC), ("status.", NODE_STATUS)]),
    ("ServiceAccount", &[("", SERVICE_ACCOUNT)]),
    ("PersistentVolumeClaim", &[("status.", CONDITIONS)]),
];

/// Whether the table has patch strategies for `kind` beyond
/// `ObjectMeta`'s (every built-in kind has those).
pub fn kind_in_table(kind: &str) -> bool {
    KINDS.iter().any(|(k, _)| *k == kind)
}

/// The patch strategy of the field at `path` of an object of `kind`:
/// a dotted path from the object's root, with `[]` after a list whose
/// elements it goes into (`spec.template.spec.containers[].env`). A field
/// the table does not name has the default: maps merge, lists are
/// replaced whole (NetworkPolicy's lists, Pod `spec.tolerations`...).
pub fn field_meta(kind: &str, path: &str) -> FieldMeta {
    let find =
        |fields: Fields, rest: &str| fields.iter().find(|(p, _)| *p == rest).map(|(_, m)| *m);
    if let Some(m) = path
        .strip_prefix("metadata.")
        .and_then(|r| find(OBJECT_META, r))
    {
        return m;
    }
    let Some((_, places)) = KINDS.iter().find(|(k, _)| *k == kind) else {
        return FieldMeta::default();
    };
    places
        .iter()
        .filter_map(|(prefix, fields)| find(fields, path.strip_prefix(prefix)?))
        .next()
        .unwrap_or_default()
}

struct Ctx<'a> {
    kind: &'a str,
}

impl Ctx<'_> {
    fn meta(&self, path: &str) -> FieldMeta {
        field_meta(self.kind, path)
    }
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS_DIRECTIVE: &str = "$retainKeys";
const SET_ELEMENT_ORDER: &str = "$setElementOrder";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";

/// `$setElementOrder/containers` -> `containers`.
fn directive_field<'k>(key: &'k str, prefix: &str) -> Option<Result<&'k str, PatchError>> {
    if !key.starts_with(prefix) {
        return None;
    }
    Some(match key.split_once('/') {
        Some((p, field)) if p == prefix => Ok(field),
        _ if prefix == SET_ELEMENT_ORDER => bad(format!(
            "invalid patch format of {SET_ELEMENT_ORDER}: {key}"
        )),
        _ => bad(format!(
            "invalid patch format of {DELETE_FROM_PRIMITIVE_LIST}: {key}"
        )),
    })
}

/// The kinds of JSON values, as upstream compares the Go types a JSON
/// document decodes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

fn kind_of(v: &Value) -> Kind {
    match v {
        Value::Null => Kind::Null,
        Value::Bool(_) => Kind::Bool,
        Value::Number(_) => Kind::Number,
        Value::String(_) => Kind::String,
        Value::Array(_) => Kind::Array,
        Value::Object(_) => Kind::Object,
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Null => "null",
            Kind::Bool => "bool",
            Kind::Number => "number",
            Kind::String => "string",
            Kind::Array => "list",
            Kind::Object => "map",
        })
    }
}

/// Drops directive maps (and the keys holding them) and `null`s, for a
/// patch value taken as it is.
fn clean(v: Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::Object(m) => {
            if m.contains_key(DIRECTIVE) {
                return None;
            }
            Some(Value::Object(
                m.into_iter()
                    .filter(|(k, _)| {
                        !(k == RETAIN_KEYS_DIRECTIVE
                            || k.starts_with(SET_ELEMENT_ORDER)
                            || k.starts_with(DELETE_FROM_PRIMITIVE_LIST))
                    })
                    .filter_map(|(k, v)| Some((k, clean(v)?)))
                    .collect(),
            ))
        }
        Value::Array(items) => Some(Value::Array(items.into_iter().filter_map(clean).collect())),
        v => Some(v),
    }
}

fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    path: &str,
    ctx: &Ctx,
) -> Result<Map<String, Value>, PatchError> {
    if let Some(d) = patch.remove(DIRECTIVE) {
        return match d.as_str() {
            // The patch is the map, as it is (less its directives).
            Some("replace") => match clean(Value::Object(patch)) {
                Some(Value::Object(m)) => Ok(m),
                _ => Ok(Map::new()),
            },
            // Upstream leaves an empty map where the map was.
            Some("delete") => Ok(Map::new()),
            _ => bad(format!(
                "unknown patch type: {d} in map: {}",
                Value::Object(patch)
            )),
        };
    }

    if let Some(keep) = patch.remove(RETAIN_KEYS_DIRECTIVE) {
        let Value::Array(keep) = keep else {
            return bad("invalid patch format of retainKeys");
        };
        let kept = |k: &str| keep.iter().any(|v| v.as_str() == Some(k));
        for (k, v) in &patch {
            if v.is_null()
                || k.starts_with(SET_ELEMENT_ORDER)
                || k.starts_with(DELETE_FROM_PRIMITIVE_LIST)
            {
                continue;
            }
            if !kept(k) {
                return bad(format!(
                    "invalid patch format of retainKeys: {k} is not in $retainKeys"
                ));
            }
        }
        original.retain(|k, _| kept(k));
    }

    // `$setElementOrder/<field>` with its list, if the patch has it.
    let orders: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ELEMENT_ORDER))
        .cloned()
        .collect();
    for key in orders {
        let order = patch.remove(&key).unwrap_or_default();
        let field = match directive_field(&key, SET_ELEMENT_ORDER) {
            Some(r) => r?.to_string(),
            None => continue,
        };
        set_element_order(&mut original, &mut patch, &field, order, path, ctx)?;
    }

    for (key, patch_v) in patch {
        let (key, delete_list) = match directive_field(&key, DELETE_FROM_PRIMITIVE_LIST) {
            Some(r) => (r?.to_string(), true),
            None => (key, false),
        };
        if patch_v.is_null() {
            original.remove(&key);
            continue;
        }
        let fpath = child(path, &key);
        let Some(orig_v) = original.remove(&key) else {
            if !delete_list {
                if let Some(v) = clean(patch_v) {
                    original.insert(key, v);
                }
            }
            continue;
        };
        let merged = match (orig_v, patch_v) {
            (Value::Object(o), Value::Object(p)) => {
                Some(Value::Object(merge_map(o, p, &fpath, ctx)?))
            }
            (Value::Array(o), Value::Array(p)) => {
                let meta = ctx.meta(&fpath);
                if meta.merge || delete_list {
                    Some(Value::Array(merge_list(
                        o,
                        p,
                        &fpath,
                        meta.merge_key,
                        delete_list,
                        ctx,
                    )?))
                } else {
                    clean(Value::Array(p))
                }
            }
            (o, p) => {
                if delete_list {
                    Some(o)
                } else {
                    clean(p)
                }
            }
        };
        if let Some(v) = merged {
            original.insert(key, v);
        }
    }
    Ok(original)
}

/// The merge key's value of a list item (the item itself for
/// primitives).
fn identity<'v>(item: &'v Value, key: Option<&str>) -> Option<&'v Value> {
    match key {
        Some(k) => item.get(k),
        None => Some(item),
    }
}

fn position(list: &[Value], item: &Value, key: Option<&str>) -> Option<usize> {
    let id = identity(item, key)?;
    list.iter().position(|v| identity(v, key) == Some(id))
}

fn no_merge_key(item: &Value, key: &str) -> PatchError {
    PatchError::BadRequest(format!(
        "map: {item} does not contain declared merge key: {key}"
    ))
}

/// The one kind of the elements of these lists (lists of lists and
/// mixed lists are refused); `None` when they are all empty.
fn element_kind(lists: &[&[Value]]) -> Result<Option<Kind>, PatchError> {
    let mut kind = None;
    for v in lists.iter().flat_map(|l| l.iter()) {
        let k = kind_of(v);
        if k == Kind::Array {
            return bad("lists of lists are not supported");
        }
        match kind {
            None => kind = Some(k),
            Some(prev) if prev != k => {
                return bad(format!(
                    "list element types are not identical: {prev} and {k}"
                ))
            }
            _ => {}
        }
    }
    Ok(kind)
}

fn is_delete_item(v: &Value) -> bool {
    v.get(DIRECTIVE).and_then(Value::as_str) == Some("delete")
}

/// Sorts `items` (stable) by the positions of their identities in
/// `order`; items `order` does not have go last. Upstream's
/// `normalizeSliceOrder`: with a merge key every item and every entry of
/// `order` must have it, and `$patch: delete` items go last.
fn sort_by_order(
    items: Vec<Value>,
    order: &[Value],
    key: Option<&str>,
) -> Result<Vec<Value>, PatchError> {
    let mut deletes = Vec::new();
    let mut items = if let Some(k) = key {
        for v in items.iter().chain(order) {
            if v.get(k).is_none() {
                return Err(no_merge_key(v, k));
            }
        }
        let (del, keep): (Vec<Value>, Vec<Value>) = items.into_iter().partition(is_delete_item);
        deletes = del;
        keep
    } else {
        items
    };
    items.sort_by_key(|v| position(order, v, key).unwrap_or(usize::MAX));
    items.extend(deletes);
    Ok(items)
}

/// Upstream's `normalizeElementOrder`: `patch_items` sorted by
/// `patch_order`, `server_items` by `server_order`, then interleaved: a
/// server-only item goes before the next patch item when the server's
/// order has both and puts it first.
fn interleave(
    patch_items: Vec<Value>,
    server_items: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    key: Option<&str>,
) -> Result<Vec<Value>, PatchError> {
    let right = sort_by_order(patch_items, patch_order, key)?;
    let left = sort_by_order(server_items, server_order, key)?;
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => matches!(
                (position(server_order, l, key), position(server_order, r, key)),
                (Some(li), Some(ri)) if li < ri
            ),
        };
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next);
    }
    Ok(out)
}

/// Splits `items` into those whose identity `by` has and the others.
fn partition_by(
    items: Vec<Value>,
    by: &[Value],
    key: Option<&str>,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    if let Some(k) = key {
        if let Some(v) = items.iter().find(|v| v.get(k).is_none()) {
            return Err(no_merge_key(v, k));
        }
    }
    Ok(items
        .into_iter()
        .partition(|v| position(by, v, key).is_some()))
}

/// Merges the list `patch` into the list `original` (a field whose
/// strategy is `merge`, or a `$deleteFromPrimitiveList`).
fn merge_list(
    original: Vec<Value>,
    patch: Vec<Value>,
    path: &str,
    key: Option<&'static str>,
    delete_list: bool,
    ctx: &Ctx,
) -> Result<Vec<Value>, PatchError> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let kind = element_kind(&[&original, &patch])?;
    if kind != Some(Kind::Object) {
        if delete_list {
            return Ok(original
                .into_iter()
                .filter(|v| !patch.contains(v))
                .collect());
        }
        let mut merged: Vec<Value> = Vec::with_capacity(original.len() + patch.len());
        for v in original.iter().chain(&patch) {
            if !merged.contains(v) {
                merged.push(v.clone());
            }
        }
        let (patch_items, server_items) = partition_by(merged, &patch, None)?;
        return interleave(patch_items, server_items, &patch, &original, None);
    }
    let Some(k) = key else {
        return bad(format!("cannot merge lists without merge key for {path}"));
    };

    // `$patch` elements: deletions by key, and `replace` (the list is the
    // patch's other elements).
    let mut original = original;
    let mut plain = Vec::with_capacity(patch.len());
    let mut replace = false;
    for v in patch {
        match v.get(DIRECTIVE) {
            None => plain.push(v),
            Some(d) => match d.as_str() {
                Some("delete") => {
                    let id = v.get(k).ok_or_else(|| no_merge_key(&v, k))?;
                    original.retain(|o| o.get(k) != Some(id));
                }
                Some("replace") => replace = true,
                Some("merge") => return bad("merging lists cannot yet be specified in the patch"),
                _ => return bad(format!("unknown patch type: {d} in map: {v}")),
            },
        }
    }
    if replace {
        return Ok(plain.into_iter().filter_map(clean).collect());
    }

    let server_order = original.clone();
    let item_path = format!("{path}[]");
    let mut merged = original;
    for v in &plain {
        let id = v.get(k).ok_or_else(|| no_merge_key(v, k))?;
        match merged.iter().position(|o| o.get(k) == Some(id)) {
            Some(i) => {
                let (Value::Object(o), Value::Object(p)) = (merged[i].take(), v.clone()) else {
                    unreachable!("element_kind checked both lists hold maps")
                };
                merged[i] = Value::Object(merge_map(o, p, &item_path, ctx)?);
            }
            None => merged.extend(clean(v.clone())),
        }
    }
    let (patch_items, server_items) = partition_by(merged, &plain, Some(k))?;
    interleave(patch_items, server_items, &plain, &server_order, Some(k))
}

/// Upstream's `mergePatchIntoOriginal`: merges `patch[field]` (if any)
/// into `original[field]` and orders the result by `order` (the
/// `$setElementOrder/<field>` list), server-only items interleaved by
/// their order on the server.
fn set_element_order(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    field: &str,
    order: Value,
    path: &str,
    ctx: &Ctx,
) -> Result<(), PatchError> {
    let format_err = || {
        PatchError::BadRequest(format!(
            "invalid patch format of {SET_ELEMENT_ORDER}/{field}: not a list"
        ))
    };
    let Value::Array(order) = order else {
        return Err(format_err());
    };
    let fpath = child(path, field);
    let meta = ctx.meta(&fpath);
    let key = meta.merge_key;
    let orig_list = match original.get(field) {
        None => None,
        Some(Value::Array(l)) => Some(l.clone()),
        Some(_) => return Err(format_err()),
    };
    let patch_list = match patch.remove(field) {
        None => None,
        Some(Value::Array(l)) => Some(l),
        Some(_) => return Err(format_err()),
    };
    validate_order(
        patch_list.as_deref().unwrap_or_default(),
        &order,
        key,
        field,
    )?;
    let merged = match (orig_list.clone(), patch_list.clone()) {
        (Some(o), None) => o,
        (None, Some(p)) => p.into_iter().filter_map(clean).collect(),
        (Some(o), Some(p)) => {
            if meta.merge {
                merge_list(o, p, &fpath, key, false, ctx)?
            } else {
                p.into_iter().filter_map(clean).collect()
            }
        }
        (None, None) => return Ok(()),
    };
    let orig_list = orig_list.unwrap_or_default();
    let kind = element_kind(&[&orig_list, patch_list.as_deref().unwrap_or_default()])?;
    let key = if kind == Some(Kind::Object) {
        key
    } else {
        None
    };
    let (patch_items, server_items) = partition_by(merged, &order, key)?;
    let ordered = interleave(patch_items, server_items, &order, &orig_list, key)?;
    original.insert(field.to_string(), Value::Array(ordered));
    Ok(())
}

/// Upstream's `validatePatchWithSetOrderList`: the patch list's items
/// (less deletions) appear in `$setElementOrder` in the same relative
/// order.
fn validate_order(
    patch_list: &[Value],
    order: &[Value],
    key: Option<&str>,
    field: &str,
) -> Result<(), PatchError> {
    if patch_list.is_empty() || order.is_empty() {
        return Ok(());
    }
    let items: Vec<&Value> = if key.is_some() {
        patch_list.iter().filter(|v| !is_delete_item(v)).collect()
    } else {
        patch_list.iter().collect()
    };
    let (mut pi, mut oi) = (0, 0);
    while pi < items.len() && oi < order.len() {
        if items[pi].get(DIRECTIVE).is_some() {
            pi += 1;
            continue;
        }
        let same = match key {
            None => items[pi] == &order[oi],
            Some(k) => {
                let a = items[pi].get(k).ok_or_else(|| no_merge_key(items[pi], k))?;
                let b = order[oi]
                    .get(k)
                    .ok_or_else(|| no_merge_key(&order[oi], k))?;
                a == b
            }
        };
        if same {
            pi += 1;
        }
        oi += 1;
    }
    if pi < items.len() {
        return bad(format!(
            "The order in patch list:\n{}\n doesn't match {SET_ELEMENT_ORDER}/{field} list:\n{}\n",
            Value::Array(patch_list.to_vec()),
            Value::Array(order.to_vec())
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn smp(kind: &str, target: Value, patch: Value) -> Result<Value, PatchError> {
        apply(
            kind,
            true,
            &target,
            patch.to_string().as_bytes(),
            PatchType::Strategic,
        )
    }

    #[test]
    fn content_types() {
        assert_eq!(
            PatchType::from_content_type("application/merge-patch+json"),
            Some(PatchType::Merge)
        );
        assert_eq!(
            PatchType::from_content_type("application/json-patch+json; charset=utf-8"),
            Some(PatchType::Json)
        );
        assert_eq!(
            PatchType::from_content_type("Application/Strategic-Merge-Patch+JSON"),
            Some(PatchType::Strategic)
        );
        assert_eq!(PatchType::from_content_type("application/json"), None);
        assert_eq!(
            PatchType::from_content_type("application/apply-patch+yaml"),
            None
        );
        for t in [PatchType::Merge, PatchType::Json, PatchType::Strategic] {
            assert_eq!(PatchType::from_content_type(t.content_type()), Some(t));
        }
    }

    #[test]
    fn kubectl_label_and_unlabel() {
        let ns = json!({"metadata": {"name": "lab", "labels": {"x": "1"}}});
        let labeled = apply(
            "Namespace",
            true,
            &ns,
            br#"{"metadata":{"labels":{"team":"blue"}}}"#,
            PatchType::Merge,
        )
        .unwrap();
        assert_eq!(
            labeled,
            json!({"metadata": {"name": "lab", "labels": {"x": "1", "team": "blue"}}})
        );
        let unlabeled = apply(
            "Namespace",
            true,
            &labeled,
            br#"{"metadata":{"labels":{"x":null}}}"#,
            PatchType::Merge,
        )
        .unwrap();
        assert_eq!(
            unlabeled,
            json!({"metadata": {"name": "lab", "labels": {"team": "blue"}}})
        );
    }

    #[test]
    fn kubectl_apply_network_policy_replaces_ingress() {
        let np = json!({
            "metadata": {"name": "api", "namespace": "lab", "annotations": {"other": "x"}},
            "spec": {
                "podSelector": {"matchLabels": {"app": "api"}},
                "ingress": [
                    {"from": [{"podSelector": {}}], "ports": [{"port": 80, "protocol": "TCP"}]},
                    {"from": [{"namespaceSelector": {}}]}
                ],
                "policyTypes": ["Ingress"]
            }
        });
        let body = br#"{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"kind\":\"NetworkPolicy\"}\n"}},"spec":{"ingress":[{"from":[{"ipBlock":{"cidr":"10.0.0.0/8"}}],"ports":[{"port":8080,"protocol":"TCP"}]}]}}"#;
        let out = apply("NetworkPolicy", true, &np, body, PatchType::Strategic).unwrap();
        assert_eq!(
            out,
            json!({
                "metadata": {"name": "api", "namespace": "lab", "annotations": {
                    "other": "x",
                    "kubectl.kubernetes.io/last-applied-configuration": "{\"kind\":\"NetworkPolicy\"}\n"
                }},
                "spec": {
                    "podSelector": {"matchLabels": {"app": "api"}},
                    "ingress": [
                        {"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"port": 8080, "protocol": "TCP"}]}
                    ],
                    "policyTypes": ["Ingress"]
                }
            })
        );
    }

    #[test]
    fn kubectl_apply_deployment_containers() {
        let d = json!({
            "metadata": {"name": "web", "annotations": {"a": "1"}},
            "spec": {"replicas": 2, "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [
                    {"name": "web", "image": "nginx:1.27", "env": [{"name": "A", "value": "1"}],
                     "ports": [{"containerPort": 80}]},
                    {"name": "side", "image": "busybox"}
                ]}
            }}
        });
        let body = br#"{"metadata":{"annotations":{"a":"2"}},"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"}],"containers":[{"env":null,"image":"nginx:1.28","name":"web"},{"$patch":"delete","name":"side"}]}}}}"#;
        let out = apply("Deployment", true, &d, body, PatchType::Strategic).unwrap();
        assert_eq!(
            out,
            json!({
                "metadata": {"name": "web", "annotations": {"a": "2"}},
                "spec": {"replicas": 2, "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [
                        {"name": "web", "image": "nginx:1.28", "ports": [{"containerPort": 80}]}
                    ]}
                }}
            })
        );
    }

    #[test]
    fn crd_strategic_is_415_others_not() {
        let e = apply("Widget", false, &json!({}), b"{}", PatchType::Strategic).unwrap_err();
        assert_eq!(e.code(), 415);
        assert_eq!(e.reason(), "UnsupportedMediaType");
        assert_eq!(
            e.message(),
            "strategic merge patch is not supported for Widget"
        );
        // Merge and JSON patches work on custom resources.
        let out = apply(
            "Widget",
            false,
            &json!({"spec": {"a": 1}}),
            br#"{"spec":{"b":2}}"#,
            PatchType::Merge,
        )
        .unwrap();
        assert_eq!(out, json!({"spec": {"a": 1, "b": 2}}));
    }

    #[test]
    fn malformed_bodies_are_400() {
        for ty in [PatchType::Merge, PatchType::Json, PatchType::Strategic] {
            let e = apply("Pod", true, &json!({}), b"{not json", ty).unwrap_err();
            assert_eq!(e.code(), 400, "{ty:?}");
        }
        let e = apply("Pod", true, &json!({}), b"[1]", PatchType::Merge).unwrap_err();
        assert_eq!(e.code(), 400);
        let e = apply(
            "Pod",
            true,
            &json!({}),
            br#"[{"op":"frob","path":"/a"}]"#,
            PatchType::Json,
        )
        .unwrap_err();
        assert_eq!(e.code(), 400);
        let e = apply("Pod", true, &json!({}), b"[]", PatchType::Strategic).unwrap_err();
        assert_eq!(e.code(), 400);
    }

    #[test]
    fn json_patch_operations() {
        let pod = json!({"metadata": {"name": "p", "labels": {"a": "1"}}, "spec": {"containers": [{"name": "c"}]}});
        let body = br#"[
            {"op":"test","path":"/metadata/labels/a","value":"1"},
            {"op":"add","path":"/metadata/labels/b","value":"2"},
            {"op":"replace","path":"/metadata/labels/a","value":"3"},
            {"op":"add","path":"/spec/containers/-","value":{"name":"d"}},
            {"op":"remove","path":"/spec/containers/0"}
        ]"#;
        let out = apply("Pod", true, &pod, body, PatchType::Json).unwrap();
        assert_eq!(
            out,
            json!({"metadata": {"name": "p", "labels": {"a": "3", "b": "2"}}, "spec": {"containers": [{"name": "d"}]}})
        );
        // A failed test: nothing applied, 422 as upstream.
        let e = apply(
            "Pod",
            true,
            &pod,
            br#"[{"op":"test","path":"/metadata/labels/a","value":"9"},{"op":"remove","path":"/metadata"}]"#,
            PatchType::Json,
        )
        .unwrap_err();
        assert_eq!(e.code(), 422);
        let e = apply(
            "Pod",
            true,
            &pod,
            br#"[{"op":"remove","path":"/nope"}]"#,
            PatchType::Json,
        )
        .unwrap_err();
        assert_eq!(e.code(), 422);
    }

    #[test]
    fn merge_patch_replaces_lists_and_deletes_nulls() {
        let svc = json!({"spec": {"ports": [{"port": 80}, {"port": 443}], "type": "ClusterIP", "x": {"y": 1}}});
        let out = apply(
            "Service",
            true,
            &svc,
            br#"{"spec":{"ports":[{"port":8080}],"x":null,"selector":{"app":"a"}}}"#,
            PatchType::Merge,
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"spec": {"ports": [{"port": 8080}], "type": "ClusterIP", "selector": {"app": "a"}}})
        );
    }

    #[test]
    fn strategic_nulls_delete_keys_and_maps_merge() {
        let out = smp(
            "Pod",
            json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"nodeName": "n1"}}),
            json!({"metadata": {"labels": {"a": null, "c": "3", "d": null}}, "spec": {"nodeName": null}, "status": {"x": {"y": null, "z": 1}}}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"metadata": {"labels": {"b": "2", "c": "3"}}, "spec": {}, "status": {"x": {"z": 1}}})
        );
    }

    #[test]
    fn strategic_merge_list_by_key_keeps_order_and_new_items_first() {
        let pod = json!({"spec": {"containers": [
            {"name": "a", "image": "a:1"},
            {"name": "b", "image": "b:1", "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]}
        ]}});
        let out = smp(
            "Pod",
            pod,
            json!({"spec": {"containers": [
                {"name": "b", "image": "b:2", "env": [{"name": "Y", "value": "3"}, {"name": "Z", "value": "4"}]},
                {"name": "c", "image": "c:1"}
            ]}}),
        )
        .unwrap();
        // Upstream's order: the patch's items in its order, server-only
        // items placed by the server's order where it knows both.
        assert_eq!(
            out,
            json!({"spec": {"containers": [
                {"name": "a", "image": "a:1"},
                {"name": "b", "image": "b:2", "env": [
                    {"name": "X", "value": "1"}, {"name": "Y", "value": "3"}, {"name": "Z", "value": "4"}
                ]},
                {"name": "c", "image": "c:1"}
            ]}})
        );
        // A new item with no known neighbour goes first (as upstream).
        let out = smp(
            "Pod",
            json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}),
            json!({"spec": {"containers": [{"name": "c"}]}}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"spec": {"containers": [{"name": "c"}, {"name": "a"}, {"name": "b"}]}})
        );
    }

    #[test]
    fn strategic_atomic_lists_are_replaced() {
        let out = smp(
            "Pod",
            json!({"spec": {"tolerations": [{"key": "a"}], "containers": [{"name": "c", "args": ["x", "y"]}]}}),
            json!({"spec": {"tolerations": [{"key": "b"}], "containers": [{"name": "c", "args": ["z"]}]}}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"spec": {"tolerations": [{"key": "b"}], "containers": [{"name": "c", "args": ["z"]}]}})
        );
    }

    #[test]
    fn strategic_service_ports_and_owner_references() {
        let out = smp(
            "Service",
            json!({"metadata": {"ownerReferences": [{"uid": "1", "name": "a"}]},
                   "spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}}),
            json!({"metadata": {"ownerReferences": [{"uid": "1", "name": "b"}]},
                   "spec": {"ports": [{"port": 80, "targetPort": 9090}]}}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"metadata": {"ownerReferences": [{"uid": "1", "name": "b"}]},
                   "spec": {"ports": [{"port": 80, "targetPort": 9090}, {"port": 443}]}})
        );
    }

    #[test]
    fn strategic_primitive_merge_list_unions_and_delete_from_primitive_list() {
        let ns =
            json!({"metadata": {"finalizers": ["a", "b"]}, "spec": {"finalizers": ["kubernetes"]}});
        let out = smp(
            "Namespace",
            ns.clone(),
            json!({"metadata": {"finalizers": ["b", "c"]}}),
        )
        .unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!(["a", "b", "c"]));
        let out = smp(
            "Namespace",
            ns.clone(),
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a", "zz"]}}),
        )
        .unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!(["b"]));
        // Works on atomic primitive lists too, and on a missing list does nothing.
        let out = smp(
            "Namespace",
            ns,
            json!({"spec": {"$deleteFromPrimitiveList/finalizers": ["kubernetes"]},
                   "metadata": {"$deleteFromPrimitiveList/nope": ["x"]}}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"metadata": {"finalizers": ["a", "b"]}, "spec": {"finalizers": []}})
        );
    }

    #[test]
    fn strategic_patch_replace_directive() {
        // On a map.
        let out = smp(
            "Pod",
            json!({"metadata": {"labels": {"a": "1", "b": "2"}}}),
            json!({"metadata": {"labels": {"$patch": "replace", "c": "3"}}}),
        )
        .unwrap();
        assert_eq!(out, json!({"metadata": {"labels": {"c": "3"}}}));
        // In a merge list.
        let out = smp(
            "Pod",
            json!({"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b"}]}}),
            json!({"spec": {"containers": [{"name": "a"}, {"$patch": "replace"}]}}),
        )
        .unwrap();
        assert_eq!(out, json!({"spec": {"containers": [{"name": "a"}]}}));
    }

    #[test]
    fn strategic_patch_delete_directive() {
        // On a map: upstream leaves an empty map.
        let out = smp(
            "Deployment",
            json!({"spec": {"strategy": {"type": "Recreate"}, "replicas": 1}}),
            json!({"spec": {"strategy": {"$patch": "delete"}}}),
        )
        .unwrap();
        assert_eq!(out, json!({"spec": {"strategy": {}, "replicas": 1}}));
        // On a map the object does not have: nothing is added.
        let out = smp(
            "Pod",
            json!({"spec": {}}),
            json!({"spec": {"securityContext": {"$patch": "delete"}}}),
        )
        .unwrap();
        assert_eq!(out, json!({"spec": {}}));
        // In a merge list, by key; deleting a missing element is fine.
        let out = smp(
            "Pod",
            json!({"spec": {"volumes": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}}),
            json!({"spec": {"volumes": [{"$patch": "delete", "name": "b"}, {"$patch": "delete", "name": "zz"}]}}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"spec": {"volumes": [{"name": "a"}, {"name": "c"}]}})
        );
        // Without the merge key: 400.
        let e = smp(
            "Pod",
            json!({"spec": {"volumes": [{"name": "a"}]}}),
            json!({"spec": {"volumes": [{"$patch": "delete"}]}}),
        )
        .unwrap_err();
        assert_eq!(e.code(), 400);
    }

    #[test]
    fn strategic_patch_merge_directive_is_refused_as_upstream() {
        let e = smp(
            "Pod",
            json!({"metadata": {"labels": {"a": "1"}}}),
            json!({"metadata": {"labels": {"$patch": "merge", "b": "2"}}}),
        )
        .unwrap_err();
        assert_eq!(e.code(), 400);
        let e = smp(
            "Pod",
            json!({"spec": {"containers": [{"name": "a"}]}}),
            json!({"spec": {"containers": [{"$patch": "merge"}]}}),
        )
        .unwrap_err();
        assert_eq!(
            e.message(),
            "merging lists cannot yet be specified in the patch"
        );
    }

    #[test]
    fn strategic_set_element_order() {
        // Upstream's "set elements order in a list with server-only items 2".
        let out = smp(
            "Pod",
            json!({"spec": {"containers": [
                {"name": "1", "other": "a"}, {"name": "2", "value": "2"}, {"name": "9"},
                {"name": "3", "value": "3"}, {"name": "4", "value": "4"}
            ]}}),
            json!({"spec": {"$setElementOrder/containers": [
                {"name": "2"}, {"name": "1"}, {"name": "4"}, {"name": "3"}
            ]}}),
        )
        .unwrap();
        let names: Vec<&str> = out["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["2", "1", "9", "4", "3"]);
        // With a patch list: new item placed where the order says.
        let out = smp(
            "Pod",
            json!({"spec": {"containers": [{"name": "1", "other": "a"}, {"name": "2", "value": "2"}]}}),
            json!({"spec": {
                "$setElementOrder/containers": [{"name": "4"}, {"name": "1"}, {"name": "2"}, {"name": "3"}],
                "containers": [{"name": "4", "value": "4"}, {"name": "3", "value": "3"}]
            }}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"spec": {"containers": [
                {"name": "4", "value": "4"}, {"name": "1", "other": "a"},
                {"name": "2", "value": "2"}, {"name": "3", "value": "3"}
            ]}})
        );
        // Primitive list (upstream's "merge lists of scalars").
        let out = smp(
            "Namespace",
            json!({"metadata": {"finalizers": ["1", "2", "4"]}}),
            json!({"metadata": {"$setElementOrder/finalizers": ["1", "2", "3"], "finalizers": ["3"]}}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"metadata": {"finalizers": ["1", "2", "3", "4"]}})
        );
        // A patch list out of the order's order: 400.
        let e = smp(
            "Pod",
            json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}),
            json!({"spec": {
                "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
                "containers": [{"name": "b"}, {"name": "a"}]
            }}),
        )
        .unwrap_err();
        assert_eq!(e.code(), 400);
    }

    #[test]
    fn strategic_retain_keys() {
        let d = json!({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}});
        let out = smp(
            "Deployment",
            d.clone(),
            json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
        )
        .unwrap();
        assert_eq!(out, json!({"spec": {"strategy": {"type": "Recreate"}}}));
        // A patched key missing from $retainKeys: 400.
        let e = smp(
            "Deployment",
            d,
            json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}}),
        )
        .unwrap_err();
        assert_eq!(e.code(), 400);
        // Inside merge-list elements (volumes are merge,retainKeys).
        let out = smp(
            "Pod",
            json!({"spec": {"volumes": [{"name": "v", "emptyDir": {}}]}}),
            json!({"spec": {"volumes": [{"name": "v", "$retainKeys": ["name", "configMap"], "configMap": {"name": "c"}}]}}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"spec": {"volumes": [{"name": "v", "configMap": {"name": "c"}}]}})
        );
    }

    #[test]
    fn directives_never_reach_the_result() {
        // A new element appended to a merge list, a new field, an atomic list.
        let out = smp(
            "Pod",
            json!({"spec": {"containers": [{"name": "a"}]}}),
            json!({"spec": {
                "containers": [{"name": "b", "env": [{"name": "X", "$patch": "delete"}, {"name": "Y"}], "image": null}],
                "initContainers": [{"name": "i", "$retainKeys": ["name"]}, {"$patch": "delete", "name": "j"}],
                "tolerations": [{"key": "t", "$patch": "replace"}, {"key": "u"}]
            }}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"spec": {
                "containers": [{"name": "b", "env": [{"name": "Y"}]}, {"name": "a"}],
                "initContainers": [{"name": "i"}],
                "tolerations": [{"key": "u"}]
            }})
        );
    }

    #[test]
    fn status_conditions_merge_by_type() {
        let out = smp(
            "Deployment",
            json!({"status": {"conditions": [
                {"type": "Available", "status": "False"}, {"type": "Progressing", "status": "True"}
            ]}}),
            json!({"status": {"conditions": [{"type": "Available", "status": "True"}]}}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"status": {"conditions": [
                {"type": "Available", "status": "True"}, {"type": "Progressing", "status": "True"}
            ]}})
        );
    }

    #[test]
    fn field_meta_table() {
        assert_eq!(field_meta("Pod", "spec.containers").merge_key, Some("name"));
        assert_eq!(
            field_meta("Deployment", "spec.template.spec.containers[].ports").merge_key,
            Some("containerPort")
        );
        assert_eq!(
            field_meta("ReplicaSet", "spec.template.spec.containers[].volumeMounts").merge_key,
            Some("mountPath")
        );
        assert_eq!(field_meta("Service", "spec.ports").merge_key, Some("port"));
        assert_eq!(
            field_meta("NetworkPolicy", "metadata.ownerReferences").merge_key,
            Some("uid")
        );
        assert_eq!(
            field_meta("Widget", "metadata.finalizers"),
            MERGE_PRIMITIVES
        );
        assert!(field_meta("Pod", "spec.volumes").retain_keys);
        assert!(field_meta("Deployment", "spec.strategy").retain_keys);
        for (kind, path) in [
            ("NetworkPolicy", "spec.ingress"),
            ("NetworkPolicy", "spec.ingress[].from"),
            ("Pod", "spec.tolerations"),
            ("Pod", "spec.containers"),
            ("Deployment", "spec.containers"),
        ] {
            let m = field_meta(kind, path);
            let expect_merge = kind == "Pod" && path == "spec.containers";
            assert_eq!(m.merge, expect_merge, "{kind} {path}");
        }
        assert!(kind_in_table("Deployment"));
        assert!(!kind_in_table("NetworkPolicy"));
    }

    #[test]
    fn type_mismatch_takes_the_patch() {
        let out = smp(
            "Pod",
            json!({"spec": {"a": [1], "b": {"c": 1}, "d": "x"}}),
            json!({"spec": {"a": {"x": 1}, "b": "s", "d": [1, null]}}),
        )
        .unwrap();
        assert_eq!(out, json!({"spec": {"a": {"x": 1}, "b": "s", "d": [1]}}));
    }

    #[test]
    fn lists_of_lists_and_mixed_merge_lists_are_refused() {
        let e = smp(
            "Namespace",
            json!({"metadata": {"finalizers": ["a"]}}),
            json!({"metadata": {"finalizers": [["b"]]}}),
        )
        .unwrap_err();
        assert_eq!(e.code(), 400);
        let e = smp(
            "Namespace",
            json!({"metadata": {"finalizers": ["a"]}}),
            json!({"metadata": {"finalizers": [1]}}),
        )
        .unwrap_err();
        assert_eq!(e.code(), 400);
    }
}
