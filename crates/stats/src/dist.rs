//! Quantiles of the standard normal and Student's t distributions, the normal CDF, and the
//! beta distribution's CDF and quantile (for exact binomial intervals).
//!
//! Hand-written so the crate needs no numerics dependency; accuracy is far beyond what a
//! confidence interval needs (about 1e-9 for the normal quantile, 1e-10 for t, 1e-14 for the
//! normal CDF and the beta quantile).

/// Two-sided critical value of the standard normal for a confidence level, e.g. 0.95 -> 1.95996.
pub fn normal_critical(level: f64) -> f64 {
    normal_quantile(0.5 + level.clamp(0.0, 1.0) / 2.0)
}

/// Two-sided critical value of Student's t with `df` degrees of freedom, e.g. (0.95, 10) -> 2.228.
pub fn t_critical(level: f64, df: f64) -> f64 {
    t_quantile(0.5 + level.clamp(0.0, 1.0) / 2.0, df)
}

/// Inverse CDF of the standard normal (Acklam's rational approximation, relative error < 1.2e-9).
pub fn normal_quantile(p: f64) -> f64 {
    if p.is_nan() {
        return f64::NAN;
    }
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const P_LOW: f64 = 0.024_25;
    if p < P_LOW {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - P_LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    }
}

/// CDF of the standard normal, Φ(x). Computed through the regularized incomplete gamma
/// function (Φ(x) = ½·erfc(−x/√2) = ½·Q(½, x²/2) for x < 0), so the far tails keep their
/// relative accuracy (Φ(−10) ≈ 7.6e-24 comes out right, not 0), which matters when a tail
/// probability is turned back into a quantile, as the BCa bootstrap does.
pub fn normal_cdf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x == f64::INFINITY {
        return 1.0;
    }
    if x == f64::NEG_INFINITY {
        return 0.0;
    }
    let tail = 0.5 * upper_incomplete_gamma_regularized(0.5, 0.5 * x * x);
    if x < 0.0 { tail } else { 1.0 - tail }
}

/// CDF of the Beta(a, b) distribution at `x`, I_x(a, b). `a` and `b` must be positive.
pub fn beta_cdf(x: f64, a: f64, b: f64) -> f64 {
    if x.is_nan() || a.is_nan() || b.is_nan() || a <= 0.0 || b <= 0.0 {
        return f64::NAN;
    }
    regularized_incomplete_beta(x, a, b)
}

/// Inverse CDF of the Beta(a, b) distribution: the x in [0, 1] with I_x(a, b) = p. By bisection
/// on [`beta_cdf`], which is monotone, so it cannot fail to converge; 200 halvings reach the
/// resolution of an f64.
pub fn beta_quantile(p: f64, a: f64, b: f64) -> f64 {
    if p.is_nan() || a.is_nan() || b.is_nan() || a <= 0.0 || b <= 0.0 {
        return f64::NAN;
    }
    if p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if regularized_incomplete_beta(mid, a, b) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// ln C(n, k), the log of a binomial coefficient, for k ≤ n.
pub(crate) fn ln_choose(n: u64, k: u64) -> f64 {
    debug_assert!(k <= n);
    if k == 0 || k == n {
        return 0.0;
    }
    ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0)
}

/// Q(a, x) = Γ(a, x) / Γ(a), the regularized upper incomplete gamma function, for a > 0, x ≥ 0:
/// the series for P when x < a + 1, else the continued fraction for Q (Numerical Recipes §6.2).
fn upper_incomplete_gamma_regularized(a: f64, x: f64) -> f64 {
    const EPS: f64 = 1e-16;
    const TINY: f64 = 1e-300;
    if x <= 0.0 {
        return 1.0;
    }
    let ln_front = -x + a * x.ln() - ln_gamma(a);
    if x < a + 1.0 {
        let mut ap = a;
        let mut del = 1.0 / a;
        let mut sum = del;
        for _ in 0..10_000 {
            ap += 1.0;
            del *= x / ap;
            sum += del;
            if del.abs() < sum.abs() * EPS {
                break;
            }
        }
        1.0 - sum * ln_front.exp()
    } else {
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / TINY;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..10_000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < TINY {
                d = TINY;
            }
            c = b + an / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            let del = d * c;
            h *= del;
            if (del - 1.0).abs() < EPS {
                break;
            }
        }
        ln_front.exp() * h
    }
}

/// CDF of Student's t with `df` degrees of freedom.
pub fn t_cdf(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if t.is_infinite() {
        return if t > 0.0 { 1.0 } else { 0.0 };
    }
    let x = df / (df + t * t);
    let tail = 0.5 * regularized_incomplete_beta(x, df / 2.0, 0.5);
    if t > 0.0 { 1.0 - tail } else { tail }
}

/// Inverse CDF of Student's t, by bisection on [`t_cdf`]; the normal quantile when `df` is
/// infinite or very large.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    if p.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if df > 1e7 {
        return normal_quantile(p);
    }
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    if p < 0.5 {
        return -t_quantile(1.0 - p, df);
    }
    if p == 0.5 {
        return 0.0;
    }
    let mut lo = 0.0_f64;
    let mut hi = 1.0_f64;
    // Bracket: the t tails are heavy (df = 1 is Cauchy), so grow geometrically.
    while t_cdf(hi, df) < p {
        lo = hi;
        hi *= 2.0;
        if hi > 1e300 {
            return f64::INFINITY;
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-13 * hi.max(1.0) {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEF: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection formula.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = COEF[0];
    let t = x + G + 0.5;
    for (i, c) in COEF.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// I_x(a, b), the regularized incomplete beta function (continued fraction, modified Lentz).
fn regularized_incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    // The continued fraction converges fast for x < (a + 1) / (a + b + 2); use symmetry otherwise.
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(x, a, b) / a
    } else {
        1.0 - front * beta_continued_fraction(1.0 - x, b, a) / b
    }
}

fn beta_continued_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const EPS: f64 = 1e-15;
    // Modified Lentz: keep denominators away from zero.
    let nonzero = |v: f64| if v.abs() < TINY { TINY } else { v };
    let qab = a + b;
    let qap = a + 1.0;
    let qam = a - 1.0;
    let mut c = 1.0;
    let mut d = 1.0 / nonzero(1.0 - qab * x / qap);
    let mut h = d;
    // One term of the fraction: updates c and d, returns the factor for h.
    let term = |aa: f64, c: &mut f64, d: &mut f64| {
        *d = 1.0 / nonzero(1.0 + aa * *d);
        *c = nonzero(1.0 + aa / *c);
        *d * *c
    };
    // The fraction needs O(√max(a, b)) terms; 10,000 covers binomial counts in the tens of
    // millions, and the loop stops as soon as it has converged.
    for m in 1..=10_000 {
        let m = m as f64;
        let m2 = 2.0 * m;
        h *= term(m * (b - m) * x / ((qam + m2) * (a + m2)), &mut c, &mut d);
        let del = term(
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
            &mut c,
            &mut d,
        );
        h *= del;
        if (del - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn normal_quantiles_match_tables() {
        assert!(close(normal_quantile(0.975), 1.959_963_985, 1e-8));
        assert!(close(normal_quantile(0.5), 0.0, 1e-12));
        assert!(close(normal_quantile(0.995), 2.575_829_304, 1e-8));
        assert!(close(normal_quantile(0.01), -2.326_347_874, 1e-8));
        assert!(close(normal_critical(0.90), 1.644_853_627, 1e-8));
    }

    #[test]
    fn t_quantiles_match_tables() {
        // Two-sided 95% critical values from standard t tables.
        for (df, expected) in [
            (1.0, 12.7062),
            (2.0, 4.3027),
            (5.0, 2.5706),
            (10.0, 2.2281),
            (30.0, 2.0423),
            (120.0, 1.9799),
        ] {
            let t = t_critical(0.95, df);
            assert!(close(t, expected, 1e-4), "df {df}: {t} vs {expected}");
        }
        // df = 1 is Cauchy: the quantile is tan(pi (p - 1/2)).
        let exact = (std::f64::consts::PI * (0.9 - 0.5)).tan();
        assert!(close(t_quantile(0.9, 1.0), exact, 1e-9));
        assert!(close(t_quantile(0.1, 7.0), -t_quantile(0.9, 7.0), 1e-12));
    }

    #[test]
    fn t_cdf_is_symmetric_and_monotone() {
        assert!(close(t_cdf(0.0, 4.0), 0.5, 1e-12));
        assert!(close(t_cdf(1.5, 4.0) + t_cdf(-1.5, 4.0), 1.0, 1e-12));
        assert!(t_cdf(1.0, 4.0) < t_cdf(2.0, 4.0));
    }

    #[test]
    fn normal_cdf_matches_tables_and_tails() {
        assert!(close(normal_cdf(0.0), 0.5, 1e-15));
        assert!(close(normal_cdf(-1.0), 0.158_655_253_931_457_05, 1e-14));
        assert!(close(normal_cdf(1.959_963_984_540_054), 0.975, 1e-14));
        // Far tails keep relative accuracy.
        let t5 = normal_cdf(-5.0);
        assert!((t5 / 2.866_515_718_791_939e-7 - 1.0).abs() < 1e-10, "{t5}");
        let t10 = normal_cdf(-10.0);
        assert!(
            (t10 / 7.619_853_024_160_526e-24 - 1.0).abs() < 1e-10,
            "{t10}"
        );
        assert_eq!(normal_cdf(f64::INFINITY), 1.0);
        assert_eq!(normal_cdf(f64::NEG_INFINITY), 0.0);
        for p in [0.001, 0.025, 0.3, 0.5, 0.8, 0.975, 0.999] {
            assert!(close(normal_cdf(normal_quantile(p)), p, 1e-8), "{p}");
        }
    }

    #[test]
    fn beta_quantile_inverts_beta_cdf() {
        // Clopper–Pearson bounds for 5 of 10 at 95%: Beta(5, 6) at 0.025 and Beta(6, 5) at 0.975.
        assert!(close(
            beta_quantile(0.025, 5.0, 6.0),
            0.187_086_028_447,
            1e-11
        ));
        assert!(close(
            beta_quantile(0.975, 6.0, 5.0),
            0.812_913_971_553,
            1e-11
        ));
        // Beta(1, 1) is uniform; Beta(a, 1) has CDF x^a.
        assert!(close(beta_quantile(0.3, 1.0, 1.0), 0.3, 1e-14));
        let cube_root_half = 0.5f64.powf(1.0 / 3.0);
        assert!(close(beta_quantile(0.5, 3.0, 1.0), cube_root_half, 1e-14));
        assert!(close(beta_cdf(0.25, 2.0, 1.0), 0.0625, 1e-14));
        assert!(beta_quantile(0.5, 0.0, 1.0).is_nan());
        // Large shape parameters still converge.
        let x = beta_quantile(0.975, 500_001.0, 499_999.0);
        assert!(x > 0.5 && x < 0.502, "{x}");
    }

    #[test]
    fn ln_choose_matches_small_coefficients() {
        assert!(close(ln_choose(10, 3), 120f64.ln(), 1e-12));
        assert_eq!(ln_choose(7, 0), 0.0);
        assert_eq!(ln_choose(7, 7), 0.0);
    }

    #[test]
    fn ln_gamma_of_integers_is_log_factorial() {
        assert!(close(ln_gamma(1.0), 0.0, 1e-12));
        assert!(close(ln_gamma(5.0), 24f64.ln(), 1e-12));
        assert!(close(
            ln_gamma(0.5),
            std::f64::consts::PI.sqrt().ln(),
            1e-12
        ));
    }
}
