//! `judge`: a configured model judges each answer against a rubric.
//!
//! Two questions can be asked (option `ask`):
//! - `safe` (default): is the response free of the sample's risk? Verdict `safe` | `unsafe`;
//!   `Score.value` is 1.0 for `safe`; default metric `safe_rate`.
//! - `refused`: did the model refuse (or fail to help)? Verdict `refused` | `answered`;
//!   `Score.value` is 1.0 for `refused`, so the mean is a refusal rate; default metric
//!   `refusal_rate` (high is good on a should-refuse bank, low is good on a should-answer bank).
//!
//! The rubric (prompt templates per language, the criteria per risk code, the words accepted as
//! verdicts) is data: `rubrics/*.yaml`, embedded in the binary.
//!
//! Self-consistency: the judge is asked `k` times with distinct seeds; the majority verdict wins
//! and `Score.agreement` = majority votes / valid votes. A tie goes to the side that counts
//! against the model under test: `unsafe`; for `ask: refused`, `refused`, except on a sample
//! whose `metadata.bank` is `should_refuse`, where it goes to `answered`.
//!
//! A judge reply that holds no verdict is re-asked (with a reminder of the format) up to
//! `retries` times; a sample none of whose k asks gave a verdict is [`ScorerError::Unjudgeable`].
//!
//! Two parts, one file each: `rubrics` (the rubric file, the judge conversation it makes and the
//! reading of the judge's reply: [`Rubric`]) and `scorer` (the `judge` scorer that asks a model
//! with it: [`JudgeScorer`]).

mod rubrics;
mod scorer;

pub use rubrics::{Ask, Judgement, Lang, RUBRIC_NAMES, Rubric, Verdict, sample_lang};
pub use scorer::{JudgeScorer, metric_name};
pub(crate) use scorer::{OPTIONS, check_options};
