//! Port atoms and port masks.
//!
//! Every port number a rule or a resolved named port mentions cuts its
//! protocol's range 1-65535; the pieces are the *atoms*. Any set of ports
//! the policies can allow is a union of atoms, so it is stored as a
//! bitmask over atoms, and masks are interned: a [`MaskId`] stands for one
//! set of (protocol, ports), and unions and intersections are word-wise.

use std::collections::BTreeSet;

use palisade_model::Protocol;

use crate::hash::{words_for, Words};
use crate::Allow;

/// An interned port mask.
pub(crate) type MaskId = u32;
/// Nothing allowed.
pub(crate) const EMPTY: MaskId = 0;
/// Every port of every protocol.
pub(crate) const ALL: MaskId = 1;

/// The highest port; port 0 is not a port.
const MAX_PORT: u16 = 65535;

fn proto_index(p: Protocol) -> usize {
    match p {
        Protocol::Tcp => 0,
        Protocol::Udp => 1,
        Protocol::Sctp => 2,
    }
}

/// The atoms of each protocol's port range, numbered protocol by protocol
/// in the order TCP, UDP, SCTP (the output order).
#[derive(Debug, Clone)]
pub(crate) struct PortAtoms {
    /// Per protocol: the first port of each atom, ascending, from 1.
    starts: [Vec<u16>; 3],
    /// Per protocol: the number of the protocol's first atom.
    offset: [usize; 3],
    len: usize,
}

/// Cut points per protocol: a cut at `p` starts a new atom at port `p`.
#[derive(Debug, Default)]
pub(crate) struct Cuts([BTreeSet<u16>; 3]);

impl Cuts {
    /// Cuts so that `lo..=hi` is a union of atoms.
    pub(crate) fn range(&mut self, p: Protocol, lo: u16, hi: u16) {
        let set = &mut self.0[proto_index(p)];
        set.insert(lo);
        if hi < MAX_PORT {
            set.insert(hi + 1);
        }
    }
}

impl PortAtoms {
    pub(crate) fn new(cuts: Cuts) -> Self {
        let mut offset = [0; 3];
        let mut len = 0;
        let starts = cuts.0.map(|mut set| {
            set.insert(1);
            set.remove(&0);
            set.into_iter().collect::<Vec<u16>>()
        });
        for (i, s) in starts.iter().enumerate() {
            offset[i] = len;
            len += s.len();
        }
        Self {
            starts,
            offset,
            len,
        }
    }

    /// Words of a mask.
    pub(crate) fn words(&self) -> usize {
        words_for(self.len)
    }

    /// Sets the atoms of `lo..=hi`, which must be a union of atoms.
    pub(crate) fn set_range(&self, mask: &mut [u64], p: Protocol, lo: u16, hi: u16) {
        let i = proto_index(p);
        let starts = &self.starts[i];
        let first = starts.partition_point(|&s| s <= lo) - 1;
        debug_assert_eq!(starts[first], lo, "ranges are cut at their ends");
        for (k, _) in starts
            .iter()
            .enumerate()
            .skip(first)
            .take_while(|(_, &s)| s <= hi)
        {
            let bit = self.offset[i] + k;
            mask[bit / 64] |= 1 << (bit % 64);
        }
    }

    pub(crate) fn set_all(&self, mask: &mut [u64]) {
        for bit in 0..self.len {
            mask[bit / 64] |= 1 << (bit % 64);
        }
    }

    /// The mask as `Allow`s: per protocol, adjacent atoms merged; a
    /// protocol with every port gets an empty `ports` list.
    pub(crate) fn allows(&self, mask: &[u64]) -> Vec<Allow> {
        let mut out = Vec::new();
        for (i, protocol) in Protocol::ALL.into_iter().enumerate() {
            let ports = self.ranges(mask, i);
            if ports.is_empty() {
                continue;
            }
            let every = ports == [[1, MAX_PORT]];
            let ports = if every { Vec::new() } else { ports };
            out.push(Allow { protocol, ports });
        }
        out
    }

    /// The set ports of protocol number `i`, as merged inclusive ranges.
    fn ranges(&self, mask: &[u64], i: usize) -> Vec<[u16; 2]> {
        let starts = &self.starts[i];
        let mut out: Vec<[u16; 2]> = Vec::new();
        for (k, &lo) in starts.iter().enumerate() {
            let bit = self.offset[i] + k;
            if mask[bit / 64] >> (bit % 64) & 1 == 0 {
                continue;
            }
            let hi = starts.get(k + 1).map_or(MAX_PORT, |next| next - 1);
            match out.last_mut() {
                Some(last) if u32::from(last[1]) + 1 == u32::from(lo) => last[1] = hi,
                _ => out.push([lo, hi]),
            }
        }
        out
    }
}

/// Interned masks; ids [`EMPTY`] and [`ALL`] are fixed.
#[derive(Debug, Clone)]
pub(crate) struct Masks {
    words: usize,
    set: Words,
}

impl Masks {
    pub(crate) fn new(atoms: &PortAtoms) -> Self {
        let words = atoms.words();
        let mut set = Words::default();
        let mut all = vec![0; words];
        atoms.set_all(&mut all);
        set.intern(&vec![0; words]);
        set.intern(&all);
        Self { words, set }
    }

    /// A zeroed mask to build into.
    pub(crate) fn scratch(&self) -> Vec<u64> {
        vec![0; self.words]
    }

    pub(crate) fn intern(&mut self, mask: &[u64]) -> MaskId {
        self.set.intern(mask)
    }

    pub(crate) fn get(&self, id: MaskId) -> &[u64] {
        self.set.get(id)
    }

    pub(crate) fn len(&self) -> usize {
        self.set.len()
    }

    /// Ports in both `a` and `b`.
    pub(crate) fn and(&mut self, a: MaskId, b: MaskId) -> MaskId {
        match (a, b) {
            (EMPTY, _) | (_, EMPTY) => EMPTY,
            (ALL, x) | (x, ALL) => x,
            _ => {
                let both: Vec<u64> = (self.get(a).iter().zip(self.get(b)))
                    .map(|(x, y)| x & y)
                    .collect();
                self.intern(&both)
            }
        }
    }
}

/// `dst |= src`, word by word.
pub(crate) fn or_into(dst: &mut [u64], src: &[u64]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d |= s;
    }
}
