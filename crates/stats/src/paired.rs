//! Percentile bootstrap interval for the mean difference of two models scored on the same items.
//!
//! Why resample pairs: both models answered the same items, so an item that is hard for one is
//! usually hard for the other. Resampling the items (each with both scores) keeps that shared
//! difficulty out of the interval; resampling the two score lists independently would count it
//! twice and give a needlessly wide interval.

use crate::bootstrap_mean_ci;

/// Percentile bootstrap interval of mean(a − b) at confidence `level`, resampling the pairs
/// (aᵢ, bᵢ) with the crate's seeded generator. Only the first min(len a, len b) pairs are used;
/// pairs with a non-finite member are skipped. No pairs give (0, 0); `resamples == 0` gives the
/// mean difference twice. Resampling pairs is resampling their differences, so this is
/// [`bootstrap_mean_ci`] over the differences: the same interval
/// [`paired_difference`](crate::paired_difference) reports, with the resample count and level
/// chosen by the caller.
pub fn paired_bootstrap_ci(
    a: &[f64],
    b: &[f64],
    resamples: usize,
    seed: u64,
    level: f64,
) -> (f64, f64) {
    bootstrap_mean_ci(&differences(a, b), resamples, seed, level)
}

/// aᵢ − bᵢ over the first min(len a, len b) pairs, skipping pairs with a non-finite member: what
/// every paired statistic here works on.
pub(crate) fn differences(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter()
        .zip(b)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|(x, y)| x - y)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_paired_difference() {
        let a: Vec<f64> = (0..80).map(|i| f64::from(i % 4 != 0)).collect();
        let b: Vec<f64> = (0..80).map(|i| f64::from(i % 2 != 0)).collect();
        let e = crate::paired_difference(&a, &b, 7);
        assert_eq!(
            paired_bootstrap_ci(&a, &b, crate::BOOTSTRAP_RESAMPLES, 7, 0.95),
            (e.ci_low, e.ci_high)
        );
    }

    #[test]
    fn shared_difficulty_is_removed() {
        // b is a plus a constant 0.1 on every item, with widely varying item difficulty: the
        // paired interval is exactly the point −0.1, while unpaired intervals are wide.
        let a: Vec<f64> = (0..50)
            .map(|i| (i as f64 * 0.61).sin().abs() * 0.8)
            .collect();
        let b: Vec<f64> = a.iter().map(|x| x + 0.1).collect();
        let (lo, hi) = paired_bootstrap_ci(&a, &b, 500, 1, 0.95);
        assert!(
            (lo + 0.1).abs() < 1e-12 && (hi + 0.1).abs() < 1e-12,
            "({lo}, {hi})"
        );
    }

    #[test]
    fn edge_cases() {
        assert_eq!(paired_bootstrap_ci(&[], &[1.0], 100, 0, 0.95), (0.0, 0.0));
        assert_eq!(
            paired_bootstrap_ci(&[1.0, f64::NAN], &[0.5, 0.0, 9.0], 100, 0, 0.95),
            (0.5, 0.5)
        );
        assert_eq!(
            paired_bootstrap_ci(&[1.0, 0.0], &[0.0, 0.0], 0, 0, 0.95),
            (0.5, 0.5)
        );
    }
}

/// Two-sided p-value of the paired t-test on aᵢ − bᵢ, for graded scores where McNemar does not
/// apply. Pairs with a non-finite member are skipped. Fewer than two pairs, or differences that
/// are all zero, give 1; differences that are all the same nonzero value give 0.
pub fn paired_t_test(a: &[f64], b: &[f64]) -> f64 {
    let d = differences(a, b);
    let n = d.len();
    if n < 2 {
        return 1.0;
    }
    let mean = d.iter().sum::<f64>() / n as f64;
    let var = d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    if var <= 0.0 {
        return if mean == 0.0 { 1.0 } else { 0.0 };
    }
    let t = mean / (var / n as f64).sqrt();
    (2.0 * (1.0 - crate::dist::t_cdf(t.abs(), (n - 1) as f64))).clamp(0.0, 1.0)
}

#[cfg(test)]
mod t_test {
    use super::paired_t_test;

    #[test]
    fn paired_t_is_one_without_a_difference_and_small_with_a_steady_one() {
        assert_eq!(paired_t_test(&[0.5, 0.7, 0.2], &[0.5, 0.7, 0.2]), 1.0);
        let xs: Vec<f64> = (0..50).map(|i| 0.5 + (i % 5) as f64 * 0.01).collect();
        let ys: Vec<f64> = xs
            .iter()
            .enumerate()
            .map(|(i, x)| x - 0.1 + (i % 3) as f64 * 0.001)
            .collect();
        assert!(paired_t_test(&xs, &ys) < 1e-6);
        // Textbook: d = (1, 2, 3, 4, 5) − 2.5 … mean 0.5, sd 1.58, t = 0.707, df 4 → p ≈ 0.519.
        let p = paired_t_test(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.5; 5]);
        assert!((p - 0.5185).abs() < 1e-3, "{p}");
    }
}
