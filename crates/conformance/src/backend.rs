//! What the runner checks cases against: the evaluator here, real packets
//! in network namespaces in the lab.

use std::fmt;

use palisade_eval::{evaluate, Connection, Endpoint, PortRef};
use palisade_model::{Cluster, Protocol};

/// One connection attempt, with a numeric destination port (the runner
/// resolves named ports on the destination pod before probing).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Probe {
    /// The source: a pod, or an address that may or may not be a pod's.
    pub from: Endpoint,
    /// The destination: a pod, or an address.
    pub to: Endpoint,
    pub protocol: Protocol,
    /// The destination port.
    pub port: u16,
}

/// `x/a -> 192.0.2.10 80/TCP`
impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} -> {} {}/{}",
            self.from, self.to, self.port, self.protocol
        )
    }
}

/// Something that can say whether a connection gets through.
///
/// The runner calls [`Backend::sync`] once for the initial state and once
/// after each step, then [`Backend::probe`] for every cell and external
/// probe of that state's expectations.
pub trait Backend {
    /// A short name for reports (`eval`, `lab`).
    fn name(&self) -> &str;

    /// Brings the backend in line with `cluster` (e.g. programs the kernel).
    fn sync(&mut self, cluster: &Cluster) -> Result<(), String>;

    /// Whether `probe` is allowed in `cluster` (the state last synced).
    fn probe(&mut self, cluster: &Cluster, probe: &Probe) -> Result<bool, String>;

    /// Every probe of one state at once, answers in order. Backends that
    /// send real packets override this to probe concurrently.
    fn probe_many(&mut self, cluster: &Cluster, probes: &[Probe]) -> Vec<Result<bool, String>> {
        probes.iter().map(|p| self.probe(cluster, p)).collect()
    }
}

/// The reference backend: asks [`palisade_eval::evaluate`].
#[derive(Debug, Clone, Copy, Default)]
pub struct EvalBackend;

impl Backend for EvalBackend {
    fn name(&self) -> &str {
        "eval"
    }

    fn sync(&mut self, _cluster: &Cluster) -> Result<(), String> {
        Ok(())
    }

    fn probe(&mut self, cluster: &Cluster, probe: &Probe) -> Result<bool, String> {
        let conn = Connection {
            from: probe.from.clone(),
            to: probe.to.clone(),
            protocol: probe.protocol,
            port: PortRef::Number(probe.port),
        };
        evaluate(cluster, &conn)
            .map(|v| v.allowed)
            .map_err(|e| e.to_string())
    }
}
