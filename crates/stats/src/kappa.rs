//! Cohen's κ: how far two raters (a reviewer and the automatic scorer) agree beyond what their
//! own rates of "pass" would give by chance. κ = (p_o − p_e) / (1 − p_e), with p_o the observed
//! agreement and p_e the agreement expected if the two rated independently at their rates.
//!
//! The interval is a seeded percentile bootstrap over the items (resampling pairs), because the
//! large-sample standard error is poor at the tens of items a human review covers; a resample in
//! which κ is undefined (both raters constant) is left out.

use crate::bootstrap::bootstrap_ci;

/// κ with its interval, over `n` rated pairs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Kappa {
    pub n: usize,
    /// Share of pairs on which the raters agree.
    pub observed: f64,
    /// None when κ is undefined: both raters gave one and the same rating to every pair.
    pub kappa: Option<f64>,
    pub ci: Option<(f64, f64)>,
}

/// Cohen's κ of paired binary ratings `a[i]`, `b[i]`, with a 95% percentile bootstrap interval
/// (2,000 resamples, seeded: the same ratings give the same interval). Only the first
/// min(len a, len b) pairs are used.
pub fn cohen_kappa(a: &[bool], b: &[bool], seed: u64) -> Kappa {
    let n = a.len().min(b.len());
    let of = |indices: &mut dyn Iterator<Item = usize>| -> (usize, f64, Option<f64>) {
        let (mut count, mut agree, mut a_yes, mut b_yes) = (0usize, 0usize, 0usize, 0usize);
        for i in indices {
            count += 1;
            agree += usize::from(a[i] == b[i]);
            a_yes += usize::from(a[i]);
            b_yes += usize::from(b[i]);
        }
        if count == 0 {
            return (0, 0.0, None);
        }
        let total = count as f64;
        let observed = agree as f64 / total;
        let (pa, pb) = (a_yes as f64 / total, b_yes as f64 / total);
        let chance = pa * pb + (1.0 - pa) * (1.0 - pb);
        let kappa = (chance < 1.0).then(|| (observed - chance) / (1.0 - chance));
        (count, observed, kappa)
    };
    let (_, observed, kappa) = of(&mut (0..n));
    let ci =
        kappa.and_then(|_| bootstrap_ci(n, 2000, seed, 0.95, |idx| of(&mut idx.iter().copied()).2));
    Kappa {
        n,
        observed,
        kappa,
        ci,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_agreement_is_one_and_independence_is_near_zero() {
        let a = [true, false, true, true, false, false, true, false];
        let k = cohen_kappa(&a, &a, 1);
        assert_eq!(k.kappa, Some(1.0));
        assert_eq!(k.observed, 1.0);
        // b says yes on the first half, whatever a says: a's rate is ½ in each half.
        let a = [true, false, true, false, true, false, true, false];
        let b = [true, true, true, true, false, false, false, false];
        let k = cohen_kappa(&a, &b, 1);
        assert!(k.kappa.unwrap().abs() < 1e-12, "{k:?}");
    }

    #[test]
    fn a_worked_example() {
        // 20 pairs: both yes 9, both no 6, a only 3, b only 2. p_o = 15/20 = 0.75;
        // a yes 12/20, b yes 11/20: p_e = 0.6·0.55 + 0.4·0.45 = 0.51; κ = 0.24/0.49.
        let mut a = Vec::new();
        let mut b = Vec::new();
        for (x, y, count) in [
            (true, true, 9),
            (false, false, 6),
            (true, false, 3),
            (false, true, 2),
        ] {
            for _ in 0..count {
                a.push(x);
                b.push(y);
            }
        }
        let k = cohen_kappa(&a, &b, 7);
        assert_eq!(k.n, 20);
        assert!((k.observed - 0.75).abs() < 1e-12);
        assert!((k.kappa.unwrap() - 0.24 / 0.49).abs() < 1e-12);
        let (lo, hi) = k.ci.unwrap();
        assert!(lo < k.kappa.unwrap() && k.kappa.unwrap() < hi && lo >= -1.0 && hi <= 1.0);
        assert_eq!(cohen_kappa(&a, &b, 7).ci, k.ci, "seeded: the same interval");
    }

    #[test]
    fn constant_raters_and_no_pairs_have_no_kappa() {
        let k = cohen_kappa(&[true, true], &[true, true], 1);
        assert_eq!((k.observed, k.kappa, k.ci), (1.0, None, None));
        let k = cohen_kappa(&[], &[], 1);
        assert_eq!((k.n, k.kappa, k.ci), (0, None, None));
    }
}
