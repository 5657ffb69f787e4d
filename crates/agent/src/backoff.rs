//! Exponential backoff with jitter for reconnecting to the API server, so a
//! thousand agents do not all retry at the same instant after an outage.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Delays of `min`, doubling up to `max`, each shortened by up to a quarter
/// at random; [`Backoff::reset`] starts over.
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
    seed: u64,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Self {
        let min = min.min(max);
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos().into())
            ^ u64::from(std::process::id()).rotate_left(32);
        Self {
            min,
            max,
            next: min,
            seed: seed | 1,
        }
    }

    /// The delay before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(self.max);
        base - base.mul_f64(self.jitter() * 0.25)
    }

    /// After a success: the next failure waits `min` again.
    pub fn reset(&mut self) {
        self.next = self.min;
    }

    /// A number in [0, 1) (xorshift; no need for a real RNG here).
    fn jitter(&mut self) -> f64 {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        (self.seed >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_max_with_bounded_jitter_and_resets() {
        let (min, max) = (Duration::from_millis(100), Duration::from_millis(500));
        let mut b = Backoff::new(min, max);
        let delays: Vec<Duration> = (0..5).map(|_| b.next_delay()).collect();
        let bases = [100, 200, 400, 500, 500].map(Duration::from_millis);
        for (d, base) in delays.iter().zip(bases) {
            assert!(*d <= base && *d >= base.mul_f64(0.75), "{d:?} vs {base:?}");
        }
        b.reset();
        assert!(b.next_delay() <= min);
    }
}
