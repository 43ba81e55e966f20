//! Wilson score interval for a binomial proportion.

/// Wilson score interval for `successes` out of `n` with critical value `z` (1.959964 for 95%).
/// `n == 0` gives the uninformative (0, 1); `successes` above `n` counts as `n`.
pub fn wilson(successes: u64, n: u64, z: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let nf = n as f64;
    let p = successes.min(n) as f64 / nf;
    let z2 = z * z;
    let denom = 1.0 + z2 / nf;
    let center = (p + z2 / (2.0 * nf)) / denom;
    let half = z / denom * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt();
    (
        (center - half).clamp(0.0, 1.0),
        (center + half).clamp(0.0, 1.0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const Z95: f64 = 1.959_963_984_540_054;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 5e-5
    }

    #[test]
    fn textbook_values() {
        // 8 of 10 at 95%.
        let (lo, hi) = wilson(8, 10, Z95);
        assert!(close(lo, 0.4902) && close(hi, 0.9433), "({lo}, {hi})");
        // 0 of 10: lower bound exactly 0, upper 0.2775 (Agresti & Coull 1998).
        let (lo, hi) = wilson(0, 10, Z95);
        assert!(lo == 0.0 && close(hi, 0.2775), "({lo}, {hi})");
        // 50 of 100: 0.4038 .. 0.5962.
        let (lo, hi) = wilson(50, 100, Z95);
        assert!(close(lo, 0.4038) && close(hi, 0.5962), "({lo}, {hi})");
        // 10 of 10 mirrors 0 of 10.
        let (lo, hi) = wilson(10, 10, Z95);
        assert!(close(lo, 0.7225) && close(hi, 1.0), "({lo}, {hi})");
    }

    #[test]
    fn degenerate_inputs() {
        assert_eq!(wilson(0, 0, Z95), (0.0, 1.0));
        assert_eq!(wilson(12, 10, Z95), wilson(10, 10, Z95));
    }
}
