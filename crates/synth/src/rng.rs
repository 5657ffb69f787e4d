//! A tiny deterministic random number generator (SplitMix64).
//!
//! Kept in-crate rather than depending on `rand` so that the output for a
//! seed never changes with a dependency upgrade, and builds stay small.

/// SplitMix64 (Steele, Lea and Flood, 2014): fast, and good enough to pick
/// from vocabularies. Not for cryptography.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (Lemire's multiply-shift, without rejection: the
    /// bias is below 2^-32 for the small `n` used here). `n` must be > 0.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "Rng::below(0)");
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// A number in `lo..=hi`.
    pub(crate) fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `num/den`.
    pub(crate) fn chance(&mut self, num: usize, den: usize) -> bool {
        self.below(den) < num
    }

    /// One element of a non-empty slice (a copy).
    pub(crate) fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }

    /// `k` distinct elements of `items` (fewer if it is shorter), in slice order.
    pub(crate) fn subset<T: Clone>(&mut self, items: &[T], k: usize) -> Vec<T> {
        let mut chosen = vec![false; items.len()];
        let mut left = k.min(items.len());
        while left > 0 {
            let i = self.below(items.len());
            if !chosen[i] {
                chosen[i] = true;
                left -= 1;
            }
        }
        let picked = items.iter().zip(chosen).filter(|(_, c)| *c);
        picked.map(|(t, _)| t.clone()).collect()
    }

    /// An independent generator, so that adding draws to one part of the
    /// output does not shift every part generated after it.
    pub(crate) fn fork(&mut self, salt: u64) -> Rng {
        Rng::new(self.next_u64() ^ salt.wrapping_mul(0xD6E8_FEB8_6659_FD93))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_reference_values() {
        // First outputs for seed 1234567, from the reference implementation.
        let mut r = Rng::new(1_234_567);
        assert_eq!(r.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(r.next_u64(), 3_203_168_211_198_807_973);
    }

    #[test]
    fn below_stays_in_range_and_subset_is_distinct() {
        let mut r = Rng::new(7);
        assert!((0..1000).all(|_| r.below(3) < 3));
        let s = r.subset(&[1, 2, 3, 4, 5], 3);
        assert_eq!(s.len(), 3);
        assert!(s.windows(2).all(|w| w[0] < w[1]));
    }
}
