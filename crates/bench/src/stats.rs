//! Medians and percentiles of samples (nearest-rank, on sorted copies).

/// The `q`-quantile (0.0..=1.0) by nearest rank; `None` for no samples.
pub fn quantile(samples: &[f64], q: f64) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let rank = (q.clamp(0.0, 1.0) * s.len() as f64).ceil() as usize;
    Some(s[rank.saturating_sub(1).min(s.len() - 1)])
}

/// The median (for an even count, the mean of the two middle samples).
pub fn median(samples: &[f64]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    Some(match n % 2 {
        1 => s[n / 2],
        _ => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    })
}

/// An approximate 95% confidence interval of the median, distribution
/// free: the order statistics at ranks `(n - 1.96 sqrt(n)) / 2` and
/// `1 + (n + 1.96 sqrt(n)) / 2` (the binomial's normal approximation; with
/// few samples it widens to the smallest and largest). `None` for no samples.
pub fn median_ci95(samples: &[f64]) -> Option<(f64, f64)> {
    if samples.is_empty() {
        return None;
    }
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len() as f64;
    let half = 1.96 * n.sqrt() / 2.0;
    let low = ((n / 2.0 - half).floor() as usize).max(1);
    let high = ((1.0 + n / 2.0 + half).ceil() as usize).min(s.len());
    Some((s[low - 1], s[high - 1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let s: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&s, 0.5), Some(50.0));
        assert_eq!(quantile(&s, 0.99), Some(99.0));
        assert_eq!(quantile(&s, 1.0), Some(100.0));
        assert_eq!(quantile(&[3.0], 0.99), Some(3.0));
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
    }

    #[test]
    fn median_confidence_interval() {
        let s: Vec<f64> = (1..=100).map(f64::from).collect();
        // Ranks 40 and 61 for n = 100 (the textbook interval).
        assert_eq!(median_ci95(&s), Some((40.0, 61.0)));
        let few = [3.0, 1.0, 2.0];
        assert_eq!(
            median_ci95(&few),
            Some((1.0, 3.0)),
            "few samples: the range"
        );
        assert_eq!(median_ci95(&[]), None);
    }
}
