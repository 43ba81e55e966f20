//! Properties of the intervals over arbitrary inputs.

use proptest::prelude::*;
use touchstone_stats::{
    CiMethod, MeanAccumulator, bootstrap_mean_ci, clustered_mean_ci, mean_ci, wilson,
};

const Z95: f64 = 1.959_963_984_540_054;

fn config() -> ProptestConfig {
    // The bootstrap runs 2,000 resamples per case in an unoptimised build; keep the suite quick.
    ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn interval_contains_the_mean(values in prop::collection::vec(-1e6f64..1e6, 0..40), seed in any::<u64>()) {
        let e = mean_ci(&values, None, seed);
        prop_assert_eq!(e.n, values.len());
        prop_assert!(e.ci_low <= e.value && e.value <= e.ci_high, "{:?}", e);
        prop_assert!(e.value.is_finite() && e.ci_low.is_finite() && e.ci_high.is_finite());
        if !values.is_empty() {
            let min = values.iter().copied().fold(f64::INFINITY, f64::min);
            let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            prop_assert!(e.ci_low >= min - 1e-9 && e.ci_high <= max + 1e-9, "{:?} outside [{}, {}]", e, min, max);
        }
    }

    #[test]
    fn binary_intervals_stay_in_the_unit_interval(bits in prop::collection::vec(any::<bool>(), 1..300)) {
        let values: Vec<f64> = bits.iter().map(|&b| if b { 1.0 } else { 0.0 }).collect();
        let e = mean_ci(&values, None, 0);
        prop_assert_eq!(e.method, CiMethod::Wilson);
        prop_assert!(0.0 <= e.ci_low && e.ci_low <= e.value && e.value <= e.ci_high && e.ci_high <= 1.0, "{:?}", e);
    }

    #[test]
    fn wilson_is_ordered_and_bounded(n in 0u64..100_000, k in 0u64..100_000) {
        let (lo, hi) = wilson(k.min(n), n, Z95);
        prop_assert!(0.0 <= lo && lo <= hi && hi <= 1.0);
        if n > 0 {
            let p = k.min(n) as f64 / n as f64;
            prop_assert!(lo <= p + 1e-12 && p <= hi + 1e-12);
        }
    }

    #[test]
    fn clustered_interval_contains_the_mean(
        rows in prop::collection::vec((0.0f64..1.0, 0usize..6), 1..60),
        seed in any::<u64>(),
    ) {
        let values: Vec<f64> = rows.iter().map(|r| r.0).collect();
        let labels: Vec<String> = rows.iter().map(|r| format!("c{}", r.1)).collect();
        let refs: Vec<&str> = labels.iter().map(String::as_str).collect();
        let e = mean_ci(&values, Some(&refs), seed);
        prop_assert!(e.ci_low <= e.value && e.value <= e.ci_high, "{:?}", e);
        prop_assert!(e.ci_low >= 0.0 && e.ci_high <= 1.0);
    }

    #[test]
    fn bootstrap_is_deterministic(values in prop::collection::vec(-10.0f64..10.0, 1..30), seed in any::<u64>()) {
        prop_assert_eq!(bootstrap_mean_ci(&values, 300, seed, 0.95), bootstrap_mean_ci(&values, 300, seed, 0.95));
        prop_assert_eq!(mean_ci(&values, None, seed), mean_ci(&values, None, seed));
    }

    #[test]
    fn accumulator_agrees_with_mean_ci(values in prop::collection::vec(0.0f64..1.0, 0..30), seed in any::<u64>()) {
        let mut acc = MeanAccumulator::new();
        for &v in &values {
            acc.push(v, None);
        }
        prop_assert_eq!(acc.finish(seed), mean_ci(&values, None, seed));
    }
}

#[test]
fn clustered_interval_is_wider_than_naive_for_correlated_clusters() {
    // 10 clusters of 10 identical answers each (e.g. 10 questions on one passage, all right or
    // all wrong): effectively 10 observations, not 100.
    let mut values = Vec::new();
    let mut labels = Vec::new();
    for c in 0..10 {
        for _ in 0..10 {
            values.push(if c % 10 < 6 { 1.0 } else { 0.0 });
            labels.push(format!("passage-{c}"));
        }
    }
    let refs: Vec<&str> = labels.iter().map(String::as_str).collect();
    let naive = mean_ci(&values, None, 0);
    let clustered = mean_ci(&values, Some(&refs), 0);
    assert_eq!(naive.method, CiMethod::Wilson);
    assert_eq!(clustered.method, CiMethod::Clustered);
    assert!((clustered.value - 0.6).abs() < 1e-12);
    assert!(
        clustered.half_width() > 2.0 * naive.half_width(),
        "clustered {clustered:?} should be much wider than naive {naive:?}"
    );
    // With G = 10 clusters the CR1 half-width is t(9) * sqrt(G/(G-1) * sum_g (10 e_g)^2) / 100.
    let direct = clustered_mean_ci(&values, &refs, 0.95);
    assert_eq!((clustered.ci_low, clustered.ci_high), direct);
    let meat = 6.0 * (10.0f64 * 0.4).powi(2) + 4.0 * (10.0f64 * 0.6).powi(2);
    let half = 2.262_157_163 * (10.0 / 9.0 * meat).sqrt() / 100.0;
    assert!(
        (clustered.half_width() - half).abs() < 1e-6,
        "{} vs {half}",
        clustered.half_width()
    );
}

#[test]
fn bootstrap_same_seed_same_interval_different_seed_different() {
    let values: Vec<f64> = (0..100).map(|i| ((i * 37) % 11) as f64 / 10.0).collect();
    let a = mean_ci(&values, None, 2024);
    let b = mean_ci(&values, None, 2024);
    let c = mean_ci(&values, None, 2025);
    assert_eq!(a.method, CiMethod::Bootstrap);
    assert_eq!(a, b);
    assert_ne!((a.ci_low, a.ci_high), (c.ci_low, c.ci_high));
}
