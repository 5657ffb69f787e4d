//! The lab's persistent state: what `palisade lab` commands have created.
//!
//! The lab's controller (`controller.rs`) holds it in memory and is its
//! only writer; it persists it after every change to a JSON file under
//! `/run/palisade/lab/NAME` (tmpfs: gone after a reboot, like the
//! namespaces it describes), replaced atomically, so read-only commands
//! (`lab get`, `logs`, `events`, `dashboard`) and a restarted controller
//! read a whole state without a lock.

use std::collections::BTreeMap;
use std::fs;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use palisade_model::{
    Cluster, ContainerPort, Labels, Namespace, NetworkPolicy, Pod, PodId, Protocol,
};
use serde::{Deserialize, Serialize};

/// Where every lab keeps its state; one directory per lab name.
pub const STATE_ROOT: &str = "/run/palisade/lab";
/// Pod addresses handed out by `lab run` (the conformance world brings its own).
const POD_NET: Ipv4Addr = Ipv4Addr::new(10, 244, 1, 10);
/// The node name the lab's own pods carry (the compile scope is this node).
pub const LAB_NODE: &str = "lab";
/// The state file, in the lab's directory.
pub const STATE_FILE: &str = "state.json";

/// A pod of the lab: a network namespace with a process in it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LabPod {
    pub namespace: String,
    pub name: String,
    pub labels: Labels,
    pub ip: IpAddr,
    pub ports: Vec<ContainerPort>,
    pub command: Vec<String>,
    pub pid: Option<i32>,
    /// A pod of cluster STATE only (`lab import`): compiled into the ruleset
    /// like any other, but it has no network namespace and no process.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub state_only: bool,
    /// The node the pod runs on; `None` is the lab's node. Only the lab
    /// node's pods are subjects of its ruleset (node-local compile scope);
    /// pods of other nodes are peers only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

impl LabPod {
    /// A pod of the model as lab state, with no process yet; `node` `None`
    /// is the lab's node.
    pub fn from_model(p: &palisade_model::Pod, state_only: bool, node: Option<String>) -> Self {
        LabPod {
            namespace: p.namespace.clone(),
            name: p.name.clone(),
            labels: p.labels.clone(),
            ip: p.ips[0],
            ports: p.ports.clone(),
            command: vec![],
            pid: None,
            state_only,
            node,
        }
    }

    /// The pod as the model sees it (the lab's node when `node` is `None`).
    pub fn to_model(&self) -> Pod {
        let mut pod = Pod::new(
            &self.namespace,
            &self.name,
            self.labels.clone(),
            Some(self.ip),
        );
        pod.ports = self.ports.clone();
        pod.node_name = Some(self.node_name().to_string());
        pod
    }

    /// The node the pod runs on.
    pub fn node_name(&self) -> &str {
        self.node.as_deref().unwrap_or(LAB_NODE)
    }

    /// True when the pod has a network namespace (made by `lab run`).
    pub fn is_real(&self) -> bool {
        !self.state_only
    }
}

/// A Service: a cluster IP DNATed to the pods its selector matches.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LabService {
    pub namespace: String,
    pub name: String,
    pub cluster_ip: IpAddr,
    /// `(port, target port, protocol)`.
    pub ports: Vec<(u16, u16, Protocol)>,
    pub selector: Labels,
}

/// Everything a lab holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LabState {
    pub name: String,
    pub namespaces: BTreeMap<String, Labels>,
    pub pods: BTreeMap<PodId, LabPod>,
    pub services: BTreeMap<PodId, LabService>,
    pub policies: BTreeMap<PodId, NetworkPolicy>,
    next_pod: u32,
}

impl LabState {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    pub fn dir(name: &str) -> PathBuf {
        Path::new(STATE_ROOT).join(name)
    }

    /// Creates the lab's state directory and its `logs/`, owner-only
    /// (0700) whatever the umask (also when an older palisade made it
    /// with other modes); `/run/palisade` and `/run/palisade/lab` are made
    /// 0755, never writable by others. Returns the directory.
    pub fn create_dir(name: &str) -> Result<PathBuf> {
        create_private_dir(&Self::dir(name))
    }

    /// The next free pod address of the lab's pod network.
    pub fn allocate_pod_ip(&mut self) -> IpAddr {
        let used: std::collections::HashSet<IpAddr> = self.pods.values().map(|p| p.ip).collect();
        loop {
            let ip = IpAddr::V4(Ipv4Addr::from(u32::from(POD_NET) + self.next_pod));
            self.next_pod += 1;
            if !used.contains(&ip) {
                return ip;
            }
        }
    }

    /// The cluster the policies are evaluated and compiled against.
    pub fn to_cluster(&self) -> Cluster {
        let mut c = Cluster::new();
        for (name, labels) in &self.namespaces {
            c.upsert_namespace(Namespace::new(name, labels.clone()));
        }
        for p in self.pods.values() {
            c.upsert_pod(p.to_model());
        }
        self.policies
            .values()
            .for_each(|p| c.upsert_policy(p.clone()));
        c
    }

    /// The pods a service's selector matches, in name order.
    pub fn endpoints(&self, svc: &LabService) -> Vec<&LabPod> {
        let sel = palisade_model::LabelSelector::new(
            svc.selector
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            vec![],
        )
        .expect("service selectors come from valid labels");
        self.pods
            .values()
            .filter(|p| p.namespace == svc.namespace && sel.matches(&p.labels))
            .collect()
    }
}

impl LabState {
    /// Reads the state of lab `name` (no lock: it is replaced atomically).
    pub fn read(name: &str) -> Result<LabState> {
        let path = Self::dir(name).join(STATE_FILE);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                bail!("lab {name:?} is not up (start it with: palisade lab up)")
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        serde_json::from_slice(&bytes).with_context(|| format!("reading {}", path.display()))
    }

    /// Writes the state atomically (temp file + rename), creating the lab's
    /// directory if needed.
    pub fn write(&self) -> Result<()> {
        let dir = Self::create_dir(&self.name)?;
        let path = dir.join(STATE_FILE);
        palisade_apiserver::tls::write_private(&path, &serde_json::to_vec(self)?)
            .context("saving the lab state")
    }

    /// Where a pod's output goes.
    pub fn log_path(name: &str, id: &PodId) -> PathBuf {
        Self::dir(name)
            .join("logs")
            .join(format!("{}_{}.log", id.namespace, id.name))
    }
}

/// `dir` and `dir/logs` made 0700, their missing parents 0755.
pub fn create_private_dir(dir: &Path) -> Result<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let made = |p: &Path| format!("creating {}", p.display());
    if let Some(parent) = dir.parent() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(parent)
            .with_context(|| made(parent))?;
    }
    for d in [dir.to_path_buf(), dir.join("logs")] {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&d)
            .with_context(|| made(&d))?;
        fs::set_permissions(&d, fs::Permissions::from_mode(0o700)).with_context(|| made(&d))?;
    }
    Ok(dir.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_builds_a_cluster() {
        let mut s = LabState::new("t");
        s.namespaces.insert("ns-1".into(), Labels::new());
        let ip = s.allocate_pod_ip();
        let pod = LabPod {
            namespace: "ns-1".into(),
            name: "web".into(),
            labels: Labels::from([("app", "web")]),
            ip,
            ports: vec![],
            command: vec!["sleep".into()],
            pid: Some(1),
            state_only: false,
            node: None,
        };
        s.pods.insert(PodId::new(&pod.namespace, &pod.name), pod);
        let json = serde_json::to_string(&s).unwrap();
        let back: LabState = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        let c = back.to_cluster();
        assert_eq!(
            c.namespace_labels("ns-1")
                .get("kubernetes.io/metadata.name"),
            Some("ns-1")
        );
        assert_eq!(c.pods().count(), 1);
        assert_ne!(s.allocate_pod_ip(), ip);
    }
}
