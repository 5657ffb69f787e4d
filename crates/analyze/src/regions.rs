//! The address space cut at every ipBlock edge.
//!
//! Each family's space is split at the first and one-past-last address of
//! every range of every ipBlock (`cidr` minus `except`), into *atoms*. All
//! addresses of an atom are in exactly the same ipBlocks; the set of blocks
//! an atom is in is its *region* (interned: many atoms share one region).
//! ipBlock matching, for endpoints and external addresses alike, only ever
//! asks "is region r in block b".

use std::collections::BTreeSet;
use std::net::IpAddr;

use palisade_model::IpBlock;

use crate::addr::{self, Family};
use crate::hash::{bit, set_bit, words_for, Words};

/// The atoms of one family: `starts[i]..next start` is in region `region[i]`.
#[derive(Debug, Clone, Default)]
struct Atoms {
    starts: Vec<u128>,
    region: Vec<u32>,
}

/// Atoms of both families and the blocks each region is in.
#[derive(Debug, Clone)]
pub(crate) struct Regions {
    v4: Atoms,
    v6: Atoms,
    /// Region id -> bitset over block ids.
    members: Words,
}

impl Regions {
    /// `blocks[i]` is block id `i`.
    pub(crate) fn new(blocks: &[&IpBlock]) -> Self {
        let words = words_for(blocks.len());
        let mut members = Words::default();
        members.intern(&vec![0; words]);
        let mut build = |f| atoms(f, blocks, words, &mut members);
        let (v4, v6) = (build(Family::V4), build(Family::V6));
        Self { v4, v6, members }
    }

    fn family(&self, f: Family) -> &Atoms {
        match f {
            Family::V4 => &self.v4,
            Family::V6 => &self.v6,
        }
    }

    /// The region of an address.
    pub(crate) fn of(&self, ip: IpAddr) -> u32 {
        let (f, v) = addr::value(ip);
        let a = self.family(f);
        a.region[a.starts.partition_point(|&s| s <= v) - 1]
    }

    /// Is every address of `region` in block `block`?
    pub(crate) fn in_block(&self, region: u32, block: u32) -> bool {
        bit(self.members.get(region), block as usize)
    }

    pub(crate) fn count(&self) -> usize {
        self.members.len()
    }

    /// The atoms of family `f` as `(first, last, region)`, in address order.
    pub(crate) fn atoms(&self, f: Family) -> impl Iterator<Item = (u128, u128, u32)> + '_ {
        let a = self.family(f);
        let ends = a.starts.iter().skip(1).map(|s| s - 1).chain([f.max()]);
        (a.starts.iter().zip(ends).zip(&a.region)).map(|((&lo, hi), &r)| (lo, hi, r))
    }
}

/// The ranges of a block as integers, with its family.
fn ranges(b: &IpBlock) -> (Family, Vec<(u128, u128)>) {
    let pairs = b.ranges().into_iter();
    let ints = pairs.map(|(lo, hi)| (addr::value(lo).1, addr::value(hi).1));
    (Family::of(b.cidr.addr()), ints.collect())
}

fn atoms(f: Family, blocks: &[&IpBlock], words: usize, members: &mut Words) -> Atoms {
    let ranges: Vec<(usize, Vec<(u128, u128)>)> = (blocks.iter().enumerate())
        .map(|(i, b)| (i, ranges(b)))
        .filter(|(_, (bf, _))| *bf == f)
        .map(|(i, (_, r))| (i, r))
        .collect();
    let mut cuts = BTreeSet::from([0u128]);
    for (lo, hi) in ranges.iter().flat_map(|(_, r)| r) {
        cuts.insert(*lo);
        cuts.extend(hi.checked_add(1).filter(|n| *n <= f.max()));
    }
    let starts: Vec<u128> = cuts.into_iter().collect();
    let mut sets = vec![0u64; starts.len() * words];
    for (block, rs) in &ranges {
        for &(lo, hi) in rs {
            let first = starts.partition_point(|&s| s < lo);
            for i in (first..starts.len()).take_while(|&i| starts[i] <= hi) {
                set_bit(&mut sets[i * words..(i + 1) * words], *block);
            }
        }
    }
    let region = (0..starts.len())
        .map(|i| members.intern(&sets[i * words..(i + 1) * words]))
        .collect();
    Atoms { starts, region }
}
