//! A kind the server serves, as one registration: its names (group,
//! version, kind, plural, singular, short names), its scope, its
//! subresources, the schema its objects follow (for OpenAPI and strict
//! field validation) and its table columns (for `kubectl get`).
//! Built-in kinds and CRD-backed kinds are registered the same way.

use schemars::{Schema, SchemaGenerator};
use serde_json::Value;

use crate::table::Column;

/// The schema of a kind's objects: `<T as schemars::JsonSchema>::json_schema`.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// The cells of one object's row, one per column of [`Resource::columns`].
/// `now` is the server's clock in seconds since the epoch (for ages).
pub type CellsFn = fn(&Value, i64) -> Vec<Value>;

/// A subresource (`pods/log`, `pods/exec`, `deployments/scale`...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subresource {
    pub name: &'static str,
    /// The kind its replies are: `(group, version, kind)`.
    pub response: (&'static str, &'static str, &'static str),
    pub verbs: &'static [&'static str],
}

/// One kind the server serves.
#[derive(Debug, Clone, Copy)]
pub struct Resource {
    /// `""` for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    /// The path segment: `networkpolicies`.
    pub plural: &'static str,
    pub singular: &'static str,
    pub short_names: &'static [&'static str],
    pub namespaced: bool,
    pub categories: &'static [&'static str],
    pub subresources: &'static [Subresource],
    pub schema: SchemaFn,
    pub columns: &'static [Column],
    pub cells: CellsFn,
}

/// The verbs every registered kind answers.
pub const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

impl Resource {
    /// `apps/v1`, or `v1` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The name used in messages: `networkpolicies.networking.k8s.io`,
    /// `pods` (the core group is left out, as the API server does).
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// The kind as messages name it: `NetworkPolicy.networking.k8s.io`,
    /// `Pod`.
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    /// The URL prefix of the group-version: `/api/v1`, `/apis/apps/v1`.
    pub fn gv_path(&self) -> String {
        if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        }
    }

    pub fn subresource(&self, name: &str) -> Option<&Subresource> {
        self.subresources.iter().find(|s| s.name == name)
    }
}

/// Every kind the server serves, in registration order (the order of
/// discovery documents).
#[derive(Debug, Clone, Default)]
pub struct Registry {
    resources: Vec<Resource>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a kind. Panics when its group, version and plural are taken
    /// (a programming error).
    pub fn register(&mut self, r: Resource) -> &mut Self {
        assert!(
            self.find(r.group, r.version, r.plural).is_none(),
            "{} registered twice",
            r.qualified_plural()
        );
        self.resources.push(r);
        self
    }

    pub fn resources(&self) -> &[Resource] {
        &self.resources
    }

    /// The kind served at `group/version/plural`.
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<&Resource> {
        self.resources
            .iter()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
    }

    /// The kind named `kind` in `apiVersion` (`apps/v1`, `v1`).
    pub fn by_kind(&self, api_version: &str, kind: &str) -> Option<&Resource> {
        self.resources
            .iter()
            .find(|r| r.kind == kind && r.api_version() == api_version)
    }

    /// The groups, in order of first registration (`""` is the core group).
    pub fn groups(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = vec![];
        for r in &self.resources {
            if !out.contains(&r.group) {
                out.push(r.group);
            }
        }
        out
    }
}
