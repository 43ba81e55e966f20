//! What a scorer says about one answer.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// Name of the scorer that gave this score (`choice`, `numeric`, …).
    pub scorer: String,
    /// In [0, 1]: 1 is correct / desired. Binary scorers give exactly 0 or 1.
    pub value: f64,
    /// What the scorer extracted from the answer (a letter, a number), if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extracted: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
}

impl Score {
    pub fn binary(scorer: impl Into<String>, correct: bool, extracted: Option<String>) -> Self {
        Score { scorer: scorer.into(), value: if correct { 1.0 } else { 0.0 }, extracted, explanation: None }
    }
}
