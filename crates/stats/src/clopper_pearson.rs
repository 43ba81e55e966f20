//! Clopper–Pearson "exact" interval for a binomial proportion.
//!
//! Why have it beside Wilson: Wilson's coverage is close to the nominal level on average but dips
//! below it for some (p, n); Clopper–Pearson inverts the binomial test itself and so never covers
//! less than the level, at the price of a wider interval. A compliance threshold ("at most 1% of
//! answers unsafe") is the place for a guarantee rather than an average.

use crate::dist::beta_quantile;

/// Clopper–Pearson interval for `successes` out of `n` at confidence `level` (e.g. 0.95): the
/// bounds are beta quantiles, lower = B(α/2; x, n − x + 1) and upper = B(1 − α/2; x + 1, n − x)
/// with α = 1 − level. The lower bound is exactly 0 when x = 0 and the upper exactly 1 when
/// x = n. `n == 0` gives the uninformative (0, 1); `successes` above `n` counts as `n`; `level` is
/// clamped to [0, 1] (NaN counts as 0.95).
pub fn clopper_pearson(successes: u64, n: u64, level: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let level = if level.is_nan() {
        0.95
    } else {
        level.clamp(0.0, 1.0)
    };
    let x = successes.min(n);
    let p_hat = x as f64 / n as f64;
    let alpha = 1.0 - level;
    let (xf, nf) = (x as f64, n as f64);
    let lo = if x == 0 {
        0.0
    } else {
        beta_quantile(alpha / 2.0, xf, nf - xf + 1.0)
    };
    let hi = if x == n {
        1.0
    } else {
        beta_quantile(1.0 - alpha / 2.0, xf + 1.0, nf - xf)
    };
    // The bounds straddle p̂ mathematically; never let rounding put p̂ outside.
    (lo.clamp(0.0, p_hat), hi.clamp(p_hat, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn textbook_values() {
        // Reference values from the beta quantiles computed to 30 digits (mpmath).
        let (lo, hi) = clopper_pearson(5, 10, 0.95);
        assert!(
            close(lo, 0.187_086_028_447) && close(hi, 0.812_913_971_553),
            "({lo}, {hi})"
        );
        let (lo, hi) = clopper_pearson(0, 10, 0.95);
        assert!(lo == 0.0 && close(hi, 0.308_497_107_819), "({lo}, {hi})");
        let (lo, hi) = clopper_pearson(10, 10, 0.95);
        assert!(close(lo, 0.691_502_892_181) && hi == 1.0, "({lo}, {hi})");
        let (lo, hi) = clopper_pearson(1, 10, 0.95);
        assert!(
            close(lo, 0.002_528_578_544_46) && close(hi, 0.445_016_117_028),
            "({lo}, {hi})"
        );
        let (lo, hi) = clopper_pearson(3, 50, 0.95);
        assert!(
            close(lo, 0.012_548_587_835_3) && close(hi, 0.165_481_946_604),
            "({lo}, {hi})"
        );
        let (lo, hi) = clopper_pearson(950, 1000, 0.95);
        assert!(
            close(lo, 0.934_609_512_085) && close(hi, 0.962_664_602_395),
            "({lo}, {hi})"
        );
    }

    #[test]
    fn wider_than_wilson() {
        let z = crate::dist::normal_critical(0.95);
        for (x, n) in [(0, 10), (5, 10), (37, 120), (990, 1000)] {
            let (wl, wh) = crate::wilson(x, n, z);
            let (cl, ch) = clopper_pearson(x, n, 0.95);
            assert!(ch - cl > wh - wl, "{x}/{n}");
        }
    }

    #[test]
    fn never_undercovers() {
        // Exact coverage over a grid of true rates: the defining guarantee of the method.
        let n = 40u64;
        let bounds: Vec<(f64, f64)> = (0..=n).map(|x| clopper_pearson(x, n, 0.95)).collect();
        for step in 1..200 {
            let p = step as f64 / 200.0;
            let coverage: f64 = (0..=n)
                .filter(|&x| bounds[x as usize].0 <= p && p <= bounds[x as usize].1)
                .map(|x| {
                    (crate::dist::ln_choose(n, x)
                        + x as f64 * p.ln()
                        + (n - x) as f64 * (1.0 - p).ln())
                    .exp()
                })
                .sum();
            assert!(coverage >= 0.95 - 1e-9, "p = {p}: coverage {coverage}");
        }
    }

    #[test]
    fn degenerate_inputs() {
        assert_eq!(clopper_pearson(0, 0, 0.95), (0.0, 1.0));
        assert_eq!(clopper_pearson(12, 10, 0.95), clopper_pearson(10, 10, 0.95));
        // Level 0: the two medians, which straddle p̂.
        let (lo, hi) = clopper_pearson(3, 10, 0.0);
        assert!(lo <= 0.3 && 0.3 <= hi && hi - lo < 0.15, "({lo}, {hi})");
        assert_eq!(clopper_pearson(3, 10, 1.0), (0.0, 1.0));
        let (lo, hi) = clopper_pearson(3, 10, f64::NAN);
        assert_eq!((lo, hi), clopper_pearson(3, 10, 0.95));
    }
}
