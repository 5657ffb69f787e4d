//! From a logged packet to a record: the prefix names the mode and the
//! subject chain, the compiled IR maps the chain to its direction and
//! isolating policies, the cluster maps addresses to pods.

use std::collections::HashMap;
use std::net::IpAddr;

use palisade_compile::Ruleset;
use palisade_model::{Cluster, Direction, PolicyRef};

use crate::dedup::DedupKey;
use crate::nflog::LoggedPacket;
use crate::packet::{decode, protocol_name, DecodeError, FiveTuple};
use crate::record::{FlowEndpoint, FlowRecord, Mode};
use crate::time::Timestamp;

/// What a subject chain stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainInfo {
    pub direction: Direction,
    pub isolated_by: Vec<PolicyRef>,
}

/// Attribution state, refreshed after every reconcile with [`Attributor::update`].
/// The chains of the previous ruleset are kept too, so a packet logged just
/// before an update is still attributed.
#[derive(Debug, Default, Clone)]
pub struct Attributor {
    chains: HashMap<String, ChainInfo>,
    previous: HashMap<String, ChainInfo>,
    pods: HashMap<IpAddr, (String, String)>,
}

impl Attributor {
    pub fn new() -> Self {
        Self::default()
    }

    /// An attributor for `cluster` and the ruleset compiled from it.
    pub fn from_state(cluster: &Cluster, rs: &Ruleset) -> Self {
        let mut a = Self::new();
        a.update(cluster, rs);
        a
    }

    /// Takes the chains of `rs` and the pod addresses of `cluster`.
    pub fn update(&mut self, cluster: &Cluster, rs: &Ruleset) {
        let pods = cluster.pods().filter(|p| !p.host_network).flat_map(|p| {
            p.ips
                .iter()
                .map(move |ip| (*ip, p.namespace.clone(), p.name.clone()))
        });
        self.update_parts(rs, pods);
    }

    /// Takes the chains of `rs` and the pod addresses `(ip, namespace, name)`.
    pub fn update_parts(
        &mut self,
        rs: &Ruleset,
        pods: impl IntoIterator<Item = (IpAddr, String, String)>,
    ) {
        let chains = rs
            .chains
            .iter()
            .map(|(name, c)| {
                let info = ChainInfo {
                    direction: c.direction,
                    isolated_by: c.isolated_by.clone(),
                };
                (name.clone(), info)
            })
            .collect();
        self.previous = std::mem::replace(&mut self.chains, chains);
        self.pods = pods
            .into_iter()
            .map(|(ip, ns, name)| (ip, (ns, name)))
            .collect();
    }

    fn chain(&self, name: &str) -> Option<&ChainInfo> {
        self.chains.get(name).or_else(|| self.previous.get(name))
    }

    /// The record for one logged packet (`None`: not one of palisade's
    /// prefixes), with its dedup key. `now_ms` is used when the kernel gave
    /// no timestamp.
    pub fn record(
        &self,
        p: &LoggedPacket,
        now_ms: u64,
    ) -> Result<Option<(FlowRecord, DedupKey)>, DecodeError> {
        let Some((audit, chain)) = p
            .prefix
            .as_deref()
            .and_then(palisade_nft::flowlog::parse_prefix)
        else {
            return Ok(None);
        };
        let t = decode(&p.payload)?;
        let (direction, policies) = match self.chain(chain) {
            Some(info) => (
                info.direction,
                info.isolated_by.iter().map(ToString::to_string).collect(),
            ),
            // A chain we never saw (e.g. logged by a previous agent): the
            // direction is in its name (`ce_...` egress, `ci_...` ingress).
            None if chain.starts_with("ci_") => (Direction::Ingress, Vec::new()),
            None => (Direction::Egress, Vec::new()),
        };
        let mode = if audit { Mode::Audit } else { Mode::Deny };
        let record = FlowRecord {
            time: Timestamp(p.timestamp_ms.unwrap_or(now_ms)),
            mode,
            direction,
            protocol: protocol_name(t.protocol),
            src: self.endpoint(t.src, t.src_port),
            dst: self.endpoint(t.dst, t.dst_port),
            policies,
        };
        Ok(Some((record, key(t, direction, mode))))
    }

    fn endpoint(&self, ip: IpAddr, port: Option<u16>) -> FlowEndpoint {
        let pod = self.pods.get(&ip);
        FlowEndpoint {
            namespace: pod.map(|p| p.0.clone()),
            pod: pod.map(|p| p.1.clone()),
            ip,
            port,
        }
    }
}

fn key(t: FiveTuple, d: Direction, m: Mode) -> DedupKey {
    (t, d, m)
}

#[cfg(test)]
mod tests;
