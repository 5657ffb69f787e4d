//! OpenAPI v3 documents generated from the registrations: what `kubectl`
//! fetches before `create -f`, `apply -f`, `diff -f` and `explain`.
//!
//! - [`Schemas`]: the schemas of every registered kind and of everything
//!   they reference, under Kubernetes-style component names
//!   (`io.k8s.api.networking.v1.NetworkPolicy`), with `$ref`s into
//!   `#/components/schemas/`. It is the one schema source: the documents
//!   here and the strict field validation of [`crate::strict`] read it.
//! - [`OpenApi`]: one document per group-version (`api/v1`,
//!   `apis/apps/v1`), its hash (uppercase hex SHA-512 of its bytes, as
//!   upstream), and the index served at `GET /openapi/v3`.
//!
//! What kubectl reads from a document:
//! - the PATCH operation of a path whose `x-kubernetes-group-version-kind`
//!   names the kind, and its `fieldValidation` query parameter: found, kubectl
//!   validates nothing itself and sends `fieldValidation=Strict` (the server
//!   validates, see [`crate::strict`]);
//! - the schema component whose `x-kubernetes-group-version-kind` names the
//!   kind (for `explain`, with the descriptions k8s-openapi provides);
//! - the PATCH operation's `requestBody.content`, to choose how `apply`
//!   computes its strategic merge patch (see [`PATCH_CONTENT_TYPES`]).

use std::collections::{BTreeMap, BTreeSet};

use schemars::generate::SchemaSettings;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha512};

use crate::resource::{Registry, Resource};

/// Where `$ref`s point: `#/components/schemas/<name>`.
pub const REF_PREFIX: &str = "#/components/schemas/";

/// The content types the PATCH operations list in `requestBody.content`.
///
/// `application/strategic-merge-patch+json` is deliberately left out,
/// although the server accepts strategic merge patches: when a PATCH
/// operation lists it, `kubectl apply` computes its patch from the OpenAPI
/// schema's `x-kubernetes-patch-merge-key` / `x-kubernetes-patch-strategy`
/// extensions, which k8s-openapi's schemas do not carry (lists would be
/// replaced whole). Without it kubectl falls back to its compiled-in Go
/// types, which know every built-in kind's merge keys exactly.
pub const PATCH_CONTENT_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/apply-patch+yaml",
];

/// `(group, version, kind)`; the group is `""` for the core group.
pub type Gvk = (&'static str, &'static str, &'static str);

/// The component name of a kind's schema, as upstream names it:
/// `io.k8s.api.core.v1.Pod`, `io.k8s.api.networking.v1.NetworkPolicy`,
/// `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition`;
/// a group outside `k8s.io` (a CRD's) is reversed: `stable.example.com`
/// gives `com.example.stable.v1.CronTab`.
pub fn component_name(group: &str, version: &str, kind: &str) -> String {
    match group {
        "" => format!("io.k8s.api.core.{version}.{kind}"),
        "apiextensions.k8s.io" => {
            format!("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.{version}.{kind}")
        }
        "apiregistration.k8s.io" => {
            format!("io.k8s.kube-aggregator.pkg.apis.apiregistration.{version}.{kind}")
        }
        g if g.ends_with(".k8s.io") || !g.contains('.') => {
            let first = g.split('.').next().unwrap_or(g);
            format!("io.k8s.api.{first}.{version}.{kind}")
        }
        g => {
            let reversed: Vec<&str> = g.split('.').rev().collect();
            format!("{}.{version}.{kind}", reversed.join("."))
        }
    }
}

/// The schemas of the registered kinds and of everything they reference,
/// generated once (schemars' OpenAPI 3.0 settings: `$ref`s into
/// `#/components/schemas/`, a `$ref` with siblings wrapped in `allOf` as
/// upstream writes it). Each kind's schema carries
/// `x-kubernetes-group-version-kind: [{group, version, kind}]`.
#[derive(Debug, Clone)]
pub struct Schemas {
    components: Map<String, Value>,
    kinds: Vec<(Gvk, String)>,
}

impl Schemas {
    pub fn new(registry: &Registry) -> Self {
        let mut gen = SchemaSettings::openapi3().into_generator();
        let mut roots = Vec::new();
        for r in registry.resources() {
            let mut schema = (r.schema)(&mut gen);
            for t in gen.transforms_mut() {
                t.transform(&mut schema);
            }
            roots.push((r, schema.to_value()));
        }
        // What DELETE operations reply.
        gen.subschema_for::<k8s_openapi::apimachinery::pkg::apis::meta::v1::Status>();
        let mut components = gen.take_definitions(true);
        components.insert(PATCH_SCHEMA.into(), patch_schema());

        let mut kinds = Vec::new();
        for (r, mut schema) in roots {
            let name = component_name(r.group, r.version, r.kind);
            let gvk = json!({"group": r.group, "kind": r.kind, "version": r.version});
            // A kind also referenced by another (rare) is already there:
            // the same schema, keep one.
            if let Some(existing) = components.remove(&name) {
                if existing.get("x-kubernetes-group-version-kind").is_some() {
                    schema = existing;
                }
            }
            if let Some(obj) = schema.as_object_mut() {
                let list = obj
                    .entry("x-kubernetes-group-version-kind")
                    .or_insert_with(|| Value::Array(vec![]));
                if let Value::Array(list) = list {
                    if !list.contains(&gvk) {
                        list.push(gvk);
                    }
                }
            }
            components.insert(name.clone(), schema);
            kinds.push(((r.group, r.version, r.kind), name));
        }
        Self { components, kinds }
    }

    /// Every component, by name.
    pub fn components(&self) -> &Map<String, Value> {
        &self.components
    }

    /// The component `#/components/schemas/<name>`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.components.get(name)
    }

    /// What a `$ref` points to (only refs into the components resolve).
    pub fn resolve(&self, reference: &str) -> Option<&Value> {
        let name = reference.strip_prefix(REF_PREFIX)?;
        // JSON pointer escapes (names have none in practice).
        if name.contains('~') {
            let unescaped = name.replace("~1", "/").replace("~0", "~");
            return self.components.get(&unescaped);
        }
        self.components.get(name)
    }

    /// The component name of a registered kind's schema.
    pub fn name_of(&self, group: &str, version: &str, kind: &str) -> Option<&str> {
        self.kinds
            .iter()
            .find(|((g, v, k), _)| *g == group && *v == version && *k == kind)
            .map(|(_, n)| n.as_str())
    }

    /// A registered kind's schema.
    pub fn kind_schema(&self, group: &str, version: &str, kind: &str) -> Option<&Value> {
        self.get(self.name_of(group, version, kind)?)
    }

    /// The names of `roots` and of every component they reference,
    /// transitively.
    fn closure<'a>(&'a self, roots: impl IntoIterator<Item = &'a Value>) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&Value> = roots.into_iter().collect();
        while let Some(v) = stack.pop() {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(r)) = m.get("$ref") {
                        if let Some(name) = r.strip_prefix(REF_PREFIX) {
                            if seen.insert(name.to_string()) {
                                if let Some(target) = self.resolve(r) {
                                    stack.push(target);
                                }
                            }
                        }
                    }
                    stack.extend(m.values());
                }
                Value::Array(a) => stack.extend(a),
                _ => {}
            }
        }
        seen
    }
}

const PATCH_SCHEMA: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
const STATUS_SCHEMA: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";

fn patch_schema() -> Value {
    json!({
        "description": "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.",
        "type": "object"
    })
}

/// One generated document.
#[derive(Debug, Clone)]
struct Document {
    bytes: Vec<u8>,
    hash: String,
}

/// The OpenAPI v3 documents of every served group-version, built once from
/// the registrations.
#[derive(Debug, Clone)]
pub struct OpenApi {
    /// By key: `api/v1`, `apis/apps/v1`.
    documents: BTreeMap<String, Document>,
}

impl OpenApi {
    /// Builds the documents, with schemas generated for them.
    pub fn new(registry: &Registry) -> Self {
        Self::with_schemas(registry, &Schemas::new(registry))
    }

    /// Builds the documents from `schemas` (the ones the strict field
    /// validation uses: [`crate::strict::Validator::schemas`]), which must
    /// have been built from the same `registry`.
    pub fn with_schemas(registry: &Registry, schemas: &Schemas) -> Self {
        let mut by_gv: BTreeMap<String, Vec<&Resource>> = BTreeMap::new();
        for r in registry.resources() {
            let key = r.gv_path().trim_start_matches('/').to_string();
            by_gv.entry(key).or_default().push(r);
        }
        let documents = by_gv
            .into_iter()
            .map(|(key, resources)| {
                let doc = gv_document(&resources, schemas);
                let bytes = serde_json::to_vec(&doc).expect("a JSON value serializes");
                let hash = hex_upper(&Sha512::digest(&bytes));
                (key, Document { bytes, hash })
            })
            .collect();
        Self { documents }
    }

    /// `GET /openapi/v3`: `{"paths":{"api/v1":{"serverRelativeURL":"/openapi/v3/api/v1?hash=..."}}}`.
    pub fn index(&self) -> Value {
        let paths: Map<String, Value> = self
            .documents
            .iter()
            .map(|(key, d)| {
                let url = format!("/openapi/v3/{key}?hash={}", d.hash);
                (key.clone(), json!({ "serverRelativeURL": url }))
            })
            .collect();
        json!({ "paths": paths })
    }

    /// The document of a group-version (`api/v1`, `apis/apps/v1`, no
    /// leading slash) and its hash (for `Etag` and the `?hash=` check).
    pub fn document(&self, gv_key: &str) -> Option<(&[u8], &str)> {
        let gv_key = gv_key.trim_start_matches('/');
        self.documents
            .get(gv_key)
            .map(|d| (d.bytes.as_slice(), d.hash.as_str()))
    }

    /// The group-versions with a document, as their keys.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.documents.keys().map(String::as_str)
    }
}

fn hex_upper(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02X}");
    }
    s
}

/// `NetworkingV1`, `CoreV1`, `RbacAuthorizationV1`: the middle of upstream
/// operation ids.
fn gv_camel(r: &Resource) -> String {
    let group = if r.group.is_empty() {
        "core"
    } else {
        r.group.strip_suffix(".k8s.io").unwrap_or(r.group)
    };
    group
        .split(['.', '-'])
        .chain([r.version])
        .map(capitalize)
        .collect()
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `networking_v1`, `core_v1`: the tag of upstream operations.
fn tag(r: &Resource) -> String {
    let group = if r.group.is_empty() {
        "core"
    } else {
        r.group.strip_suffix(".k8s.io").unwrap_or(r.group)
    };
    format!("{}_{}", group.replace('.', "_"), r.version)
}

fn query(name: &str, ty: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "description": description, "schema": {"type": ty, "uniqueItems": true}})
}

fn path_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "description": description, "required": true, "schema": {"type": "string", "uniqueItems": true}})
}

/// The parameters of the requests that write: `dryRun`, `fieldManager`,
/// `fieldValidation` (what kubectl looks for).
fn write_params() -> Vec<Value> {
    vec![
        query(
            "dryRun",
            "string",
            "When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed",
        ),
        query(
            "fieldManager",
            "string",
            "fieldManager is a name associated with the actor or entity that is making these changes.",
        ),
        query(
            "fieldValidation",
            "string",
            "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: ignores unknown and duplicate fields. - Warn: sends a warning via the standard warning response header for each unknown or duplicate field (the default). - Strict: fails the request with a BadRequest error if any unknown or duplicate field is present.",
        ),
    ]
}

fn list_params() -> Vec<Value> {
    vec![
        query("labelSelector", "string", "A selector to restrict the list of returned objects by their labels. Defaults to everything."),
        query("fieldSelector", "string", "A selector to restrict the list of returned objects by their fields. Defaults to everything."),
        query("limit", "integer", "limit is a maximum number of responses to return for a list call."),
        query("continue", "string", "The continue option should be set when retrieving more results from the server."),
        query("resourceVersion", "string", "resourceVersion sets a constraint on what resource versions a request may be served from."),
        query("timeoutSeconds", "integer", "Timeout for the list/watch call."),
        query("watch", "boolean", "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications."),
    ]
}

fn delete_params() -> Vec<Value> {
    vec![
        query("dryRun", "string", "When present, indicates that modifications should not be persisted."),
        query("gracePeriodSeconds", "integer", "The duration in seconds before the object should be deleted."),
        query("propagationPolicy", "string", "Whether and how garbage collection will be performed: Orphan, Background or Foreground."),
    ]
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("{REF_PREFIX}{name}") })
}

/// What the server reads (protobuf too: `kubectl create ns` sends it) and
/// writes (JSON, YAML).
fn json_content(schema: &Value, protobuf: bool) -> Value {
    let mut content = json!({
        "application/json": {"schema": schema},
        "application/yaml": {"schema": schema},
    });
    if protobuf {
        content["application/vnd.kubernetes.protobuf"] = json!({"schema": schema});
    }
    content
}

fn ok(schema: Option<&Value>, code: &str) -> Value {
    let mut response = json!({"description": "OK"});
    if let Some(schema) = schema {
        response["content"] = json_content(schema, false);
    }
    if code == "201" {
        response["description"] = "Created".into();
    }
    let mut responses = Map::new();
    responses.insert(code.into(), response);
    responses.insert("401".into(), json!({"description": "Unauthorized"}));
    Value::Object(responses)
}

/// The paths of one kind: its collection and its items.
fn resource_paths(r: &Resource, schemas: &Schemas, paths: &mut Map<String, Value>) {
    let name = schemas
        .name_of(r.group, r.version, r.kind)
        .map(str::to_string)
        .unwrap_or_else(|| component_name(r.group, r.version, r.kind));
    let kind_ref = schema_ref(&name);
    let status_ref = schema_ref(STATUS_SCHEMA);
    let gvk = json!({"group": r.group, "kind": r.kind, "version": r.version});
    let gv = gv_camel(r);
    let scope = if r.namespaced { "Namespaced" } else { "" };
    let tags = json!([tag(r)]);
    let op =
        |verb: &str, action: &str, description: String, params: Vec<Value>, responses: Value| {
            json!({
                "tags": tags,
                "description": description,
                "operationId": format!("{verb}{gv}{scope}{}", r.kind),
                "parameters": params,
                "responses": responses,
                "x-kubernetes-action": action,
                "x-kubernetes-group-version-kind": gvk,
            })
        };
    let with_body = |mut operation: Value, content: Value| {
        operation["requestBody"] = json!({"content": content, "required": true});
        operation
    };

    let ns = if r.namespaced {
        "/namespaces/{namespace}"
    } else {
        ""
    };
    let collection = format!("{}{ns}/{}", r.gv_path(), r.plural);
    let item = format!("{collection}/{{name}}");
    let pretty = query(
        "pretty",
        "string",
        "If 'true', then the output is pretty printed.",
    );
    let namespace = path_param(
        "namespace",
        "object name and auth scope, such as for teams and projects",
    );
    let mut collection_params = vec![];
    if r.namespaced {
        collection_params.push(namespace.clone());
    }
    collection_params.push(pretty.clone());
    let mut item_params = vec![path_param("name", &format!("name of the {}", r.kind))];
    item_params.extend(collection_params.iter().cloned());

    let list = op(
        "list",
        "list",
        format!("list or watch objects of kind {}", r.kind),
        list_params(),
        ok(None, "200"),
    );
    let create = with_body(
        op(
            "create",
            "post",
            format!("create a {}", r.kind),
            write_params(),
            ok(Some(&kind_ref), "201"),
        ),
        json_content(&kind_ref, true),
    );
    let mut delete_collection_params = list_params();
    delete_collection_params.extend(delete_params());
    let mut delete_collection = op(
        "delete",
        "deletecollection",
        format!("delete collection of {}", r.kind),
        delete_collection_params,
        ok(Some(&status_ref), "200"),
    );
    // upstream: deleteNetworkingV1CollectionNamespacedNetworkPolicy
    delete_collection["operationId"] = format!("delete{gv}Collection{scope}{}", r.kind).into();

    paths.insert(
        collection,
        json!({
            "get": list,
            "post": create,
            "delete": delete_collection,
            "parameters": collection_params,
        }),
    );

    let read = op(
        "read",
        "get",
        format!("read the specified {}", r.kind),
        vec![],
        ok(Some(&kind_ref), "200"),
    );
    let replace = with_body(
        op(
            "replace",
            "put",
            format!("replace the specified {}", r.kind),
            write_params(),
            ok(Some(&kind_ref), "200"),
        ),
        json_content(&kind_ref, true),
    );
    let mut patch_params = write_params();
    patch_params.push(query(
        "force",
        "boolean",
        "Force is going to \"force\" Apply requests. It must be unset for non-apply patch requests.",
    ));
    let patch_content: Map<String, Value> = PATCH_CONTENT_TYPES
        .iter()
        .map(|t| {
            (
                (*t).to_string(),
                json!({"schema": schema_ref(PATCH_SCHEMA)}),
            )
        })
        .collect();
    let patch = with_body(
        op(
            "patch",
            "patch",
            format!("partially update the specified {}", r.kind),
            patch_params,
            ok(Some(&kind_ref), "200"),
        ),
        Value::Object(patch_content),
    );
    let delete = op(
        "delete",
        "delete",
        format!("delete a {}", r.kind),
        delete_params(),
        ok(Some(&status_ref), "200"),
    );
    paths.insert(
        item,
        json!({
            "get": read,
            "put": replace,
            "patch": patch,
            "delete": delete,
            "parameters": item_params,
        }),
    );

    if r.namespaced {
        // upstream: listCoreV1PodForAllNamespaces at /api/v1/pods
        let mut all = op(
            "list",
            "list",
            format!("list or watch objects of kind {}", r.kind),
            list_params(),
            ok(None, "200"),
        );
        all["operationId"] = format!("list{gv}{}ForAllNamespaces", r.kind).into();
        paths.insert(
            format!("{}/{}", r.gv_path(), r.plural),
            json!({ "get": all, "parameters": [pretty] }),
        );
    }
}

/// The document of one group-version's kinds.
fn gv_document(resources: &[&Resource], schemas: &Schemas) -> Value {
    let mut paths = Map::new();
    for r in resources {
        resource_paths(r, schemas, &mut paths);
    }
    let paths = Value::Object(paths);
    let kind_schemas: Vec<&Value> = resources
        .iter()
        .filter_map(|r| schemas.kind_schema(r.group, r.version, r.kind))
        .collect();
    let mut names = schemas.closure(kind_schemas.into_iter().chain([&paths]));
    for r in resources {
        if let Some(n) = schemas.name_of(r.group, r.version, r.kind) {
            names.insert(n.to_string());
        }
    }
    let components: Map<String, Value> = names
        .into_iter()
        .filter_map(|n| schemas.get(&n).map(|s| (n, s.clone())))
        .collect();
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "paths": paths,
        "components": {"schemas": components},
    })
}

#[cfg(test)]
pub(crate) mod test_registry {
    //! A small registry for tests: NetworkPolicy, Pod, Service, Namespace,
    //! Deployment (the production registrations live elsewhere).

    use k8s_openapi::api::{apps::v1 as apps, core::v1 as core, networking::v1 as net};
    use schemars::JsonSchema;
    use serde_json::Value;

    use crate::resource::{Registry, Resource, SchemaFn};

    fn no_cells(_: &Value, _: i64) -> Vec<Value> {
        vec![]
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn resource(
        group: &'static str,
        version: &'static str,
        kind: &'static str,
        plural: &'static str,
        singular: &'static str,
        namespaced: bool,
        schema: SchemaFn,
    ) -> Resource {
        Resource {
            group,
            version,
            kind,
            plural,
            singular,
            short_names: &[],
            namespaced,
            categories: &[],
            subresources: &[],
            schema,
            columns: &[],
            cells: no_cells,
        }
    }

    pub(crate) fn network_policy() -> Resource {
        resource(
            "networking.k8s.io",
            "v1",
            "NetworkPolicy",
            "networkpolicies",
            "networkpolicy",
            true,
            <net::NetworkPolicy as JsonSchema>::json_schema,
        )
    }

    pub(crate) fn registry() -> Registry {
        let mut r = Registry::new();
        r.register(resource(
            "",
            "v1",
            "Pod",
            "pods",
            "pod",
            true,
            <core::Pod as JsonSchema>::json_schema,
        ))
        .register(resource(
            "",
            "v1",
            "Service",
            "services",
            "service",
            true,
            <core::Service as JsonSchema>::json_schema,
        ))
        .register(resource(
            "",
            "v1",
            "Namespace",
            "namespaces",
            "namespace",
            false,
            <core::Namespace as JsonSchema>::json_schema,
        ))
        .register(resource(
            "apps",
            "v1",
            "Deployment",
            "deployments",
            "deployment",
            true,
            <apps::Deployment as JsonSchema>::json_schema,
        ))
        .register(network_policy());
        r
    }
}

#[cfg(test)]
mod tests {
    use super::test_registry::{network_policy, registry, resource};
    use super::*;

    fn doc(api: &OpenApi, key: &str) -> Value {
        let (bytes, _) = api.document(key).expect("document");
        serde_json::from_slice(bytes).expect("JSON")
    }

    /// Hashes vary with k8s-openapi's descriptions: shown as `<HASH>` once
    /// checked to be 128 uppercase hex digits.
    fn redact_hashes(mut index: Value) -> Value {
        for (_, v) in index["paths"].as_object_mut().unwrap() {
            let url = v["serverRelativeURL"].as_str().unwrap().to_string();
            let (base, hash) = url.split_once("?hash=").unwrap();
            assert_eq!(hash.len(), 128);
            assert!(hash
                .chars()
                .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c)));
            v["serverRelativeURL"] = format!("{base}?hash=<HASH>").into();
        }
        index
    }

    #[test]
    fn component_names() {
        assert_eq!(component_name("", "v1", "Pod"), "io.k8s.api.core.v1.Pod");
        assert_eq!(
            component_name("networking.k8s.io", "v1", "NetworkPolicy"),
            "io.k8s.api.networking.v1.NetworkPolicy"
        );
        assert_eq!(
            component_name("rbac.authorization.k8s.io", "v1", "Role"),
            "io.k8s.api.rbac.v1.Role"
        );
        assert_eq!(
            component_name("apps", "v1", "Deployment"),
            "io.k8s.api.apps.v1.Deployment"
        );
        assert_eq!(
            component_name("stable.example.com", "v1", "CronTab"),
            "com.example.stable.v1.CronTab"
        );
    }

    #[test]
    fn index() {
        let api = OpenApi::new(&registry());
        insta::with_settings!({sort_maps => true}, {
            insta::assert_json_snapshot!(redact_hashes(api.index()));
        });
        let (_, hash) = api.document("apis/networking.k8s.io/v1").unwrap();
        assert_eq!(
            api.index()["paths"]["apis/networking.k8s.io/v1"]["serverRelativeURL"],
            format!("/openapi/v3/apis/networking.k8s.io/v1?hash={hash}")
        );
        assert!(api.document("/api/v1").is_some());
        assert!(api.document("apis/batch/v1").is_none());
    }

    #[test]
    fn hash_is_sha512_of_the_bytes() {
        let api = OpenApi::new(&registry());
        let (bytes, hash) = api.document("api/v1").unwrap();
        assert_eq!(hash, hex_upper(&Sha512::digest(bytes)));
        // Deterministic: built twice, the same bytes.
        let again = OpenApi::new(&registry());
        assert_eq!(again.document("api/v1").unwrap().1, hash);
    }

    #[test]
    fn hash_changes_with_the_registrations() {
        let api = OpenApi::new(&registry());
        let mut other = Registry::new();
        other.register(network_policy());
        let small = OpenApi::new(&other);
        // Same networking document: same hash.
        assert_eq!(
            small.document("apis/networking.k8s.io/v1").unwrap().1,
            api.document("apis/networking.k8s.io/v1").unwrap().1
        );
        // A registration changes (its plural): the hash changes.
        let mut renamed = Registry::new();
        let mut np = network_policy();
        np.plural = "netpols";
        renamed.register(np);
        let changed = OpenApi::new(&renamed);
        assert_ne!(
            changed.document("apis/networking.k8s.io/v1").unwrap().1,
            api.document("apis/networking.k8s.io/v1").unwrap().1
        );
        // One more kind in the group-version: the hash changes.
        let mut more = Registry::new();
        more.register(network_policy()).register(resource(
            "networking.k8s.io",
            "v1",
            "Ingress",
            "ingresses",
            "ingress",
            true,
            <k8s_openapi::api::networking::v1::Ingress as schemars::JsonSchema>::json_schema,
        ));
        assert_ne!(
            OpenApi::new(&more)
                .document("apis/networking.k8s.io/v1")
                .unwrap()
                .1,
            api.document("apis/networking.k8s.io/v1").unwrap().1
        );
    }

    #[test]
    fn document_shape() {
        let api = OpenApi::new(&registry());
        let d = doc(&api, "apis/networking.k8s.io/v1");
        assert_eq!(d["openapi"], "3.0.0");
        // The paths and their operations, without the (long) descriptions.
        let mut paths = d["paths"].clone();
        for (_, item) in paths.as_object_mut().unwrap() {
            for (_, op) in item.as_object_mut().unwrap() {
                if let Some(op) = op.as_object_mut() {
                    op.remove("description");
                    if let Some(Value::Array(params)) = op.get_mut("parameters") {
                        for p in params {
                            p.as_object_mut().unwrap().remove("description");
                        }
                    }
                }
                if let Value::Array(params) = op {
                    for p in params {
                        p.as_object_mut().unwrap().remove("description");
                    }
                }
            }
        }
        insta::with_settings!({sort_maps => true}, {
            insta::assert_json_snapshot!(paths);
        });
        let names: Vec<&String> = d["components"]["schemas"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        insta::assert_json_snapshot!("networking_components", names);
    }

    #[test]
    fn core_document_paths() {
        let api = OpenApi::new(&registry());
        let d = doc(&api, "api/v1");
        let paths: Vec<(&String, Vec<&String>)> = d["paths"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(p, item)| (p, item.as_object().unwrap().keys().collect()))
            .collect();
        insta::assert_json_snapshot!(paths);
        // No kind of another group-version.
        let schemas = d["components"]["schemas"].as_object().unwrap();
        assert!(schemas.contains_key("io.k8s.api.core.v1.Pod"));
        assert!(!schemas.contains_key("io.k8s.api.apps.v1.Deployment"));
        assert!(!schemas.contains_key("io.k8s.api.networking.v1.NetworkPolicy"));
    }

    /// Every `$ref` of a document resolves inside it, and points into
    /// `#/components/schemas/` (none into `#/$defs/`).
    #[test]
    fn refs_resolve_inside_each_document() {
        let api = OpenApi::new(&registry());
        for key in api.keys().collect::<Vec<_>>() {
            let d = doc(&api, key);
            let text = serde_json::to_string(&d).unwrap();
            for word in [
                "$defs",
                "$schema",
                "prefixItems",
                "\"const\"",
                "\"examples\"",
            ] {
                assert!(!text.contains(word), "{key}: {word}");
            }
            let schemas = d["components"]["schemas"].as_object().unwrap();
            let mut stack = vec![&d];
            let mut refs = 0;
            while let Some(v) = stack.pop() {
                match v {
                    Value::Object(m) => {
                        if let Some(r) = m.get("$ref") {
                            refs += 1;
                            let name = r.as_str().unwrap().strip_prefix(REF_PREFIX).unwrap();
                            assert!(schemas.contains_key(name), "{key}: {name}");
                            // OpenAPI 3.0 ignores a $ref's siblings.
                            assert_eq!(m.len(), 1, "{key}: {m:?}");
                        }
                        stack.extend(m.values());
                    }
                    Value::Array(a) => stack.extend(a),
                    _ => {}
                }
            }
            assert!(refs > 10, "{key}");
        }
    }

    /// kubectl's decision (cli-runtime `supportsQueryParamV3`): a path whose
    /// PATCH operation names the GVK and has a `fieldValidation` query
    /// parameter means the server validates fields.
    fn supports_field_validation(doc: &Value, group: &str, version: &str, kind: &str) -> bool {
        let want = json!({"group": group, "version": version, "kind": kind});
        for (_, item) in doc["paths"].as_object().unwrap() {
            let Some(op) = item.get("patch") else {
                continue;
            };
            if op["x-kubernetes-group-version-kind"] != want {
                continue;
            }
            return op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["name"] == "fieldValidation" && p["in"] == "query");
        }
        false
    }

    #[test]
    fn kubectl_finds_field_validation_for_every_kind() {
        let reg = registry();
        let api = OpenApi::new(&reg);
        for r in reg.resources() {
            let key = r.gv_path().trim_start_matches('/').to_string();
            let d = doc(&api, &key);
            assert!(
                supports_field_validation(&d, r.group, r.version, r.kind),
                "{}",
                r.kind
            );
        }
        let d = doc(&api, "apis/networking.k8s.io/v1");
        assert!(!supports_field_validation(
            &d,
            "networking.k8s.io",
            "v1",
            "Ingress"
        ));
        assert!(!supports_field_validation(&d, "", "v1", "NetworkPolicy"));
    }

    #[test]
    fn patch_does_not_offer_strategic_merge_patch() {
        let api = OpenApi::new(&registry());
        let d = doc(&api, "apis/apps/v1");
        let op = &d["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        let content: Vec<&String> = op["requestBody"]["content"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        for t in PATCH_CONTENT_TYPES {
            assert!(content.contains(&&t.to_string()), "{t}");
        }
        assert!(!content.contains(&&"application/strategic-merge-patch+json".to_string()));
    }

    /// What `kubectl explain networkpolicy.spec.ingress` walks: the schema
    /// component naming the GVK, its `spec` (an `allOf` `$ref`), the rule's
    /// fields, each with a description.
    #[test]
    fn explain_finds_the_kind_and_its_descriptions() {
        let api = OpenApi::new(&registry());
        let d = doc(&api, "apis/networking.k8s.io/v1");
        let schemas = d["components"]["schemas"].as_object().unwrap();
        let want = json!({"group": "networking.k8s.io", "version": "v1", "kind": "NetworkPolicy"});
        let (name, np) = schemas
            .iter()
            .find(|(_, s)| {
                s["x-kubernetes-group-version-kind"]
                    .as_array()
                    .is_some_and(|a| a.contains(&want))
            })
            .expect("a schema for the GVK");
        assert_eq!(name, "io.k8s.api.networking.v1.NetworkPolicy");
        assert!(np["description"]
            .as_str()
            .unwrap()
            .contains("network traffic"));
        let spec = &np["properties"]["spec"];
        assert!(spec["description"].as_str().is_some());
        let spec_ref = spec["allOf"][0]["$ref"].as_str().unwrap();
        let spec_name = spec_ref.strip_prefix(REF_PREFIX).unwrap();
        assert_eq!(spec_name, "io.k8s.api.networking.v1.NetworkPolicySpec");
        let ingress = &schemas[spec_name]["properties"]["ingress"];
        assert_eq!(ingress["type"], "array");
        assert!(ingress["description"].as_str().is_some());
        let rule = ingress["items"]["$ref"].as_str().unwrap();
        let rule = &schemas[rule.strip_prefix(REF_PREFIX).unwrap()];
        assert!(rule["properties"]["from"]["description"].as_str().is_some());
        assert!(rule["properties"]["ports"]["description"]
            .as_str()
            .is_some());
    }
}
