//! Fault kinds, their rates, and the seeded per-request decision.

use serde::Serialize;

/// Probability of each fault kind, per chat request.
///
/// Each rate is clamped to `[0, 1]` (NaN counts as 0). The kinds are tried in field order
/// against one uniform draw, so at most one fault hits a request; if the rates add up to
/// more than 1 the later kinds get only what is left.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// 429 with `Retry-After`.
    pub rate_limit: f64,
    /// 500.
    pub server_error: f64,
    /// 503.
    pub unavailable: f64,
    /// Accept the request, then send nothing for `MockConfig::hang`.
    pub hang: f64,
    /// Close the connection with a TCP RST, no response.
    pub reset: f64,
    /// 200 with the full Content-Length declared but only half the body sent.
    pub truncated: f64,
    /// 200 with valid JSON whose `choices` is empty.
    pub empty_choices: f64,
}

impl Faults {
    /// `total` spread evenly over the seven kinds.
    pub fn uniform(total: f64) -> Faults {
        let each = total / 7.0;
        Faults {
            rate_limit: each,
            server_error: each,
            unavailable: each,
            hang: each,
            reset: each,
            truncated: each,
            empty_choices: each,
        }
    }

    /// Only `kind`, at `rate`.
    pub fn only(kind: FaultKind, rate: f64) -> Faults {
        let mut faults = Faults::default();
        match kind {
            FaultKind::RateLimit => faults.rate_limit = rate,
            FaultKind::ServerError => faults.server_error = rate,
            FaultKind::Unavailable => faults.unavailable = rate,
            FaultKind::Hang => faults.hang = rate,
            FaultKind::Reset => faults.reset = rate,
            FaultKind::Truncated => faults.truncated = rate,
            FaultKind::EmptyChoices => faults.empty_choices = rate,
        }
        faults
    }

    fn table(&self) -> [(FaultKind, f64); 7] {
        [
            (FaultKind::RateLimit, self.rate_limit),
            (FaultKind::ServerError, self.server_error),
            (FaultKind::Unavailable, self.unavailable),
            (FaultKind::Hang, self.hang),
            (FaultKind::Reset, self.reset),
            (FaultKind::Truncated, self.truncated),
            (FaultKind::EmptyChoices, self.empty_choices),
        ]
    }

    /// The fault (if any) for request number `seq` of a server seeded with `seed`.
    /// Pure: the same seed, sequence number and rates always give the same answer.
    pub fn decide(&self, seed: u64, seq: u64) -> Option<FaultKind> {
        let draw = unit_draw(seed, seq);
        let mut cumulative = 0.0;
        for (kind, rate) in self.table() {
            let rate = if rate.is_nan() {
                0.0
            } else {
                rate.clamp(0.0, 1.0)
            };
            cumulative += rate;
            if draw < cumulative {
                return Some(kind);
            }
        }
        None
    }
}

/// One kind of injected fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum FaultKind {
    RateLimit,
    ServerError,
    Unavailable,
    Hang,
    Reset,
    Truncated,
    EmptyChoices,
}

/// SplitMix64 finaliser: a tiny, well-mixed hash; enough for reproducible fault draws.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Uniform in `[0, 1)` from the seed and the request's sequence number.
fn unit_draw(seed: u64, seq: u64) -> f64 {
    let bits = splitmix64(splitmix64(seed) ^ seq);
    // 53 high bits give every representable multiple of 2^-53 in [0, 1).
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_rates_never_fault() {
        let faults = Faults::default();
        assert!((0..10_000).all(|seq| faults.decide(7, seq).is_none()));
    }

    #[test]
    fn rate_one_always_faults_with_that_kind() {
        let faults = Faults::only(FaultKind::Truncated, 1.0);
        assert!((0..10_000).all(|seq| faults.decide(7, seq) == Some(FaultKind::Truncated)));
    }

    #[test]
    fn decisions_are_reproducible_and_seed_dependent() {
        let faults = Faults::uniform(0.5);
        let a: Vec<_> = (0..1000).map(|s| faults.decide(1, s)).collect();
        let b: Vec<_> = (0..1000).map(|s| faults.decide(1, s)).collect();
        let c: Vec<_> = (0..1000).map(|s| faults.decide(2, s)).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn uniform_rate_is_close_to_requested_and_covers_every_kind() {
        let faults = Faults::uniform(0.3);
        let n = 70_000u64;
        let mut counts = std::collections::HashMap::new();
        for seq in 0..n {
            if let Some(kind) = faults.decide(42, seq) {
                *counts.entry(kind).or_insert(0u64) += 1;
            }
        }
        let total: u64 = counts.values().sum();
        let observed = total as f64 / n as f64;
        assert!(
            (observed - 0.3).abs() < 0.01,
            "observed fault rate {observed}"
        );
        assert_eq!(counts.len(), 7, "{counts:?}");
        for count in counts.values() {
            let share = *count as f64 / n as f64;
            assert!((share - 0.3 / 7.0).abs() < 0.005, "{counts:?}");
        }
    }

    #[test]
    fn nan_and_out_of_range_rates_are_clamped() {
        let faults = Faults {
            rate_limit: f64::NAN,
            server_error: -1.0,
            reset: 5.0,
            ..Faults::default()
        };
        assert!((0..1000).all(|seq| faults.decide(3, seq) == Some(FaultKind::Reset)));
    }
}
