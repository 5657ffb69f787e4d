//! `conformance --lab`: the conformance cases on real packets.
//!
//! Every pod of a case is a network namespace on a lab node with a server
//! on its ports (TCP and UDP; SCTP is observed with raw sockets), the
//! policies are compiled and programmed through the same reconcile core as
//! `palisade lab`, and every cell is a real connection attempt. A probe that
//! is blocked is probed again with no policy in force: it must then get
//! through, so a denial always comes from palisade's ruleset, never from a
//! closed port or a broken lab.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use palisade_compile::LocalPods;
use palisade_conformance::{Backend, Probe};
use palisade_eval::Endpoint;
use palisade_lab::process::{self, ProcessHandle, ProcessSpec};
use palisade_lab::{probe_many, Node, Outcome, ProbeSpec};
use palisade_model::{Cluster, Pod, PodId, Protocol};
use palisade_nft::Nft;
use palisade_reconcile::Reconciler;

use super::lab_protocol;
use crate::cmd::render::TABLE;

const LAB: &str = "conformance";
const TIMEOUT: Duration = Duration::from_millis(400);
const BASE_PORTS: [u16; 2] = [80, 81];

/// What the lab runs for one pod: its addresses and its server.
struct LabPod {
    ips: Vec<IpAddr>,
    server: ProcessHandle,
}

/// Real packets in network namespaces.
pub struct LabBackend {
    node: Node,
    exe: PathBuf,
    logs: PathBuf,
    pods: BTreeMap<PodId, LabPod>,
    external: BTreeSet<IpAddr>,
    external_server: Option<(ProcessHandle, BTreeSet<u16>)>,
    /// Probes sent, and how many were re-checked with no policy in force.
    pub stats: (usize, usize),
}

impl std::fmt::Debug for LabBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabBackend")
            .field("node", &self.node.netns())
            .finish()
    }
}

fn ports_csv(ports: &BTreeSet<u16>) -> String {
    ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

impl LabBackend {
    /// A fresh lab node (leftovers of an earlier run are removed first).
    pub fn new() -> anyhow::Result<Self> {
        super::require_root()?;
        let prefix = super::ops::prefix(LAB)?;
        palisade_lab::teardown(&prefix)?;
        let node = Node::create(&prefix)?;
        let logs = super::state::LabState::create_dir(LAB)?.join("logs");
        let exe = std::env::current_exe()?;
        Ok(Self {
            node,
            exe,
            logs,
            pods: BTreeMap::new(),
            external: BTreeSet::new(),
            external_server: None,
            stats: (0, 0),
        })
    }

    /// Removes everything the backend made.
    pub fn destroy(self) -> anyhow::Result<()> {
        self.node.destroy()?;
        let _ = std::fs::remove_dir_all(super::state::LabState::dir(LAB));
        Ok(())
    }

    fn spawn_server(
        &self,
        netns: String,
        log: &str,
        tcp: &BTreeSet<u16>,
        udp: &BTreeSet<u16>,
    ) -> Result<ProcessHandle, String> {
        let args = vec![
            "serve".into(),
            "--tcp".into(),
            ports_csv(tcp),
            "--udp".into(),
            ports_csv(udp),
        ];
        let spec = ProcessSpec {
            cwd: None,
            netns,
            program: self.exe.display().to_string(),
            args,
            env: vec![],
            log: self.logs.join(log),
        };
        process::spawn(&spec).map_err(|e| format!("starting a server: {e}"))
    }

    /// The pod's server ports: 80 and 81, plus every container port it declares.
    fn pod_ports(pod: &Pod, proto: Protocol) -> BTreeSet<u16> {
        let declared = pod
            .ports
            .iter()
            .filter(|c| c.protocol == proto)
            .map(|c| c.port);
        BTreeSet::from(BASE_PORTS)
            .into_iter()
            .chain(declared)
            .collect()
    }

    fn add_pod(&mut self, pod: &Pod) -> Result<(), String> {
        let key = pod.id().to_string();
        self.node
            .add_pod(&key, &pod.ips)
            .map_err(|e| format!("creating pod {key}: {e}"))?;
        let log = format!("{}_{}.log", pod.namespace, pod.name);
        let tcp = Self::pod_ports(pod, Protocol::Tcp);
        let udp = Self::pod_ports(pod, Protocol::Udp);
        let server = self.spawn_server(self.node.pod_netns(&key), &log, &tcp, &udp)?;
        self.pods.insert(
            pod.id(),
            LabPod {
                ips: pod.ips.clone(),
                server,
            },
        );
        Ok(())
    }

    fn remove_pod(&mut self, id: &PodId) -> Result<(), String> {
        if let Some(p) = self.pods.remove(id) {
            let _ = p.server.stop(Duration::from_millis(200));
        }
        self.node
            .remove_pod(&id.to_string())
            .map_err(|e| format!("removing pod {id}: {e}"))
    }

    /// Pods to match the cluster: new ones created, gone (or readdressed) ones removed.
    fn sync_pods(&mut self, cluster: &Cluster) -> Result<(), String> {
        let gone: Vec<PodId> = self
            .pods
            .iter()
            .filter(|(id, lp)| cluster.pod(id).is_none_or(|p| p.ips != lp.ips))
            .map(|(id, _)| id.clone())
            .collect();
        for id in gone {
            self.remove_pod(&id)?;
        }
        let new: Vec<Pod> = cluster
            .pods()
            .filter(|p| !self.pods.contains_key(&p.id()))
            .cloned()
            .collect();
        for pod in &new {
            self.add_pod(pod)?;
        }
        if !new.is_empty() {
            self.wait_for_servers(&new)?;
        }
        Ok(())
    }

    /// Servers start asynchronously: wait until each new pod answers on TCP 80 from itself.
    fn wait_for_servers(&self, pods: &[Pod]) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        let specs: Vec<ProbeSpec> = pods
            .iter()
            .filter_map(|p| {
                Some(ProbeSpec::new(
                    &self.node.pod_netns(&p.id().to_string()),
                    p.primary_ip()?,
                    palisade_lab::Protocol::Tcp,
                    80,
                ))
            })
            .collect();
        loop {
            let results = probe_many(&specs, Duration::from_millis(200));
            if results.iter().all(|r| matches!(r, Ok(Outcome::Reached))) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "pod servers did not come up within 5s: {results:?}"
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn reconcile(&self, cluster: &Cluster) -> Result<(), String> {
        let r = Reconciler::new(Nft::new(TABLE, Some(&self.node.netns())), LocalPods::All);
        r.reconcile(&mut cluster.clone())
            .map(|_| ())
            .map_err(|e| format!("programming the ruleset: {e}"))
    }

    /// An external address on the external host, with a server on `port`.
    fn ensure_external(&mut self, ip: IpAddr, port: Option<u16>) -> Result<(), String> {
        if self.external.insert(ip) {
            self.node
                .add_external(ip)
                .map_err(|e| format!("adding external address {ip}: {e}"))?;
        }
        let mut ports: BTreeSet<u16> = BASE_PORTS.into();
        if let Some((_, served)) = &self.external_server {
            ports.extend(served);
        }
        ports.extend(port);
        if self
            .external_server
            .as_ref()
            .is_some_and(|(_, served)| *served == ports)
        {
            return Ok(());
        }
        if let Some((old, _)) = self.external_server.take() {
            let _ = old.stop(Duration::from_millis(200));
        }
        let server =
            self.spawn_server(self.node.external_netns(), "external.log", &ports, &ports)?;
        self.external_server = Some((server, ports));
        std::thread::sleep(Duration::from_millis(100));
        Ok(())
    }

    /// Where a probe starts or ends: (netns, address to use, address to bind).
    fn end(
        &mut self,
        cluster: &Cluster,
        e: &Endpoint,
        peer: Option<IpAddr>,
        dst_port: Option<u16>,
    ) -> Result<(String, IpAddr, Option<IpAddr>), String> {
        let pod = match e {
            Endpoint::Pod(id) => Some(cluster.pod(id).ok_or_else(|| format!("no pod {id}"))?),
            Endpoint::Addr(ip) => cluster.pod_by_ip(*ip),
        };
        if let Some(pod) = pod {
            let ip = match e {
                Endpoint::Addr(ip) => *ip,
                Endpoint::Pod(_) => peer
                    .and_then(|p| {
                        pod.ips
                            .iter()
                            .copied()
                            .find(|ip| ip.is_ipv4() == p.is_ipv4())
                    })
                    .or(pod.primary_ip())
                    .ok_or_else(|| format!("pod {} has no address", pod.id()))?,
            };
            return Ok((self.node.pod_netns(&pod.id().to_string()), ip, None));
        }
        let Endpoint::Addr(ip) = e else {
            unreachable!("pods were handled above")
        };
        self.ensure_external(*ip, dst_port)?;
        Ok((self.node.external_netns(), *ip, Some(*ip)))
    }

    fn spec(&mut self, cluster: &Cluster, p: &Probe) -> Result<ProbeSpec, String> {
        let (dst_ns, dst_ip, _) = self.end(cluster, &p.to, None, Some(p.port))?;
        let (src_ns, _, bind) = self.end(cluster, &p.from, Some(dst_ip), None)?;
        let mut spec =
            ProbeSpec::new(&src_ns, dst_ip, lab_protocol(p.protocol), p.port).to_netns(&dst_ns);
        if let Some(b) = bind {
            spec = spec.from_ip(b);
        }
        Ok(spec)
    }
}

impl Backend for LabBackend {
    fn name(&self) -> &str {
        "lab"
    }

    fn sync(&mut self, cluster: &Cluster) -> Result<(), String> {
        self.sync_pods(cluster)?;
        self.reconcile(cluster)
    }

    fn probe(&mut self, cluster: &Cluster, probe: &Probe) -> Result<bool, String> {
        self.probe_many(cluster, std::slice::from_ref(probe))
            .remove(0)
    }

    fn probe_many(&mut self, cluster: &Cluster, probes: &[Probe]) -> Vec<Result<bool, String>> {
        let specs: Vec<Result<ProbeSpec, String>> =
            probes.iter().map(|p| self.spec(cluster, p)).collect();
        let ready: Vec<ProbeSpec> = specs
            .iter()
            .filter_map(|s| s.as_ref().ok().cloned())
            .collect();
        let mut outcomes = probe_many(&ready, TIMEOUT).into_iter();
        let mut answers: Vec<Result<bool, String>> = specs
            .iter()
            .map(|s| match s {
                Err(e) => Err(e.clone()),
                Ok(_) => match outcomes.next().expect("one outcome per spec") {
                    Ok(Outcome::Reached) => Ok(true),
                    Ok(Outcome::Blocked) => Ok(false),
                    Err(e) => Err(format!("probe failed: {e}")),
                },
            })
            .collect();
        self.stats.0 += ready.len();
        self.recheck_denials(cluster, &specs, &mut answers);
        answers
    }
}

impl LabBackend {
    /// Probes every blocked cell again with no policy in force: each must get
    /// through, or the denial did not come from the ruleset.
    fn recheck_denials(
        &mut self,
        cluster: &Cluster,
        specs: &[Result<ProbeSpec, String>],
        answers: &mut [Result<bool, String>],
    ) {
        let blocked: Vec<usize> = (0..answers.len())
            .filter(|i| answers[*i] == Ok(false))
            .collect();
        if blocked.is_empty() {
            return;
        }
        let mut open = cluster.clone();
        let ids: Vec<_> = open.policies().map(|p| p.reference()).collect();
        ids.iter().for_each(|id| {
            open.remove_policy(id);
        });
        if let Err(e) = self.reconcile(&open) {
            blocked.iter().for_each(|i| answers[*i] = Err(e.clone()));
            return;
        }
        let again: Vec<ProbeSpec> = blocked
            .iter()
            .filter_map(|i| specs[*i].as_ref().ok().cloned())
            .collect();
        self.stats.1 += again.len();
        for (i, outcome) in blocked
            .iter()
            .zip(probe_many(&again, Duration::from_secs(1)))
        {
            if !matches!(outcome, Ok(Outcome::Reached)) {
                answers[*i] = Err(format!("blocked even with no policy in force ({outcome:?}): the lab, not the ruleset, stopped it"));
            }
        }
        if let Err(e) = self.reconcile(cluster) {
            blocked.iter().for_each(|i| answers[*i] = Err(e.clone()));
        }
    }
}
