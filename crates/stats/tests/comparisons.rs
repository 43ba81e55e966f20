//! Properties of the exact interval, the BCa and paired bootstraps, McNemar's test, Holm's
//! correction, tiers and the sample-size functions over arbitrary inputs.

use proptest::prelude::*;
use touchstone_stats::{
    bca_bootstrap_ci, clopper_pearson, half_width_n, holm, mcnemar_exact, mcnemar_exact_counts,
    minimum_detectable_effect, one_proportion_n, paired_bootstrap_ci, paired_n, tiers,
    two_proportions_n, wilson,
};

const Z95: f64 = 1.959_963_984_540_054;

fn config() -> ProptestConfig {
    // Bootstraps run in an unoptimised build; keep the suite quick.
    ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    }
}

fn bits(v: &[bool]) -> Vec<f64> {
    v.iter().map(|&b| f64::from(u8::from(b))).collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn clopper_pearson_contains_the_rate_and_stays_in_the_unit_interval(
        n in 0u64..5000, k in 0u64..5000, level in 0.5f64..0.999,
    ) {
        let k = k.min(n);
        let (lo, hi) = clopper_pearson(k, n, level);
        prop_assert!(0.0 <= lo && lo <= hi && hi <= 1.0, "({}, {})", lo, hi);
        if n > 0 {
            let p = k as f64 / n as f64;
            prop_assert!(lo <= p && p <= hi, "{}/{}: ({}, {})", k, n, lo, hi);
            // Away from 0 and n the exact interval is wider than Wilson's, as it must be to
            // guarantee coverage. (At 0 or n the two nearly coincide and either may be wider.)
            if 0 < k && k < n {
                let (wl, wh) = wilson(k, n, Z95);
                let (cl, ch) = clopper_pearson(k, n, 0.95);
                prop_assert!(ch - cl >= wh - wl - 1e-12, "{}/{}", k, n);
            }
        }
    }

    #[test]
    fn bca_contains_the_mean_and_is_deterministic(
        values in prop::collection::vec(-100.0f64..100.0, 0..40), seed in any::<u64>(),
    ) {
        let (lo, hi) = bca_bootstrap_ci(&values, 300, seed, 0.95);
        prop_assert!(lo.is_finite() && hi.is_finite() && lo <= hi);
        let mean = if values.is_empty() { 0.0 } else { values.iter().sum::<f64>() / values.len() as f64 };
        prop_assert!(lo <= mean + 1e-9 && mean - 1e-9 <= hi, "mean {} outside ({}, {})", mean, lo, hi);
        prop_assert_eq!((lo, hi), bca_bootstrap_ci(&values, 300, seed, 0.95));
    }

    #[test]
    fn bca_on_proportions_stays_in_the_unit_interval(
        v in prop::collection::vec(any::<bool>(), 1..200), seed in any::<u64>(),
    ) {
        let values = bits(&v);
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let (lo, hi) = bca_bootstrap_ci(&values, 300, seed, 0.95);
        prop_assert!(0.0 <= lo && lo <= mean && mean <= hi && hi <= 1.0, "{} ({}, {})", mean, lo, hi);
    }

    #[test]
    fn paired_interval_contains_the_mean_difference(
        pairs in prop::collection::vec((any::<bool>(), any::<bool>()), 1..200), seed in any::<u64>(),
    ) {
        let a = bits(&pairs.iter().map(|p| p.0).collect::<Vec<_>>());
        let b = bits(&pairs.iter().map(|p| p.1).collect::<Vec<_>>());
        let d = a.iter().zip(&b).map(|(x, y)| x - y).sum::<f64>() / a.len() as f64;
        let (lo, hi) = paired_bootstrap_ci(&a, &b, 300, seed, 0.95);
        prop_assert!(-1.0 <= lo && lo <= d + 1e-12 && d - 1e-12 <= hi && hi <= 1.0, "{} ({}, {})", d, lo, hi);
        // Swapping the models mirrors the interval (same resamples, negated differences).
        let (slo, shi) = paired_bootstrap_ci(&b, &a, 300, seed, 0.95);
        prop_assert!((slo + hi).abs() < 1e-9 && (shi + lo).abs() < 1e-9);
    }

    #[test]
    fn mcnemar_is_symmetric_and_a_probability(
        pairs in prop::collection::vec((any::<bool>(), any::<bool>()), 0..300),
    ) {
        let a: Vec<bool> = pairs.iter().map(|p| p.0).collect();
        let b: Vec<bool> = pairs.iter().map(|p| p.1).collect();
        let ab = mcnemar_exact(&a, &b);
        let ba = mcnemar_exact(&b, &a);
        prop_assert_eq!((ab.a_only, ab.b_only), (ba.b_only, ba.a_only));
        prop_assert_eq!(ab.p_value, ba.p_value);
        prop_assert!((0.0..=1.0).contains(&ab.p_value));
        prop_assert_eq!(mcnemar_exact(&a, &a).p_value, 1.0);
    }

    #[test]
    fn mcnemar_p_falls_as_the_imbalance_grows(b in 0u64..20_000, c in 0u64..20_000) {
        let (lo, hi) = (b.min(c), b.max(c));
        let p = mcnemar_exact_counts(lo, hi);
        prop_assert!((0.0..=1.0).contains(&p) && p.is_finite());
        prop_assert!(mcnemar_exact_counts(lo, hi + 1) <= p + 1e-12);
    }

    #[test]
    fn holm_is_monotone_capped_and_at_least_the_raw_value(
        ps in prop::collection::vec(0.0f64..=1.0, 0..30),
    ) {
        let adj = holm(&ps);
        prop_assert_eq!(adj.len(), ps.len());
        for i in 0..ps.len() {
            prop_assert!(adj[i] >= ps[i] && adj[i] <= 1.0);
            // At most Bonferroni.
            prop_assert!(adj[i] <= (ps[i] * ps.len() as f64).min(1.0) + 1e-15);
            for j in 0..ps.len() {
                if ps[i] <= ps[j] {
                    prop_assert!(adj[i] <= adj[j], "p {} <= {} but adjusted {} > {}", ps[i], ps[j], adj[i], adj[j]);
                }
            }
        }
    }

    #[test]
    fn tiers_follow_the_ranking(
        scores in prop::collection::vec(0.0f64..1.0, 0..12), gap in 0.0f64..0.5,
    ) {
        let sig = |i: usize, j: usize| (scores[i] - scores[j]).abs() > gap;
        let t = tiers(&scores, &sig);
        prop_assert_eq!(t.len(), scores.len());
        let mut order: Vec<usize> = (0..scores.len()).collect();
        order.sort_by(|&i, &j| scores[j].total_cmp(&scores[i]).then(i.cmp(&j)));
        if let Some(&top) = order.first() {
            prop_assert_eq!(t[top], 0);
        }
        for w in order.windows(2) {
            prop_assert!(t[w[1]] == t[w[0]] || t[w[1]] == t[w[0]] + 1);
        }
        prop_assert!(tiers(&scores, &|_, _| false).iter().all(|&x| x == 0));
        let ranks = tiers(&scores, &|_, _| true);
        for (rank, &i) in order.iter().enumerate() {
            prop_assert_eq!(ranks[i], rank);
        }
    }

    #[test]
    fn sample_sizes_are_sane(
        p1 in 0.01f64..0.99, d in 0.01f64..0.3, alpha in 0.001f64..0.2, power in 0.5f64..0.99,
    ) {
        let p2 = (p1 + d).min(0.999);
        let two = two_proportions_n(p1, p2, alpha, power);
        prop_assert!(matches!(two, Ok(n) if n >= 1));
        prop_assert!(matches!(one_proportion_n(p1, p2, alpha, power), Ok(n) if n >= 1));
        let psi = (2.0 * (p2 - p1)).min(1.0);
        prop_assert!(matches!(paired_n(psi, p2 - p1, alpha, power), Ok(n) if n >= 1));
        if let Ok(n) = two {
            // The detectable effect at that n is no larger than the difference asked for.
            let mde = minimum_detectable_effect(p1, n, alpha, power);
            prop_assert!(matches!(mde, Ok(e) if e <= (p2 - p1) + 1e-9), "{:?} vs {}", mde, p2 - p1);
        }
        prop_assert!(matches!(half_width_n(p1, d / 4.0, 1.0 - alpha), Ok(n) if n >= 1));
    }
}
