//! Means with 95% confidence intervals, and paired comparisons. Pure numbers: this crate knows
//! nothing of samples, models or runs.
//!
//! [`mean_ci`] picks the interval that fits the data:
//! - clustered standard errors when cluster labels are given and some cluster has several members
//!   (samples that share a passage or a template are not independent);
//! - the Wilson score interval when every value is exactly 0 or 1;
//! - a seeded percentile bootstrap otherwise.
//!
//! [`MeanAccumulator`] does the same for values that arrive one at a time.
//!
//! Beyond the default interval: the exact binomial interval ([`clopper_pearson`]), the BCa
//! bootstrap ([`bca_bootstrap_ci`]), paired comparisons ([`paired_difference`],
//! [`paired_bootstrap_ci`], McNemar's exact test [`mcnemar_exact`]), agreement between raters ([`cohen_kappa`]), Holm's correction for many
//! comparisons ([`holm`]), leaderboard [`tiers`], and sample-size planning ([`power`]).

mod bca;
mod bootstrap;
mod clopper_pearson;
mod clustered;
pub mod dist;
mod error;
mod holm;
mod kappa;
mod mcnemar;
mod paired;
mod pass_at_k;
pub mod power;
mod rng;
mod tiers;
mod wilson;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

pub use bca::bca_bootstrap_ci;
pub use bootstrap::{bootstrap_ci, bootstrap_mean_ci};
pub use clopper_pearson::clopper_pearson;
pub use clustered::clustered_mean_ci;
pub use error::StatsError;
pub use holm::holm;
pub use kappa::{Kappa, cohen_kappa};
pub use mcnemar::{McNemar, mcnemar_exact, mcnemar_exact_counts};
pub use paired::{paired_bootstrap_ci, paired_t_test};
pub use pass_at_k::pass_at_k;
pub use power::{
    half_width_n, minimum_detectable_effect, one_proportion_n, paired_n, two_proportions_n,
};
pub use tiers::tiers;
pub use wilson::wilson;

/// Confidence level of every interval [`mean_ci`] reports.
pub const LEVEL: f64 = 0.95;

/// Resamples [`mean_ci`] draws for a bootstrap interval on small and medium inputs.
pub const BOOTSTRAP_RESAMPLES: usize = 2000;

/// Bootstrap work is resamples × n draws; above this many the resample count is lowered (never
/// below [`MIN_BOOTSTRAP_RESAMPLES`]) so a 200,000-item run still aggregates in well under a
/// second. At such n the interval is narrow and its percentile noise negligible.
const BOOTSTRAP_BUDGET: usize = 20_000_000;
const MIN_BOOTSTRAP_RESAMPLES: usize = 200;

/// A mean with its 95% confidence interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub value: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Number of values the mean is over (non-finite inputs are not counted).
    pub n: usize,
    pub method: CiMethod,
}

/// How an [`Estimate`]'s interval was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CiMethod {
    Wilson,
    Bootstrap,
    Clustered,
    /// A macro average over groups: the normal interval from the groups' own standard errors
    /// (see [`macro_average`]).
    Macro,
    /// No values: there is no interval.
    None,
}

/// The macro average of group estimates (every group weighs the same) with a 95% normal
/// interval: each group's standard error is recovered from its interval's half-width, and the
/// groups are independent, so SE = √(Σ seᵢ²) / G. Values that live in [0, 1] keep their
/// interval there. `n` is the total number of values behind the groups.
pub fn macro_average(groups: &[Estimate]) -> Estimate {
    let groups: Vec<&Estimate> = groups.iter().filter(|g| g.n > 0).collect();
    if groups.is_empty() {
        return Estimate::empty();
    }
    let g = groups.len() as f64;
    let z = dist::normal_critical(LEVEL);
    let mean = groups.iter().map(|e| e.value).sum::<f64>() / g;
    let var: f64 = groups
        .iter()
        .map(|e| ((e.ci_high - e.ci_low) / (2.0 * z)).powi(2))
        .sum();
    let se = var.sqrt() / g;
    let unit = groups
        .iter()
        .all(|e| (0.0..=1.0).contains(&e.value) && e.ci_low >= 0.0 && e.ci_high <= 1.0);
    let (mut lo, mut hi) = (mean - z * se, mean + z * se);
    if unit {
        lo = lo.max(0.0);
        hi = hi.min(1.0);
    }
    Estimate::new(
        mean,
        (lo, hi),
        groups.iter().map(|e| e.n).sum(),
        CiMethod::Macro,
    )
}

impl Estimate {
    /// The estimate of nothing: n = 0, everything 0.0 (never NaN), method `None`.
    pub fn empty() -> Self {
        Estimate {
            value: 0.0,
            ci_low: 0.0,
            ci_high: 0.0,
            n: 0,
            method: CiMethod::None,
        }
    }

    /// Half the width of the interval.
    pub fn half_width(&self) -> f64 {
        (self.ci_high - self.ci_low) / 2.0
    }

    fn new(value: f64, (lo, hi): (f64, f64), n: usize, method: CiMethod) -> Self {
        // Floating-point rounding (e.g. Wilson at p = 1) must never leave the value outside.
        Estimate {
            value,
            ci_low: lo.min(value),
            ci_high: hi.max(value),
            n,
            method,
        }
    }
}

/// Mean of `values` with a 95% confidence interval; see the crate docs for which interval.
///
/// `clusters`, when given, labels each value (same order). A label slice of a different length
/// than `values` cannot be matched up and is ignored. Non-finite values (NaN, ±∞) are skipped
/// together with their labels. `seed` makes the bootstrap reproducible.
pub fn mean_ci(values: &[f64], clusters: Option<&[&str]>, seed: u64) -> Estimate {
    let clusters = clusters.filter(|c| c.len() == values.len());
    let mut finite = Vec::with_capacity(values.len());
    let mut ids = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, &v) in values.iter().enumerate() {
        if !v.is_finite() {
            continue;
        }
        finite.push(v);
        if let Some(labels) = clusters {
            let next = index.len();
            ids.push(*index.entry(labels[i]).or_insert(next));
        }
    }
    let ids = clusters.map(|_| ids.as_slice());
    estimate(&finite, ids, seed)
}

/// Shared by [`mean_ci`] and [`MeanAccumulator::finish`]; `values` are all finite and `ids`, when
/// present, has one cluster id per value.
fn estimate(values: &[f64], ids: Option<&[usize]>, seed: u64) -> Estimate {
    let n = values.len();
    if n == 0 {
        return Estimate::empty();
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    if let Some(ids) = ids.filter(|ids| has_shared_cluster(ids)) {
        let binary = values.iter().all(|&v| v == 0.0 || v == 1.0);
        if binary && (mean == 0.0 || mean == 1.0) {
            // Every value the same: the clustered standard error is zero, which would claim
            // certainty. Wilson over the clusters (the independent units) keeps an honest width.
            let clusters = ids.iter().copied().max().map_or(0, |m| m + 1);
            let g = {
                let mut seen = vec![false; clusters];
                ids.iter().for_each(|&i| seen[i] = true);
                seen.iter().filter(|&&s| s).count() as u64
            };
            let z = dist::normal_critical(LEVEL);
            let successes = if mean == 1.0 { g } else { 0 };
            return Estimate::new(mean, wilson(successes, g, z), n, CiMethod::Clustered);
        }
        return Estimate::new(
            mean,
            clustered::clustered_by_id(values, ids, LEVEL),
            n,
            CiMethod::Clustered,
        );
    }
    if values.iter().all(|&v| v == 0.0 || v == 1.0) {
        let successes = values.iter().filter(|&&v| v == 1.0).count() as u64;
        let z = dist::normal_critical(LEVEL);
        return Estimate::new(mean, wilson(successes, n as u64, z), n, CiMethod::Wilson);
    }
    let resamples = (BOOTSTRAP_BUDGET / n).clamp(MIN_BOOTSTRAP_RESAMPLES, BOOTSTRAP_RESAMPLES);
    Estimate::new(
        mean,
        bootstrap_mean_ci(values, resamples, seed, LEVEL),
        n,
        CiMethod::Bootstrap,
    )
}

fn has_shared_cluster(ids: &[usize]) -> bool {
    let mut seen = vec![false; ids.iter().copied().max().map_or(0, |m| m + 1)];
    for &g in ids {
        if seen[g] {
            return true;
        }
        seen[g] = true;
    }
    false
}

/// Mean difference `a[i] - b[i]` of two models scored on the same items, with a 95% percentile
/// bootstrap interval over the paired differences (pairing removes the between-item variance
/// both models share). Only the first min(len a, len b) pairs are used; pairs with a non-finite
/// member are skipped.
pub fn paired_difference(a: &[f64], b: &[f64], seed: u64) -> Estimate {
    let diffs = paired::differences(a, b);
    let n = diffs.len();
    if n == 0 {
        return Estimate::empty();
    }
    let mean = diffs.iter().sum::<f64>() / n as f64;
    let resamples = (BOOTSTRAP_BUDGET / n).clamp(MIN_BOOTSTRAP_RESAMPLES, BOOTSTRAP_RESAMPLES);
    Estimate::new(
        mean,
        bootstrap_mean_ci(&diffs, resamples, seed, LEVEL),
        n,
        CiMethod::Bootstrap,
    )
}

/// Collects values one at a time (e.g. scores as the engine produces them) and gives the same
/// [`Estimate`] as [`mean_ci`] over them. It keeps the values (8 bytes each; the bootstrap needs
/// them) and a 4-byte cluster id per value only once some value has come with a cluster.
#[derive(Debug, Clone, Default)]
pub struct MeanAccumulator {
    values: Vec<f64>,
    sum: f64,
    /// One id per value, filled in once the first cluster label arrives.
    cluster_ids: Option<Vec<u32>>,
    cluster_index: HashMap<String, u32>,
    /// Values without a label are clusters of their own; they get fresh ids from here.
    next_id: u32,
    skipped: usize,
}

impl MeanAccumulator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one value. Non-finite values are counted in [`skipped`](Self::skipped) and otherwise
    /// ignored, as in [`mean_ci`].
    pub fn push(&mut self, value: f64, cluster: Option<&str>) {
        if !value.is_finite() {
            self.skipped += 1;
            return;
        }
        match (cluster, &mut self.cluster_ids) {
            (None, None) => {}
            (None, Some(_)) => {
                let id = self.fresh_id();
                if let Some(ids) = &mut self.cluster_ids {
                    ids.push(id);
                }
            }
            (Some(label), _) => {
                if self.cluster_ids.is_none() {
                    // Backfill: every earlier value was a cluster of its own.
                    let backfill: Vec<u32> =
                        (0..self.values.len()).map(|_| self.fresh_id()).collect();
                    self.cluster_ids = Some(backfill);
                }
                let id = match self.cluster_index.get(label) {
                    Some(&id) => id,
                    None => {
                        let id = self.fresh_id();
                        self.cluster_index.insert(label.to_string(), id);
                        id
                    }
                };
                if let Some(ids) = &mut self.cluster_ids {
                    ids.push(id);
                }
            }
        }
        self.values.push(value);
        self.sum += value;
    }

    fn fresh_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        id
    }

    /// Number of finite values pushed.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Number of non-finite values that were pushed and ignored.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// The running mean (0.0 when empty).
    pub fn mean(&self) -> f64 {
        if self.values.is_empty() {
            0.0
        } else {
            self.sum / self.values.len() as f64
        }
    }

    /// The mean with its 95% interval; `seed` makes a bootstrap reproducible.
    pub fn finish(&self, seed: u64) -> Estimate {
        let ids: Option<Vec<usize>> = self
            .cluster_ids
            .as_ref()
            .map(|ids| ids.iter().map(|&i| i as usize).collect());
        estimate(&self.values, ids.as_deref(), seed)
    }
}

impl Extend<f64> for MeanAccumulator {
    fn extend<I: IntoIterator<Item = f64>>(&mut self, iter: I) {
        for v in iter {
            self.push(v, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macro_average_weighs_groups_equally() {
        let a = mean_ci(
            &[1.0; 90]
                .iter()
                .chain(&[0.0; 10])
                .copied()
                .collect::<Vec<_>>(),
            None,
            0,
        );
        let b = mean_ci(&[1.0, 0.0], None, 0);
        let m = macro_average(&[a.clone(), b.clone(), Estimate::empty()]);
        assert!(
            (m.value - (0.9 + 0.5) / 2.0).abs() < 1e-12,
            "the empty group is left out"
        );
        assert_eq!(m.n, 102);
        assert_eq!(m.method, CiMethod::Macro);
        assert!(m.ci_low < m.value && m.value < m.ci_high && m.ci_low >= 0.0 && m.ci_high <= 1.0);
        // The tiny group dominates the uncertainty.
        assert!(m.ci_high - m.ci_low > (a.ci_high - a.ci_low) / 2.0);
    }

    #[test]
    fn clustered_all_equal_keeps_a_width_over_clusters() {
        // 21 zeros in 3 clusters: as uncertain as 0 of 3 independent units, not certain.
        let values = vec![0.0; 21];
        let labels: Vec<String> = (0..21).map(|i| format!("c{}", i % 3)).collect();
        let refs: Vec<&str> = labels.iter().map(String::as_str).collect();
        let e = mean_ci(&values, Some(&refs), 0);
        let w = wilson(0, 3, dist::normal_critical(LEVEL));
        assert_eq!((e.ci_low, e.ci_high), w);
        assert!(e.ci_high > 0.5);
        let ones = vec![1.0; 21];
        let e = mean_ci(&ones, Some(&refs), 0);
        assert_eq!(
            (e.ci_low, e.ci_high),
            wilson(3, 3, dist::normal_critical(LEVEL))
        );
    }

    #[test]
    fn empty_input_is_nan_free() {
        let e = mean_ci(&[], None, 0);
        assert_eq!(
            e,
            Estimate {
                value: 0.0,
                ci_low: 0.0,
                ci_high: 0.0,
                n: 0,
                method: CiMethod::None
            }
        );
        assert_eq!(mean_ci(&[f64::NAN], None, 0).n, 0);
        assert_eq!(MeanAccumulator::new().finish(0), Estimate::empty());
    }

    #[test]
    fn binary_values_use_wilson() {
        let v = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0];
        let e = mean_ci(&v, None, 0);
        assert_eq!(e.method, CiMethod::Wilson);
        assert_eq!(e.n, 10);
        assert!((e.value - 0.8).abs() < 1e-12);
        assert!(
            (e.ci_low - 0.4902).abs() < 5e-5 && (e.ci_high - 0.9433).abs() < 5e-5,
            "{e:?}"
        );
    }

    #[test]
    fn singleton_clusters_do_not_count_as_clustered() {
        let v = [1.0, 0.0, 1.0];
        let e = mean_ci(&v, Some(&["a", "b", "c"]), 0);
        assert_eq!(e.method, CiMethod::Wilson);
        let e = mean_ci(&v, Some(&["a", "b", "a"]), 0);
        assert_eq!(e.method, CiMethod::Clustered);
    }

    #[test]
    fn mismatched_cluster_labels_are_ignored() {
        let e = mean_ci(&[1.0, 0.0, 1.0], Some(&["a", "a"]), 0);
        assert_eq!(e.method, CiMethod::Wilson);
    }

    #[test]
    fn non_binary_values_use_bootstrap() {
        let v = [0.5, 0.25, 1.0, 0.0, 0.75];
        let e = mean_ci(&v, None, 1);
        assert_eq!(e.method, CiMethod::Bootstrap);
        assert!((e.value - 0.5).abs() < 1e-12);
        assert!(e.ci_low < 0.5 && e.ci_high > 0.5);
    }

    #[test]
    fn accumulator_matches_mean_ci() {
        let values = [0.1, 0.9, 0.4, 0.4, 1.0, 0.0, 0.3];
        let labels = ["p1", "p1", "p2", "p3", "p3", "p4", "p2"];
        let mut acc = MeanAccumulator::new();
        for (v, c) in values.iter().zip(labels) {
            acc.push(*v, Some(c));
        }
        assert_eq!(acc.finish(5), mean_ci(&values, Some(&labels), 5));

        let mut plain = MeanAccumulator::new();
        plain.extend(values);
        plain.push(f64::NAN, None);
        assert_eq!(plain.skipped(), 1);
        assert_eq!(plain.finish(5), mean_ci(&values, None, 5));
    }

    #[test]
    fn accumulator_backfills_singletons_before_the_first_cluster() {
        // Unlabelled values are their own clusters, exactly like distinct labels in mean_ci.
        let mut acc = MeanAccumulator::new();
        acc.push(0.2, None);
        acc.push(0.6, None);
        acc.push(0.7, Some("x"));
        acc.push(0.9, Some("x"));
        acc.push(0.1, None);
        let e = acc.finish(0);
        let want = mean_ci(
            &[0.2, 0.6, 0.7, 0.9, 0.1],
            Some(&["u0", "u1", "x", "x", "u2"]),
            0,
        );
        assert_eq!(e, want);
        assert_eq!(e.method, CiMethod::Clustered);
        assert!((acc.mean() - 0.5).abs() < 1e-12);
    }

    #[test]
    fn paired_difference_detects_a_consistent_gap() {
        let a: Vec<f64> = (0..40)
            .map(|i| if i % 4 == 0 { 0.0 } else { 1.0 })
            .collect();
        let b: Vec<f64> = (0..40)
            .map(|i| if i % 2 == 0 { 0.0 } else { 1.0 })
            .collect();
        let d = paired_difference(&a, &b, 3);
        assert!((d.value - 0.25).abs() < 1e-12);
        assert!(d.ci_low > 0.0, "{d:?}");
        assert_eq!(d.n, 40);
        assert_eq!(paired_difference(&[], &[1.0], 0), Estimate::empty());
        // Identical models: the difference is exactly zero.
        let same = paired_difference(&a, &a, 3);
        assert_eq!((same.value, same.ci_low, same.ci_high), (0.0, 0.0, 0.0));
    }

    #[test]
    fn method_serialises_snake_case() {
        let json = serde_json::to_string(&mean_ci(&[1.0], None, 0)).unwrap_or_default();
        assert!(json.contains("\"method\":\"wilson\""), "{json}");
        assert_eq!(
            serde_json::to_string(&CiMethod::None).ok().as_deref(),
            Some("\"none\"")
        );
    }
}
