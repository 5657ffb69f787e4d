//! The benchmark's lab: a node, the two real pods, and cluster state.

use std::net::IpAddr;

use anyhow::{Context, Result};
use palisade_bench::world::{self, World};
use palisade_lab::Node;
use palisade_model::PodId;

use crate::lab::ops::prefix;
use crate::lab::state::{LabState, LAB_NODE};

/// A lab named `b<pid>`, torn down (by its prefix) on drop.
pub struct BenchLab {
    pub name: String,
    pub node: Node,
    pub client: (PodId, IpAddr),
    pub server: (PodId, IpAddr),
}

impl BenchLab {
    /// Creates the node and the client and server pods (no ruleset yet).
    pub fn create() -> Result<BenchLab> {
        let name = format!("b{}", std::process::id());
        let prefix = prefix(&name)?;
        let _ = palisade_lab::teardown(&prefix);
        let node = Node::create(&prefix).context("creating the bench lab's node")?;
        let mut lab = BenchLab {
            name,
            node,
            client: (PodId::new(world::NS, "client"), IpAddr::from([0, 0, 0, 0])),
            server: (PodId::new(world::NS, "server"), IpAddr::from([0, 0, 0, 0])),
        };
        let mut state = LabState::new(&lab.name);
        for (id, ip) in [&mut lab.client, &mut lab.server] {
            *ip = state.allocate_pod_ip();
            lab.node
                .add_pod(&id.to_string(), &[*ip])
                .with_context(|| format!("creating pod {id}"))?;
        }
        Ok(lab)
    }

    pub fn netns(&self, id: &PodId) -> String {
        self.node.pod_netns(&id.to_string())
    }

    /// The benchmark world with `policies` synthetic policies over `pods`
    /// pods; `scope` says which of them are on the lab's node.
    pub fn world(&self, pods: usize, policies: usize, scope: super::Scope) -> Result<World> {
        let ips = (self.client.1, self.server.1);
        world::build(pods, policies, ips, LAB_NODE, scope.world())
            .context("building the benchmark world")
    }

    /// Seeds `w` as the lab's API objects (the lab's source of truth; its
    /// node builds its state from them when the controller starts): every
    /// pod state-only (the two probe pods' namespaces were made above), on
    /// its node. The state file starts empty.
    pub fn save_state(&self, w: &World) -> Result<()> {
        LabState::new(&self.name).write()?;
        let batch = crate::lab::import::Batch {
            namespaces: w.cluster.namespaces().cloned().collect(),
            pods: w.cluster.pods().cloned().collect(),
            policies: w.cluster.policies().cloned().collect(),
        };
        let objects = crate::lab::import::api_objects(&batch, false)?;
        crate::lab::kapi::seed(&self.name, &objects)
    }
}

impl Drop for BenchLab {
    fn drop(&mut self) {
        let _ = crate::lab::controller::stop(&self.name);
        if let Ok(prefix) = prefix(&self.name) {
            let _ = palisade_lab::teardown(&prefix);
        }
        let _ = std::fs::remove_dir_all(LabState::dir(&self.name));
    }
}

/// One line saying where and when the numbers were taken.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split(':').nth(1))
        })
        .map(str::trim)
        .unwrap_or("unknown CPU");
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let date = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!(
        "palisade bench: {date}, {cores} cores ({model}), Linux {}",
        kernel.trim()
    )
}
