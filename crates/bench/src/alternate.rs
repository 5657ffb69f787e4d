//! Throughput of one long TCP flow while a ruleset is switched in and out
//! of the packet path every few iperf3 reports. Two runs of iperf3 seconds
//! apart differ by 10-20% on a shared VM; adjacent half-second blocks of
//! the same flow differ far less, so comparing each block with the ruleset
//! in the path against the blocks without it on either side resolves a
//! few percent where separate runs cannot.

use crate::stats;

/// One report of the flow: its rate, whether the ruleset was in the path,
/// and whether the switch happened during it (such reports are left out).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub bits_per_second: f64,
    pub active: bool,
    pub switched: bool,
}

/// For each block of consecutive reports with the ruleset in the path, its
/// mean rate over the mean rate of the blocks without it right before and
/// after (one of them at the ends). Reports during a switch are left out;
/// a block left with no report is skipped.
pub fn ratios(samples: &[Sample]) -> Vec<f64> {
    // (active, mean rate) per block.
    let mut blocks: Vec<(bool, Vec<f64>)> = Vec::new();
    for s in samples {
        match blocks.last_mut() {
            Some((active, rates)) if *active == s.active => {
                if !s.switched {
                    rates.push(s.bits_per_second);
                }
            }
            _ => blocks.push((
                s.active,
                (!s.switched)
                    .then_some(s.bits_per_second)
                    .into_iter()
                    .collect(),
            )),
        }
    }
    let means: Vec<(bool, Option<f64>)> = blocks
        .into_iter()
        .map(|(active, rates)| (active, mean(&rates)))
        .collect();
    let mut out = Vec::new();
    for (i, &(active, rate)) in means.iter().enumerate() {
        let (true, Some(rate)) = (active, rate) else {
            continue;
        };
        let neighbours: Vec<f64> = [i.checked_sub(1), Some(i + 1)]
            .into_iter()
            .flatten()
            .filter_map(|j| means.get(j))
            .filter(|(active, _)| !active)
            .filter_map(|&(_, rate)| rate)
            .collect();
        if let Some(base) = mean(&neighbours) {
            out.push(rate / base);
        }
    }
    out
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Median of the ratios and its 95% confidence interval.
pub fn summary(ratios: &[f64]) -> Option<(f64, (f64, f64))> {
    Some((stats::median(ratios)?, stats::median_ci95(ratios)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(bps: f64, active: bool, switched: bool) -> Sample {
        Sample {
            bits_per_second: bps,
            active,
            switched,
        }
    }

    #[test]
    fn blocks_compare_with_their_neighbours_and_switches_are_left_out() {
        let samples = [
            s(50.0, true, true), // start-up: left out
            s(9.0, true, false),
            s(9.0, true, false),
            s(1.0, false, true), // the switch: left out
            s(10.0, false, false),
            s(99.0, true, true),
            s(11.0, true, false),
            s(12.0, false, true),
            s(12.0, false, false),
        ];
        // Block 1: 9 vs 10 (its only neighbour); block 3: 11 vs mean(10, 12).
        assert_eq!(ratios(&samples), vec![0.9, 1.0]);
    }

    #[test]
    fn no_neighbour_no_ratio() {
        assert!(ratios(&[s(9.0, true, false)]).is_empty());
        assert!(ratios(&[]).is_empty());
        let all_switching = [s(9.0, true, true), s(10.0, false, true)];
        assert!(ratios(&all_switching).is_empty());
    }
}
