//! McNemar's exact test: do two models, scored right/wrong on the same items, differ?
//!
//! Why this test: items both models get right, or both get wrong, say nothing about which model
//! is better; only the discordant items do. Under "no difference" each discordant item is
//! equally likely to favour either model, so the count favouring one is Binomial(b + c, ½). The
//! exact binomial tail is valid at any count, where the χ² version is not for small ones. The
//! tail is summed in log space so that tens of thousands of discordant items do not underflow.

use crate::dist::ln_choose;

/// The outcome of [`mcnemar_exact`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct McNemar {
    /// Items model A got right and model B got wrong.
    pub a_only: u64,
    /// Items model B got right and model A got wrong.
    pub b_only: u64,
    /// Two-sided exact p-value of "the models are equally good" (see [`mcnemar_exact_counts`]).
    pub p_value: f64,
}

/// McNemar's exact test on paired right/wrong outcomes: `a[i]` and `b[i]` say whether models A
/// and B got item i right. Only the first min(len a, len b) pairs are used.
pub fn mcnemar_exact(a: &[bool], b: &[bool]) -> McNemar {
    let (mut a_only, mut b_only) = (0u64, 0u64);
    for (&x, &y) in a.iter().zip(b) {
        match (x, y) {
            (true, false) => a_only += 1,
            (false, true) => b_only += 1,
            _ => {}
        }
    }
    McNemar {
        a_only,
        b_only,
        p_value: mcnemar_exact_counts(a_only, b_only),
    }
}

/// Two-sided exact McNemar p-value from the discordant counts: p = min(1, 2·P(X ≤ min(b, c)))
/// with X ~ Binomial(b + c, ½). No discordant items gives 1. Symmetric in its arguments.
pub fn mcnemar_exact_counts(a_only: u64, b_only: u64) -> f64 {
    let m = a_only.saturating_add(b_only);
    let k = a_only.min(b_only);
    if m == 0 || m - k <= k.saturating_add(1) {
        // Counts equal or one apart: the lower tail holds at least half the mass, so p is 1
        // exactly (summing would give 1 − 1e-14).
        return 1.0;
    }
    // Sum the terms C(m, i)/2^m for i = k, k−1, …, 0 relative to the largest (i = k, as k < m/2),
    // stepping with the ratio C(m, i−1)/C(m, i) = i/(m − i + 1) and stopping once they are
    // negligible.
    let mut sum = 1.0;
    let mut term = 1.0;
    let mut i = k;
    while i > 0 {
        term *= i as f64 / (m - i + 1) as f64;
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
        i -= 1;
    }
    let ln_tail = ln_choose(m, k) - m as f64 * std::f64::consts::LN_2 + sum.ln();
    let p = (std::f64::consts::LN_2 + ln_tail).exp();
    p.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel_close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs()
    }

    #[test]
    fn known_p_values() {
        // Reference values: the exact binomial sum to 30 digits (mpmath).
        assert_eq!(mcnemar_exact_counts(0, 0), 1.0);
        assert!(rel_close(mcnemar_exact_counts(0, 5), 0.0625, 1e-12));
        assert!(rel_close(mcnemar_exact_counts(3, 12), 0.035_156_25, 1e-12));
        assert_eq!(mcnemar_exact_counts(10, 10), 1.0);
        assert_eq!(mcnemar_exact_counts(10, 11), 1.0);
        assert!(rel_close(
            mcnemar_exact_counts(40, 60),
            0.056_887_933_640_980_8,
            1e-10
        ));
        // Tens of thousands of discordant pairs stay accurate.
        assert!(rel_close(
            mcnemar_exact_counts(5000, 5300),
            0.003_215_819_673_645_24,
            1e-8
        ));
        assert!(rel_close(
            mcnemar_exact_counts(20_000, 20_500),
            0.013_153_825_113_143_8,
            1e-8
        ));
        // A huge imbalance underflows gracefully to a tiny (or zero) p, never NaN.
        let p = mcnemar_exact_counts(0, 100_000);
        assert!((0.0..1e-300).contains(&p), "{p}");
        let p = mcnemar_exact_counts(1, 2000);
        assert!((0.0..1e-300).contains(&p), "{p}");
        let p = mcnemar_exact_counts(u64::MAX, u64::MAX);
        assert_eq!(p, 1.0);
    }

    #[test]
    fn symmetric() {
        for (b, c) in [(0, 3), (7, 2), (150, 90)] {
            assert_eq!(mcnemar_exact_counts(b, c), mcnemar_exact_counts(c, b));
        }
    }

    #[test]
    fn counts_discordant_pairs() {
        let a = [true, true, false, false, true, true];
        let b = [true, false, true, false, false, true];
        let r = mcnemar_exact(&a, &b);
        assert_eq!((r.a_only, r.b_only), (2, 1));
        assert_eq!(r.p_value, 1.0);
        // Extra items on one side are ignored.
        assert_eq!(mcnemar_exact(&a, &b[..3]).a_only, 1);
        assert_eq!(mcnemar_exact(&[], &[]).p_value, 1.0);
    }
}
