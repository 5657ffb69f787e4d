//! Discovery: `/version`, and `/api` and `/apis` as aggregated discovery
//! (`apidiscovery.k8s.io/v2`, what kubectl 1.32 asks for first, so one
//! request answers everything) or as the legacy documents (`APIVersions`,
//! `APIGroupList`, one `APIResourceList` per group-version) for clients
//! that ask for those.

use serde_json::{json, Value};

use crate::resource::{Registry, Resource, VERBS};

/// The Content-Type of an aggregated discovery reply.
pub const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Whether an `Accept` header asks for aggregated discovery v2.
pub fn wants_aggregated(accept: &str) -> bool {
    accept.split(',').any(|t| {
        let params: Vec<&str> = t.split(';').map(str::trim).collect();
        params.contains(&"g=apidiscovery.k8s.io")
            && params.contains(&"v=v2")
            && params.contains(&"as=APIGroupDiscoveryList")
    })
}

/// `/version`: minor 32, so kubectl's version dispatcher keeps v1.32.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "gitVersion": "v1.32.0-palisade-lab",
        "gitCommit": "",
        "gitTreeState": "clean",
        "buildDate": "2026-12-07T00:00:00Z",
        "goVersion": "n/a",
        "compiler": "rustc",
        "platform": "linux/amd64"
    })
}

fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!({"group": group, "version": version, "kind": kind})
}

fn aggregated_resource(r: &Resource) -> Value {
    let subresources: Vec<Value> = r
        .subresources
        .iter()
        .map(|s| {
            json!({"subresource": s.name,
                   "responseKind": gvk(s.response.0, s.response.1, s.response.2),
                   "verbs": s.verbs})
        })
        .collect();
    json!({
        "resource": r.plural,
        "responseKind": gvk(r.group, r.version, r.kind),
        "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": r.singular,
        "shortNames": r.short_names,
        "categories": r.categories,
        "verbs": VERBS,
        "subresources": subresources,
    })
}

fn aggregated_group(registry: &Registry, group: &str) -> Value {
    let mut versions: Vec<&str> = vec![];
    for r in registry.resources().iter().filter(|r| r.group == group) {
        if !versions.contains(&r.version) {
            versions.push(r.version);
        }
    }
    let versions: Vec<Value> = versions
        .iter()
        .map(|v| {
            let resources: Vec<Value> = registry
                .resources()
                .iter()
                .filter(|r| r.group == group && r.version == *v)
                .map(aggregated_resource)
                .collect();
            json!({"version": v, "freshness": "Current", "resources": resources})
        })
        .collect();
    json!({"metadata": {"name": group}, "versions": versions})
}

/// Aggregated discovery of the core group (`/api`) or of the others (`/apis`).
pub fn aggregated(registry: &Registry, core: bool) -> Value {
    let items: Vec<Value> = registry
        .groups()
        .into_iter()
        .filter(|g| g.is_empty() == core)
        .map(|g| aggregated_group(registry, g))
        .collect();
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
           "metadata": {}, "items": items})
}

/// Legacy `/api`.
pub fn api_versions(server_address: &str) -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"],
           "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]})
}

/// Legacy `/apis`.
pub fn api_group_list(registry: &Registry) -> Value {
    let groups: Vec<Value> = registry
        .groups()
        .into_iter()
        .filter(|g| !g.is_empty())
        .filter_map(|g| group_versions(registry, g))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// Legacy `/apis/GROUP` (one version per group here: the first registered).
pub fn group_versions(registry: &Registry, group: &str) -> Option<Value> {
    let first = registry.resources().iter().find(|r| r.group == group)?;
    let mut versions: Vec<Value> = vec![];
    for r in registry.resources().iter().filter(|r| r.group == group) {
        let v = json!({"groupVersion": r.api_version(), "version": r.version});
        if !versions.contains(&v) {
            versions.push(v);
        }
    }
    Some(json!({
        "kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": versions,
        "preferredVersion": {"groupVersion": first.api_version(), "version": first.version},
    }))
}

/// Legacy `/api/v1` or `/apis/GROUP/VERSION`.
pub fn resource_list(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    let mut resources = vec![];
    for r in registry
        .resources()
        .iter()
        .filter(|r| r.group == group && r.version == version)
    {
        resources.push(json!({
            "name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
            "kind": r.kind, "verbs": VERBS, "shortNames": r.short_names, "categories": r.categories,
        }));
        for s in r.subresources {
            resources.push(json!({
                "name": format!("{}/{}", r.plural, s.name), "singularName": "",
                "namespaced": r.namespaced, "group": s.response.0, "version": s.response.1,
                "kind": s.response.2, "verbs": s.verbs,
            }));
        }
    }
    if resources.is_empty() {
        return None;
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}
