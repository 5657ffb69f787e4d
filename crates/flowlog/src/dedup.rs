//! One record per connection attempt: retransmitted SYNs (and repeated
//! datagrams) of the same 5-tuple within one second are dropped.

use std::collections::HashMap;

use palisade_model::Direction;

use crate::packet::FiveTuple;
use crate::record::Mode;

/// What makes two logged packets the same attempt.
pub type DedupKey = (FiveTuple, Direction, Mode);

/// Remembers the keys seen in the current and the previous second.
#[derive(Debug, Default)]
pub struct Dedup {
    second: u64,
    seen: HashMap<DedupKey, u64>,
}

impl Dedup {
    pub fn new() -> Self {
        Self::default()
    }

    /// True when `key` was not admitted in the same second (of `now_ms`).
    pub fn admit(&mut self, key: DedupKey, now_ms: u64) -> bool {
        let second = now_ms / 1000;
        if second != self.second {
            // Bounded: only keys of the current second survive a tick.
            self.seen.retain(|_, s| *s >= second);
            self.second = second;
        }
        match self.seen.insert(key, second) {
            Some(s) => s != second,
            None => true,
        }
    }

    /// How many keys are remembered.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(port: u16) -> DedupKey {
        let t = FiveTuple {
            src: "10.0.0.5".parse().unwrap(),
            dst: "10.0.0.6".parse().unwrap(),
            protocol: 6,
            src_port: Some(port),
            dst_port: Some(80),
        };
        (t, Direction::Ingress, Mode::Deny)
    }

    #[test]
    fn one_per_tuple_per_second_and_bounded() {
        let mut d = Dedup::new();
        assert!(d.admit(key(1), 10_000));
        assert!(
            !d.admit(key(1), 10_999),
            "retransmission in the same second"
        );
        assert!(
            d.admit(key(2), 10_500),
            "another source port is another attempt"
        );
        assert!(d.admit(key(1), 11_000), "next second");
        assert_eq!(d.len(), 1, "keys of past seconds are forgotten");
        let (t, dir, _) = key(1);
        assert!(
            d.admit((t, dir, Mode::Audit), 11_001),
            "mode is part of the key"
        );
    }
}
