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
    /// For judged scores: the fraction of the judge's k samples that agreed with the verdict
    /// (majority votes / valid votes), in (0, 1]. None for scorers that do not judge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<f64>,
}

impl Score {
    pub fn binary(scorer: impl Into<String>, correct: bool, extracted: Option<String>) -> Self {
        Score {
            scorer: scorer.into(),
            value: if correct { 1.0 } else { 0.0 },
            extracted,
            explanation: None,
            agreement: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_is_optional_on_the_wire() {
        // Rows stored before `agreement` existed still read; scores without it do not write it.
        let old: Score = serde_json::from_str(r#"{"scorer":"exact","value":1.0}"#).unwrap();
        assert_eq!(old.agreement, None);
        assert!(!serde_json::to_string(&old).unwrap().contains("agreement"));

        let judged = Score {
            agreement: Some(2.0 / 3.0),
            ..Score::binary("judge", false, Some("unsafe".into()))
        };
        let text = serde_json::to_string(&judged).unwrap();
        assert!(text.contains(r#""agreement":0.6666"#), "{text}");
        assert_eq!(serde_json::from_str::<Score>(&text).unwrap(), judged);
    }
}
