//! `metadata`: name, namespace, labels.

use palisade_model::{names, Labels, PolicyMode};

use super::cursor::Fields;
use super::cx::{At, Cx};
use super::maps::{annotations, labels};
use super::scalar::string;
use super::Kind;

/// ObjectMeta fields accepted without being decoded.
const OTHER_FIELDS: [&str; 11] = [
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generateName",
    "ownerReferences",
    "finalizers",
    "managedFields",
    "selfLink",
];

/// The decoded metadata. `name` is kept even when invalid (then an error was
/// reported), so diagnostics can still name the object.
#[derive(Debug, Clone, Default)]
pub(crate) struct Meta {
    pub name: Option<String>,
    pub namespace: String,
    pub labels: Labels,
    /// `palisade.dev/mode`, when present and valid.
    pub mode: Option<PolicyMode>,
}

impl Meta {
    /// `Pod ns/name`, `Deployment ns/name`, `Namespace name`; `None` while
    /// the name is unknown.
    pub fn key(&self, kind: Kind) -> Option<String> {
        let name = self.name.as_deref()?;
        Some(match kind {
            Kind::Namespace => format!("{} {name}", kind.name()),
            _ => format!("{} {}/{name}", kind.name(), self.namespace),
        })
    }
}

/// Decodes `metadata` of the object whose fields are `top`.
pub(crate) fn decode(cx: &mut Cx<'_>, top: &mut Fields<'_>, kind: Kind) -> Meta {
    let mut meta = Meta {
        namespace: "default".into(),
        ..Meta::default()
    };
    let Some(at) = top.require(cx, "metadata") else {
        return meta;
    };
    let Some(mut f) = Fields::open(cx, &at) else {
        return meta;
    };
    meta.name = name(cx, &mut f, kind);
    if let Some(ns) = f.get("namespace") {
        meta.namespace = namespace(cx, &ns, kind).unwrap_or(meta.namespace);
    }
    if let Some(l) = f.get("labels") {
        meta.labels = labels(cx, &l);
    }
    if let Some(a) = f.get("annotations") {
        meta.mode = annotations(cx, &a);
    }
    f.skip(&OTHER_FIELDS);
    f.finish(cx);
    meta
}

fn name(cx: &mut Cx<'_>, f: &mut Fields<'_>, kind: Kind) -> Option<String> {
    let has_generate_name = f.get("generateName").is_some();
    let Some(at) = f.require(cx, "name") else {
        if has_generate_name {
            let (pos, _) = f.at();
            let hint = "generateName cannot be used here: no server generates the name";
            cx.report(
                crate::Severity::Notice,
                pos,
                &f.path_of("generateName"),
                hint,
            );
        }
        return None;
    };
    let name = string(cx, &at)?;
    if let Err(reason) = kind.check_name(&name) {
        cx.error(
            &at,
            format!("invalid {} name {name:?}: {reason}", kind.name()),
        );
    }
    Some(name)
}

fn namespace(cx: &mut Cx<'_>, at: &At<'_>, kind: Kind) -> Option<String> {
    let ns = string(cx, at)?;
    if kind == Kind::Namespace {
        cx.warn(
            at,
            format!("ignored: a Namespace is cluster-scoped (found namespace {ns:?})"),
        );
        return None;
    }
    match names::dns1123_label(&ns) {
        Ok(()) => Some(ns),
        Err(reason) => {
            cx.error(at, format!("invalid namespace {ns:?}: {reason}"));
            Some(ns)
        }
    }
}

#[cfg(test)]
mod tests;
