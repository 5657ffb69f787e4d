//! [`ClassConnectivity`]: the whole analysis at class level.

use palisade_model::{Cluster, Direction, Pod};

use crate::addr::Taken;
use crate::classes::Classes;
use crate::compile::{Compiled, PortC};
use crate::external::External;
use crate::meet::Meet;
use crate::ports::{Cuts, MaskId, Masks, PortAtoms, EMPTY};
use crate::regions::Regions;
use crate::roles::Roles;
use crate::side::Side;
use crate::views::Ctx;
use crate::{Allow, Endpoint};

/// Connectivity computed on equivalence classes of endpoints.
///
/// Endpoints (numbered in name order, see [`ClassConnectivity::endpoints`])
/// fall into classes that no policy can tell apart. What a class may send
/// to another is [`ClassConnectivity::allow`]: a few table lookups, with no
/// policy evaluated at query time. External addresses come as CIDR lists
/// per class ([`ClassConnectivity::egress_external`] and
/// [`ClassConnectivity::ingress_external`]).
///
/// A pod reaching itself is always allowed, so self pairs are never listed
/// (nor counted); two distinct endpoints of one class are a pair like any
/// other.
///
/// Addresses, as the evaluator chooses them: a destination endpoint is seen
/// with its primary address (the first IPv4, else the first address), and
/// the source with its address of the destination's family (else its
/// primary). An endpoint without address is never matched by an ipBlock.
#[derive(Debug, Clone)]
pub struct ClassConnectivity {
    pub(crate) endpoints: Vec<Endpoint>,
    pub(crate) classes: Classes,
    /// Per class: `[egress role, ingress role]`.
    pub(crate) roles: Vec<[u32; 2]>,
    pub(crate) egress: Side,
    pub(crate) ingress: Side,
    pub(crate) meet: Meet,
    pub(crate) external: External,
    /// The ports of each mask id, as output.
    pub(crate) allows: Vec<Vec<Allow>>,
    pub(crate) notes: Vec<String>,
}

impl ClassConnectivity {
    /// Analyses `cluster`. Cost grows with classes and namespaces, not
    /// with endpoint pairs.
    pub fn new(cluster: &Cluster) -> Self {
        Self::build(cluster, None)
    }

    pub(crate) fn build(cluster: &Cluster, dense_limit: Option<usize>) -> Self {
        let pods = sorted_pods(cluster);
        let c = Compiled::new(cluster);
        let regions = Regions::new(c.blocks.items());
        let mut classes = Classes::new(&c, &regions, &pods);
        let roles = Roles::new(&c, &mut classes);
        let atoms = PortAtoms::new(cuts(&c, &classes));
        let mut masks = Masks::new(&atoms);
        let ctx = Ctx {
            c: &c,
            classes: &classes,
            regions: &regions,
        };
        let rs = [roles.egress.items(), roles.ingress.items()];
        let egress = Side::new(&ctx, &atoms, &mut masks, rs[0], Direction::Egress);
        let ingress = Side::new(&ctx, &atoms, &mut masks, rs[1], Direction::Ingress);
        let taken = Taken::new(pods.iter().flat_map(|p| p.ips.iter().copied()));
        let external = External::new(&ctx, &atoms, &mut masks, rs, &taken);
        let pairs = || class_pairs(&roles.of_class, &egress, &ingress);
        let meet = Meet::new(&mut masks, [&egress, &ingress], pairs, dense_limit);
        let allows = (0..masks.len() as u32)
            .map(|m| atoms.allows(masks.get(m)))
            .collect();
        ClassConnectivity {
            endpoints: pods.iter().map(|p| endpoint(p)).collect(),
            notes: notes(&pods),
            roles: roles.of_class,
            classes,
            egress,
            ingress,
            meet,
            external,
            allows,
        }
    }

    /// Every endpoint, sorted by name; an endpoint's number is its index.
    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    /// The number of classes.
    pub fn class_count(&self) -> usize {
        self.classes.len()
    }

    /// The class of endpoint number `endpoint`.
    pub fn class_of(&self, endpoint: usize) -> usize {
        self.classes.of_endpoint[endpoint] as usize
    }

    /// The endpoints of a class, ascending.
    pub fn members(&self, class: usize) -> &[u32] {
        &self.classes.members[class]
    }

    /// What an endpoint of class `from` may open to an endpoint of class
    /// `to` (distinct endpoints): empty when nothing.
    pub fn allow(&self, from: usize, to: usize) -> &[Allow] {
        &self.allows[self.mask(from as u32, to as u32) as usize]
    }

    pub(crate) fn mask(&self, from: u32, to: u32) -> MaskId {
        let e = self.egress.allows(self.roles[from as usize][0], to);
        if e == EMPTY {
            return EMPTY;
        }
        let i = self.ingress.allows(self.roles[to as usize][1], from);
        self.meet.get(e, i)
    }

    /// The external CIDRs a class may open connections to, sorted by text.
    pub fn egress_external(&self, class: usize) -> impl Iterator<Item = (&str, &[Allow])> + '_ {
        let profile = self.external.egress[self.roles[class][0] as usize];
        self.cidrs(profile)
    }

    /// The external CIDRs that may open connections to a class.
    pub fn ingress_external(&self, class: usize) -> impl Iterator<Item = (&str, &[Allow])> + '_ {
        let profile = self.external.ingress[self.roles[class][1] as usize];
        self.cidrs(profile)
    }

    fn cidrs(&self, profile: u32) -> impl Iterator<Item = (&str, &[Allow])> + '_ {
        let list = self.external.lists[profile as usize].iter();
        list.map(|(cidr, m)| (cidr.as_str(), self.allows[*m as usize].as_slice()))
    }

    /// Notes for people (see [`crate::Connectivity::notes`]).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }
}

/// Pods in the order of their `namespace/name`.
fn sorted_pods(cluster: &Cluster) -> Vec<&Pod> {
    let mut pods: Vec<(String, &Pod)> = cluster.pods().map(|p| (p.id().to_string(), p)).collect();
    pods.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    pods.into_iter().map(|(_, p)| p).collect()
}

fn endpoint(p: &Pod) -> Endpoint {
    Endpoint {
        name: p.id().to_string(),
        kind: p.kind().to_string(),
        namespace: p.namespace.clone(),
        ips: p.ips.iter().map(ToString::to_string).collect(),
    }
}

fn notes(pods: &[&Pod]) -> Vec<String> {
    let n = pods.iter().filter(|p| p.ips.is_empty()).count();
    let what = match n {
        0 => return Vec::new(),
        1 => "1 endpoint has no address".to_string(),
        _ => format!("{n} endpoints have no address"),
    };
    vec![format!(
        "{what}: ipBlock rules can only match external addresses for them"
    )]
}

/// Port cuts: every rule range, and every resolved named port.
fn cuts(c: &Compiled<'_>, classes: &Classes) -> Cuts {
    let mut cuts = Cuts::default();
    let rules = c.policies.iter().flat_map(|p| {
        let both = [p.ingress.as_deref(), p.egress.as_deref()];
        both.into_iter().flatten().flatten()
    });
    for port in rules.flat_map(|r| r.ports.iter().flatten()) {
        if let PortC::Range(proto, lo, hi) = *port {
            cuts.range(proto, lo, hi);
        }
    }
    for &(n, port) in classes.res.items().iter().flat_map(|r| r.iter()) {
        cuts.range(c.named.get(n).1, port, port);
    }
    cuts
}

/// The (egress, ingress) masks of every class pair, for a sparse [`Meet`].
fn class_pairs<'a>(
    roles: &'a [[u32; 2]],
    egress: &'a Side,
    ingress: &'a Side,
) -> impl Iterator<Item = (MaskId, MaskId)> + 'a {
    let n = roles.len() as u32;
    (0..n).flat_map(move |a| {
        (0..n).map(move |b| {
            let e = egress.allows(roles[a as usize][0], b);
            let i = ingress.allows(roles[b as usize][1], a);
            (e, i)
        })
    })
}
