//! The lab's node, as a kubelet, a CNI plugin and palisade's agent in one:
//! it follows the API's changes and makes them real. A Pod becomes a
//! network namespace with an address and its container's process; a
//! Service becomes DNAT to its ready pods and a name in every pod's hosts
//! file; Namespaces, labels and NetworkPolicies become the node's ruleset.
//! It writes back what it did (a pod's address, phase, conditions, its
//! container's state and exit code).
//!
//! Changes are taken in batches (whatever is queued), applied to the
//! resident [`Lab`] and committed once (one reconcile, one kernel
//! transaction); then the batch's `resourceVersion` is announced as
//! realized, which answers the writes waiting for it (a policy is in force
//! when `kubectl create` returns). A pod's process is started only after
//! the ruleset that isolates it is in the kernel.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use palisade_apimachinery::status::Result as ApiResult;
use palisade_apimachinery::store::{Event, EventType, Kind};
use palisade_apimachinery::time;
use palisade_apiserver::session::{AttachOptions, Attachable, Session, Spec};
use palisade_apiserver::streams::Ended;
use palisade_apiserver::Api;
use palisade_lab::process::{self, ProcessSpec};
use palisade_lab::Node;
use palisade_model::{ContainerPort, Labels, PodId, Protocol};
use serde_json::{json, Value};

use super::images;
use super::kapi::{self, LabApi};
use super::resident::{Lab, Touch};
use super::state::{LabPod, LabService, LabState, LAB_NODE};

/// Marks a pod of cluster state only (`lab import`): no namespace, no process.
pub const STATE_ONLY: &str = "palisade.dev/state-only";

/// How often pods' processes are checked for having exited.
const CHECK_EVERY: Duration = Duration::from_millis(500);

/// How often the node looks for drift, unless `PALISADE_LAB_DRIFT_CHECK`
/// (seconds; `0` turns it off) says otherwise. A look is cheap: the node
/// asks the kernel for its nf_tables generation (one netlink round trip;
/// the kernel bumps it on every committed change in the node's namespace)
/// and compares it with the generation after its own last update, and
/// compares the pods' hosts files with what it wrote. Only when the
/// generation moved (someone else changed nftables in the node) does it
/// read the tables back and repair them (seconds at 10,000 pods), so drift
/// is repaired within this period plus one read-back at any scale.
pub const DRIFT_CHECK_EVERY: Duration = Duration::from_secs(2);

/// The drift check period: `PALISADE_LAB_DRIFT_CHECK` seconds (fractions
/// allowed; `0` turns the check off), else [`DRIFT_CHECK_EVERY`].
fn drift_check_every() -> Option<Duration> {
    let Some(v) = std::env::var_os("PALISADE_LAB_DRIFT_CHECK") else {
        return Some(DRIFT_CHECK_EVERY);
    };
    match v.to_str().and_then(|s| s.trim().parse::<f64>().ok()) {
        Some(0.0) => None,
        Some(s) if s.is_finite() && s > 0.0 => Some(Duration::from_secs_f64(s)),
        _ => {
            eprintln!(
                "realizer: PALISADE_LAB_DRIFT_CHECK={v:?} is not a number of seconds: checking every {DRIFT_CHECK_EVERY:?}"
            );
            Some(DRIFT_CHECK_EVERY)
        }
    }
}

/// What the realizer is asked to do.
#[derive(Debug)]
pub enum Msg {
    Event(Arc<Event>),
    /// Events were lost (the realizer fell behind): compare everything.
    Resync,
    /// Read the node's table back and repair drift; the reply says how it went.
    ReadBack(Sender<Result<(), String>>),
}

/// The processes of the lab's pods: shared with the API server's `log`,
/// `exec` and `attach` (`pods.rs`).
#[derive(Debug)]
pub struct Procs {
    pub lab: String,
    pub node: Node,
    /// Pods started with stdin or a TTY (`kubectl run -i --tty`).
    pub attachables: Mutex<BTreeMap<PodId, Arc<Attachable>>>,
    /// The other pods' processes.
    pub pids: Mutex<BTreeMap<PodId, u32>>,
    pub palisade: PathBuf,
    pub busybox: Option<PathBuf>,
}

impl Procs {
    /// The working directory of a pod's processes (`wget -O file` writes there).
    pub fn pod_dir(&self, id: &PodId) -> PathBuf {
        LabState::dir(&self.lab)
            .join("pods")
            .join(format!("{}_{}", id.namespace, id.name))
    }
}

struct Kinds {
    namespaces: Kind,
    pods: Kind,
    services: Kind,
    policies: Kind,
}

/// The realizer's state: the resident lab and what it needs of the API.
pub struct Realizer {
    lab: Lab,
    api: Arc<Api>,
    procs: Arc<Procs>,
    runtime: tokio::runtime::Handle,
    realized: tokio::sync::watch::Sender<u64>,
    kinds: Kinds,
    /// Pods whose process is to be started after this batch's commit.
    start: Vec<PodId>,
    /// Exit codes seen, per pod (for pods that are not restarted).
    exited: BTreeMap<PodId, i32>,
    /// The node's nf_tables generation after its own last update.
    generation: Option<u32>,
    /// Every change, written before it is announced realized.
    journal: Arc<kapi::Journal>,
    /// A Service changed in this batch (its DNAT and hosts files are
    /// rewritten at the commit).
    services_changed: bool,
    /// Asks the saver thread to write `objects.json` (off the batch's path:
    /// at 10,000 pods it is megabytes of JSON).
    save: Sender<()>,
}

/// How long the saver waits for more changes before it writes.
const SAVE_DELAY: Duration = Duration::from_millis(250);

/// Saves the API's objects whenever asked, coalescing requests that come
/// while it writes.
fn saver(lab: String, api: Arc<Api>, journal: Arc<kapi::Journal>) -> Sender<()> {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        while rx.recv().is_ok() {
            // A burst of changes (an import, a rollout) is one save.
            std::thread::sleep(SAVE_DELAY);
            while rx.try_recv().is_ok() {}
            let saved = kapi::save_objects(&lab, &api).and_then(|rv| journal.compact(rv));
            if let Err(e) = saved {
                eprintln!("realizer: {e:#}");
            }
        }
    });
    tx
}

fn kinds(api: &Api) -> Kinds {
    let k = |g, p| api.kind(g, "v1", p).expect("a built-in kind");
    Kinds {
        namespaces: k("", "namespaces"),
        pods: k("", "pods"),
        services: k("", "services"),
        policies: k("networking.k8s.io", "networkpolicies"),
    }
}

fn ports_of(pod: &Value) -> Vec<ContainerPort> {
    pod.pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|c| c["ports"].as_array().into_iter().flatten())
        .filter_map(|p| {
            let port = u16::try_from(p["containerPort"].as_u64()?).ok()?;
            let protocol: Protocol = p["protocol"].as_str().unwrap_or("TCP").parse().ok()?;
            Some(ContainerPort {
                name: p["name"].as_str().map(str::to_string),
                port: palisade_model::port_number(i64::from(port)).ok()?,
                protocol,
            })
        })
        .collect()
}

fn pod_id(e: &Event) -> PodId {
    PodId::new(&e.key.namespace, &e.key.name)
}

impl Realizer {
    pub fn new(lab: Lab, lab_api: &LabApi, procs: Arc<Procs>) -> Realizer {
        let journal = Arc::new(
            kapi::Journal::open(&procs.lab).expect("the lab's state directory is writable"),
        );
        let save = saver(procs.lab.clone(), lab_api.api.clone(), journal.clone());
        Realizer {
            kinds: kinds(&lab_api.api),
            lab,
            api: lab_api.api.clone(),
            procs,
            runtime: lab_api.runtime.handle().clone(),
            realized: lab_api.realized.clone(),
            start: vec![],
            exited: BTreeMap::new(),
            save,
            journal,
            generation: None,
            services_changed: false,
        }
    }

    /// Runs until the channel closes.
    pub fn run(mut self, rx: Receiver<Msg>) {
        // What the API holds when the controller starts: bring the node in line.
        if let Err(e) = self.resync() {
            eprintln!("realizer: bringing the node in line with the API: {e:#}");
        }
        self.note_generation();
        let every = drift_check_every();
        let mut last_check = Instant::now();
        loop {
            let first = match rx.recv_timeout(CHECK_EVERY) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            };
            let mut batch: Vec<Msg> = first.into_iter().collect();
            batch.extend(rx.try_iter());
            if let Err(e) = self.batch(batch) {
                eprintln!("realizer: {e:#}");
            }
            self.check_processes();
            if let Some(every) = every {
                if last_check.elapsed() >= every {
                    self.look_for_drift(every);
                    last_check = Instant::now();
                }
            }
        }
    }

    /// The node's nf_tables generation now (`None`: unknown).
    fn generation(&self) -> Option<u32> {
        palisade_nft::netlink::generation(Some(&self.lab.node.netns())).ok()
    }

    /// Remembers the generation after the node's own update.
    fn note_generation(&mut self) {
        self.generation = self.generation();
    }

    /// The cheap look: a full read-back only when nftables changed in the
    /// node since the node's own last update; hosts files every time.
    fn look_for_drift(&mut self, every: Duration) {
        let now = self.generation();
        if now.is_none() || now != self.generation {
            self.check_drift(every);
            self.note_generation();
            return;
        }
        match super::services::repair_hosts(&self.lab.node, &self.lab.state) {
            Ok(pods) if !pods.is_empty() => eprintln!(
                "realizer: drift check: hosts files rewritten: {}",
                pods.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Ok(_) => {}
            Err(e) => eprintln!("realizer: drift check: {e:#}"),
        }
    }

    /// Reads the node back and repairs drift (`Lab::check_drift`), logging
    /// each drift repaired and what the read-back cost.
    fn check_drift(&mut self, every: Duration) {
        let t = Instant::now();
        let repaired = self.lab.check_drift();
        match repaired {
            Ok(repaired) => repaired
                .iter()
                .for_each(|what| eprintln!("realizer: drift check: {what}")),
            Err(e) => eprintln!("realizer: drift check: {e:#}"),
        }
        eprintln!(
            "realizer: drift check (every {every:?}): nftables changed in the node: read back in {:.1} ms for {} pods",
            super::out::ms(t.elapsed()),
            self.lab.state.pods.len(),
        );
    }

    fn batch(&mut self, msgs: Vec<Msg>) -> Result<()> {
        if msgs.is_empty() {
            return Ok(());
        }
        let mut top = 0;
        let mut replies = vec![];
        let mut resync = false;
        let mut events = vec![];
        for m in msgs {
            match m {
                Msg::Event(e) => {
                    top = top.max(e.rv);
                    events.push(e.clone());
                    if let Err(err) = self.apply(&e) {
                        eprintln!(
                            "realizer: {} {}/{}: {err:#}",
                            e.ty.as_str(),
                            e.key.namespace,
                            e.key.name
                        );
                    }
                }
                Msg::Resync => resync = true,
                Msg::ReadBack(reply) => replies.push(reply),
            }
        }
        let committed =
            resync || !replies.is_empty() || self.lab.pending() || self.services_changed;
        let result = if resync {
            self.resync()
        } else if !replies.is_empty() {
            self.lab.repair()
        } else if self.lab.pending() || std::mem::take(&mut self.services_changed) {
            // On error the kernel keeps what it holds; the next commit diffs
            // against it (or reads it back).
            self.lab.commit()
        } else {
            // Nothing the node realizes changed (a status, a Deployment).
            Ok(())
        };
        if resync || committed {
            self.note_generation();
        }
        for r in replies {
            let _ = r.send(result.as_ref().map(|_| ()).map_err(|e| format!("{e:#}")));
        }
        if let Err(e) = &result {
            eprintln!("realizer: ERROR programming the node: {e:#}");
        }
        self.start_pods();
        // Nothing is announced (answered) before it is written down.
        let written = if resync {
            kapi::save_objects(&self.lab.state.name, &self.api)
                .and_then(|rv| self.journal.compact(rv))
        } else {
            self.journal.append(&self.api, &events)
        };
        if let Err(e) = written {
            eprintln!("realizer: {e:#}");
        }
        self.announce(top);
        let _ = self.save.send(());
        result
    }

    fn announce(&self, rv: u64) {
        let rv = rv.max(*self.realized.borrow());
        self.realized.send_replace(rv);
    }

    /// Applies one change to the lab's state (no kernel change yet).
    fn apply(&mut self, e: &Event) -> Result<()> {
        let k = &self.kinds;
        if e.key.kind == k.namespaces {
            self.namespace(e);
        } else if e.key.kind == k.pods {
            self.pod(e)?;
        } else if e.key.kind == k.services {
            self.service(e)?;
        } else if e.key.kind == k.policies {
            self.policy(e);
        }
        Ok(())
    }

    fn namespace(&mut self, e: &Event) {
        let name = e.key.name.clone();
        if e.ty == EventType::Deleted {
            if self.lab.state().namespaces.remove(&name).is_some() {
                self.lab.touch(Touch::Namespace(name));
            }
            return;
        }
        let mut labels = kapi::labels_of(&e.object);
        labels.remove(palisade_model::METADATA_NAME_LABEL);
        if self.lab.state().namespaces.get(&name) != Some(&labels) {
            self.lab.state().namespaces.insert(name.clone(), labels);
            self.lab.touch(Touch::Namespace(name));
        }
    }

    fn pod(&mut self, e: &Event) -> Result<()> {
        let id = pod_id(e);
        if e.ty == EventType::Deleted {
            self.procs
                .attachables
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&id);
            self.procs
                .pids
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&id);
            self.exited.remove(&id);
            if self.lab.state().pods.contains_key(&id) {
                super::pods::remove(&mut self.lab, &id)?;
                let _ = std::fs::remove_dir_all(self.procs.pod_dir(&id));
            }
            return Ok(());
        }
        let obj = &e.object;
        let labels = kapi::labels_of(obj);
        let ports = ports_of(obj);
        if let Some(p) = self.lab.state().pods.get_mut(&id) {
            if p.labels != labels || p.ports != ports {
                p.labels = labels;
                p.ports = ports;
                self.lab.touch(Touch::Pod(id));
            }
            return Ok(());
        }
        let node = obj
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .unwrap_or(LAB_NODE);
        let state_only = obj.pointer(&format!(
            "/metadata/annotations/{}",
            STATE_ONLY.replace('/', "~1")
        )) == Some(&json!("true"));
        if state_only {
            let Some(ip) = obj
                .pointer("/status/podIP")
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<IpAddr>().ok())
            else {
                anyhow::bail!("a state-only pod needs status.podIP");
            };
            let pod = LabPod {
                namespace: id.namespace.clone(),
                name: id.name.clone(),
                labels,
                ip,
                ports,
                command: vec![],
                pid: None,
                state_only: true,
                node: (node != LAB_NODE).then(|| node.to_string()),
            };
            self.lab.state().pods.insert(id.clone(), pod);
            self.lab.touch(Touch::Pod(id));
            return Ok(());
        }
        if node != LAB_NODE {
            // Not for this node: nothing runs it.
            return Ok(());
        }
        if matches!(
            obj.pointer("/status/phase").and_then(Value::as_str),
            Some("Succeeded" | "Failed")
        ) {
            return Ok(());
        }
        let ip = self.lab.state().allocate_pod_ip();
        self.lab
            .node
            .add_pod(&id.to_string(), &[ip])
            .context("creating the pod's network")?;
        let pod = LabPod {
            namespace: id.namespace.clone(),
            name: id.name.clone(),
            labels,
            ip,
            ports,
            command: vec![],
            pid: None,
            state_only: false,
            node: None,
        };
        self.lab.state().pods.insert(id.clone(), pod);
        self.lab.touch(Touch::Pod(id.clone()));
        self.start.push(id);
        Ok(())
    }

    fn service(&mut self, e: &Event) -> Result<()> {
        self.services_changed = true;
        let id = PodId::new(&e.key.namespace, &e.key.name);
        if e.ty == EventType::Deleted {
            if self.lab.state().services.contains_key(&id) {
                super::services::remove(&mut self.lab, &id)?;
            }
            return Ok(());
        }
        let o = &e.object;
        let Some(selector) = o.pointer("/spec/selector").and_then(Value::as_object) else {
            self.lab.state().services.remove(&id);
            return Ok(());
        };
        let Some(cluster_ip) = o
            .pointer("/spec/clusterIP")
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
        else {
            return Ok(());
        };
        let mut sel = Labels::new();
        for (k, v) in selector {
            // A selector that is no valid label set selects nothing here.
            if sel.insert(k, v.as_str().unwrap_or("")).is_err() {
                return Ok(());
            }
        }
        let ports = o
            .pointer("/spec/ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| {
                let port = u16::try_from(p["port"].as_u64()?).ok()?;
                let target = p["targetPort"]
                    .as_u64()
                    .and_then(|t| u16::try_from(t).ok())
                    .unwrap_or(port);
                let proto: Protocol = p["protocol"].as_str().unwrap_or("TCP").parse().ok()?;
                Some((port, target, proto))
            })
            .collect();
        let svc = LabService {
            namespace: id.namespace.clone(),
            name: id.name.clone(),
            cluster_ip,
            ports,
            selector: sel,
        };
        if self.lab.state().services.get(&id) != Some(&svc) {
            if let Some(old) = self.lab.state().services.get(&id).cloned() {
                if old.ports != svc.ports {
                    super::services::remove(&mut self.lab, &id)?;
                }
            }
            self.lab.state().services.insert(id, svc);
        }
        Ok(())
    }

    fn policy(&mut self, e: &Event) {
        let id = PodId::new(&e.key.namespace, &e.key.name);
        if e.ty == EventType::Deleted {
            if self.lab.state().policies.remove(&id).is_some() {
                self.lab.touch(Touch::Policy(id));
            }
            return;
        }
        match kapi::policy_of(&e.object) {
            Ok(p) => {
                if self.lab.state().policies.get(&id) != Some(&p) {
                    self.lab.state().policies.insert(id.clone(), p);
                    self.lab.touch(Touch::Policy(id));
                }
            }
            // Admission validated it; an object restored from an older
            // palisade may not pass: the last valid version stays.
            Err(causes) => eprintln!("realizer: network policy {id} left as it was: {causes:?}"),
        }
    }

    /// Brings the state in line with every object the API holds (start,
    /// a lost event).
    fn resync(&mut self) -> Result<()> {
        let k = &self.kinds;
        let (nss, _) = self.api.list(k.namespaces, None);
        let (pods, _) = self.api.list(k.pods, None);
        let (svcs, _) = self.api.list(k.services, None);
        let (pols, rv) = self.api.list(k.policies, None);
        let wanted_pods: std::collections::BTreeSet<PodId> =
            pods.iter().map(|o| id_of(o)).collect();
        // Gone from the API: gone from the node.
        let stale: Vec<PodId> = self
            .lab
            .state()
            .pods
            .keys()
            .filter(|id| !wanted_pods.contains(id))
            .cloned()
            .collect();
        for id in stale {
            super::pods::remove(&mut self.lab, &id)?;
        }
        let svc_keys: std::collections::BTreeSet<PodId> = svcs.iter().map(|o| id_of(o)).collect();
        let stale: Vec<PodId> = self
            .lab
            .state()
            .services
            .keys()
            .filter(|id| !svc_keys.contains(id))
            .cloned()
            .collect();
        for id in stale {
            super::services::remove(&mut self.lab, &id)?;
        }
        let pol_keys: std::collections::BTreeSet<PodId> = pols.iter().map(|o| id_of(o)).collect();
        self.lab
            .state()
            .policies
            .retain(|id, _| pol_keys.contains(id));
        let ns_keys: std::collections::BTreeSet<String> = nss
            .iter()
            .map(|o| o["metadata"]["name"].as_str().unwrap_or("").to_string())
            .collect();
        self.lab
            .state()
            .namespaces
            .retain(|n, _| ns_keys.contains(n));
        self.lab.touch(Touch::All);
        let synthetic = |kind, o: &Arc<Value>| {
            let ns = o["metadata"]["namespace"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let name = o["metadata"]["name"].as_str().unwrap_or("").to_string();
            Event {
                ty: EventType::Added,
                key: palisade_apimachinery::store::ObjectKey {
                    kind,
                    namespace: ns,
                    name,
                },
                object: o.clone(),
                rv,
            }
        };
        for (kind, items) in [
            (k.namespaces, &nss),
            (k.pods, &pods),
            (k.services, &svcs),
            (k.policies, &pols),
        ] {
            for o in items.iter() {
                let e = synthetic(kind, o);
                // A pod already running (a restarted controller) keeps its
                // namespace and process.
                if kind == self.kinds.pods && self.lab.state().pods.contains_key(&pod_id(&e)) {
                    let _ = self.pod(&e);
                    continue;
                }
                if let Err(err) = self.apply(&e) {
                    eprintln!("realizer: {}/{}: {err:#}", e.key.namespace, e.key.name);
                }
            }
        }
        let r = self.lab.repair();
        self.start_pods();
        self.announce(rv);
        r
    }

    /// Starts the processes of the pods made real in this batch and
    /// reports them running.
    fn start_pods(&mut self) {
        if self.start.is_empty() {
            return;
        }
        for id in std::mem::take(&mut self.start) {
            let status = match self.start_pod(&id) {
                Ok(()) => self.running_status(&id, 0),
                Err(why) => waiting_status(&why),
            };
            self.write_status(&id, status);
        }
        if let Err(e) = self.lab.save() {
            eprintln!("realizer: saving the lab's state: {e:#}");
        }
    }

    fn start_pod(&mut self, id: &PodId) -> Result<(), String> {
        let obj = self
            .api
            .get(self.kinds.pods, &id.namespace, &id.name)
            .map_err(|e| e.to_string())?;
        let container = obj
            .pointer("/spec/containers/0")
            .cloned()
            .unwrap_or(json!({}));
        let run = images::resolve(
            &container,
            &self.procs.palisade,
            self.procs.busybox.as_deref(),
        )
        .map_err(|e| e.0)?;
        let dir = self.procs.pod_dir(id);
        std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o700)
            .create(&dir)
            .map_err(|e| e.to_string())?;
        let dir = container["workingDir"]
            .as_str()
            .map(PathBuf::from)
            .unwrap_or(dir);
        let netns = self.lab.node.pod_netns(&id.to_string());
        let log = self.lab.log_path(id);
        let interactive = container["stdin"] == json!(true) || container["tty"] == json!(true);
        let pid = if interactive {
            let mut spec = Spec::new(palisade_lab::locate("ip"))
                .args(["netns", "exec", &netns])
                .args(run.argv.clone())
                .current_dir(&dir);
            for (k, v) in &run.env {
                spec = spec.env(k, v);
            }
            let _guard = self.runtime.enter();
            let session = if container["tty"] == json!(true) {
                Session::spawn_pty(&spec, None)
            } else {
                Session::spawn_pipes(&spec)
            }
            .map_err(|e| format!("starting {:?}: {e}", run.argv.join(" ")))?;
            let options = AttachOptions {
                stdin_once: container["stdinOnce"] == json!(true),
            };
            let a = Attachable::start(session, &log, options).map_err(|e| e.to_string())?;
            self.procs
                .attachables
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(id.clone(), Arc::new(a));
            None
        } else {
            let spec = ProcessSpec {
                netns,
                program: run.argv[0].clone(),
                args: run.argv[1..].to_vec(),
                env: run.env.clone(),
                log,
                cwd: Some(dir),
            };
            let h = process::spawn(&spec)
                .map_err(|e| format!("starting {:?}: {e}", run.argv.join(" ")))?;
            self.lab
                .children
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(h.pid);
            self.procs
                .pids
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(id.clone(), h.pid);
            Some(h.pid as i32)
        };
        if let Some(p) = self.lab.state().pods.get_mut(id) {
            p.command = run.argv;
            p.pid = pid;
        }
        Ok(())
    }

    fn running_status(&mut self, id: &PodId, restarts: u32) -> Value {
        let ip = self
            .lab
            .state()
            .pods
            .get(id)
            .map(|p| p.ip.to_string())
            .unwrap_or_default();
        let now = time::rfc3339(time::now());
        let cond = |t: &str| json!({"type": t, "status": "True", "lastProbeTime": null, "lastTransitionTime": now});
        json!({
            "phase": "Running",
            "podIP": ip, "podIPs": [{"ip": ip}],
            "hostIP": "169.254.1.1", "hostIPs": [{"ip": "169.254.1.1"}],
            "startTime": now, "qosClass": "BestEffort",
            "conditions": [cond("PodReadyToStartContainers"), cond("Initialized"), cond("Ready"), cond("ContainersReady"), cond("PodScheduled")],
            "containerStatuses": [{"ready": true, "started": true, "restartCount": restarts,
                                   "state": {"running": {"startedAt": now}}}],
        })
    }

    /// Fills the container status's name and image from the pod and writes it.
    fn write_status(&self, id: &PodId, mut status: Value) {
        let r = self
            .api
            .modify(self.kinds.pods, &id.namespace, &id.name, false, |o| {
                let mut o = o.clone();
                if let Some(cs) = status["containerStatuses"].get_mut(0) {
                    let c = o
                        .pointer("/spec/containers/0")
                        .cloned()
                        .unwrap_or(json!({}));
                    cs["name"] = c["name"].clone();
                    cs["image"] = c["image"].clone();
                    cs["imageID"] = json!("");
                    cs["containerID"] =
                        json!(format!("palisade-lab://{}/{}", id.namespace, id.name));
                }
                if status.get("startTime").is_some() && o.pointer("/status/startTime").is_some() {
                    status["startTime"] = o["status"]["startTime"].clone();
                }
                o["status"] = std::mem::take(&mut status);
                Ok(o)
            });
        if let Err(e) = r {
            if e.code != 404 {
                eprintln!("realizer: status of pod {id}: {e}");
            }
        }
    }

    /// Pods whose process ended: restarted (`restartPolicy: Always`) or
    /// reported Succeeded / Failed with the exit code.
    fn check_processes(&mut self) {
        let mut ended: Vec<(PodId, Option<i32>)> = vec![];
        {
            let attachables = self
                .procs
                .attachables
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            for (id, a) in attachables.iter() {
                if let Some(code) = *a.exit_watch().borrow() {
                    if !self.exited.contains_key(id) {
                        ended.push((id.clone(), Some(code)));
                    }
                }
            }
        }
        for (id, p) in &self.lab.state.pods {
            if let Some(pid) = p.pid {
                if !self.exited.contains_key(id) && !process::is_alive(pid as u32) {
                    ended.push((id.clone(), process::exit_code(pid as u32)));
                }
            }
        }
        for (id, code) in ended {
            let Ok(obj) = self.api.get(self.kinds.pods, &id.namespace, &id.name) else {
                continue;
            };
            let policy = obj
                .pointer("/spec/restartPolicy")
                .and_then(Value::as_str)
                .unwrap_or("Always");
            let code_or = code.unwrap_or(0);
            let restart = policy == "Always" || (policy == "OnFailure" && code_or != 0);
            let restarts = obj
                .pointer("/status/containerStatuses/0/restartCount")
                .and_then(Value::as_u64)
                .unwrap_or(0) as u32;
            if restart && restarts < 1000 {
                self.procs
                    .attachables
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&id);
                let status = match self.start_pod(&id) {
                    Ok(()) => self.running_status(&id, restarts + 1),
                    Err(why) => waiting_status(&why),
                };
                self.write_status(&id, status);
                let _ = self.lab.save();
                continue;
            }
            self.exited.insert(id.clone(), code_or);
            if let Some(p) = self.lab.state().pods.get_mut(&id) {
                p.pid = None;
            }
            let _ = self.lab.save();
            let now = time::rfc3339(time::now());
            let phase = if code_or == 0 { "Succeeded" } else { "Failed" };
            let reason = if code_or == 0 { "Completed" } else { "Error" };
            let started = obj
                .pointer("/status/containerStatuses/0/state/running/startedAt")
                .cloned()
                .unwrap_or(json!(now));
            let mut status = (*obj).get("status").cloned().unwrap_or(json!({}));
            status["phase"] = json!(phase);
            for c in status["conditions"].as_array_mut().into_iter().flatten() {
                if c["type"] == "Ready" || c["type"] == "ContainersReady" {
                    c["status"] = json!("False");
                    c["reason"] = json!("PodCompleted");
                }
            }
            status["containerStatuses"] = json!([{"ready": false, "started": false, "restartCount": restarts,
                "state": {"terminated": {"exitCode": code_or, "reason": reason, "startedAt": started, "finishedAt": now}}}]);
            self.write_status(&id, status);
        }
    }
}

/// A pod whose container could not start.
fn waiting_status(why: &str) -> Value {
    json!({
        "phase": "Pending",
        "conditions": [{"type": "PodScheduled", "status": "True"},
                       {"type": "Ready", "status": "False", "reason": "ContainersNotReady"}],
        "containerStatuses": [{"ready": false, "started": false, "restartCount": 0,
            "state": {"waiting": {"reason": "NoDefaultCommand", "message": why}}}],
    })
}

/// Forwards the API's changes to the realizer (a lag becomes a resync).
pub fn forward(api: &Api, runtime: &tokio::runtime::Handle, tx: Sender<Msg>) {
    let mut sub = api.subscribe();
    runtime.spawn(async move {
        loop {
            let msg = match sub.recv().await {
                Ok(e) => Msg::Event(e),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => Msg::Resync,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            };
            if tx.send(msg).is_err() {
                return;
            }
        }
    });
}

fn id_of(pod: &Value) -> PodId {
    PodId::new(
        pod["metadata"]["namespace"].as_str().unwrap_or(""),
        pod["metadata"]["name"].as_str().unwrap_or(""),
    )
}

impl palisade_apiserver::Pods for Procs {
    fn log(&self, pod: &Value, _container: &str) -> ApiResult<(PathBuf, Ended)> {
        let id = id_of(pod);
        let path = LabState::log_path(&self.lab, &id);
        if let Some(a) = self.attachable(&id) {
            let mut exit = a.exit_watch();
            return Ok((
                path,
                Box::pin(async move {
                    let _ = exit.wait_for(Option::is_some).await;
                }),
            ));
        }
        let pid = self
            .pids
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .copied();
        Ok((
            path,
            Box::pin(async move {
                while pid.is_some_and(process::is_alive) {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }),
        ))
    }

    fn exec(
        &self,
        pod: &Value,
        _container: &str,
        command: &[String],
        tty: bool,
    ) -> ApiResult<Session> {
        let id = id_of(pod);
        let container = pod
            .pointer("/spec/containers/0")
            .cloned()
            .unwrap_or(json!({}));
        let env = images::resolve(&container, &self.palisade, self.busybox.as_deref())
            .map(|r| r.env)
            .unwrap_or_default();
        let dir = container["workingDir"]
            .as_str()
            .map(PathBuf::from)
            .unwrap_or_else(|| self.pod_dir(&id));
        let mut spec = Spec::new(palisade_lab::locate("ip"))
            .args([
                "netns".to_string(),
                "exec".into(),
                self.node.pod_netns(&id.to_string()),
            ])
            .args(command.to_vec())
            .current_dir(dir);
        for (k, v) in env {
            spec = spec.env(k, v);
        }
        let started = if tty {
            Session::spawn_pty(&spec, None)
        } else {
            Session::spawn_pipes(&spec)
        };
        started.map_err(|e| {
            palisade_apimachinery::Status::internal(format!(
                "starting {:?} in pod {id}: {e}",
                command.join(" ")
            ))
        })
    }

    fn attach(
        &self,
        pod: &Value,
        _container: &str,
        stdin: bool,
    ) -> ApiResult<palisade_apiserver::session::Attachment> {
        let id = id_of(pod);
        self.attachable(&id).map(|a| a.attach(stdin)).ok_or_else(|| {
            palisade_apimachinery::Status::bad_request(format!(
                "pod {id}: its container was not started with stdin or a TTY (stdin: true / tty: true): there is nothing to attach to; use logs -f"
            ))
        })
    }
}

impl Procs {
    fn attachable(&self, id: &PodId) -> Option<Arc<Attachable>> {
        self.attachables
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }
}
