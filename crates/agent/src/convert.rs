//! The edge: an API object becomes a validated model object exactly once.
//!
//! The object is serialised back to JSON and decoded by
//! [`palisade_manifest::parse_str`], so validation and diagnostics are the
//! same as `palisade validate` on a manifest. `managedFields` are dropped
//! first (large, never read).

use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::core::Resource;
use kube::ResourceExt;
use palisade_manifest::{Diagnostic, Object};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A watched kind: how to name its objects and which to leave out.
pub trait Watched:
    Resource<DynamicType = ()>
    + Clone
    + std::fmt::Debug
    + DeserializeOwned
    + Serialize
    + Send
    + Sync
    + 'static
{
    /// `Pod`, `Namespace`, `NetworkPolicy`.
    const KIND: &'static str;
    /// The name of its watch task (`watch Pod`), for health reports.
    const TASK: &'static str;

    /// Why this object takes no part in policy at all (not an error), if so.
    fn ignored(&self) -> Option<&'static str> {
        None
    }
}

impl Watched for Pod {
    const KIND: &'static str = "Pod";
    const TASK: &'static str = "watch Pod";

    /// A pod that has terminated has released its address, which may
    /// already belong to another pod.
    fn ignored(&self) -> Option<&'static str> {
        let phase = self.status.as_ref().and_then(|s| s.phase.as_deref());
        matches!(phase, Some("Succeeded" | "Failed")).then_some("terminated (address released)")
    }
}

impl Watched for Namespace {
    const KIND: &'static str = "Namespace";
    const TASK: &'static str = "watch Namespace";
}

impl Watched for NetworkPolicy {
    const KIND: &'static str = "NetworkPolicy";
    const TASK: &'static str = "watch NetworkPolicy";
}

/// What one version of an API object decodes to.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    /// Valid; takes part in policy.
    Valid(Object),
    /// Rejected by validation (version skew, or a bug): the errors found.
    Invalid(Vec<Diagnostic>),
    /// A NetworkPolicy whose rules palisade rejects but whose podSelector
    /// and policyTypes it reads: enforced as isolating the pods it selects
    /// and allowing nothing (`NetworkPolicy::unenforceable` says why); the
    /// errors found.
    Unenforceable(Object, Vec<Diagnostic>),
    /// Takes no part in policy (a terminated pod), for the reason given.
    Ignored(&'static str),
}

/// `Kind namespace/name` or `Kind name`, as in diagnostics.
pub fn key<K: Watched>(obj: &K) -> String {
    match obj.namespace() {
        Some(ns) => format!("{} {ns}/{}", K::KIND, obj.name_any()),
        None => format!("{} {}", K::KIND, obj.name_any()),
    }
}

/// Decodes one API object through the manifest reader.
pub fn decode<K: Watched>(mut obj: K) -> Decoded {
    if let Some(reason) = obj.ignored() {
        return Decoded::Ignored(reason);
    }
    obj.meta_mut().managed_fields = None;
    let json = match serde_json::to_string(&obj) {
        Ok(json) => json,
        Err(e) => return Decoded::Invalid(vec![internal(&key(&obj), e.to_string())]),
    };
    let loaded = palisade_manifest::parse_str("<api>", &json);
    let errors: Vec<Diagnostic> = loaded
        .diagnostics
        .into_iter()
        .filter(Diagnostic::is_error)
        .collect();
    match (errors.is_empty(), loaded.objects.len()) {
        (true, 1) => loaded
            .objects
            .into_iter()
            .next()
            .map_or(Decoded::Ignored("empty"), Decoded::Valid),
        (true, n) => Decoded::Invalid(vec![internal(
            &key(&obj),
            format!("decoded into {n} objects, expected one"),
        )]),
        (false, 1) if unenforceable(&loaded.objects[0]) => {
            let object = loaded.objects.into_iter().next().expect("one object");
            Decoded::Unenforceable(object, errors)
        }
        (false, _) => Decoded::Invalid(errors),
    }
}

fn unenforceable(object: &Object) -> bool {
    matches!(object, Object::NetworkPolicy(np) if np.unenforceable.is_some())
}

fn internal(key: &str, message: String) -> Diagnostic {
    let mut d = Diagnostic::new(
        palisade_manifest::Severity::Error,
        "<api>",
        palisade_manifest::yaml::Pos::default(),
        "",
        message,
    );
    d.object = Some(key.to_string());
    d
}

/// The diagnostics of a rejected object on one line, for logs.
pub fn summary(diagnostics: &[Diagnostic]) -> String {
    let parts: Vec<String> = diagnostics
        .iter()
        .map(|d| match d.field.is_empty() {
            true => d.message.clone(),
            false => format!("{}: {}", d.field, d.message),
        })
        .collect();
    parts.join("; ")
}

#[cfg(test)]
mod tests;
