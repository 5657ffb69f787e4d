//! A fast hasher for the engine's small integer keys, and an interner that
//! numbers distinct values in order of first appearance (so ids, and
//! everything built from them, are deterministic).

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

/// The Fx hash (as in rustc): one multiply per word. Not DoS-resistant,
/// which is fine for keys derived from one cluster.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(n.into());
    }

    fn write_u16(&mut self, n: u16) {
        self.add(n.into());
    }

    fn write_u32(&mut self, n: u32) {
        self.add(n.into());
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Distinct values, numbered `0..` in order of first appearance.
#[derive(Debug, Clone)]
pub(crate) struct Interner<K> {
    ids: FxMap<K, u32>,
    items: Vec<K>,
}

impl<K> Default for Interner<K> {
    fn default() -> Self {
        Self {
            ids: FxMap::default(),
            items: Vec::new(),
        }
    }
}

impl<K: Hash + Eq + Clone> Interner<K> {
    /// The id of `key`, numbering it if it is new.
    pub(crate) fn intern(&mut self, key: K) -> u32 {
        if let Some(&id) = self.ids.get(&key) {
            return id;
        }
        let id = u32::try_from(self.items.len()).expect("fewer than 2^32 distinct values");
        self.items.push(key.clone());
        self.ids.insert(key, id);
        id
    }

    /// The id of `key`, if it was interned.
    pub(crate) fn id<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
    {
        self.ids.get(key).copied()
    }

    pub(crate) fn get(&self, id: u32) -> &K {
        &self.items[id as usize]
    }

    pub(crate) fn items(&self) -> &[K] {
        &self.items
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }
}

impl<T: Hash + Eq + Clone> Interner<Box<[T]>> {
    /// Like [`Interner::intern`], allocating only when `key` is new.
    pub(crate) fn intern_slice(&mut self, key: &[T]) -> u32 {
        match self.id(key) {
            Some(id) => id,
            None => self.intern(key.into()),
        }
    }
}

/// Bit `i` of a bitset stored in words.
pub(crate) fn bit(words: &[u64], i: usize) -> bool {
    words[i / 64] >> (i % 64) & 1 == 1
}

pub(crate) fn set_bit(words: &mut [u64], i: usize) {
    words[i / 64] |= 1 << (i % 64);
}

/// Words needed for `n` bits.
pub(crate) fn words_for(n: usize) -> usize {
    n.div_ceil(64)
}

const NO_ID: u32 = u32::MAX;

/// Interned `u64` slices (bitsets, masks, features), stored end to end:
/// faster than boxed keys for the many short slices the engine numbers.
#[derive(Debug, Clone)]
pub(crate) struct Words {
    data: Vec<u64>,
    /// Slice `i` is `data[starts[i]..starts[i + 1]]`.
    starts: Vec<usize>,
    /// Hash -> last id with that hash; `chain` links to earlier ones.
    heads: FxMap<u64, u32>,
    chain: Vec<u32>,
}

impl Default for Words {
    fn default() -> Self {
        Self {
            data: Vec::new(),
            starts: vec![0],
            heads: FxMap::default(),
            chain: Vec::new(),
        }
    }
}

impl Words {
    /// The id of `key`, numbering it if it is new.
    pub(crate) fn intern(&mut self, key: &[u64]) -> u32 {
        let mut h = FxHasher::default();
        h.add(key.len() as u64);
        key.iter().for_each(|&w| h.add(w));
        let h = h.finish();
        let mut at = self.heads.get(&h).copied().unwrap_or(NO_ID);
        while at != NO_ID {
            let found = self.get(at);
            if found.len() == key.len() && found.iter().zip(key).all(|(a, b)| a == b) {
                return at;
            }
            at = self.chain[at as usize];
        }
        let id = u32::try_from(self.len()).expect("fewer than 2^32 distinct values");
        self.chain.push(self.heads.insert(h, id).unwrap_or(NO_ID));
        self.data.extend_from_slice(key);
        self.starts.push(self.data.len());
        id
    }

    pub(crate) fn get(&self, id: u32) -> &[u64] {
        let i = id as usize;
        &self.data[self.starts[i]..self.starts[i + 1]]
    }

    pub(crate) fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// Every slice, in id order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &[u64]> + '_ {
        (0..self.len() as u32).map(|i| self.get(i))
    }
}
