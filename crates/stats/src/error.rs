//! The crate's one error type.
//!
//! Why an error at all in a crate of pure numbers: most functions here define an answer for
//! every input (an empty sample has the interval (0, 0)), but a sample-size question with an
//! impossible premise (a rate of 1.3, a power of 0) has no honest number to return, and the
//! caller is usually echoing a user's flag, so the message names the argument and its range.

use thiserror::Error;

/// Why a computation in this crate has no answer.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum StatsError {
    /// An argument is outside the range where the question makes sense.
    #[error("{name} must be {allowed}, got {value}")]
    InvalidArgument {
        /// The parameter's name, as in the function signature.
        name: &'static str,
        /// The value given.
        value: f64,
        /// The allowed range, in words (e.g. "in (0, 1)").
        allowed: &'static str,
    },
    /// The answer exists but does not fit: the sample size needed exceeds 2⁵³ items.
    #[error("the sample size needed exceeds 2^53 items (the difference to detect is too small)")]
    TooLarge,
    /// No difference in range is detectable with this many items at the requested power.
    #[error(
        "with n = {n} per group no difference above p = {p} reaches the requested power; use more items"
    )]
    NotDetectable {
        /// Items per group.
        n: u64,
        /// The base rate.
        p: f64,
    },
}
