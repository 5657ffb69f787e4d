//! Views: a namespace's policies' peers, as seen by every class.
//!
//! For one direction and one namespace, a class's *feature* is what the
//! namespace's rules of that direction can observe of it as a peer: which
//! of their peers match it (under each address choice) and, for egress,
//! its named ports among the names the rules use (the peer is the
//! destination). Classes with equal features are interchangeable as peers
//! of every role of that namespace, so role tables are indexed by feature.

use palisade_model::Direction;

use crate::classes::{ClassKey, Classes};
use crate::compile::{Compiled, NsMatch, PeerC, RuleC};
use crate::hash::{bit, set_bit, words_for, Words};
use crate::regions::Regions;

/// What the analysis reads, bundled.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx<'a, 'c> {
    pub c: &'a Compiled<'c>,
    pub classes: &'a Classes,
    pub regions: &'a Regions,
}

impl Ctx<'_, '_> {
    /// The rules of namespace `ns`'s policies in force for `d`.
    pub(crate) fn ns_rules(&self, ns: u32, d: Direction) -> impl Iterator<Item = &RuleC> + '_ {
        let policies = self.c.by_ns[ns as usize].iter();
        policies.flat_map(move |&p| self.c.policies[p as usize].rules(d).unwrap_or_default())
    }
}

/// One namespace's peers for one direction, and every class's feature.
#[derive(Debug, Clone)]
pub(crate) struct View {
    /// The namespace whose policies' rules this view serves.
    pub ns: u32,
    /// Global peer ids; bit `i` of a feature is `peers[i]`.
    pub peers: Vec<u32>,
    /// Egress: named port ids the rules use (feature tail entries).
    pub names: Vec<u32>,
    /// Words of one bit block. Ingress features have two blocks: peers
    /// matched with the primary address, then with the IPv6-peer choice.
    pub words: usize,
    /// Feature id per class.
    pub of_class: Vec<u32>,
    pub features: Words,
    /// Per feature: its tail (egress named ports) as an interned id; 0
    /// (the empty tail) for every ingress feature.
    pub tails: Vec<u32>,
}

impl View {
    pub(crate) fn new(ctx: &Ctx<'_, '_>, ns: u32, d: Direction) -> Self {
        let mut peers: Vec<u32> = (ctx.ns_rules(ns, d))
            .flat_map(|r| r.peers.iter().flatten().copied())
            .collect();
        peers.sort_unstable();
        peers.dedup();
        let names = match d {
            Direction::Egress => Compiled::names_in(ctx.ns_rules(ns, d)),
            Direction::Ingress => Vec::new(),
        };
        let mut view = View {
            ns,
            words: words_for(peers.len()),
            peers,
            names,
            of_class: Vec::with_capacity(ctx.classes.len()),
            features: Words::default(),
            tails: Vec::new(),
        };
        let mut probe = Probe::new(ctx, &view.peers, d);
        let mut buf = Vec::new();
        let mut zero = None;
        for id in 0..ctx.classes.len() as u32 {
            let k = ctx.classes.key(id);
            let f = match view.feature(&mut probe, k, &mut buf) {
                false => *zero.get_or_insert_with(|| view.features.intern(&buf)),
                true => view.features.intern(&buf),
            };
            view.of_class.push(f);
        }
        let mut tails = Words::default();
        let words = view.words * probe.blocks;
        view.tails = view
            .features
            .iter()
            .map(|f| tails.intern(&f[words..]))
            .collect();
        view
    }

    /// The local bit of a global peer id.
    pub(crate) fn local(&self, peer: u32) -> usize {
        self.peers
            .binary_search(&peer)
            .expect("rule peers are in their view")
    }

    /// Writes class `k`'s feature into `buf`; false when it is all clear.
    fn feature(&self, probe: &mut Probe<'_, '_, '_>, k: &ClassKey, buf: &mut Vec<u64>) -> bool {
        let (ctx, blocks) = (probe.ctx, probe.blocks);
        buf.clear();
        buf.resize(self.words * blocks, 0);
        let mut any = false;
        if !k.host {
            let selvec = ctx.classes.selvecs.get(k.selvec);
            for &(i, sel) in probe.pods_in(k.ns) {
                if bit(selvec, sel as usize) {
                    any = true;
                    for b in 0..blocks {
                        set_bit(buf, b * self.words * 64 + i);
                    }
                }
            }
        }
        let regions = [k.prim, k.alt6];
        for &(i, block) in &probe.blocks_peers {
            for (b, region) in regions.iter().enumerate().take(blocks) {
                if region.is_some_and(|r| ctx.regions.in_block(r, block)) {
                    any = true;
                    set_bit(buf, b * self.words * 64 + i);
                }
            }
        }
        for &(name, port) in ctx.classes.res.get(k.res).iter() {
            if let Ok(local) = self.names.binary_search(&name) {
                any = true;
                buf.push((local as u64) << 16 | u64::from(port));
            }
        }
        any
    }

    /// The (named port id, port) pairs in the tail of an egress feature.
    pub(crate) fn resolution(&self, feature: &[u64]) -> Vec<(u32, u16)> {
        let tail = &feature[self.words..];
        let pair = |&e: &u64| (self.names[(e >> 16) as usize], (e & 0xffff) as u16);
        tail.iter().map(pair).collect()
    }
}

/// A view's peers arranged for matching: pod peers by the namespaces they
/// admit (computed once per namespace), ipBlock peers apart.
struct Probe<'v, 'a, 'c> {
    ctx: &'v Ctx<'a, 'c>,
    /// Bit blocks per feature: 1 (egress), 2 (ingress: primary, IPv6 choice).
    blocks: usize,
    /// (local bit, namespace match, pod selector) of each pod peer.
    pods: Vec<(usize, NsMatch, u32)>,
    /// Per namespace, once asked: (local bit, pod selector) of the pod
    /// peers admitting it.
    by_ns: Vec<Option<Vec<(usize, u32)>>>,
    /// (local bit, block id) of each ipBlock peer.
    blocks_peers: Vec<(usize, u32)>,
}

impl<'v, 'a, 'c> Probe<'v, 'a, 'c> {
    fn new(ctx: &'v Ctx<'a, 'c>, peers: &[u32], d: Direction) -> Self {
        let mut probe = Probe {
            ctx,
            blocks: if d == Direction::Ingress { 2 } else { 1 },
            pods: Vec::new(),
            by_ns: vec![None; ctx.c.namespaces.len()],
            blocks_peers: Vec::new(),
        };
        for (i, &p) in peers.iter().enumerate() {
            match *ctx.c.peers.get(p) {
                PeerC::Pods { ns, sel } => probe.pods.push((i, ns, sel)),
                PeerC::Block(b) => probe.blocks_peers.push((i, b)),
            }
        }
        probe
    }

    fn pods_in(&mut self, ns: u32) -> &[(usize, u32)] {
        let (pods, c) = (&self.pods, self.ctx.c);
        self.by_ns[ns as usize].get_or_insert_with(|| {
            let admitted = pods.iter().filter(|(_, m, _)| c.ns_admits(*m, ns));
            admitted.map(|&(i, _, sel)| (i, sel)).collect()
        })
    }
}
