//! Cluster-robust (CR1) confidence interval for a mean.

use std::collections::HashMap;

use crate::dist::t_critical;

/// Confidence interval of the mean of `values` when samples sharing a cluster label are not
/// independent: cluster-robust standard error with the CR1 small-sample factor G/(G-1) and a
/// t critical value with G-1 degrees of freedom (G = number of clusters), clamped to the range
/// of the data. With fewer than two clusters nothing can be said about between-cluster spread,
/// so the interval is the whole range of the data. Pairs beyond the shorter of the two slices
/// are ignored. Empty input gives (0, 0).
pub fn clustered_mean_ci(values: &[f64], clusters: &[&str], level: f64) -> (f64, f64) {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let ids: Vec<usize> = clusters
        .iter()
        .take(values.len())
        .map(|c| {
            let next = index.len();
            *index.entry(c).or_insert(next)
        })
        .collect();
    clustered_by_id(&values[..ids.len()], &ids, level)
}

/// As [`clustered_mean_ci`], with clusters given as dense ids `0..G` (same length as `values`).
pub(crate) fn clustered_by_id(values: &[f64], ids: &[usize], level: f64) -> (f64, f64) {
    let n = values.len().min(ids.len());
    if n == 0 {
        return (0.0, 0.0);
    }
    let values = &values[..n];
    let ids = &ids[..n];
    let (min, max) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let mean = values.iter().sum::<f64>() / n as f64;
    let groups = ids.iter().copied().max().map_or(0, |m| m + 1);
    let mut residual_sums = vec![0.0; groups];
    for (&v, &g) in values.iter().zip(ids) {
        residual_sums[g] += v - mean;
    }
    // Ids need not be dense when a caller skipped some values; count the clusters actually used.
    let mut used = vec![false; groups];
    for &g in ids {
        used[g] = true;
    }
    let g = used.iter().filter(|&&u| u).count();
    if g < 2 {
        return (min, max);
    }
    let gf = g as f64;
    let meat: f64 = residual_sums.iter().map(|s| s * s).sum();
    let variance = gf / (gf - 1.0) * meat / (n as f64 * n as f64);
    let half = t_critical(level, gf - 1.0) * variance.sqrt();
    ((mean - half).clamp(min, max), (mean + half).clamp(min, max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn independent_singletons_match_the_t_interval() {
        // Every value its own cluster: CR1 variance = n/(n-1) * sum e^2 / n^2 = s^2 / n.
        let values = [0.1, 0.4, 0.35, 0.8, 0.55, 0.6];
        let labels: Vec<String> = (0..values.len()).map(|i| i.to_string()).collect();
        let refs: Vec<&str> = labels.iter().map(String::as_str).collect();
        let (lo, hi) = clustered_mean_ci(&values, &refs, 0.95);
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let s2 = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let half = 2.570_581_836 * (s2 / n).sqrt();
        assert!(
            (lo - (mean - half)).abs() < 1e-6 && (hi - (mean + half)).abs() < 1e-6,
            "({lo}, {hi})"
        );
    }

    #[test]
    fn one_cluster_gives_the_data_range() {
        assert_eq!(
            clustered_mean_ci(&[0.2, 0.5, 0.9], &["x", "x", "x"], 0.95),
            (0.2, 0.9)
        );
    }

    #[test]
    fn clamped_to_data_range() {
        // Two clusters far apart: the t(1) critical value is 12.7, the raw interval is huge.
        let (lo, hi) = clustered_mean_ci(&[0.0, 0.0, 1.0, 1.0], &["a", "a", "b", "b"], 0.95);
        assert_eq!((lo, hi), (0.0, 1.0));
    }

    #[test]
    fn empty_is_a_point() {
        assert_eq!(clustered_mean_ci(&[], &[], 0.95), (0.0, 0.0));
    }
}
