//! The unbiased pass@k estimator of Chen et al. (2021), "Evaluating Large Language Models Trained
//! on Code": with `n` samples of which `c` pass, the chance that at least one of `k` samples drawn
//! without replacement passes.

/// pass@k = 1 − C(n−c, k) / C(n, k), computed as 1 − ∏_{i=n−c+1}^{n} (1 − k/i), which never forms
/// a binomial coefficient and so neither overflows nor loses precision for large `n`.
///
/// Returns `None` when the question has no answer: `k == 0`, `k > n` (fewer samples than draws;
/// generate at least `k` samples per problem) or `c > n` (more passes than samples). `n − c < k`
/// gives 1.0: every draw of `k` must contain a passing sample.
pub fn pass_at_k(n: u64, c: u64, k: u64) -> Option<f64> {
    if k == 0 || k > n || c > n {
        return None;
    }
    if n - c < k {
        return Some(1.0);
    }
    let k = k as f64;
    let all_fail: f64 = (n - c + 1..=n).map(|i| 1.0 - k / i as f64).product();
    Some(1.0 - all_fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exact C(n, k) for small arguments, as the closed form to compare with.
    fn binom(n: u64, k: u64) -> u128 {
        if k > n {
            return 0;
        }
        let k = k.min(n - k);
        (0..k).fold(1u128, |acc, i| acc * (n - i) as u128 / (i + 1) as u128)
    }

    fn closed_form(n: u64, c: u64, k: u64) -> f64 {
        1.0 - binom(n - c, k) as f64 / binom(n, k) as f64
    }

    #[test]
    fn known_counts() {
        assert!((pass_at_k(10, 3, 1).unwrap() - 0.3).abs() < 1e-12);
        assert!((pass_at_k(10, 3, 5).unwrap() - (1.0 - 21.0 / 252.0)).abs() < 1e-12);
        assert_eq!(pass_at_k(10, 0, 5), Some(0.0));
        assert_eq!(pass_at_k(10, 10, 1), Some(1.0));
        // n − c < k: every draw of 8 from 10 with 3 passing contains a pass.
        assert_eq!(pass_at_k(10, 3, 8), Some(1.0));
    }

    #[test]
    fn matches_closed_form_on_all_small_counts() {
        for n in 1..=30 {
            for c in 0..=n {
                for k in 1..=n {
                    let got = pass_at_k(n, c, k).unwrap();
                    let want = closed_form(n, c, k);
                    assert!(
                        (got - want).abs() < 1e-9,
                        "n={n} c={c} k={k}: {got} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn monotone_in_c_and_k() {
        for n in 1..=40 {
            for c in 0..=n {
                for k in 1..=n {
                    let p = pass_at_k(n, c, k).unwrap();
                    assert!((0.0..=1.0).contains(&p));
                    if c < n {
                        assert!(
                            pass_at_k(n, c + 1, k).unwrap() >= p - 1e-12,
                            "c: n={n} c={c} k={k}"
                        );
                    }
                    if k < n {
                        assert!(
                            pass_at_k(n, c, k + 1).unwrap() >= p - 1e-12,
                            "k: n={n} c={c} k={k}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn large_n_stays_finite() {
        let p = pass_at_k(100_000, 1_000, 100).unwrap();
        assert!(p.is_finite() && p > 0.6 && p < 1.0);
    }

    #[test]
    fn undefined_inputs_are_none() {
        assert_eq!(pass_at_k(5, 2, 0), None);
        assert_eq!(pass_at_k(5, 2, 6), None);
        assert_eq!(pass_at_k(5, 6, 1), None);
        assert_eq!(pass_at_k(0, 0, 1), None);
    }
}
