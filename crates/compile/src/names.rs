//! Stable names for kernel objects: a short hash of a content key, so the
//! same selector, port list or policy list gets the same name in every
//! compilation and a change becomes an element or chain delta, not a rename.

/// FNV-1a, 64 bits: tiny, stable across Rust versions and platforms.
pub fn hash(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `prefix` + 12 hex digits of the key's hash, e.g. `a_3f09c1d2e4b5`.
pub fn name(prefix: &str, key: &str) -> String {
    format!("{prefix}_{:012x}", hash(key) & 0xffff_ffff_ffff)
}

#[cfg(test)]
mod tests {
    #[test]
    fn stable_and_distinct() {
        assert_eq!(super::name("a", "x"), super::name("a", "x"));
        assert_ne!(super::name("a", "x"), super::name("a", "y"));
        assert_eq!(super::name("c", "k").len(), 2 + 12);
        // Pinned: a changed hash would rename every object in running kernels.
        assert_eq!(super::hash(""), 0xcbf2_9ce4_8422_2325);
    }
}
