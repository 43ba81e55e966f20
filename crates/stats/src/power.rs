//! Sample sizes and detectable effects for planning an evaluation.
//!
//! Why: "is model A better than model B?" has an answer only if the suite has enough items. These
//! functions answer the planning questions before any request is sent: how many items tell a
//! rate from a threshold, tell two models apart, or pin a rate down to ± some points; and, for a
//! suite that already exists, what difference it can detect at all.
//!
//! All use the normal approximation to the binomial with two-sided tests, `alpha` the test's
//! size and `power` the chance of detecting the stated difference; standard critical values are
//! z_α = Φ⁻¹(1 − α/2) and z_β = Φ⁻¹(power). Counts are rounded up. A power below one half can
//! make every n suffice under the approximation; the answer is then 1.
//!
//! Arguments outside the range where the question makes sense are a [`StatsError`] naming the
//! argument and its allowed range.

use crate::StatsError;
use crate::dist::{normal_critical, normal_quantile};

/// Largest count returned: above this f64 cannot represent every integer.
const MAX_COUNT: f64 = 9_007_199_254_740_992.0; // 2^53

/// Items needed to tell a true rate `p1` from a fixed rate `p0` (e.g. a threshold a compliance
/// profile sets), two-sided test of H₀: p = p0 at size `alpha` with the given `power`:
///
/// n = ⌈(z_α·√(p0(1−p0)) + z_β·√(p1(1−p1)))² / (p1 − p0)²⌉.
///
/// Example: p0 = 0.5, p1 = 0.6, α = 0.05, power 0.8 → 194.
pub fn one_proportion_n(p0: f64, p1: f64, alpha: f64, power: f64) -> Result<u64, StatsError> {
    open_unit("p0", p0)?;
    open_unit("p1", p1)?;
    let (za, zb) = criticals(alpha, power)?;
    let d = p1 - p0;
    if d == 0.0 {
        return Err(invalid("p1", p1, "different from p0"));
    }
    let root = za * (p0 * (1.0 - p0)).sqrt() + zb * (p1 * (1.0 - p1)).sqrt();
    count(root, d)
}

/// Items needed *per model* to tell rates `p1` and `p2` apart when the two models are scored on
/// two independent samples of items, two-sided test at size `alpha` with the given `power`.
///
/// This is the plain formula (Fleiss, without continuity correction), matching the pooled
/// two-sample z-test (equivalently the χ² test without Yates' correction), with p̄ = (p1 + p2)/2:
///
/// n = ⌈(z_α·√(2p̄(1−p̄)) + z_β·√(p1(1−p1) + p2(1−p2)))² / (p1 − p2)²⌉.
///
/// Example: p1 = 0.8, p2 = 0.83, α = 0.05, power 0.8 → 2,629 per model (Fleiss' continuity
/// correction, n/4·(1 + √(1 + 4/(n·|p1 − p2|)))², would give 2,695; use it when the analysis will
/// be Fisher's exact test or Yates' χ²). If both models answer the *same* items, use
/// [`paired_n`], which usually needs far fewer.
pub fn two_proportions_n(p1: f64, p2: f64, alpha: f64, power: f64) -> Result<u64, StatsError> {
    open_unit("p1", p1)?;
    open_unit("p2", p2)?;
    let (za, zb) = criticals(alpha, power)?;
    if p1 == p2 {
        return Err(invalid("p2", p2, "different from p1"));
    }
    count(two_sample_root(p1, p2, za, zb), p1 - p2)
}

/// Items needed when two models answer the *same* items and are compared with McNemar's test
/// (Connor 1987). `p_discordant` is ψ, the expected share of items on which the models disagree
/// (one right, the other wrong), and `effect` is δ, the expected difference in accuracy (the
/// share A alone gets right minus the share B alone gets right), so |δ| ≤ ψ:
///
/// n = ⌈(z_α·√ψ + z_β·√(ψ − δ²))² / δ²⌉.
///
/// Example: ψ = 0.3, δ = 0.1, α = 0.05, power 0.8 → 234 items. The exact test
/// ([`mcnemar_exact`](crate::mcnemar_exact)) is slightly conservative, so its power at this n is
/// a little below the target when the discordant count is small.
pub fn paired_n(p_discordant: f64, effect: f64, alpha: f64, power: f64) -> Result<u64, StatsError> {
    if !(p_discordant > 0.0 && p_discordant <= 1.0) {
        return Err(invalid("p_discordant", p_discordant, "in (0, 1]"));
    }
    if !(effect.is_finite() && effect != 0.0 && effect.abs() <= p_discordant) {
        return Err(invalid(
            "effect",
            effect,
            "nonzero with |effect| <= p_discordant",
        ));
    }
    let (za, zb) = criticals(alpha, power)?;
    let root = za * p_discordant.sqrt() + zb * (p_discordant - effect * effect).max(0.0).sqrt();
    count(root, effect)
}

/// The smallest difference d > 0 such that a rate of p + d is told apart from a rate of p with
/// two independent samples of `n` items each (the setting and formula of
/// [`two_proportions_n`]), two-sided at size `alpha` with the given `power`. Solved by bisection
/// on d ∈ (0, 1 − p] for the point where the sample size that formula needs (before rounding up)
/// equals `n`. For a difference below p, use 1 − p as the rate: the formula is symmetric.
///
/// Example: p = 0.8, n = 500 → about 0.066; n = 2,629 → about 0.03.
///
/// Err([`StatsError::NotDetectable`]) when even a difference of 1 − p needs more than `n` items.
pub fn minimum_detectable_effect(
    p: f64,
    n: u64,
    alpha: f64,
    power: f64,
) -> Result<f64, StatsError> {
    open_unit("p", p)?;
    if n == 0 {
        return Err(invalid("n", 0.0, "at least 1"));
    }
    let (za, zb) = criticals(alpha, power)?;
    let nf = n as f64;
    let needed = |d: f64| two_sample_root(p, p + d, za, zb).max(0.0).powi(2) / (d * d);
    let (mut lo, mut hi) = (0.0_f64, 1.0 - p);
    if needed(hi) > nf {
        return Err(StatsError::NotDetectable { n, p });
    }
    // needed(d) falls from +∞ at d → 0 to needed(1 − p) ≤ n: bisect to the crossing.
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if needed(mid) > nf {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(hi)
}

/// Items needed so that the Wilson interval at confidence `level` (the interval
/// [`mean_ci`](crate::mean_ci) reports for 0/1 scores) around an observed rate `p` has a
/// half-width (half its width) of at most `half_width`. The Wilson half-width is
/// z·√(p(1−p)·n + z²/4) / (n + z²), which falls as n grows; the answer is the smallest n where it
/// is ≤ `half_width`, found by bisection over the integers.
///
/// Unlike the normal-approximation n = z²·p(1−p)/h² this stays meaningful at p = 0 or 1, where a
/// safety suite's unsafe-answer rate often is. Examples at 95%: p = 0.5, ±0.03 → 1,064 (normal:
/// 1,068); p = 0.1, ±0.02 → 868; p = 0, ±0.01 → 189.
/// The half-width of the Wilson interval at confidence `level` around a rate `p` observed on
/// `n` items: z·√(p(1−p)·n + z²/4) / (n + z²). What [`half_width_n`] inverts, and what a
/// planner shows for a bank of `n` items. Example at 95%: p = 0.5, n = 1,064 → about 0.03.
pub fn wilson_half_width(p: f64, n: u64, level: f64) -> f64 {
    wilson_half(p, n as f64, normal_critical(level))
}

fn wilson_half(p: f64, n: f64, z: f64) -> f64 {
    let z2 = z * z;
    z * (p * (1.0 - p) * n + z2 / 4.0).sqrt() / (n + z2)
}

pub fn half_width_n(p: f64, half_width: f64, level: f64) -> Result<u64, StatsError> {
    if !(0.0..=1.0).contains(&p) {
        return Err(invalid("p", p, "in [0, 1]"));
    }
    if !(half_width > 0.0 && half_width < 1.0) {
        return Err(invalid("half_width", half_width, "in (0, 1)"));
    }
    open_unit("level", level)?;
    let z = normal_critical(level);
    let wilson_half = |n: f64| wilson_half(p, n, z);
    if wilson_half(1.0) <= half_width {
        return Ok(1);
    }
    // Bracket: lo fails, hi succeeds.
    let (mut lo, mut hi) = (1.0_f64, 2.0_f64);
    while wilson_half(hi) > half_width {
        lo = hi;
        hi *= 2.0;
        if hi > MAX_COUNT {
            return Err(StatsError::TooLarge);
        }
    }
    while hi - lo > 1.0 {
        let mid = ((lo + hi) / 2.0).floor();
        if wilson_half(mid) > half_width {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(hi as u64)
}

/// z_α·√(2p̄q̄) + z_β·√(p1q1 + p2q2), the square root of n·(p1 − p2)² in the two-sample formula.
fn two_sample_root(p1: f64, p2: f64, za: f64, zb: f64) -> f64 {
    let pbar = (p1 + p2) / 2.0;
    za * (2.0 * pbar * (1.0 - pbar)).sqrt() + zb * (p1 * (1.0 - p1) + p2 * (1.0 - p2)).sqrt()
}

/// z_α (two-sided) and z_β after checking `alpha` and `power`.
fn criticals(alpha: f64, power: f64) -> Result<(f64, f64), StatsError> {
    open_unit("alpha", alpha)?;
    open_unit("power", power)?;
    Ok((normal_critical(1.0 - alpha), normal_quantile(power)))
}

/// ⌈root² / d²⌉, at least 1; a root ≤ 0 (power below one half) means any n will do.
fn count(root: f64, d: f64) -> Result<u64, StatsError> {
    let n = root.max(0.0).powi(2) / (d * d);
    if !n.is_finite() || n > MAX_COUNT {
        return Err(StatsError::TooLarge);
    }
    // The tolerance keeps an exact integer from being bumped up by rounding in the last bit.
    Ok(((n - 1e-9).ceil() as u64).max(1))
}

fn open_unit(name: &'static str, value: f64) -> Result<(), StatsError> {
    if value > 0.0 && value < 1.0 {
        Ok(())
    } else {
        Err(invalid(name, value, "in (0, 1)"))
    }
}

fn invalid(name: &'static str, value: f64, allowed: &'static str) -> StatsError {
    StatsError::InvalidArgument {
        name,
        value,
        allowed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wilson_half_width_is_what_half_width_n_inverts() {
        let n = half_width_n(0.5, 0.03, 0.95).unwrap();
        assert!(wilson_half_width(0.5, n, 0.95) <= 0.03);
        assert!(wilson_half_width(0.5, n - 1, 0.95) > 0.03);
    }

    #[test]
    fn textbook_sample_sizes() {
        // Reference values from the formulas evaluated to 30 digits (mpmath): 193.85, 2628.63,
        // 387.34, 233.09, 625.55.
        assert_eq!(one_proportion_n(0.5, 0.6, 0.05, 0.8), Ok(194));
        assert_eq!(
            one_proportion_n(0.6, 0.5, 0.05, 0.8).map(|n| n > 150),
            Ok(true)
        );
        assert_eq!(two_proportions_n(0.8, 0.83, 0.05, 0.8), Ok(2629));
        assert_eq!(two_proportions_n(0.83, 0.8, 0.05, 0.8), Ok(2629));
        assert_eq!(two_proportions_n(0.5, 0.6, 0.05, 0.8), Ok(388));
        assert_eq!(paired_n(0.3, 0.1, 0.05, 0.8), Ok(234));
        assert_eq!(paired_n(0.3, -0.1, 0.05, 0.8), Ok(234));
        assert_eq!(paired_n(0.2, 0.05, 0.05, 0.8), Ok(626));
    }

    #[test]
    fn more_power_or_smaller_alpha_needs_more_items() {
        let base = two_proportions_n(0.7, 0.75, 0.05, 0.8).unwrap_or(0);
        assert!(two_proportions_n(0.7, 0.75, 0.05, 0.9).unwrap_or(0) > base);
        assert!(two_proportions_n(0.7, 0.75, 0.01, 0.8).unwrap_or(0) > base);
        assert!(two_proportions_n(0.7, 0.80, 0.05, 0.8).unwrap_or(u64::MAX) < base);
        // Pairing helps when the models disagree on few items.
        assert!(paired_n(0.1, 0.05, 0.05, 0.8).unwrap_or(u64::MAX) < base);
        // Power below one half: any n suffices under the approximation.
        assert_eq!(one_proportion_n(0.5, 0.9, 0.9, 0.01), Ok(1));
    }

    #[test]
    fn half_widths() {
        // Reference: smallest n with Wilson half-width ≤ h, by direct search (mpmath).
        assert_eq!(half_width_n(0.5, 0.03, 0.95), Ok(1064));
        assert_eq!(half_width_n(0.1, 0.02, 0.95), Ok(868));
        assert_eq!(half_width_n(0.0, 0.01, 0.95), Ok(189));
        assert_eq!(half_width_n(0.9, 0.05, 0.95), Ok(141));
        assert_eq!(half_width_n(0.5, 0.49, 0.95), Ok(1));
        // The answer really has the promised half-width, and one item fewer does not.
        let z = normal_critical(0.95);
        for (p, h) in [(0.5, 0.03), (0.1, 0.02), (0.97, 0.01)] {
            let n = half_width_n(p, h, 0.95).unwrap_or(0);
            let k = (p * n as f64).round() as u64;
            let (lo, hi) = crate::wilson(k, n, z);
            assert!((hi - lo) / 2.0 <= h + 2e-3, "{p} {h} {n}");
            let half = |n: f64| z * (p * (1.0 - p) * n + z * z / 4.0).sqrt() / (n + z * z);
            assert!(half(n as f64) <= h && half(n as f64 - 1.0) > h);
        }
        assert_eq!(half_width_n(0.5, 1e-9, 0.95), Err(StatsError::TooLarge));
    }

    #[test]
    fn minimum_detectable_effect_inverts_the_sample_size() {
        for (p, n) in [(0.8, 2629u64), (0.5, 388), (0.3, 1000), (0.95, 300)] {
            let d = minimum_detectable_effect(p, n, 0.05, 0.8).unwrap_or(f64::NAN);
            assert!(d > 0.0 && p + d <= 1.0, "{p} {n}: {d}");
            // At p + d the formula needs n items (up to rounding); slightly less is not enough.
            let needed = two_proportions_n(p, p + d, 0.05, 0.8).unwrap_or(0);
            assert!(needed.abs_diff(n) <= 1, "{p} {n}: {d} needs {needed}");
            let less = two_proportions_n(p, p + 0.98 * d, 0.05, 0.8).unwrap_or(0);
            assert!(less > n, "{p} {n}");
        }
        let d = minimum_detectable_effect(0.8, 2629, 0.05, 0.8).unwrap_or(0.0);
        assert!((d - 0.03).abs() < 1e-4, "{d}");
        let d = minimum_detectable_effect(0.8, 500, 0.05, 0.8).unwrap_or(0.0);
        assert!((d - 0.066).abs() < 0.001, "{d}");
        assert_eq!(
            minimum_detectable_effect(0.5, 3, 0.05, 0.8),
            Err(StatsError::NotDetectable { n: 3, p: 0.5 })
        );
    }

    #[test]
    fn invalid_arguments_name_the_argument_and_range() {
        let e = two_proportions_n(1.2, 0.5, 0.05, 0.8).unwrap_err();
        assert_eq!(e.to_string(), "p1 must be in (0, 1), got 1.2");
        let e = two_proportions_n(0.5, 0.5, 0.05, 0.8).unwrap_err();
        assert_eq!(e.to_string(), "p2 must be different from p1, got 0.5");
        assert!(matches!(
            one_proportion_n(0.5, 0.6, 0.0, 0.8),
            Err(StatsError::InvalidArgument { name: "alpha", .. })
        ));
        assert!(matches!(
            one_proportion_n(0.5, 0.6, 0.05, 1.0),
            Err(StatsError::InvalidArgument { name: "power", .. })
        ));
        assert!(matches!(
            one_proportion_n(f64::NAN, 0.6, 0.05, 0.8),
            Err(StatsError::InvalidArgument { name: "p0", .. })
        ));
        assert!(matches!(
            paired_n(0.1, 0.2, 0.05, 0.8),
            Err(StatsError::InvalidArgument { name: "effect", .. })
        ));
        assert!(matches!(
            paired_n(0.1, 0.0, 0.05, 0.8),
            Err(StatsError::InvalidArgument { name: "effect", .. })
        ));
        assert!(matches!(
            paired_n(0.0, 0.0, 0.05, 0.8),
            Err(StatsError::InvalidArgument {
                name: "p_discordant",
                ..
            })
        ));
        assert!(matches!(
            minimum_detectable_effect(0.5, 0, 0.05, 0.8),
            Err(StatsError::InvalidArgument { name: "n", .. })
        ));
        assert!(matches!(
            half_width_n(-0.1, 0.05, 0.95),
            Err(StatsError::InvalidArgument { name: "p", .. })
        ));
        assert!(matches!(
            half_width_n(0.5, 0.0, 0.95),
            Err(StatsError::InvalidArgument {
                name: "half_width",
                ..
            })
        ));
        assert!(matches!(
            half_width_n(0.5, 0.05, 1.0),
            Err(StatsError::InvalidArgument { name: "level", .. })
        ));
        assert_eq!(
            two_proportions_n(0.5, 0.5 + 1e-12, 0.05, 0.8),
            Err(StatsError::TooLarge)
        );
    }
}
