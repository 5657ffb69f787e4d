//! Decoding parsed documents into validated model objects.
//!
//! [`decode_document`] looks at `kind`: Namespaces, Pods, NetworkPolicies and
//! workloads (Deployment, CronJob...: one endpoint each, see `workload`) are
//! decoded (see `meta`, `pod`, `policy`), lists are unrolled, anything else is
//! skipped with a notice. Each object collects all its diagnostics;
//! it is kept only if none is an error.

mod cursor;
mod cx;
mod maps;
mod meta;
mod object;
mod peer;
mod pod;
mod policy;
mod ports;
mod scalar;
mod selector;
mod suggest;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;
mod workload;

use palisade_model::names;

use self::cursor::Fields;
use self::cx::{child_path, describe, At, Cx};
use self::scalar::{list, string};
use self::workload::Workload;
use crate::diag::Severity;
use crate::loaded::Loaded;
use crate::yaml::{Node, Value};

/// The kinds palisade decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Namespace,
    Pod,
    NetworkPolicy,
    /// A workload kind, decoded into one endpoint standing for its pods.
    Workload(Workload),
}

impl Kind {
    fn parse(kind: &str) -> Option<Self> {
        match kind {
            "Namespace" => Some(Self::Namespace),
            "Pod" => Some(Self::Pod),
            "NetworkPolicy" => Some(Self::NetworkPolicy),
            _ => Workload::parse(kind).map(Self::Workload),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Namespace => "Namespace",
            Self::Pod => "Pod",
            Self::NetworkPolicy => "NetworkPolicy",
            Self::Workload(w) => w.name(),
        }
    }

    pub fn api_version(self) -> &'static str {
        match self {
            Self::Namespace | Self::Pod => "v1",
            Self::NetworkPolicy => "networking.k8s.io/v1",
            Self::Workload(w) => w.api_version(),
        }
    }

    /// Checks `metadata.name` with the API server's rule for this kind.
    pub fn check_name(self, name: &str) -> Result<(), String> {
        match self {
            Self::Namespace => names::dns1123_label(name),
            Self::Pod | Self::NetworkPolicy => names::dns1123_subdomain(name),
            Self::Workload(w) => w.check_name(name),
        }
    }
}

/// What a typed list (`PodList`) implies for items that omit `kind` and
/// `apiVersion`, as lists returned by the API server do.
#[derive(Debug, Default, Clone, Copy)]
struct Defaults<'a> {
    kind: Option<&'a str>,
    api_version: Option<&'a str>,
}

/// Decodes one parsed document: a Namespace, Pod, NetworkPolicy, workload, or a list
/// (`kind: List` or `*List`) whose `items` are decoded in turn. Other kinds
/// are skipped with a notice. `file` is used in sources and diagnostics.
/// An object repeated within the document is an error on the repeat.
pub fn decode_document(file: &str, doc: &Node) -> Loaded {
    let mut out = Loaded::default();
    decode_item(file, &At::new(doc, ""), Defaults::default(), &mut out);
    out.deduplicated()
}

fn decode_item(file: &str, at: &At<'_>, defaults: Defaults<'_>, out: &mut Loaded) {
    let mut cx = Cx::new(file);
    let Some(kind) = object_kind(&mut cx, at, defaults) else {
        out.diagnostics.extend(cx.diags);
        return;
    };
    if kind == "List" || kind.ends_with("List") {
        decode_list(cx, at, &kind, out);
    } else if let Some(k) = Kind::parse(&kind) {
        object::decode(cx, at, k, defaults.api_version, out);
    } else {
        skipped(&mut cx, at, &kind);
        out.diagnostics.extend(cx.diags);
    }
}

fn object_kind(cx: &mut Cx<'_>, at: &At<'_>, defaults: Defaults<'_>) -> Option<String> {
    if !matches!(at.node.value, Value::Map(_)) {
        let found = describe(at.node);
        cx.error(
            at,
            format!(
                "expected a Kubernetes object (a mapping with apiVersion and kind), found {found}"
            ),
        );
        return None;
    }
    let path = child_path(&at.path, "kind");
    let given = at
        .node
        .get("kind")
        .filter(|k| k.value != Value::Null && k.as_str() != Some(""));
    match given {
        Some(k) => string(cx, &At::new(k, path)),
        None if defaults.kind.is_some() => defaults.kind.map(str::to_string),
        None => {
            cx.report(
                Severity::Error,
                at.node.pos,
                &path,
                "missing required field \"kind\"",
            );
            None
        }
    }
}

fn decode_list(mut cx: Cx<'_>, at: &At<'_>, kind: &str, out: &mut Loaded) {
    let item_kind = kind.strip_suffix("List").filter(|k| !k.is_empty());
    let api_version = at.node.get("apiVersion").and_then(Node::as_str);
    let defaults = Defaults {
        kind: item_kind,
        api_version: item_kind.and(api_version),
    };
    let items = match Fields::open(&mut cx, at) {
        Some(mut f) => f.require(&mut cx, "items").map(|i| list(&mut cx, &i)),
        None => None,
    };
    out.diagnostics.extend(cx.diags);
    for item in items.unwrap_or_default() {
        decode_item(cx.file, &item, defaults, out);
    }
}

fn skipped(cx: &mut Cx<'_>, at: &At<'_>, kind: &str) {
    let mut what = kind.to_string();
    if let Some(v) = at.node.get("apiVersion").and_then(Node::as_str) {
        what = format!("{what} {v}");
    }
    let meta = at.node.get("metadata");
    let field = |key| meta.and_then(|m| m.get(key)).and_then(Node::as_str);
    match (field("namespace"), field("name")) {
        (Some(ns), Some(name)) => what = format!("{what} {ns}/{name}"),
        (None, Some(name)) => what = format!("{what} {name}"),
        _ => {}
    }
    let message = format!("skipped {what} (not used by NetworkPolicy evaluation)");
    cx.report(Severity::Notice, at.node.pos, &at.path, message);
}
