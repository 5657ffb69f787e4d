//! Synthetic clusters for benchmarks and differential tests.
//!
//! Start with [`Params::new`] and [`generate`], which builds a
//! [`Cluster`] of labelled namespaces, pods with IPs and named container
//! ports, and a mix of NetworkPolicies (default-deny, pod / namespace /
//! combined selectors, `matchExpressions`, numeric, ranged and named ports,
//! UDP and SCTP, `ipBlock` with `except`, egress rules, explicit and
//! defaulted `policyTypes`). The output depends only on the [`Params`]: the
//! same seed gives the same cluster on every machine and every build.
//!
//! [`to_yaml`] renders a cluster as a multi-document Kubernetes manifest, so
//! the same input can be fed to `palisade-manifest` or to other analyzers.

mod objects;
mod policy;
mod rng;
mod rules;
mod selectors;
mod vocab;
mod yaml;

use palisade_model::Cluster;

pub use yaml::to_yaml;

use crate::rng::Rng;

/// What to generate. Build with [`Params::new`] and adjust the fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// Number of namespaces; at least one is made when there are pods or policies.
    pub namespaces: usize,
    /// Number of pods, spread over the namespaces in contiguous blocks.
    pub pods: usize,
    /// Number of NetworkPolicies, each in a namespace chosen at random.
    pub policies: usize,
    /// The seed: equal [`Params`] give equal clusters.
    pub seed: u64,
    /// When true, every `ipBlock` lies in 172.16.0.0/12 or 192.168.0.0/16,
    /// away from the pod IPs (10.0.0.0/8), so that analyzers which treat
    /// pod IPs in ipBlocks differently still agree. When false, ipBlocks may
    /// be anywhere, pod IPs and IPv6 included.
    pub ipblocks_outside_pod_network: bool,
}

impl Params {
    /// The seed [`Params::new`] uses.
    pub const DEFAULT_SEED: u64 = 0x7061_6c69_7361_6465;

    /// `pods` pods and `policies` policies in `max(1, pods / 100)`
    /// namespaces, with [`Params::DEFAULT_SEED`] and ipBlocks kept outside
    /// the pod network.
    pub fn new(pods: usize, policies: usize) -> Self {
        Self {
            namespaces: (pods / 100).max(1),
            pods,
            policies,
            seed: Self::DEFAULT_SEED,
            ipblocks_outside_pod_network: true,
        }
    }

    /// The number of namespaces actually made: `namespaces`, raised to one
    /// when there are pods or policies to put somewhere.
    pub fn namespace_count(&self) -> usize {
        let needed = usize::from(self.pods > 0 || self.policies > 0);
        self.namespaces.max(needed)
    }
}

/// Builds the cluster `p` describes: first the namespaces, then the pods,
/// then the policies. Each part draws from its own random stream, so
/// changing the number of policies does not change the pods.
///
/// # Panics
///
/// If `p.pods` exceeds the 2^24 - 2 addresses of 10.0.0.0/8.
pub fn generate(p: &Params) -> Cluster {
    assert!(
        p.pods < (1 << 24) - 1,
        "at most 2^24 - 2 pods fit in 10.0.0.0/8"
    );
    let mut root = Rng::new(p.seed);
    let (mut ns_rng, mut pod_rng, mut pol_rng) = (root.fork(1), root.fork(2), root.fork(3));
    let names = objects::namespace_names(p.namespace_count());
    let mut cluster = Cluster::new();
    for name in &names {
        cluster.upsert_namespace(objects::namespace(&mut ns_rng, name));
    }
    for i in 0..p.pods {
        let ns = &names[i * names.len() / p.pods];
        cluster.upsert_pod(objects::pod(&mut pod_rng, ns, i));
    }
    let ctx = rules::Ctx {
        namespaces: &names,
        pods: p.pods,
        outside: p.ipblocks_outside_pod_network,
    };
    for i in 0..p.policies {
        cluster.upsert_policy(policy::policy(&mut pol_rng, &ctx, i));
    }
    cluster
}

#[cfg(test)]
mod tests;
