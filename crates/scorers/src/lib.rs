//! Scorers: given a sample and a model's answer, a [`Score`] in [0, 1].
//!
//! The engine sees scorers only through the [`Scorer`] trait (architecture invariant 4) and
//! builds them from a suite's [`ScorerSpec`] with [`build`]. The rule scorers here are
//! deterministic and cheap (no IO); `score` is async so that judge-model scorers fit the same
//! trait.

mod choice;
mod code;
mod error;
pub mod judge;
mod keywords;
pub mod mc;
pub mod normalize;
mod numeric;
mod options;
pub mod refusal;
mod safety;
mod text;

use touchstone_core::{Sample, Score, ScorerSpec};

pub use choice::{ChoiceScorer, extract_choice};
pub use code::CodeScorer;
pub use error::ScorerError;
pub use judge::JudgeScorer;
pub use keywords::KeywordScorer;
pub use numeric::{NumericScorer, extract_number, parse_target_number};
pub use refusal::{RefusalLabel, RefusalScorer};
pub use safety::SafetyScorer;
pub use text::{ExactScorer, IncludesScorer, RegexScorer};

/// Names [`build`] knows, in the order they are documented. Scorers that need a model from the
/// [`ScorerContext`] are in [`MODEL_SCORER_NAMES`].
pub const SCORER_NAMES: &[&str] = &[
    "exact", "includes", "regex", "choice", "numeric", "refusal", "keywords", "safety", "acc",
    "acc_norm", "code",
];

/// Whether scorer `name` reads the options' log-likelihoods (a task with a multiple-choice
/// `output`) rather than a generated answer.
pub fn reads_loglikelihoods(name: &str) -> bool {
    matches!(name, "acc" | "acc_norm")
}

/// Scorers that need a model from the [`ScorerContext`]: [`build_with`] builds them, [`check`]
/// checks their options without one.
pub const MODEL_SCORER_NAMES: &[&str] = &["judge"];

#[async_trait::async_trait]
pub trait Scorer: Send + Sync {
    /// The scorer's name, as written in suites; every [`Score`] it gives carries it.
    fn name(&self) -> &str;

    /// Scores one answer to one sample. An `Err` means the sample cannot be scored by this
    /// scorer (no target, a target that is not a number, …), not that the answer is wrong.
    async fn score(&self, sample: &Sample, answer: &str) -> Result<Score, ScorerError>;
}

/// What scorers that need more than the answer get: the judge model (`--judge SPEC`), already
/// wrapped in the engine's layers (cache, retry, …), and whether the user allowed running
/// generated code without the isolated sandbox (`--allow-unisolated-code`). The default has no
/// judge and refuses unisolated code.
#[derive(Clone, Default)]
pub struct ScorerContext {
    pub judge: Option<touchstone_models::SharedModel>,
    pub allow_unisolated_code: bool,
}

impl std::fmt::Debug for ScorerContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let judge = self.judge.as_ref().map(|m| m.identity().label.clone());
        f.debug_struct("ScorerContext")
            .field("judge", &judge)
            .field("allow_unisolated_code", &self.allow_unisolated_code)
            .finish()
    }
}

/// Builds the scorer a spec names, checking its options, without a judge model.
pub fn build(spec: &ScorerSpec) -> Result<Box<dyn Scorer>, ScorerError> {
    build_with(spec, &ScorerContext::default())
}

/// Checks a spec's name and options without building it, so that a suite naming `judge` can be
/// validated before a judge model is configured.
pub fn check(spec: &ScorerSpec) -> Result<(), ScorerError> {
    match spec.name.as_str() {
        "judge" => judge::check_options(&spec.options),
        _ => build(spec).map(|_| ()),
    }
}

/// Builds the scorer a spec names, checking its options; `judge` takes its model from `ctx`.
pub fn build_with(spec: &ScorerSpec, ctx: &ScorerContext) -> Result<Box<dyn Scorer>, ScorerError> {
    let options = &spec.options;
    match spec.name.as_str() {
        "judge" => Ok(Box::new(JudgeScorer::from_options(
            options,
            ctx.judge.clone(),
        )?)),
        "exact" => Ok(Box::new(ExactScorer::from_options(options)?)),
        "refusal" => Ok(Box::new(RefusalScorer::from_options_with(options, ctx)?)),
        "includes" => Ok(Box::new(IncludesScorer::from_options(options)?)),
        "regex" => Ok(Box::new(RegexScorer::from_options(options)?)),
        "choice" => Ok(Box::new(ChoiceScorer::from_options(options)?)),
        "numeric" => Ok(Box::new(NumericScorer::from_options(options)?)),
        "keywords" => Ok(Box::new(KeywordScorer::from_options(options)?)),
        "safety" => Ok(Box::new(SafetyScorer::from_options(options, ctx)?)),
        "acc" | "acc_norm" => {
            crate::options::Options::new(
                if spec.name == "acc" {
                    "acc"
                } else {
                    "acc_norm"
                },
                options,
                &[],
            )?;
            Ok(Box::new(mc::LikelihoodScorer::new(spec.name == "acc_norm")))
        }
        "code" => Ok(Box::new(
            CodeScorer::from_options(options)?.allow_unisolated(ctx.allow_unisolated_code),
        )),
        other => Err(ScorerError::Unknown {
            name: other.to_string(),
            suggestion: error::suggest(other, &error::all_names()),
        }),
    }
}

/// The metric a scorer's mean is reported under: its `metric` option, else the scorer's own
/// default (`accuracy` for the rule scorers, `refusal_rate`, `keyword_pass_rate`, `safe_rate`…).
pub fn metric_name(spec: &ScorerSpec) -> String {
    if spec.options.contains_key("metric") {
        return spec.metric_name();
    }
    match spec.name.as_str() {
        "judge" => judge::metric_name(&spec.options),
        "refusal" => refusal::DEFAULT_METRIC.to_string(),
        "keywords" => "keyword_pass_rate".to_string(),
        "safety" => "safe_rate".to_string(),
        "acc" => "acc".to_string(),
        "acc_norm" => "acc_norm".to_string(),
        _ => spec.metric_name(),
    }
}

/// Writes each scorer's metric name into its options when the suite left it out, so that the
/// stored run (and every report) names metrics the same way whatever the defaults become.
pub fn pin_metric_names(suite: &mut touchstone_core::SuiteSpec) {
    for task in &mut suite.tasks {
        for spec in &mut task.scorers {
            if !spec.options.contains_key("metric") {
                let name = metric_name(spec);
                spec.options
                    .insert("metric".into(), serde_json::Value::String(name));
            }
        }
    }
}

/// The options a scorer accepts (besides `metric`, which all accept), for help texts.
pub fn known_options(name: &str) -> Option<&'static [&'static str]> {
    match name {
        "exact" => Some(text::EXACT_OPTIONS),
        "refusal" => Some(refusal::OPTIONS),
        "includes" => Some(text::INCLUDES_OPTIONS),
        "regex" => Some(text::REGEX_OPTIONS),
        "choice" => Some(choice::OPTIONS),
        "numeric" => Some(numeric::OPTIONS),
        "keywords" => Some(keywords::OPTIONS),
        "judge" => Some(judge::OPTIONS),
        "safety" => Some(safety::OPTIONS),
        "acc" | "acc_norm" => Some(&[]),
        "code" => Some(code::OPTIONS),
        _ => None,
    }
}

/// The sample's non-empty targets, or the error that says it has none.
pub(crate) fn targets<'a>(scorer: &str, sample: &'a Sample) -> Result<Vec<&'a str>, ScorerError> {
    let ts: Vec<&str> = sample
        .target
        .iter()
        .filter(|t| !t.trim().is_empty())
        .collect();
    if ts.is_empty() {
        return Err(ScorerError::MissingTarget {
            scorer: scorer.to_string(),
            sample_id: sample.id.clone(),
        });
    }
    Ok(ts)
}
