//! The built-in kinds the lab serves, one registration each (names,
//! scope, short names, subresources, schema, table columns and cells as
//! upstream's printers compute them). A CRD-backed kind is one more
//! [`Resource`] in [`builtin`]'s registry.

use k8s_openapi::api::{apps, core, discovery, networking};
use palisade_apimachinery::resource::{Registry, Resource, Subresource};
use palisade_apimachinery::table::{
    self, age_cell, label_map, name_cell, text_at, Column, AGE, NAME,
};
use schemars::JsonSchema;
use serde_json::{json, Value};

const fn col(name: &'static str, priority: u8, description: &'static str) -> Column {
    Column {
        name,
        kind: "string",
        format: "",
        description,
        priority,
    }
}

const STATUS: Subresource = Subresource {
    name: "status",
    response: ("", "v1", ""),
    verbs: &["get", "patch", "update"],
};

/// The `autoscaling/v1` Scale of a workload (`kubectl scale`).
const SCALE: Subresource = Subresource {
    name: "scale",
    response: ("autoscaling", "v1", "Scale"),
    verbs: &["get", "patch", "update"],
};

const fn status_of(group: &'static str, version: &'static str, kind: &'static str) -> Subresource {
    Subresource {
        response: (group, version, kind),
        ..STATUS
    }
}

/// Every kind the lab's API server serves.
pub fn builtin() -> Registry {
    let mut r = Registry::new();
    r.register(namespaces())
        .register(pods())
        .register(services())
        .register(endpoints())
        .register(events())
        .register(nodes())
        .register(deployments())
        .register(replica_sets())
        .register(network_policies())
        .register(endpoint_slices());
    r
}

fn namespaces() -> Resource {
    const COLS: &[Column] = &[NAME, col("Status", 0, "The status of the namespace"), AGE];
    fn cells(o: &Value, now: i64) -> Vec<Value> {
        vec![name_cell(o), text_at(o, "/status/phase"), age_cell(o, now)]
    }
    Resource {
        group: "",
        version: "v1",
        kind: "Namespace",
        plural: "namespaces",
        singular: "namespace",
        short_names: &["ns"],
        namespaced: false,
        categories: &[],
        subresources: const { &[status_of("", "v1", "Namespace")] },
        schema: core::v1::Namespace::json_schema,
        columns: COLS,
        cells,
    }
}

/// `1/1`, `Running`, restarts, as `kubectl get pods` shows them.
fn pod_cells(o: &Value, now: i64) -> Vec<Value> {
    let containers = o
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let statuses = o
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let ready = statuses
        .iter()
        .filter(|s| s["ready"] == json!(true))
        .count();
    let restarts: i64 = statuses
        .iter()
        .filter_map(|s| s["restartCount"].as_i64())
        .sum();
    let mut status = o
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("Pending")
        .to_string();
    for s in &statuses {
        if let Some(reason) = s
            .pointer("/state/terminated/reason")
            .or_else(|| s.pointer("/state/waiting/reason"))
            .and_then(Value::as_str)
        {
            status = reason.to_string();
        }
    }
    if o.pointer("/metadata/deletionTimestamp").is_some() {
        status = "Terminating".into();
    }
    vec![
        name_cell(o),
        json!(format!("{ready}/{containers}")),
        json!(status),
        json!(restarts),
        age_cell(o, now),
        text_at(o, "/status/podIP"),
        text_at(o, "/spec/nodeName"),
        json!("<none>"),
        json!("<none>"),
    ]
}

fn pods() -> Resource {
    const COLS: &[Column] = &[
        NAME,
        col(
            "Ready",
            0,
            "The aggregate readiness state of this pod for accepting traffic.",
        ),
        col(
            "Status",
            0,
            "The aggregate status of the containers in this pod.",
        ),
        Column {
            kind: "integer",
            ..col(
                "Restarts",
                0,
                "The number of times the containers in this pod have been restarted.",
            )
        },
        AGE,
        col("IP", 1, "The IP address assigned to the pod"),
        col("Node", 1, "The name of the node the pod runs on"),
        col("Nominated Node", 1, "The node the pod is nominated to"),
        col("Readiness Gates", 1, "The readiness gates of the pod"),
    ];
    Resource {
        group: "",
        version: "v1",
        kind: "Pod",
        plural: "pods",
        singular: "pod",
        short_names: &["po"],
        namespaced: true,
        categories: &["all"],
        subresources: const {
            &[
                status_of("", "v1", "Pod"),
                Subresource {
                    name: "log",
                    response: ("", "v1", "Pod"),
                    verbs: &["get"],
                },
                Subresource {
                    name: "exec",
                    response: ("", "v1", "PodExecOptions"),
                    verbs: &["create", "get"],
                },
                Subresource {
                    name: "attach",
                    response: ("", "v1", "PodAttachOptions"),
                    verbs: &["create", "get"],
                },
            ]
        },
        schema: core::v1::Pod::json_schema,
        columns: COLS,
        cells: pod_cells,
    }
}

fn service_ports(o: &Value) -> Value {
    let ports: Vec<String> = o
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .map(|p| format!("{}/{}", p["port"], p["protocol"].as_str().unwrap_or("TCP")))
                .collect()
        })
        .unwrap_or_default();
    if ports.is_empty() {
        json!("<none>")
    } else {
        json!(ports.join(","))
    }
}

fn services() -> Resource {
    const COLS: &[Column] = &[
        NAME,
        col("Type", 0, "The type of the service"),
        col("Cluster-IP", 0, "The cluster IP of the service"),
        col("External-IP", 0, "External addresses"),
        col("Port(s)", 0, "The ports of the service"),
        AGE,
        col("Selector", 1, "The pods the service selects"),
    ];
    fn cells(o: &Value, now: i64) -> Vec<Value> {
        vec![
            name_cell(o),
            text_at(o, "/spec/type"),
            text_at(o, "/spec/clusterIP"),
            json!("<none>"),
            service_ports(o),
            age_cell(o, now),
            label_map(o.pointer("/spec/selector")),
        ]
    }
    Resource {
        group: "",
        version: "v1",
        kind: "Service",
        plural: "services",
        singular: "service",
        short_names: &["svc"],
        namespaced: true,
        categories: &["all"],
        subresources: const { &[status_of("", "v1", "Service")] },
        schema: core::v1::Service::json_schema,
        columns: COLS,
        cells,
    }
}

fn endpoints() -> Resource {
    const COLS: &[Column] = &[NAME, col("Endpoints", 0, "The addresses and ports"), AGE];
    fn cells(o: &Value, now: i64) -> Vec<Value> {
        let mut eps = vec![];
        for s in o["subsets"].as_array().into_iter().flatten() {
            for a in s["addresses"].as_array().into_iter().flatten() {
                for p in s["ports"].as_array().into_iter().flatten() {
                    eps.push(format!("{}:{}", a["ip"].as_str().unwrap_or(""), p["port"]));
                }
            }
        }
        let text = if eps.is_empty() {
            "<none>".to_string()
        } else {
            eps.join(",")
        };
        vec![name_cell(o), json!(text), age_cell(o, now)]
    }
    Resource {
        group: "",
        version: "v1",
        kind: "Endpoints",
        plural: "endpoints",
        singular: "endpoints",
        short_names: &["ep"],
        namespaced: true,
        categories: &[],
        subresources: &[],
        schema: core::v1::Endpoints::json_schema,
        columns: COLS,
        cells,
    }
}

fn events() -> Resource {
    const COLS: &[Column] = &[
        col("Last Seen", 0, "When the event was last seen"),
        col("Type", 0, "Normal or Warning"),
        col("Reason", 0, "Why"),
        col("Object", 0, "What it is about"),
        col("Message", 0, "What happened"),
    ];
    fn cells(o: &Value, now: i64) -> Vec<Value> {
        let when = o
            .get("lastTimestamp")
            .or_else(|| o.pointer("/metadata/creationTimestamp"))
            .and_then(Value::as_str);
        vec![
            json!(palisade_apimachinery::time::age_of(when, now)),
            text_at(o, "/type"),
            text_at(o, "/reason"),
            json!(format!(
                "{}/{}",
                o.pointer("/involvedObject/kind")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_lowercase(),
                o.pointer("/involvedObject/name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
            )),
            text_at(o, "/message"),
        ]
    }
    Resource {
        group: "",
        version: "v1",
        kind: "Event",
        plural: "events",
        singular: "event",
        short_names: &["ev"],
        namespaced: true,
        categories: &[],
        subresources: &[],
        schema: core::v1::Event::json_schema,
        columns: COLS,
        cells,
    }
}

fn nodes() -> Resource {
    const COLS: &[Column] = &[
        NAME,
        col("Status", 0, "Ready or not"),
        col("Roles", 0, "The node's roles"),
        AGE,
        col("Version", 0, "The kubelet version"),
        col("Internal-IP", 1, "The node's address"),
    ];
    fn cells(o: &Value, now: i64) -> Vec<Value> {
        let ready = o
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Ready" && c["status"] == "True");
        let ip = o
            .pointer("/status/addresses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|a| a["type"] == "InternalIP")
            .map_or(json!("<none>"), |a| a["address"].clone());
        vec![
            name_cell(o),
            json!(if ready { "Ready" } else { "NotReady" }),
            json!("<none>"),
            age_cell(o, now),
            text_at(o, "/status/nodeInfo/kubeletVersion"),
            ip,
        ]
    }
    Resource {
        group: "",
        version: "v1",
        kind: "Node",
        plural: "nodes",
        singular: "node",
        short_names: &["no"],
        namespaced: false,
        categories: &[],
        subresources: const { &[status_of("", "v1", "Node")] },
        schema: core::v1::Node::json_schema,
        columns: COLS,
        cells,
    }
}

/// Containers, images and selector (the wide columns of workloads).
fn workload_wide(o: &Value) -> [Value; 3] {
    let containers: Vec<&Value> = o
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .map(|c| c.iter().collect())
        .unwrap_or_default();
    let join = |field: &str| {
        json!(containers
            .iter()
            .map(|c| c[field].as_str().unwrap_or(""))
            .collect::<Vec<_>>()
            .join(","))
    };
    [
        join("name"),
        join("image"),
        label_map(o.pointer("/spec/selector/matchLabels")),
    ]
}

fn int_at(o: &Value, pointer: &str) -> i64 {
    o.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn deployments() -> Resource {
    const COLS: &[Column] = &[
        NAME,
        col("Ready", 0, "Ready replicas / desired"),
        col("Up-to-date", 0, "Replicas updated to the template"),
        col("Available", 0, "Available replicas"),
        AGE,
        col("Containers", 1, "Container names"),
        col("Images", 1, "Container images"),
        col("Selector", 1, "The pods it manages"),
    ];
    fn cells(o: &Value, now: i64) -> Vec<Value> {
        let [c, i, s] = workload_wide(o);
        vec![
            name_cell(o),
            json!(format!(
                "{}/{}",
                int_at(o, "/status/readyReplicas"),
                o.pointer("/spec/replicas")
                    .and_then(Value::as_i64)
                    .unwrap_or(1)
            )),
            json!(int_at(o, "/status/updatedReplicas")),
            json!(int_at(o, "/status/availableReplicas")),
            age_cell(o, now),
            c,
            i,
            s,
        ]
    }
    Resource {
        group: "apps",
        version: "v1",
        kind: "Deployment",
        plural: "deployments",
        singular: "deployment",
        short_names: &["deploy"],
        namespaced: true,
        categories: &["all"],
        subresources: const { &[status_of("apps", "v1", "Deployment"), SCALE] },
        schema: apps::v1::Deployment::json_schema,
        columns: COLS,
        cells,
    }
}

fn replica_sets() -> Resource {
    const COLS: &[Column] = &[
        NAME,
        col("Desired", 0, "Desired replicas"),
        col("Current", 0, "Current replicas"),
        col("Ready", 0, "Ready replicas"),
        AGE,
        col("Containers", 1, "Container names"),
        col("Images", 1, "Container images"),
        col("Selector", 1, "The pods it manages"),
    ];
    fn cells(o: &Value, now: i64) -> Vec<Value> {
        let [c, i, s] = workload_wide(o);
        vec![
            name_cell(o),
            json!(o
                .pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(1)),
            json!(int_at(o, "/status/replicas")),
            json!(int_at(o, "/status/readyReplicas")),
            age_cell(o, now),
            c,
            i,
            s,
        ]
    }
    Resource {
        group: "apps",
        version: "v1",
        kind: "ReplicaSet",
        plural: "replicasets",
        singular: "replicaset",
        short_names: &["rs"],
        namespaced: true,
        categories: &["all"],
        subresources: const { &[status_of("apps", "v1", "ReplicaSet"), SCALE] },
        schema: apps::v1::ReplicaSet::json_schema,
        columns: COLS,
        cells,
    }
}

/// `app=web` or `<none>`, as upstream prints a NetworkPolicy's pod selector.
fn selector_text(sel: Option<&Value>) -> Value {
    let mut parts = vec![];
    if let Some(m) = sel
        .and_then(|s| s.get("matchLabels"))
        .and_then(Value::as_object)
    {
        parts.extend(
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or(""))),
        );
    }
    for e in sel
        .and_then(|s| s.get("matchExpressions"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = e["key"].as_str().unwrap_or("");
        let values: Vec<&str> = e["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        parts.push(match e["operator"].as_str().unwrap_or("") {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_string(),
            _ => format!("!{key}"),
        });
    }
    if parts.is_empty() {
        json!("<none>")
    } else {
        json!(parts.join(","))
    }
}

fn network_policies() -> Resource {
    const COLS: &[Column] = &[
        NAME,
        col("Pod-Selector", 0, "The pods the policy selects"),
        AGE,
    ];
    fn cells(o: &Value, now: i64) -> Vec<Value> {
        vec![
            name_cell(o),
            selector_text(o.pointer("/spec/podSelector")),
            age_cell(o, now),
        ]
    }
    Resource {
        group: "networking.k8s.io",
        version: "v1",
        kind: "NetworkPolicy",
        plural: "networkpolicies",
        singular: "networkpolicy",
        short_names: &["netpol"],
        namespaced: true,
        categories: &[],
        subresources: &[],
        schema: networking::v1::NetworkPolicy::json_schema,
        columns: COLS,
        cells,
    }
}

fn endpoint_slices() -> Resource {
    const COLS: &[Column] = &[
        NAME,
        col("AddressType", 0, "IPv4 or IPv6"),
        col("Ports", 0, "Ports"),
        col("Endpoints", 0, "Addresses"),
        AGE,
    ];
    fn cells(o: &Value, now: i64) -> Vec<Value> {
        let ports: Vec<String> = o["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| p["port"].to_string())
            .collect();
        let addrs: Vec<&str> = o["endpoints"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|e| e["addresses"].as_array().into_iter().flatten())
            .filter_map(Value::as_str)
            .collect();
        let or_none = |v: Vec<String>| {
            if v.is_empty() {
                json!("<unset>")
            } else {
                json!(v.join(","))
            }
        };
        vec![
            name_cell(o),
            text_at(o, "/addressType"),
            or_none(ports),
            or_none(addrs.iter().map(|s| s.to_string()).collect()),
            age_cell(o, now),
        ]
    }
    Resource {
        group: "discovery.k8s.io",
        version: "v1",
        kind: "EndpointSlice",
        plural: "endpointslices",
        singular: "endpointslice",
        short_names: &[],
        namespaced: true,
        categories: &[],
        subresources: &[],
        schema: discovery::v1::EndpointSlice::json_schema,
        columns: COLS,
        cells,
    }
}

/// The `Table` column set is referenced for its helpers (kept one place).
pub use table::IncludeObject;
