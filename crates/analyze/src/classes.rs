//! Endpoint equivalence classes.
//!
//! Two endpoints are in one class when no policy can tell them apart: same
//! namespace, same verdict from every pod selector the policies use, same
//! named ports (among the names rules refer to), both host-network or not,
//! and addresses in the same ipBlock regions (for the primary address and
//! for the address an IPv6 peer sees). Everything downstream works on
//! classes; endpoints only reappear when connections are listed.

use std::net::IpAddr;

use palisade_model::{Labels, Pod};

use crate::compile::Compiled;
use crate::hash::{set_bit, words_for, FxMap, Interner, Words};
use crate::regions::Regions;

/// What policies can see of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ClassKey {
    pub ns: u32,
    /// Bitset id over pod selector ids (all clear for host-network pods).
    pub selvec: u32,
    /// Resolution id: the (named port id, port) pairs the endpoint defines.
    pub res: u32,
    pub host: bool,
    /// Region of the primary address (what a destination is seen with).
    pub prim: Option<u32>,
    /// Region of the address an IPv6 peer sees: the first IPv6, else primary.
    pub alt6: Option<u32>,
    /// The primary address is IPv6, so peers use their IPv6 address toward it.
    pub v6: bool,
}

/// The classes of the endpoints (endpoints numbered in name order).
#[derive(Debug, Clone)]
pub(crate) struct Classes {
    pub keys: Interner<ClassKey>,
    pub members: Vec<Vec<u32>>,
    pub of_endpoint: Vec<u32>,
    /// Selector bitsets; id 0 is all clear.
    pub selvecs: Words,
    /// Named port resolutions, sorted by named port id; id 0 is empty.
    pub res: Interner<Box<[(u32, u16)]>>,
}

impl Classes {
    pub(crate) fn new<'c>(c: &Compiled<'c>, regions: &Regions, pods: &[&'c Pod]) -> Self {
        let mut classes = Classes {
            keys: Interner::default(),
            members: Vec::new(),
            of_endpoint: Vec::with_capacity(pods.len()),
            selvecs: Words::default(),
            res: Interner::default(),
        };
        classes
            .selvecs
            .intern(&vec![0; words_for(c.pod_selectors.len())]);
        classes.res.intern_slice(&[]);
        let mut by_labels: FxMap<&'c Labels, u32> = FxMap::default();
        for (i, pod) in pods.iter().enumerate() {
            let key = classes.key_of(c, regions, pod, &mut by_labels);
            let id = classes.keys.intern(key) as usize;
            if id == classes.members.len() {
                classes.members.push(Vec::new());
            }
            classes.members[id].push(i as u32);
            classes.of_endpoint.push(id as u32);
        }
        classes
    }

    pub(crate) fn key(&self, id: u32) -> &ClassKey {
        self.keys.get(id)
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    fn key_of<'c>(
        &mut self,
        c: &Compiled<'c>,
        regions: &Regions,
        pod: &'c Pod,
        by_labels: &mut FxMap<&'c Labels, u32>,
    ) -> ClassKey {
        let primary = pod.primary_ip();
        let alt6 = pod.ips.iter().copied().find(IpAddr::is_ipv6).or(primary);
        let (selvec, res) = match pod.host_network {
            true => (0, 0),
            false => {
                let selvec = *by_labels
                    .entry(&pod.labels)
                    .or_insert_with(|| self.selvecs.intern(&selector_bits(c, &pod.labels)));
                (selvec, self.res.intern_slice(&resolution(c, pod)))
            }
        };
        ClassKey {
            ns: c
                .namespaces
                .id(pod.namespace.as_str())
                .expect("pod namespaces are known"),
            selvec,
            res,
            host: pod.host_network,
            prim: primary.map(|ip| regions.of(ip)),
            alt6: alt6.map(|ip| regions.of(ip)),
            v6: primary.is_some_and(|ip| ip.is_ipv6()),
        }
    }
}

/// Which pod selectors match `labels`.
fn selector_bits(c: &Compiled<'_>, labels: &Labels) -> Vec<u64> {
    let mut bits = vec![0; words_for(c.pod_selectors.len())];
    for (i, sel) in c.pod_selectors.items().iter().enumerate() {
        if sel.matches(labels) {
            set_bit(&mut bits, i);
        }
    }
    bits
}

/// The container ports whose (name, protocol) some rule refers to.
fn resolution(c: &Compiled<'_>, pod: &Pod) -> Vec<(u32, u16)> {
    let mut res: Vec<(u32, u16)> = (pod.ports.iter())
        .filter_map(|p| {
            let name = p.name.as_deref()?;
            Some((c.named.id(&(name, p.protocol))?, p.port))
        })
        .collect();
    res.sort_unstable();
    res.dedup();
    res
}
