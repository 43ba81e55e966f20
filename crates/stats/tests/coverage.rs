//! Simulations: do the intervals cover the true value as often as they claim, does McNemar's
//! test keep its size, and does the planned sample size deliver the planned power?
//!
//! Every simulation uses a fixed seed, so the counts below are the same on every run; the bounds
//! are wide enough (several Monte-Carlo standard errors) that they would hold for other seeds too.

use touchstone_stats::{
    CiMethod, bca_bootstrap_ci, clopper_pearson, dist, mcnemar_exact, mean_ci,
    minimum_detectable_effect, paired_n, two_proportions_n, wilson,
};

/// SplitMix64, written out so the simulations do not depend on any library's generator.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    fn bernoulli(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    fn binomial(&mut self, n: u64, p: f64) -> u64 {
        (0..n).filter(|_| self.bernoulli(p)).count() as u64
    }
}

const RUNS: usize = 2000;

#[test]
fn wilson_and_mean_ci_cover_95_percent() {
    let z = dist::normal_critical(0.95);
    let mut rng = Rng(20_240_601);
    for p in [0.5, 0.8, 0.9] {
        for n in [200usize, 500] {
            let (mut wilson_hits, mut mean_ci_hits, mut cp_hits) = (0, 0, 0);
            let mut values = vec![0.0; n];
            for _ in 0..RUNS {
                for v in values.iter_mut() {
                    *v = if rng.bernoulli(p) { 1.0 } else { 0.0 };
                }
                let k = values.iter().filter(|&&v| v == 1.0).count() as u64;
                let (lo, hi) = wilson(k, n as u64, z);
                wilson_hits += usize::from(lo <= p && p <= hi);
                let e = mean_ci(&values, None, 0);
                assert_eq!(e.method, CiMethod::Wilson);
                mean_ci_hits += usize::from(e.ci_low <= p && p <= e.ci_high);
                let (lo, hi) = clopper_pearson(k, n as u64, 0.95);
                cp_hits += usize::from(lo <= p && p <= hi);
            }
            let rate = |hits: usize| hits as f64 / RUNS as f64;
            eprintln!(
                "p={p} n={n}: wilson {} mean_ci {} clopper_pearson {}",
                rate(wilson_hits),
                rate(mean_ci_hits),
                rate(cp_hits)
            );
            for (name, hits) in [("wilson", wilson_hits), ("mean_ci", mean_ci_hits)] {
                let c = rate(hits);
                assert!(
                    (0.93..=0.97).contains(&c),
                    "{name} p={p} n={n}: coverage {c}"
                );
            }
            // Clopper–Pearson guarantees at least 95%; allow Monte-Carlo noise below.
            let c = rate(cp_hits);
            assert!(c >= 0.94, "clopper_pearson p={p} n={n}: coverage {c}");
        }
    }
}

#[test]
fn bca_covers_the_mean_of_skewed_data() {
    // Exponential(1) data, n = 40: strongly right-skewed, true mean 1. BCa's true coverage here
    // is about 0.93 (three 3,000-run checks in a release build: 0.929, 0.929, 0.929; the
    // percentile bootstrap 0.924–0.926), a little short of 95% as every bootstrap is at this n.
    // A modest simulation, since the bootstrap is slow in a debug build: 500 runs of 500
    // resamples, Monte-Carlo standard error about 0.011.
    let mut rng = Rng(7);
    let runs = 500;
    let mut hits = 0;
    for run in 0..runs {
        let values: Vec<f64> = (0..40).map(|_| -(1.0 - rng.uniform()).ln()).collect();
        let (lo, hi) = bca_bootstrap_ci(&values, 500, run as u64, 0.95);
        hits += usize::from(lo <= 1.0 && 1.0 <= hi);
    }
    let c = hits as f64 / runs as f64;
    eprintln!("BCa coverage {c}");
    assert!((0.89..=0.98).contains(&c), "BCa coverage {c}");
}

#[test]
fn mcnemar_keeps_its_size_under_the_null() {
    // Two equally good models: independent answers, or answers that agree on most items. Either
    // way a discordant item is equally likely to favour each model.
    let mut rng = Rng(99);
    let sims = 4000;
    let mut rejections = 0;
    for s in 0..sims {
        let n = 300;
        let mut a = Vec::with_capacity(n);
        let mut b = Vec::with_capacity(n);
        for _ in 0..n {
            let x = rng.bernoulli(0.7);
            let y = if s % 2 == 0 || !rng.bernoulli(0.8) {
                rng.bernoulli(0.7)
            } else {
                x
            };
            a.push(x);
            b.push(y);
        }
        rejections += usize::from(mcnemar_exact(&a, &b).p_value <= 0.05);
    }
    let size = rejections as f64 / sims as f64;
    eprintln!("McNemar type-I error {size}");
    assert!(size <= 0.055, "type-I error {size}");
    // The exact test is conservative, not useless.
    assert!(size >= 0.02, "type-I error {size}");
}

/// The pooled two-sample z-test at size 0.05 the two-sample formula is built for.
fn z_test_rejects(k1: u64, k2: u64, n: u64) -> bool {
    let nf = n as f64;
    let (p1, p2) = (k1 as f64 / nf, k2 as f64 / nf);
    let pooled = (k1 + k2) as f64 / (2.0 * nf);
    let se = (pooled * (1.0 - pooled) * 2.0 / nf).sqrt();
    se > 0.0 && ((p1 - p2) / se).abs() > dist::normal_critical(0.95)
}

fn empirical_power(rng: &mut Rng, p1: f64, p2: f64, n: u64) -> f64 {
    let hits = (0..RUNS)
        .filter(|_| z_test_rejects(rng.binomial(n, p1), rng.binomial(n, p2), n))
        .count();
    hits as f64 / RUNS as f64
}

#[test]
fn two_proportions_n_gives_the_promised_power() {
    let mut rng = Rng(4242);
    for (p1, p2) in [(0.5, 0.6), (0.8, 0.86)] {
        let n = two_proportions_n(p1, p2, 0.05, 0.8).unwrap_or(0);
        assert!(n > 0);
        let power = empirical_power(&mut rng, p1, p2, n);
        eprintln!("{p1} vs {p2}, n = {n}: power {power}");
        assert!(
            (0.75..=0.86).contains(&power),
            "{p1} vs {p2}, n = {n}: power {power}"
        );
    }
}

#[test]
fn minimum_detectable_effect_is_detected_with_the_promised_power() {
    let mut rng = Rng(31);
    let (p, n) = (0.8, 500);
    let d = minimum_detectable_effect(p, n, 0.05, 0.8).unwrap_or(f64::NAN);
    let power = empirical_power(&mut rng, p, p + d, n);
    eprintln!("p = {p}, n = {n}, d = {d}: power {power}");
    assert!((0.75..=0.86).contains(&power), "d = {d}: power {power}");
}

#[test]
fn paired_n_gives_roughly_the_promised_power_with_the_exact_test() {
    // ψ = 0.3 of items discordant, A ahead by δ = 0.1: A alone right on 20%, B alone on 10%.
    let mut rng = Rng(5);
    let n = paired_n(0.3, 0.1, 0.05, 0.8).unwrap_or(0) as usize;
    assert_eq!(n, 234);
    let mut hits = 0;
    for _ in 0..RUNS {
        let mut a = Vec::with_capacity(n);
        let mut b = Vec::with_capacity(n);
        for _ in 0..n {
            let u = rng.uniform();
            let (x, y) = if u < 0.2 {
                (true, false)
            } else if u < 0.3 {
                (false, true)
            } else {
                let both = rng.bernoulli(0.5);
                (both, both)
            };
            a.push(x);
            b.push(y);
        }
        hits += usize::from(mcnemar_exact(&a, &b).p_value <= 0.05);
    }
    let power = hits as f64 / RUNS as f64;
    eprintln!("paired n = {n}: power {power}");
    // The exact test is a little conservative at ~70 discordant items.
    assert!(power >= 0.72, "power {power}");
}
