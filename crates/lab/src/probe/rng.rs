//! Random nonces, INIT tags and source ports for probes.

use std::fs::File;

/// SplitMix64: nonces, tags and ports only need to be unpredictable enough not to collide.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn seeded() -> Self {
        let mut seed = [0u8; 8];
        let _ = File::open("/dev/urandom")
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut seed));
        let time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Rng(u64::from_le_bytes(seed) ^ time.as_nanos() as u64)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(super) fn nonce(&mut self) -> [u8; 16] {
        let mut nonce = *b"plab____________";
        nonce[4..12].copy_from_slice(&self.next().to_le_bytes());
        nonce[12..].copy_from_slice(&(self.next() as u32).to_le_bytes());
        nonce
    }

    /// A non-zero initiate tag (zero is invalid in an INIT).
    pub(super) fn tag(&mut self) -> u32 {
        (self.next() as u32).max(1)
    }

    /// A source port in the usual ephemeral range, fresh for each probe (fresh conntrack entry).
    pub(super) fn port(&mut self) -> u16 {
        32_768 + (self.next() % 28_232) as u16
    }
}
