//! The lab's Kubernetes API: the one source of truth of the lab.
//!
//! The controller runs `palisade-apiserver` on a loopback port over TLS,
//! with a bearer token; `kubeconfig` in the lab's state directory (0600)
//! carries the server's address, its certificate authority and the token.
//! Every writer goes through it: kubectl and kube-rs over HTTPS, the
//! `palisade lab` verbs in process (`ops.rs`). The objects it holds are
//! what the node realizes (`realize.rs`) and are saved to `objects.json`,
//! so a restarted controller serves the same cluster.
//!
//! Admission here is the lab's part of the API server: pods are scheduled
//! on the lab's node, Services get a cluster IP, and a NetworkPolicy is
//! validated by palisade's policy core (422 Invalid with the field path),
//! so an object palisade cannot enforce is never stored.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use palisade_apimachinery::status::{self, Cause};
use palisade_apimachinery::store::{ObjectKey, Store};
use palisade_apimachinery::{Registry, Resource, Status};
use palisade_apiserver::tls::{self, Credentials};
use palisade_apiserver::{Admission, Api, Operation, Pods, Server};
use serde_json::{json, Value};

use super::state::{LabState, LAB_NODE};

/// Files in the lab's state directory.
pub const KUBECONFIG: &str = "kubeconfig";
const CREDENTIALS: &str = "apiserver.json";
const OBJECTS: &str = "objects.json";
/// The changes since `objects.json` was written, one JSON line each.
const JOURNAL: &str = "objects.journal";
const ADDRESS: &str = "apiserver.address";

/// Service cluster IPs: 10.96.0.10 and up (10.96.0.0/16).
const SERVICE_BASE: Ipv4Addr = Ipv4Addr::new(10, 96, 0, 10);

pub fn kubeconfig_path(lab: &str) -> PathBuf {
    LabState::dir(lab).join(KUBECONFIG)
}

/// The lab's running API server.
pub struct LabApi {
    pub api: Arc<Api>,
    pub runtime: tokio::runtime::Runtime,
    /// The highest resourceVersion the node has realized.
    pub realized: tokio::sync::watch::Sender<u64>,
    pub address: String,
}

impl std::fmt::Debug for LabApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabApi")
            .field("address", &self.address)
            .finish()
    }
}

/// Starts the API server of lab `lab`: credentials (made on first start),
/// the objects saved by the last run, a loopback port (the last one when
/// free), the kubeconfig.
pub fn start(lab: &str, pods: Arc<dyn Pods>) -> Result<LabApi> {
    let dir = LabState::dir(lab);
    let creds_path = dir.join(CREDENTIALS);
    let creds = match Credentials::load(&creds_path) {
        Ok(c) => c,
        Err(_) => {
            let c = Credentials::generate(lab)?;
            c.save(&creds_path)?;
            c
        }
    };
    let registry = palisade_apiserver::kinds::builtin();
    let mut store = Store::default();
    load_objects(&registry, &mut store, &dir.join(OBJECTS))?;
    replay_journal(&registry, &mut store, &dir.join(JOURNAL))?;
    let api = Api::new(registry, Box::new(LabAdmission), store);
    ensure_node(&api);
    ensure_namespaces(&api);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("apiserver")
        .enable_all()
        .build()
        .context("starting the API server's runtime")?;
    let previous: Option<SocketAddr> = std::fs::read_to_string(dir.join(ADDRESS))
        .ok()
        .and_then(|s| s.trim().parse().ok());
    let listener = runtime.block_on(async {
        match previous {
            Some(a) => match tokio::net::TcpListener::bind(a).await {
                Ok(l) => Ok(l),
                Err(_) => tokio::net::TcpListener::bind("127.0.0.1:0").await,
            },
            None => tokio::net::TcpListener::bind("127.0.0.1:0").await,
        }
    })?;
    let address = listener.local_addr()?.to_string();
    tls::write_private(&dir.join(ADDRESS), address.as_bytes())?;
    let (realized, realized_rx) = tokio::sync::watch::channel(0u64);
    let mut server = Server::new(api.clone(), creds.token.clone(), address.clone());
    server.pods = Some(pods);
    server.realized = Some(realized_rx);
    let tls_config = creds.server_config()?;
    runtime.spawn(palisade_apiserver::serve(
        listener,
        tls_config,
        Arc::new(server),
    ));
    tls::write_private(
        &dir.join(KUBECONFIG),
        creds
            .kubeconfig(&address, &format!("palisade-lab-{lab}"))
            .as_bytes(),
    )?;
    Ok(LabApi {
        api,
        runtime,
        realized,
        address,
    })
}

/// The namespaces every cluster has (`kubectl run` without `-n` uses
/// `default`).
fn ensure_namespaces(api: &Api) {
    let Some(kind) = api.kind("", "v1", "namespaces") else {
        return;
    };
    for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        if api.get(kind, "", name).is_err() {
            if let Err(e) = api.create(kind, "", json!({"metadata": {"name": name}}), false) {
                eprintln!("apiserver: creating namespace {name}: {e}");
            }
        }
    }
}

/// The lab's node as an object (`kubectl get nodes`).
fn ensure_node(api: &Api) {
    let Some(kind) = api.kind("", "v1", "nodes") else {
        return;
    };
    if api.get(kind, "", LAB_NODE).is_ok() {
        return;
    }
    let node = json!({
        "metadata": {"name": LAB_NODE, "labels": {"kubernetes.io/hostname": LAB_NODE, "kubernetes.io/os": "linux"}},
        "spec": {"podCIDR": "10.244.1.0/24"},
        "status": {
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "the lab's node is up"}],
            "addresses": [{"type": "InternalIP", "address": "169.254.1.1"}, {"type": "Hostname", "address": LAB_NODE}],
            "nodeInfo": {"kubeletVersion": "v1.32.0-palisade-lab", "operatingSystem": "linux", "architecture": std::env::consts::ARCH,
                         "containerRuntimeVersion": "palisade-lab://netns", "kernelVersion": "", "osImage": "", "kubeProxyVersion": "",
                         "machineID": "", "systemUUID": "", "bootID": ""},
        },
    });
    if let Err(e) = api.create(kind, "", node, false) {
        eprintln!("apiserver: registering the lab's node: {e}");
    }
}

/// One saved object.
#[derive(serde::Serialize)]
struct Saved<'a> {
    #[serde(rename = "apiVersion")]
    api_version: String,
    plural: &'a str,
    object: &'a Value,
}

/// Saves every object (replaced atomically). The store's lock is held only
/// to take the objects (shared, not copied).
pub fn save_objects(lab: &str, api: &Api) -> Result<u64> {
    let (objects, revision) = {
        let store = api.store();
        let objects: Vec<(usize, Arc<Value>)> =
            store.objects().map(|(k, o)| (k.kind, o.clone())).collect();
        (objects, store.revision())
    };
    let saved: Vec<Saved> = objects
        .iter()
        .map(|(kind, o)| {
            let r = api.resource(*kind);
            Saved {
                api_version: r.api_version(),
                plural: r.plural,
                object: o,
            }
        })
        .collect();
    let path = LabState::dir(lab).join(OBJECTS);
    let text = serde_json::to_vec(&json!({"revision": revision, "objects": saved}))?;
    tls::write_private(&path, &text).context("saving the lab's API objects")?;
    Ok(revision)
}

/// The API's changes, written before the node announces them realized
/// (so before any writer is answered): a restarted controller replays
/// them over `objects.json`, and nothing that was answered is lost. The
/// saver thread writes `objects.json` and then drops the lines it holds.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: std::sync::Mutex<std::fs::File>,
}

/// One journal line.
#[derive(serde::Serialize, serde::Deserialize)]
struct Line<'a> {
    rv: u64,
    #[serde(rename = "apiVersion")]
    api_version: String,
    plural: String,
    namespace: String,
    name: String,
    /// `None`: deleted.
    #[serde(borrow)]
    object: Option<std::borrow::Cow<'a, serde_json::value::RawValue>>,
}

fn open_append(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

impl Journal {
    pub fn open(lab: &str) -> Result<Journal> {
        let path = LabState::dir(lab).join(JOURNAL);
        let file = open_append(&path).with_context(|| format!("opening {}", path.display()))?;
        Ok(Journal {
            path,
            file: std::sync::Mutex::new(file),
        })
    }

    /// Appends `events` (one write).
    pub fn append(
        &self,
        api: &Api,
        events: &[Arc<palisade_apimachinery::store::Event>],
    ) -> Result<()> {
        use std::io::Write;
        let mut text = Vec::new();
        for e in events {
            let r = api.resource(e.key.kind);
            let raw = match e.ty {
                palisade_apimachinery::store::EventType::Deleted => None,
                _ => Some(std::borrow::Cow::Owned(serde_json::value::to_raw_value(
                    &*e.object,
                )?)),
            };
            let line = Line {
                rv: e.rv,
                api_version: r.api_version(),
                plural: r.plural.to_string(),
                namespace: e.key.namespace.clone(),
                name: e.key.name.clone(),
                object: raw,
            };
            serde_json::to_writer(&mut text, &line)?;
            text.push(b'\n');
        }
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        f.write_all(&text)
            .with_context(|| format!("writing {}", self.path.display()))
    }

    /// Drops the lines of revisions up to `upto` (saved in `objects.json`).
    pub fn compact(&self, upto: u64) -> Result<()> {
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let text = std::fs::read_to_string(&self.path).unwrap_or_default();
        let kept: String = text
            .lines()
            .filter(|l| serde_json::from_str::<Line>(l).is_ok_and(|line| line.rv > upto))
            .map(|l| format!("{l}\n"))
            .collect();
        tls::write_private(&self.path, kept.as_bytes())?;
        *f = open_append(&self.path)?;
        Ok(())
    }
}

/// Replays the journal's lines after the snapshot's revision.
fn replay_journal(registry: &Registry, store: &mut Store, path: &std::path::Path) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(());
    };
    let snapshot = store.revision();
    for l in text.lines() {
        // A line cut short by a crash is the last one: it was never answered.
        let Ok(line) = serde_json::from_str::<Line>(l) else {
            break;
        };
        if line.rv <= snapshot {
            continue;
        }
        let Some(kind) = registry
            .resources()
            .iter()
            .position(|r| r.api_version() == line.api_version && r.plural == line.plural)
        else {
            continue;
        };
        let obj = match &line.object {
            Some(raw) => Some(serde_json::from_str(raw.get())?),
            None => None,
        };
        let key = ObjectKey {
            kind,
            namespace: line.namespace.clone(),
            name: line.name.clone(),
        };
        store.replay(key, obj, line.rv);
    }
    Ok(())
}

/// Writes the objects a lab starts with (before its controller starts):
/// `(plural, object)`, stamped (uid, resourceVersion) when loaded.
pub fn seed(lab: &str, objects: &[(&str, Value)]) -> Result<()> {
    let registry = palisade_apiserver::kinds::builtin();
    let objects: Vec<Value> = objects
        .iter()
        .filter_map(|(plural, o)| {
            let r = registry.resources().iter().find(|r| r.plural == *plural)?;
            Some(json!({"apiVersion": r.api_version(), "plural": plural, "object": o}))
        })
        .collect();
    let path = LabState::dir(lab).join(OBJECTS);
    LabState::create_dir(lab)?;
    tls::write_private(
        &path,
        &serde_json::to_vec(&json!({"revision": 0, "objects": objects}))?,
    )
    .context("writing the lab's API objects")
}

fn load_objects(registry: &Registry, store: &mut Store, path: &std::path::Path) -> Result<()> {
    let Ok(bytes) = std::fs::read(path) else {
        return Ok(());
    };
    let saved: Value =
        serde_json::from_slice(&bytes).with_context(|| format!("reading {}", path.display()))?;
    let mut objects = vec![];
    for entry in saved["objects"].as_array().into_iter().flatten() {
        let api_version = entry["apiVersion"].as_str().unwrap_or("");
        let Some(kind) = registry
            .resources()
            .iter()
            .position(|r| r.api_version() == api_version && r.plural == entry["plural"])
        else {
            continue;
        };
        let o = entry["object"].clone();
        let key = ObjectKey {
            kind,
            namespace: o["metadata"]["namespace"]
                .as_str()
                .unwrap_or("")
                .to_string(),
            name: o["metadata"]["name"].as_str().unwrap_or("").to_string(),
        };
        objects.push((key, o));
    }
    // Seeded objects (no resourceVersion yet) are created, the rest restored.
    let (seeded, saved_objects): (Vec<_>, Vec<_>) = objects
        .into_iter()
        .partition(|(_, o)| palisade_apimachinery::store::resource_version(o) == 0);
    store.restore(saved_objects, saved["revision"].as_u64().unwrap_or(0));
    let now = palisade_apimachinery::time::rfc3339(palisade_apimachinery::time::now());
    for (key, o) in seeded {
        let r = registry.resources()[key.kind];
        store
            .create(&r, key, o, &now)
            .map_err(|e| anyhow::anyhow!("loading {}: {e}", path.display()))?;
    }
    Ok(())
}

/// An object's `metadata.labels` as the model's labels (admission has
/// validated them).
pub fn labels_of(obj: &Value) -> palisade_model::Labels {
    let mut l = palisade_model::Labels::new();
    for (k, v) in obj["metadata"]["labels"].as_object().into_iter().flatten() {
        let _ = l.insert(k, v.as_str().unwrap_or(""));
    }
    l
}

/// Labels as an object's `metadata.labels`.
pub fn labels_json(labels: &palisade_model::Labels) -> Value {
    labels
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// A container port as a container's `ports[]` entry.
pub fn port_json(p: &palisade_model::ContainerPort) -> Value {
    let mut v = json!({"containerPort": p.port, "protocol": p.protocol.to_string()});
    if let Some(n) = &p.name {
        v["name"] = json!(n);
    }
    v
}

/// The lab's admission.
#[derive(Debug, Clone, Copy)]
pub struct LabAdmission;

impl Admission for LabAdmission {
    fn admit(
        &self,
        store: &Store,
        registry: &Registry,
        op: Operation,
        r: &Resource,
        obj: &mut Value,
        old: Option<&Value>,
    ) -> status::Result<()> {
        if op == Operation::Delete {
            return Ok(());
        }
        validate_labels(r, obj)?;
        match (r.group, r.kind) {
            ("", "Namespace") => {
                // As upstream: the name label, and Active until deleted.
                let name = name_of(obj).to_string();
                obj["metadata"]["labels"][palisade_model::METADATA_NAME_LABEL] = json!(name);
                if obj.pointer("/status/phase").is_none() {
                    obj["status"]["phase"] = json!("Active");
                }
                if obj.pointer("/spec/finalizers").is_none() {
                    obj["spec"]["finalizers"] = json!(["kubernetes"]);
                }
                Ok(())
            }
            ("", "Pod") => admit_pod(r, obj, old),
            ("", "Service") => admit_service(store, registry, r, obj, old),
            ("networking.k8s.io", "NetworkPolicy") => {
                default_policy_types(obj);
                validate_policy(r, obj)
            }
            ("apps", "Deployment") | ("apps", "ReplicaSet") => admit_workload(r, obj),
            _ => Ok(()),
        }
    }
}

/// `metadata.labels` must be valid label keys and values (as upstream's
/// ValidateLabels).
fn validate_labels(r: &Resource, obj: &Value) -> status::Result<()> {
    let mut labels = palisade_model::Labels::new();
    let mut causes = vec![];
    for (k, v) in obj["metadata"]["labels"].as_object().into_iter().flatten() {
        let Some(v) = v.as_str() else {
            causes.push(Cause::invalid(
                format!("metadata.labels.{k}"),
                "Invalid value: must be a string",
            ));
            continue;
        };
        if let Err(e) = labels.insert(k, v) {
            causes.push(Cause::invalid(
                "metadata.labels",
                format!("Invalid value: {v:?}: {e}"),
            ));
        }
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(Status::invalid(r, name_of(obj), causes))
    }
}

fn name_of(obj: &Value) -> &str {
    obj["metadata"]["name"].as_str().unwrap_or("")
}

fn admit_pod(r: &Resource, obj: &mut Value, old: Option<&Value>) -> status::Result<()> {
    let containers = obj
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if containers == 0 {
        return Err(Status::invalid(
            r,
            name_of(obj),
            vec![Cause {
                reason: "FieldValueRequired".into(),
                field: "spec.containers".into(),
                message: "Required value".into(),
            }],
        ));
    }
    if let Some(old) = old {
        // The node and the pod's address are the lab's to set.
        for p in ["/spec/nodeName"] {
            if obj.pointer(p).is_none() {
                if let Some(v) = old.pointer(p) {
                    obj["spec"]["nodeName"] = v.clone();
                }
            }
        }
        return Ok(());
    }
    let spec = &mut obj["spec"];
    if spec["nodeName"].as_str().unwrap_or("").is_empty() {
        spec["nodeName"] = json!(LAB_NODE);
    }
    for (field, default) in [
        ("restartPolicy", "Always"),
        ("dnsPolicy", "ClusterFirst"),
        ("schedulerName", "default-scheduler"),
    ] {
        if spec.get(field).is_none() {
            spec[field] = json!(default);
        }
    }
    if spec.get("terminationGracePeriodSeconds").is_none() {
        spec["terminationGracePeriodSeconds"] = json!(30);
    }
    for c in spec["containers"].as_array_mut().into_iter().flatten() {
        for p in c["ports"].as_array_mut().into_iter().flatten() {
            if p.get("protocol").is_none() {
                p["protocol"] = json!("TCP");
            }
        }
        if c.get("imagePullPolicy").is_none() {
            c["imagePullPolicy"] = json!("IfNotPresent");
        }
        if c.get("terminationMessagePath").is_none() {
            c["terminationMessagePath"] = json!("/dev/termination-log");
            c["terminationMessagePolicy"] = json!("File");
        }
    }
    if obj.pointer("/status/phase").is_none() {
        obj["status"]["phase"] = json!("Pending");
    }
    Ok(())
}

fn admit_workload(r: &Resource, obj: &mut Value) -> status::Result<()> {
    let spec = &mut obj["spec"];
    if spec.get("replicas").is_none() {
        spec["replicas"] = json!(1);
    }
    if r.kind == "Deployment"
        && spec
            .get("strategy")
            .is_none_or(|s| s.as_object().is_some_and(|m| m.is_empty()))
    {
        spec["strategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}});
    }
    let selector = spec
        .pointer("/selector/matchLabels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let labels = spec
        .pointer("/template/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if selector.is_empty() || selector.iter().any(|(k, v)| labels.get(k) != Some(v)) {
        let name = name_of(obj).to_string();
        return Err(Status::invalid(
            r,
            &name,
            vec![Cause::invalid(
                "spec.template.metadata.labels",
                format!(
                    "Invalid value: {}: `selector` does not match template `labels`",
                    Value::Object(labels)
                ),
            )],
        ));
    }
    Ok(())
}

fn admit_service(
    store: &Store,
    registry: &Registry,
    r: &Resource,
    obj: &mut Value,
    old: Option<&Value>,
) -> status::Result<()> {
    let name = name_of(obj).to_string();
    let spec = &mut obj["spec"];
    if spec.get("type").is_none() {
        spec["type"] = json!("ClusterIP");
    }
    for p in spec["ports"].as_array_mut().into_iter().flatten() {
        if p.get("protocol").is_none() {
            p["protocol"] = json!("TCP");
        }
        if p.get("targetPort").is_none() {
            p["targetPort"] = p["port"].clone();
        }
        let port = p["port"].as_i64().unwrap_or(0);
        if !(1..=65535).contains(&port) {
            return Err(Status::invalid(
                r,
                &name,
                vec![Cause::invalid(
                    "spec.ports[0].port",
                    format!("Invalid value: {port}: must be between 1 and 65535, inclusive"),
                )],
            ));
        }
    }
    if let Some(ip) = old.and_then(|o| o.pointer("/spec/clusterIP")).cloned() {
        obj["spec"]["clusterIP"] = ip.clone();
        obj["spec"]["clusterIPs"] = json!([ip]);
        return Ok(());
    }
    if obj
        .pointer("/spec/clusterIP")
        .and_then(Value::as_str)
        .unwrap_or("")
        .is_empty()
    {
        let ip = free_cluster_ip(store, registry);
        obj["spec"]["clusterIP"] = json!(ip.to_string());
        obj["spec"]["clusterIPs"] = json!([ip.to_string()]);
        obj["spec"]["ipFamilies"] = json!(["IPv4"]);
        obj["spec"]["ipFamilyPolicy"] = json!("SingleStack");
        obj["spec"]["sessionAffinity"] = json!("None");
        obj["spec"]["internalTrafficPolicy"] = json!("Cluster");
    }
    Ok(())
}

fn free_cluster_ip(store: &Store, registry: &Registry) -> IpAddr {
    let used: std::collections::HashSet<String> = registry
        .resources()
        .iter()
        .position(|r| r.group.is_empty() && r.plural == "services")
        .map(|k| {
            store
                .list(k, None)
                .filter_map(|(_, s)| s.pointer("/spec/clusterIP")?.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    (0u32..65_000)
        .map(|i| IpAddr::V4(Ipv4Addr::from(u32::from(SERVICE_BASE) + i)))
        .find(|ip| !used.contains(&ip.to_string()))
        .unwrap_or(IpAddr::V4(SERVICE_BASE))
}

/// `spec.policyTypes` as the API server defaults it: Ingress, and Egress
/// when the policy has egress rules.
fn default_policy_types(obj: &mut Value) {
    let spec = &mut obj["spec"];
    if spec
        .get("policyTypes")
        .is_some_and(|t| t.as_array().is_some_and(|a| !a.is_empty()))
    {
        return;
    }
    let mut types = vec![json!("Ingress")];
    if spec.get("egress").is_some_and(|e| !e.is_null()) {
        types.push(json!("Egress"));
    }
    spec["policyTypes"] = json!(types);
}

/// The policy core's validation of a NetworkPolicy, as 422 causes.
fn validate_policy(r: &Resource, obj: &Value) -> status::Result<()> {
    policy_of(obj)
        .map(|_| ())
        .map_err(|causes| Status::invalid(r, name_of(obj), causes))
}

/// A NetworkPolicy object as palisade's model, or the causes it is invalid.
pub fn policy_of(obj: &Value) -> Result<palisade_model::NetworkPolicy, Vec<Cause>> {
    let text = serde_json::to_string(obj).unwrap_or_default();
    let loaded = palisade_manifest::parse_str("<api>", &text);
    let causes: Vec<Cause> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            Cause::invalid(
                if d.field.is_empty() {
                    "<object>".into()
                } else {
                    d.field.clone()
                },
                d.message.clone(),
            )
        })
        .collect();
    if !causes.is_empty() {
        return Err(causes);
    }
    loaded
        .objects
        .into_iter()
        .find_map(|o| match o {
            palisade_manifest::Object::NetworkPolicy(p) => Some(p),
            _ => None,
        })
        .ok_or_else(|| vec![Cause::invalid("<object>", "not a NetworkPolicy")])
}
