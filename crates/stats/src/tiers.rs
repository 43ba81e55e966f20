//! Leaderboard tiers: groups of models that the data cannot tell apart.
//!
//! Why: a plain ranking claims an order between models whose scores differ by noise. Tiers say
//! only what the significance tests support: rank 3 and rank 4 share a tier unless their
//! difference from their tier's leader is significant.

use std::cmp::Ordering;

/// A tier number per model (same order as `scores`; 0 = top), given the models' scores and
/// `significant(i, j)`, which says whether models i and j (indices into `scores`) differ
/// significantly, after whatever multiple-comparison correction the caller applies (e.g.
/// [`holm`](crate::holm) over all pairs).
///
/// The rule ("not significantly different from the tier leader"): models are ranked by score,
/// highest first, ties by lower index first, NaN scores last. The first model leads tier 0.
/// Walking down the ranking, a model joins the current tier unless its difference from that
/// tier's *leader* (its first model) is significant; then it starts the next tier and becomes its
/// leader. The predicate is only asked about (leader, model) pairs, with the leader first.
///
/// Consequences worth knowing: tiers are consecutive in the ranking and tier numbers never
/// decrease down it; two members of one tier may differ significantly from each other (only the
/// leader is compared); and a model may be indistinguishable from a member of the tier above it.
/// With a predicate that is never true every model is in tier 0; with one that is always true
/// the tiers are the ranks.
pub fn tiers(scores: &[f64], significant: &dyn Fn(usize, usize) -> bool) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&i, &j| {
        let (a, b) = (scores[i], scores[j]);
        match (a.is_nan(), b.is_nan()) {
            (false, false) => b.total_cmp(&a),
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (true, true) => Ordering::Equal,
        }
        .then(i.cmp(&j))
    });
    let mut result = vec![0; scores.len()];
    let Some(&first) = order.first() else {
        return result;
    };
    let mut leader = first;
    let mut tier = 0;
    for &model in &order[1..] {
        if significant(leader, model) {
            tier += 1;
            leader = model;
        }
        result[model] = tier;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_by_the_tier_leader() {
        // Scores 0.9, 0.85, 0.8, 0.6, 0.58: a difference above 0.11 is significant.
        let scores: [f64; 5] = [0.8, 0.9, 0.58, 0.85, 0.6];
        let sig = |i: usize, j: usize| (scores[i] - scores[j]).abs() > 0.11;
        assert_eq!(tiers(&scores, &sig), vec![0, 0, 1, 0, 1]);
    }

    #[test]
    fn chaining_does_not_extend_a_tier() {
        // 0.9 → 0.85 → 0.8 → 0.75: each step is small, but 0.75 is far from the leader 0.9
        // (and 0.8 is not), so 0.75 starts tier 1.
        let scores: [f64; 4] = [0.9, 0.85, 0.8, 0.75];
        let sig = |i: usize, j: usize| (scores[i] - scores[j]).abs() > 0.12;
        assert_eq!(tiers(&scores, &sig), vec![0, 0, 0, 1]);
    }

    #[test]
    fn leader_is_asked_first_and_ties_go_by_index() {
        let scores = [0.5, 0.7, 0.7, f64::NAN];
        let asked = std::cell::RefCell::new(Vec::new());
        let sig = |i: usize, j: usize| {
            asked.borrow_mut().push((i, j));
            true
        };
        assert_eq!(tiers(&scores, &sig), vec![2, 0, 1, 3]);
        assert_eq!(*asked.borrow(), vec![(1, 2), (2, 0), (0, 3)]);
    }

    #[test]
    fn edges() {
        assert!(tiers(&[], &|_, _| true).is_empty());
        assert_eq!(tiers(&[0.3], &|_, _| true), vec![0]);
        assert_eq!(tiers(&[0.3, 0.1, 0.2], &|_, _| false), vec![0, 0, 0]);
    }
}
