//! Percentile bootstrap: for a mean, and for any statistic of a resample.

use crate::rng::SplitMix64;

/// Percentile bootstrap interval of the mean of `values`: `resamples` resamples with replacement
/// drawn from a generator seeded with `seed`, so the same inputs always give the same interval.
/// `level` is clamped to [0, 1]. Empty input gives (0, 0); `resamples == 0` gives the mean twice.
pub fn bootstrap_mean_ci(values: &[f64], resamples: usize, seed: u64, level: f64) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let n = values.len();
    if resamples == 0 {
        let m = values.iter().sum::<f64>() / n as f64;
        return (m, m);
    }
    let mut rng = SplitMix64::new(seed);
    let mut means: Vec<f64> = (0..resamples)
        .map(|_| {
            let mut sum = 0.0;
            for _ in 0..n {
                sum += values[rng.below(n as u64) as usize];
            }
            sum / n as f64
        })
        .collect();
    means.sort_by(f64::total_cmp);
    let alpha = (1.0 - level.clamp(0.0, 1.0)) / 2.0;
    (
        quantile_sorted(&means, alpha),
        quantile_sorted(&means, 1.0 - alpha),
    )
}

/// Percentile bootstrap interval of any statistic of `n` observations: each of `resamples`
/// resamples is a list of `n` indices drawn with replacement (seeded, so reproducible), and
/// `statistic` computes the value on it. A resample where the statistic is undefined (`None`,
/// e.g. an F1 with no positives drawn) is left out. `None` when `n` is 0 or no resample gave a
/// value. For statistics that are not means, such as F1 or a ratio of counts.
pub fn bootstrap_ci<F>(
    n: usize,
    resamples: usize,
    seed: u64,
    level: f64,
    mut statistic: F,
) -> Option<(f64, f64)>
where
    F: FnMut(&[usize]) -> Option<f64>,
{
    if n == 0 {
        return None;
    }
    let mut rng = SplitMix64::new(seed);
    let mut indices = vec![0usize; n];
    let mut values: Vec<f64> = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        for slot in indices.iter_mut() {
            *slot = rng.below(n as u64) as usize;
        }
        if let Some(v) = statistic(&indices) {
            values.push(v);
        }
    }
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let alpha = (1.0 - level.clamp(0.0, 1.0)) / 2.0;
    Some((
        quantile_sorted(&values, alpha),
        quantile_sorted(&values, 1.0 - alpha),
    ))
}

/// Quantile of sorted data with linear interpolation between order statistics (R's type 7).
pub(crate) fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => 0.0,
        1 => sorted[0],
        len => {
            let pos = q.clamp(0.0, 1.0) * (len - 1) as f64;
            let i = pos.floor() as usize;
            let frac = pos - i as f64;
            if i + 1 >= len {
                sorted[len - 1]
            } else {
                sorted[i] + frac * (sorted[i + 1] - sorted[i])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate() {
        let s = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&s, 0.0), 1.0);
        assert_eq!(quantile_sorted(&s, 1.0), 4.0);
        assert!((quantile_sorted(&s, 0.5) - 2.5).abs() < 1e-12);
    }

    #[test]
    fn deterministic_for_a_seed() {
        let v: Vec<f64> = (0..50).map(|i| (i as f64 * 0.37).sin()).collect();
        assert_eq!(
            bootstrap_mean_ci(&v, 500, 9, 0.95),
            bootstrap_mean_ci(&v, 500, 9, 0.95)
        );
        assert_ne!(
            bootstrap_mean_ci(&v, 500, 9, 0.95),
            bootstrap_mean_ci(&v, 500, 10, 0.95)
        );
    }

    #[test]
    fn constant_data_gives_a_point() {
        assert_eq!(bootstrap_mean_ci(&[0.25; 30], 200, 1, 0.95), (0.25, 0.25));
    }

    #[test]
    fn interval_is_near_the_normal_one_for_symmetric_data() {
        // 200 values evenly spread over [0, 1]: sd ~ 0.2894, se ~ 0.02046, 95% half-width ~ 0.0401.
        let v: Vec<f64> = (0..200).map(|i| i as f64 / 199.0).collect();
        let (lo, hi) = bootstrap_mean_ci(&v, 4000, 3, 0.95);
        let half = (hi - lo) / 2.0;
        assert!((half - 0.0401).abs() < 0.004, "half-width {half}");
        assert!(lo < 0.5 && hi > 0.5);
    }

    #[test]
    fn edge_cases() {
        assert_eq!(bootstrap_mean_ci(&[], 100, 0, 0.95), (0.0, 0.0));
        assert_eq!(bootstrap_mean_ci(&[1.0, 3.0], 0, 0, 0.95), (2.0, 2.0));
    }

    #[test]
    fn statistic_bootstrap_matches_the_mean_bootstrap_for_a_mean() {
        // Same seed, same draws: the generic form reproduces bootstrap_mean_ci exactly.
        let v: Vec<f64> = (0..80).map(|i| ((i * 7) % 11) as f64).collect();
        let mean = |idx: &[usize]| Some(idx.iter().map(|&i| v[i]).sum::<f64>() / idx.len() as f64);
        assert_eq!(
            bootstrap_ci(v.len(), 700, 5, 0.95, mean),
            Some(bootstrap_mean_ci(&v, 700, 5, 0.95))
        );
    }

    #[test]
    fn statistic_bootstrap_skips_undefined_resamples() {
        assert_eq!(bootstrap_ci(0, 100, 1, 0.95, |_| Some(1.0)), None);
        assert_eq!(bootstrap_ci(10, 100, 1, 0.95, |_| None), None);
        // Defined only when index 0 is drawn: still an interval, from those resamples alone.
        let ci = bootstrap_ci(5, 400, 2, 0.95, |idx| idx.contains(&0).then_some(0.5));
        assert_eq!(ci, Some((0.5, 0.5)));
    }
}
