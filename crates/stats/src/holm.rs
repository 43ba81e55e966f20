//! Holm–Bonferroni adjustment of p-values.
//!
//! Why: a leaderboard of m models makes m(m−1)/2 pairwise comparisons; at 5% each, some pair
//! looks "significant" by chance alone. Holm's step-down procedure keeps the chance of any false
//! claim (the family-wise error rate) at the level, under any dependence between the tests, and
//! always rejects at least as much as plain Bonferroni.

/// Holm-adjusted p-values, in the same order as `p_values`: sort ascending, multiply the j-th
/// smallest (j = 0, 1, …) by m − j, carry the running maximum so the adjusted values keep the
/// raw order, and cap at 1. Reject hypothesis i at level α when `holm(p)[i] ≤ α`.
///
/// Every adjusted value is ≥ its raw value and in [0, 1]. Raw values are clamped to [0, 1]; a
/// NaN p-value counts as 1 (no evidence), so it neither claims anything nor, being the largest,
/// raises anyone else's adjustment. Equal raw values get equal adjusted values.
pub fn holm(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let raw: Vec<f64> = p_values
        .iter()
        .map(|&p| if p.is_nan() { 1.0 } else { p.clamp(0.0, 1.0) })
        .collect();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| raw[i].total_cmp(&raw[j]).then(i.cmp(&j)));
    let mut adjusted = vec![0.0; m];
    let mut running = 0.0_f64;
    for (j, &i) in order.iter().enumerate() {
        // Equal raw values end up equal: the later one's multiplier is smaller, so the running
        // maximum keeps the earlier one's value.
        running = running.max(((m - j) as f64 * raw[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12)
    }

    #[test]
    fn textbook_example() {
        // Values checked against R's p.adjust(method = "holm").
        let p = [0.01, 0.04, 0.03, 0.005];
        let want = [0.03, 0.06, 0.06, 0.02];
        assert!(close(&holm(&p), &want), "{:?}", holm(&p));
        let p = [0.2, 0.001, 0.5, 0.04, 0.03];
        // sorted: .001*5=.005, .03*4=.12, .04*3=.12, .2*2=.4, .5*1=.5
        assert!(
            close(&holm(&p), &[0.4, 0.005, 0.5, 0.12, 0.12]),
            "{:?}",
            holm(&p)
        );
    }

    #[test]
    fn caps_and_edges() {
        assert!(holm(&[]).is_empty());
        assert_eq!(holm(&[0.3]), vec![0.3]);
        assert_eq!(holm(&[0.6, 0.7]), vec![1.0, 1.0]);
        assert_eq!(holm(&[f64::NAN, 0.01]), vec![1.0, 0.02]);
        assert_eq!(holm(&[-0.5, 2.0]), vec![0.0, 1.0]);
    }

    #[test]
    fn ties_are_order_independent() {
        assert_eq!(holm(&[0.01, 0.01, 0.2]), vec![0.03, 0.03, 0.2]);
        assert_eq!(holm(&[0.2, 0.01, 0.01]), vec![0.2, 0.03, 0.03]);
    }
}
