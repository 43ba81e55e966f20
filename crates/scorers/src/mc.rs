//! Multiple choice by log-likelihood: the engine records each option's log-likelihood as the
//! answer ([`ChoiceLikelihoods`], JSON), and `acc` / `acc_norm` score it the way
//! lm-evaluation-harness does: `acc` picks the option with the highest log-likelihood,
//! `acc_norm` the highest log-likelihood per byte of the continuation.

use serde::{Deserialize, Serialize};
use touchstone_core::{Sample, Score, choice_letter};
use touchstone_models::Loglikelihood;

use crate::{Scorer, ScorerError};

/// What a log-likelihood multiple-choice item answered, stored as its answer text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChoiceLikelihoods {
    /// The letter of the option with the highest log-likelihood (`acc`'s pick).
    pub choice: String,
    /// The letter of the option with the highest log-likelihood per byte (`acc_norm`'s pick).
    pub choice_norm: String,
    pub logprobs: Vec<f64>,
    /// Bytes of each continuation (the normaliser of `acc_norm`).
    pub bytes: Vec<usize>,
    /// Whether greedy decoding would produce each continuation.
    pub greedy: Vec<bool>,
}

fn argmax(values: impl Iterator<Item = f64>) -> usize {
    // The first of equal maxima wins, as numpy's argmax does in lm-evaluation-harness.
    let mut best = (0, f64::NEG_INFINITY);
    for (i, v) in values.enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best.0
}

impl ChoiceLikelihoods {
    pub fn new(continuations: &[String], lls: &[Loglikelihood]) -> Self {
        let logprobs: Vec<f64> = lls.iter().map(|l| l.logprob).collect();
        let bytes: Vec<usize> = continuations.iter().map(|c| c.len()).collect();
        let raw = argmax(logprobs.iter().copied());
        let norm = argmax(
            logprobs
                .iter()
                .zip(&bytes)
                .map(|(lp, b)| lp / (*b).max(1) as f64),
        );
        ChoiceLikelihoods {
            choice: choice_letter(raw).to_string(),
            choice_norm: choice_letter(norm).to_string(),
            logprobs,
            bytes,
            greedy: lls.iter().map(|l| l.is_greedy).collect(),
        }
    }
}

/// `acc` (normalised: false) or `acc_norm` (true).
pub struct LikelihoodScorer {
    normalised: bool,
}

impl LikelihoodScorer {
    pub fn new(normalised: bool) -> Self {
        LikelihoodScorer { normalised }
    }
}

#[async_trait::async_trait]
impl Scorer for LikelihoodScorer {
    fn name(&self) -> &str {
        if self.normalised { "acc_norm" } else { "acc" }
    }

    async fn score(&self, sample: &Sample, answer: &str) -> Result<Score, ScorerError> {
        let parsed: ChoiceLikelihoods = serde_json::from_str(answer).map_err(|e| ScorerError::BadOption {
            scorer: self.name().into(),
            option: "output".into(),
            message: format!(
                "sample `{}`: the answer is not a log-likelihood record ({e}); `{}` scores tasks with `output: multiple_choice_letters` or `multiple_choice_texts`",
                sample.id,
                self.name()
            ),
        })?;
        let target = crate::targets(self.name(), sample)?[0]
            .trim()
            .to_ascii_uppercase();
        let pick = if self.normalised {
            &parsed.choice_norm
        } else {
            &parsed.choice
        };
        Ok(Score::binary(
            self.name(),
            *pick == target,
            Some(pick.clone()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ll(logprob: f64) -> Loglikelihood {
        Loglikelihood {
            logprob,
            is_greedy: false,
            tokens: 1,
        }
    }

    #[test]
    fn acc_and_acc_norm_can_disagree() {
        // " cat" is likelier in total; " elephant" is likelier per byte.
        let conts = vec![" cat".to_string(), " elephant".to_string()];
        let r = ChoiceLikelihoods::new(&conts, &[ll(-2.0), ll(-3.0)]);
        assert_eq!((r.choice.as_str(), r.choice_norm.as_str()), ("A", "B"));
        let sample = Sample::new("s", "q", "B");
        let answer = serde_json::to_string(&r).unwrap();
        let acc = futures_block(LikelihoodScorer::new(false).score(&sample, &answer)).unwrap();
        let norm = futures_block(LikelihoodScorer::new(true).score(&sample, &answer)).unwrap();
        assert_eq!((acc.value, norm.value), (0.0, 1.0));
    }

    #[test]
    fn a_generated_answer_is_a_clear_error() {
        let e = futures_block(
            LikelihoodScorer::new(false).score(&Sample::new("s", "q", "A"), "The answer is A"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("multiple_choice"), "{e}");
    }

    fn futures_block<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }
}
