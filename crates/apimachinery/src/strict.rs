//! Server-side field validation: the `fieldValidation` query parameter of
//! create, update and patch.
//!
//! kubectl finds `fieldValidation` in the OpenAPI document (see
//! [`crate::openapi`]), then validates nothing itself and sends
//! `fieldValidation=Strict`: the server must reject unknown fields (a typo
//! such as `spec.podSelectr`) and duplicate fields, as upstream's strict
//! decoding does:
//!
//! ```text
//! NetworkPolicy in version "v1" cannot be handled as a NetworkPolicy: strict decoding error: unknown field "spec.podSelectr"
//! ```
//!
//! The schemas are the ones the OpenAPI documents serve ([`Schemas`]), so
//! what `kubectl explain` shows is what the server accepts.

use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::openapi::Schemas;
use crate::resource::{Registry, Resource};

/// The `fieldValidation` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldValidation {
    /// Unknown and duplicate fields are dropped silently.
    Ignore,
    /// Each one becomes a `Warning` header (the default when the parameter
    /// is absent, as upstream).
    #[default]
    Warn,
    /// Any one fails the request with 400 BadRequest (what kubectl sends).
    Strict,
}

impl FieldValidation {
    /// The parameter's value (`None` when absent). An unknown value is an
    /// error message for a 400 BadRequest.
    pub fn parse(value: Option<&str>) -> Result<Self, String> {
        match value {
            None | Some("") => Ok(Self::Warn),
            Some("Ignore") => Ok(Self::Ignore),
            Some("Warn") => Ok(Self::Warn),
            Some("Strict") => Ok(Self::Strict),
            Some(other) => Err(format!(
                "fieldValidation: Unsupported value: {}: supported values: \"Ignore\", \"Strict\", \"Warn\"",
                quote(other)
            )),
        }
    }
}

/// Checks objects against their kind's schema. Built once from the
/// registrations; its [`Schemas`] are the ones the OpenAPI documents are
/// built from ([`crate::openapi::OpenApi::with_schemas`]).
#[derive(Debug, Clone)]
pub struct Validator {
    schemas: Schemas,
}

impl Validator {
    pub fn new(registry: &Registry) -> Self {
        Self::from_schemas(Schemas::new(registry))
    }

    pub fn from_schemas(schemas: Schemas) -> Self {
        Self { schemas }
    }

    pub fn schemas(&self) -> &Schemas {
        &self.schemas
    }

    /// The dotted paths of the fields of `object` its kind's schema does not
    /// know (`spec.ingress[0].from[0].podSelectr`). A kind without a schema
    /// has none.
    pub fn unknown_fields(&self, resource: &Resource, object: &Value) -> Vec<String> {
        match self
            .schemas
            .kind_schema(resource.group, resource.version, resource.kind)
        {
            Some(schema) => unknown_fields(&self.schemas, schema, object),
            None => vec![],
        }
    }

    /// The strict decoding errors of a request body: `duplicate field "x"`
    /// for each duplicate key of `body`, then `unknown field "y"` for each
    /// unknown field of `object` (the body, parsed).
    ///
    /// Upstream lists them in the order its decoder meets them; here the
    /// duplicates come first, then the unknown fields (object keys in
    /// alphabetical order).
    pub fn problems(&self, resource: &Resource, body: &[u8], object: &Value) -> Vec<String> {
        let mut out: Vec<String> = duplicate_fields(body)
            .iter()
            .map(|p| format!("duplicate field {}", quote(p)))
            .collect();
        out.extend(
            self.unknown_fields(resource, object)
                .iter()
                .map(|p| format!("unknown field {}", quote(p))),
        );
        out
    }

    /// Applies `mode` to a request body (`object` is `body` parsed):
    /// `Err(message)` for a 400 BadRequest under `Strict`; otherwise the
    /// texts of the `Warning` headers to send (none under `Ignore`), each
    /// `unknown field "spec.x"`, which the server sends as
    /// `Warning: 299 - "unknown field \"spec.x\""`.
    ///
    /// For a PATCH, as upstream: `object` is the patched object (a patch
    /// body is partial and carries directives such as
    /// `$setElementOrder/...`), `body` the merge or strategic merge patch
    /// (its duplicate keys), or empty for a JSON patch.
    pub fn check(
        &self,
        resource: &Resource,
        body: &[u8],
        object: &Value,
        mode: FieldValidation,
    ) -> Result<Vec<String>, String> {
        if mode == FieldValidation::Ignore {
            return Ok(vec![]);
        }
        let problems = self.problems(resource, body, object);
        match mode {
            FieldValidation::Strict if !problems.is_empty() => Err(strict_decoding_message(
                resource.kind,
                resource.version,
                &problems,
            )),
            FieldValidation::Strict => Ok(vec![]),
            _ => Ok(problems),
        }
    }
}

/// `NetworkPolicy in version "v1" cannot be handled as a NetworkPolicy:
/// strict decoding error: unknown field "spec.podSelectr", ...`: the message
/// of the 400 BadRequest, `problems` as [`Validator::problems`] gives them.
pub fn strict_decoding_message(kind: &str, version: &str, problems: &[String]) -> String {
    format!(
        "{kind} in version {} cannot be handled as a {kind}: strict decoding error: {}",
        quote(version),
        problems.join(", ")
    )
}

/// Go's `%q` for the strings at hand.
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The dotted paths of the fields of `object` that `schema` (a kind's
/// schema, `$ref`s resolved in `schemas`) does not know:
/// `spec.ingress[0].from[0].podSelectr`.
///
/// - An object schema with `properties` knows those only; with
///   `additionalProperties` (a map: labels, annotations, resources'
///   limits) any key, its values checked against that schema.
/// - A schema with neither (`FieldsV1`, `RawExtension`), or with
///   `x-kubernetes-preserve-unknown-fields`, takes anything besides its
///   known properties; so does a scalar one (`IntOrString`, `Quantity`,
///   `Time`).
/// - `apiVersion` and `kind` are always allowed at the top.
pub fn unknown_fields(schemas: &Schemas, schema: &Value, object: &Value) -> Vec<String> {
    let mut out = vec![];
    walk(schemas, schema, object, "", true, &mut out);
    out
}

/// A schema's effective shape: its `$ref`s and `allOf`s merged.
#[derive(Default)]
struct Shape<'a> {
    properties: Vec<&'a Map<String, Value>>,
    /// `additionalProperties`: a schema, or `true`.
    additional: Option<&'a Value>,
    preserve_unknown: bool,
    items: Option<&'a Value>,
}

impl<'a> Shape<'a> {
    fn of(schemas: &'a Schemas, schema: &'a Value) -> Self {
        let mut shape = Shape::default();
        shape.add(schemas, schema, 0);
        shape
    }

    fn add(&mut self, schemas: &'a Schemas, schema: &'a Value, depth: usize) {
        // A $ref cycle with no value in between cannot be a real schema.
        if depth > 32 {
            return;
        }
        let Some(obj) = schema.as_object() else {
            return;
        };
        if let Some(Value::String(r)) = obj.get("$ref") {
            if let Some(target) = schemas.resolve(r) {
                self.add(schemas, target, depth + 1);
            }
        }
        if let Some(Value::Array(all)) = obj.get("allOf") {
            for s in all {
                self.add(schemas, s, depth + 1);
            }
        }
        if let Some(Value::Object(p)) = obj.get("properties") {
            self.properties.push(p);
        }
        match obj.get("additionalProperties") {
            Some(a @ Value::Object(_)) | Some(a @ Value::Bool(true)) => self.additional = Some(a),
            _ => {}
        }
        if obj.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true)) {
            self.preserve_unknown = true;
        }
        if let Some(items) = obj.get("items") {
            self.items = Some(items);
        }
    }

    fn property(&self, key: &str) -> Option<&'a Value> {
        self.properties.iter().find_map(|p| p.get(key))
    }
}

fn walk(
    schemas: &Schemas,
    schema: &Value,
    value: &Value,
    path: &str,
    top: bool,
    out: &mut Vec<String>,
) {
    let shape = Shape::of(schemas, schema);
    match value {
        Value::Object(obj) => {
            let free = shape.properties.is_empty() && shape.additional.is_none();
            if free && !shape.preserve_unknown {
                return;
            }
            for (key, v) in obj {
                let p = child(path, key);
                if let Some(s) = shape.property(key) {
                    walk(schemas, s, v, &p, false, out);
                } else if let Some(a) = shape.additional {
                    if a.is_object() {
                        walk(schemas, a, v, &p, false, out);
                    }
                } else if shape.preserve_unknown || (top && (key == "apiVersion" || key == "kind"))
                {
                    // allowed
                } else {
                    out.push(p);
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = shape.items {
                for (i, v) in items.iter().enumerate() {
                    walk(schemas, s, v, &format!("{path}[{i}]"), false, out);
                }
            }
        }
        _ => {}
    }
}

/// The paths of the keys that appear more than once in an object of the
/// JSON document `body` (`metadata.name`, `spec.ingress[0].from`); `serde_json`
/// keeps the last one silently. A document that is not JSON has none (its
/// parse error is reported elsewhere).
pub fn duplicate_fields(body: &[u8]) -> Vec<String> {
    let mut out = vec![];
    let mut de = serde_json::Deserializer::from_slice(body);
    let scan = Scan {
        path: String::new(),
        out: &mut out,
    };
    if scan.deserialize(&mut de).is_err() {
        return vec![];
    }
    out
}

/// Walks a document without building it, recording duplicate keys.
struct Scan<'a> {
    path: String,
    out: &'a mut Vec<String>,
}

impl<'de> DeserializeSeed<'de> for Scan<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Scan<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Scan { path, out } = self;
        let mut i = 0;
        loop {
            let element = Scan {
                path: format!("{path}[{i}]"),
                out: &mut *out,
            };
            if seq.next_element_seed(element)?.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Scan { path, out } = self;
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let p = child(&path, &key);
            if !seen.insert(key) {
                out.push(p.clone());
            }
            map.next_value_seed(Scan {
                path: p,
                out: &mut *out,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::openapi::test_registry::registry;

    fn validator() -> (Registry, Validator) {
        let reg = registry();
        let v = Validator::new(&reg);
        (reg, v)
    }

    fn unknown(kind: &str, object: &Value) -> Vec<String> {
        let (reg, v) = validator();
        let api_version = object["apiVersion"].as_str().unwrap();
        let r = reg.by_kind(api_version, kind).unwrap();
        v.unknown_fields(r, object)
    }

    fn network_policy() -> Value {
        json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {
                "name": "allow-web",
                "namespace": "default",
                "uid": "6d4bd1d6-3c1a-4d7a-9a55-0e0f2a9d2b6a",
                "resourceVersion": "42",
                "generation": 1,
                "creationTimestamp": null,
                "labels": {"app.kubernetes.io/name": "web", "tier": "frontend"},
                "annotations": {
                    "kubectl.kubernetes.io/last-applied-configuration": "{\"apiVersion\":\"networking.k8s.io/v1\"}\n"
                },
                "managedFields": [{
                    "manager": "kubectl-client-side-apply",
                    "operation": "Update",
                    "apiVersion": "networking.k8s.io/v1",
                    "time": "2025-01-01T00:00:00Z",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}}}, "f:spec": {"f:ingress": {}}}
                }]
            },
            "spec": {
                "podSelector": {
                    "matchLabels": {"app": "web"},
                    "matchExpressions": [{"key": "tier", "operator": "In", "values": ["frontend"]}]
                },
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{
                    "from": [
                        {"podSelector": {"matchLabels": {"role": "client"}}},
                        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "prod"}}, "podSelector": {}},
                        {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}
                    ],
                    "ports": [
                        {"protocol": "TCP", "port": 80},
                        {"protocol": "TCP", "port": "http", "endPort": null},
                        {"port": 30000, "endPort": 32767}
                    ]
                }],
                "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"protocol": "UDP", "port": 53}]}]
            }
        })
    }

    fn pod() -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "web-0",
                "namespace": "default",
                "generateName": "web-",
                "labels": {"app": "web"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d", "uid": "u", "controller": true, "blockOwnerDeletion": true}],
                "finalizers": ["example.com/f"],
                "creationTimestamp": "2025-01-01T00:00:00Z",
                "deletionTimestamp": null
            },
            "spec": {
                "containers": [{
                    "name": "web",
                    "image": "nginx:1.27",
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["nginx"],
                    "args": ["-g", "daemon off;"],
                    "ports": [{"containerPort": 80, "name": "http", "protocol": "TCP"}],
                    "env": [
                        {"name": "A", "value": "1"},
                        {"name": "B", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name", "apiVersion": "v1"}}}
                    ],
                    "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": 0.1}},
                    "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 5},
                    "livenessProbe": {"tcpSocket": {"port": 80}},
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                    "securityContext": {"runAsNonRoot": true, "capabilities": {"drop": ["ALL"]}},
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File"
                }],
                "volumes": [{"name": "data", "emptyDir": {}}, {"name": "cfg", "configMap": {"name": "cfg", "items": [{"key": "k", "path": "p"}]}}],
                "nodeSelector": {"kubernetes.io/os": "linux"},
                "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}],
                "restartPolicy": "Always",
                "dnsPolicy": "ClusterFirst",
                "serviceAccountName": "default",
                "nodeName": "node-1",
                "hostNetwork": false,
                "terminationGracePeriodSeconds": 30,
                "schedulerName": "default-scheduler",
                "securityContext": {},
                "enableServiceLinks": true,
                "preemptionPolicy": "PreemptLowerPriority",
                "priority": 0
            },
            "status": {
                "phase": "Running",
                "podIP": "10.244.0.5",
                "podIPs": [{"ip": "10.244.0.5"}],
                "hostIP": "172.18.0.2",
                "startTime": "2025-01-01T00:00:01Z",
                "qosClass": "Burstable",
                "conditions": [{"type": "Ready", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2025-01-01T00:00:02Z"}],
                "containerStatuses": [{
                    "name": "web", "ready": true, "restartCount": 0, "started": true,
                    "image": "nginx:1.27", "imageID": "docker.io/library/nginx@sha256:0", "containerID": "containerd://0",
                    "state": {"running": {"startedAt": "2025-01-01T00:00:02Z"}},
                    "lastState": {}
                }]
            }
        })
    }

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "creationTimestamp": null, "labels": {"app": "web"},
                "annotations": {"deployment.kubernetes.io/revision": "1"}},
            "spec": {
                "replicas": 3,
                "revisionHistoryLimit": 10,
                "progressDeadlineSeconds": 600,
                "selector": {"matchLabels": {"app": "web"}},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
                "template": {
                    "metadata": {"creationTimestamp": null, "labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx", "resources": {}}]}
                }
            },
            "status": {
                "observedGeneration": 1, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3,
                "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "ok",
                    "lastUpdateTime": "2025-01-01T00:00:00Z", "lastTransitionTime": "2025-01-01T00:00:00Z"}]
            }
        })
    }

    fn service() -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": "default", "creationTimestamp": null},
            "spec": {
                "type": "NodePort",
                "selector": {"app": "web"},
                "clusterIP": "10.96.0.10",
                "clusterIPs": ["10.96.0.10"],
                "ipFamilies": ["IPv4"],
                "ipFamilyPolicy": "SingleStack",
                "sessionAffinity": "None",
                "externalTrafficPolicy": "Cluster",
                "internalTrafficPolicy": "Cluster",
                "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP", "nodePort": 30080},
                          {"name": "https", "port": 443, "targetPort": 8443}]
            },
            "status": {"loadBalancer": {}}
        })
    }

    #[test]
    fn realistic_objects_pass() {
        assert_eq!(
            unknown("NetworkPolicy", &network_policy()),
            Vec::<String>::new()
        );
        assert_eq!(unknown("Pod", &pod()), Vec::<String>::new());
        assert_eq!(unknown("Deployment", &deployment()), Vec::<String>::new());
        assert_eq!(unknown("Service", &service()), Vec::<String>::new());
        let ns = json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "prod", "labels": {"kubernetes.io/metadata.name": "prod"}},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}});
        assert_eq!(unknown("Namespace", &ns), Vec::<String>::new());
    }

    #[test]
    fn unknown_at_the_top() {
        let mut np = network_policy();
        np["specs"] = json!({});
        assert_eq!(unknown("NetworkPolicy", &np), ["specs"]);
    }

    #[test]
    fn unknown_in_spec() {
        let mut np = network_policy();
        np["spec"]["podSelectr"] = json!({});
        assert_eq!(unknown("NetworkPolicy", &np), ["spec.podSelectr"]);
    }

    #[test]
    fn unknown_inside_list_elements() {
        let mut np = network_policy();
        np["spec"]["ingress"][0]["form"] = json!([]);
        np["spec"]["ingress"][0]["from"][1]["podSelectr"] = json!({});
        np["spec"]["egress"][0]["ports"][0]["proto"] = json!("UDP");
        assert_eq!(
            unknown("NetworkPolicy", &np),
            [
                "spec.egress[0].ports[0].proto",
                "spec.ingress[0].form",
                "spec.ingress[0].from[1].podSelectr"
            ]
        );
        let mut p = pod();
        p["spec"]["containers"][0]["ports"][0]["containerport"] = json!(8080);
        assert_eq!(
            unknown("Pod", &p),
            ["spec.containers[0].ports[0].containerport"]
        );
    }

    #[test]
    fn unknown_in_metadata_and_nested_templates() {
        let mut np = network_policy();
        np["metadata"]["labelz"] = json!({"a": "b"});
        assert_eq!(unknown("NetworkPolicy", &np), ["metadata.labelz"]);
        let mut d = deployment();
        d["spec"]["template"]["metadata"]["lables"] = json!({});
        d["spec"]["template"]["spec"]["containers"][0]["imagePolicy"] = json!("Always");
        assert_eq!(
            unknown("Deployment", &d),
            [
                "spec.template.metadata.lables",
                "spec.template.spec.containers[0].imagePolicy"
            ]
        );
    }

    #[test]
    fn map_keys_are_free() {
        let mut np = network_policy();
        np["metadata"]["labels"]["anything.example.com/goes"] = json!("yes");
        np["metadata"]["annotations"]["podSelectr"] = json!("x");
        np["spec"]["podSelector"]["matchLabels"]["spec"] = json!("x");
        assert_eq!(unknown("NetworkPolicy", &np), Vec::<String>::new());
        // A map's values are checked against its value schema.
        let mut p = pod();
        p["spec"]["containers"][0]["resources"]["limits"]["example.com/gpu"] = json!(1);
        assert_eq!(unknown("Pod", &p), Vec::<String>::new());
    }

    #[test]
    fn int_or_string_and_null_values() {
        let mut np = network_policy();
        np["spec"]["ingress"][0]["ports"][0]["port"] = json!("web");
        np["spec"]["ingress"][0]["ports"][1]["port"] = json!(8080);
        np["spec"]["podSelector"] = Value::Null;
        assert_eq!(unknown("NetworkPolicy", &np), Vec::<String>::new());
        // An unknown field whose value is null is still unknown.
        np["spec"]["podSelectr"] = Value::Null;
        assert_eq!(unknown("NetworkPolicy", &np), ["spec.podSelectr"]);
    }

    #[test]
    fn preserve_unknown_fields() {
        let schemas = validator().1.schemas().clone();
        let schema = json!({
            "type": "object",
            "properties": {
                "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                         "properties": {"known": {"type": "object", "properties": {"a": {"type": "string"}}}}},
                "data": {"type": "object", "additionalProperties": true}
            }
        });
        let object = json!({"apiVersion": "v1", "kind": "X",
            "spec": {"anything": {"deep": 1}, "known": {"a": "x", "b": "y"}},
            "data": {"k": {"z": 1}}, "extra": 1});
        assert_eq!(
            unknown_fields(&schemas, &schema, &object),
            ["extra", "spec.known.b"]
        );
    }

    #[test]
    fn duplicates() {
        assert_eq!(duplicate_fields(br#"{"a":1,"b":2}"#), Vec::<String>::new());
        assert_eq!(duplicate_fields(br#"{"a":1,"a":2}"#), ["a"]);
        let body = br#"{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy",
            "metadata":{"name":"a","name":"b"},
            "spec":{"ingress":[{"from":[]},{"from":[],"ports":[],"from":[{"podSelector":{}}]}]}}"#;
        assert_eq!(
            duplicate_fields(body),
            ["metadata.name", "spec.ingress[1].from"]
        );
        // Not JSON: nothing (the parse error is reported elsewhere).
        assert_eq!(duplicate_fields(b"{\"a\":1,\"a\""), Vec::<String>::new());
        // Same key in sibling objects is not a duplicate.
        assert_eq!(
            duplicate_fields(br#"[{"a":1},{"a":2}]"#),
            Vec::<String>::new()
        );
    }

    #[test]
    fn strict_message() {
        let (reg, v) = validator();
        let r = reg
            .by_kind("networking.k8s.io/v1", "NetworkPolicy")
            .unwrap();
        let body = br#"{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy",
            "metadata":{"name":"a"},"spec":{"podSelectr":{}}}"#;
        let object: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(
            v.check(r, body, &object, FieldValidation::Strict),
            Err("NetworkPolicy in version \"v1\" cannot be handled as a NetworkPolicy: strict decoding error: unknown field \"spec.podSelectr\"".to_string())
        );
        let body = br#"{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy",
            "metadata":{"name":"a","name":"a"},"spec":{"podSelectr":{},"ingres":[]}}"#;
        let object: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(
            v.check(r, body, &object, FieldValidation::Strict),
            Err("NetworkPolicy in version \"v1\" cannot be handled as a NetworkPolicy: strict decoding error: duplicate field \"metadata.name\", unknown field \"spec.ingres\", unknown field \"spec.podSelectr\"".to_string())
        );
        assert_eq!(
            v.check(r, body, &object, FieldValidation::Warn),
            Ok(vec![
                "duplicate field \"metadata.name\"".to_string(),
                "unknown field \"spec.ingres\"".to_string(),
                "unknown field \"spec.podSelectr\"".to_string(),
            ])
        );
        assert_eq!(
            v.check(r, body, &object, FieldValidation::Ignore),
            Ok(vec![])
        );
        let good = serde_json::to_vec(&network_policy()).unwrap();
        assert_eq!(
            v.check(r, &good, &network_policy(), FieldValidation::Strict),
            Ok(vec![])
        );
    }

    #[test]
    fn field_validation_parameter() {
        assert_eq!(FieldValidation::parse(None), Ok(FieldValidation::Warn));
        assert_eq!(
            FieldValidation::parse(Some("Strict")),
            Ok(FieldValidation::Strict)
        );
        assert_eq!(
            FieldValidation::parse(Some("Ignore")),
            Ok(FieldValidation::Ignore)
        );
        assert_eq!(
            FieldValidation::parse(Some("Warn")),
            Ok(FieldValidation::Warn)
        );
        assert!(FieldValidation::parse(Some("strict")).is_err());
    }

    /// A CRD-like registration: its own schema function, preserved fields.
    #[test]
    fn custom_resource() {
        fn crontab(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
            schemars::json_schema!({
                "type": "object",
                "properties": {
                    "apiVersion": {"type": "string"},
                    "kind": {"type": "string"},
                    "metadata": {"type": "object"},
                    "spec": {
                        "type": "object",
                        "properties": {
                            "cronSpec": {"type": "string"},
                            "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                        }
                    }
                }
            })
        }
        let mut reg = Registry::new();
        reg.register(crate::openapi::test_registry::resource(
            "stable.example.com",
            "v1",
            "CronTab",
            "crontabs",
            "crontab",
            true,
            crontab,
        ));
        let v = Validator::new(&reg);
        assert!(v.schemas().get("com.example.stable.v1.CronTab").is_some());
        let r = &reg.resources()[0];
        let object = json!({"apiVersion": "stable.example.com/v1", "kind": "CronTab",
            "metadata": {"name": "a", "whatever": 1},
            "spec": {"cronSpec": "* * * * */5", "extra": {"a": {"b": 1}}, "image": "x"}});
        assert_eq!(v.unknown_fields(r, &object), ["spec.image"]);
        let api = crate::openapi::OpenApi::with_schemas(&reg, v.schemas());
        assert!(api.document("apis/stable.example.com/v1").is_some());
    }

    /// The validator and the OpenAPI documents read one schema source.
    #[test]
    fn one_schema_source() {
        let (reg, v) = validator();
        let api = crate::openapi::OpenApi::with_schemas(&reg, v.schemas());
        let (bytes, _) = api.document("apis/networking.k8s.io/v1").unwrap();
        let doc: Value = serde_json::from_slice(bytes).unwrap();
        assert_eq!(
            &doc["components"]["schemas"]["io.k8s.api.networking.v1.NetworkPolicy"],
            v.schemas()
                .kind_schema("networking.k8s.io", "v1", "NetworkPolicy")
                .unwrap()
        );
        assert_eq!(
            api.document("api/v1").unwrap().1,
            crate::openapi::OpenApi::new(&reg)
                .document("api/v1")
                .unwrap()
                .1
        );
    }
}
