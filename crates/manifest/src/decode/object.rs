//! One Namespace, Pod, NetworkPolicy or workload: `apiVersion`, `metadata`,
//! then the kind's own fields. The object is kept only if it has no error,
//! except a NetworkPolicy whose only errors are in its rules: it is kept as
//! unenforceable (see `policy::spec`).

use palisade_model::{names, Namespace, Source};

use super::cursor::Fields;
use super::cx::{At, Cx};
use super::meta::{self, Meta};
use super::scalar::string;
use super::{pod, policy, workload, Kind};
use crate::diag::Severity;
use crate::loaded::Loaded;
use crate::object::Object;

/// Decodes the object at `at` into `out` (diagnostics always, the object
/// only if valid). `api_default` is the apiVersion a typed list implies.
pub(super) fn decode(
    mut cx: Cx<'_>,
    at: &At<'_>,
    kind: Kind,
    api_default: Option<&str>,
    out: &mut Loaded,
) {
    let Some(mut top) = Fields::open(&mut cx, at) else {
        out.diagnostics.extend(cx.diags);
        return;
    };
    top.skip(&["kind"]);
    api_version(&mut cx, &mut top, kind, api_default);
    let meta = meta::decode(&mut cx, &mut top, kind);
    let object = match kind {
        Kind::Namespace => namespace(&mut top, &meta).map(Object::Namespace),
        Kind::Pod => pod::decode(&mut cx, &mut top, &meta).map(Object::Pod),
        Kind::NetworkPolicy => policy::decode(&mut cx, &mut top, &meta).map(Object::NetworkPolicy),
        Kind::Workload(w) => workload::decode(&mut cx, &mut top, &meta, w).map(Object::Pod),
    };
    top.finish(&mut cx);
    let rejected = cx.has_errors() && !unenforceable_only(&cx, object.as_ref());
    let key = meta.key(kind);
    for d in &mut cx.diags {
        d.object.clone_from(&key);
    }
    out.diagnostics.extend(cx.diags);
    if let Some(object) = object.filter(|_| !rejected) {
        let source = Source {
            file: cx.file.into(),
            line: at.node.pos.line,
        };
        out.objects.push(with_source(object, source));
    }
}

/// True when `object` is a policy kept as unenforceable and every error is
/// inside its rules: it is kept (fail closed), its errors still reported.
fn unenforceable_only(cx: &Cx<'_>, object: Option<&Object>) -> bool {
    let kept = matches!(object, Some(Object::NetworkPolicy(np)) if np.unenforceable.is_some());
    kept && cx
        .diags
        .iter()
        .filter(|d| d.is_error())
        .all(|d| policy::in_rules(&d.field))
}

fn api_version(cx: &mut Cx<'_>, top: &mut Fields<'_>, kind: Kind, default: Option<&str>) {
    let expected = kind.api_version();
    match top.get("apiVersion") {
        Some(at) => {
            let found = string(cx, &at);
            if found.as_deref().is_some_and(|v| v != expected) {
                let v = found.unwrap_or_default();
                let name = kind.name();
                cx.error(
                    &at,
                    format!("unsupported apiVersion {v:?} for {name} (expected {expected:?})"),
                );
            }
        }
        None if default == Some(expected) => {}
        None => {
            let (pos, _) = top.at();
            let message = format!("missing required field \"apiVersion\" (expected {expected:?})");
            cx.report(Severity::Error, pos, &top.path_of("apiVersion"), message);
        }
    }
}

/// The namespace, if its name is valid (`Namespace::new` relies on that;
/// an invalid name was reported by `meta`).
fn namespace(top: &mut Fields<'_>, meta: &Meta) -> Option<Namespace> {
    top.skip(&["spec", "status"]);
    let name = meta
        .name
        .as_deref()
        .filter(|n| names::dns1123_label(n).is_ok())?;
    let mut ns = Namespace::new(name, meta.labels.clone());
    ns.mode = meta.mode;
    Some(ns)
}

fn with_source(object: Object, source: Source) -> Object {
    match object {
        Object::Namespace(mut ns) => {
            ns.source = Some(source);
            Object::Namespace(ns)
        }
        Object::Pod(mut pod) => {
            pod.source = Some(source);
            Object::Pod(pod)
        }
        Object::NetworkPolicy(mut np) => {
            np.source = Some(source);
            Object::NetworkPolicy(np)
        }
    }
}
