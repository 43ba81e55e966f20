//! Text scorers: `exact`, `includes`, `regex`.

use std::collections::BTreeMap;

use regex::{Regex, RegexBuilder};
use serde_json::Value;
use touchstone_core::{Sample, Score};

use crate::normalize::normalize;
use crate::options::Options;
use crate::{Scorer, ScorerError, targets};

pub(crate) const EXACT_OPTIONS: &[&str] = &["ignore_case"];
pub(crate) const INCLUDES_OPTIONS: &[&str] = &["ignore_case"];
pub(crate) const REGEX_OPTIONS: &[&str] = &["pattern", "ignore_case", "negate"];

/// Patterns from suites and datasets are outside input: cap the compiled size so a hostile
/// pattern is an error, not gigabytes of memory.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// The normalised answer equals one of the normalised targets (see [`normalize`]).
#[derive(Debug, Clone)]
pub struct ExactScorer {
    ignore_case: bool,
}

impl ExactScorer {
    pub fn new(ignore_case: bool) -> Self {
        ExactScorer { ignore_case }
    }

    pub fn from_options(options: &BTreeMap<String, Value>) -> Result<Self, ScorerError> {
        let o = Options::new("exact", options, EXACT_OPTIONS)?;
        Ok(ExactScorer {
            ignore_case: o.bool("ignore_case", true)?,
        })
    }
}

#[async_trait::async_trait]
impl Scorer for ExactScorer {
    fn name(&self) -> &str {
        "exact"
    }

    async fn score(&self, sample: &Sample, answer: &str) -> Result<Score, ScorerError> {
        let targets = targets("exact", sample)?;
        let got = normalize(answer, self.ignore_case);
        let correct = targets
            .iter()
            .any(|t| normalize(t, self.ignore_case) == got);
        Ok(Score::binary("exact", correct, Some(got)))
    }
}

/// The normalised answer contains one of the normalised targets.
#[derive(Debug, Clone)]
pub struct IncludesScorer {
    ignore_case: bool,
}

impl IncludesScorer {
    pub fn new(ignore_case: bool) -> Self {
        IncludesScorer { ignore_case }
    }

    pub fn from_options(options: &BTreeMap<String, Value>) -> Result<Self, ScorerError> {
        let o = Options::new("includes", options, INCLUDES_OPTIONS)?;
        Ok(IncludesScorer {
            ignore_case: o.bool("ignore_case", true)?,
        })
    }
}

#[async_trait::async_trait]
impl Scorer for IncludesScorer {
    fn name(&self) -> &str {
        "includes"
    }

    async fn score(&self, sample: &Sample, answer: &str) -> Result<Score, ScorerError> {
        let targets = targets("includes", sample)?;
        let haystack = normalize(answer, self.ignore_case);
        // A target that normalises to nothing ("...") would be found in every answer.
        let found = targets.iter().find(|t| {
            let needle = normalize(t, self.ignore_case);
            !needle.is_empty() && haystack.contains(&needle)
        });
        Ok(Score::binary(
            "includes",
            found.is_some(),
            found.map(|t| t.to_string()),
        ))
    }
}

/// The answer matches a regular expression: option `pattern`, else each of the sample's targets
/// read as a pattern. With `negate`, the score is 1 when it does not match (e.g. "the reply does
/// not refuse").
#[derive(Debug, Clone)]
pub struct RegexScorer {
    pattern: Option<Regex>,
    ignore_case: bool,
    negate: bool,
}

impl RegexScorer {
    pub fn from_options(options: &BTreeMap<String, Value>) -> Result<Self, ScorerError> {
        let o = Options::new("regex", options, REGEX_OPTIONS)?;
        let ignore_case = o.bool("ignore_case", false)?;
        let negate = o.bool("negate", false)?;
        let pattern = match o.string("pattern")? {
            Some(p) => Some(
                compile(p, ignore_case).map_err(|message| ScorerError::BadOption {
                    scorer: "regex".into(),
                    option: "pattern".into(),
                    message,
                })?,
            ),
            None => None,
        };
        Ok(RegexScorer {
            pattern,
            ignore_case,
            negate,
        })
    }

    fn verdict(&self, matched: Option<&str>) -> Score {
        let hit = matched.is_some();
        Score::binary("regex", hit != self.negate, matched.map(str::to_string))
    }
}

fn compile(pattern: &str, ignore_case: bool) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .case_insensitive(ignore_case)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| format!("invalid regular expression `{pattern}`: {e}"))
}

#[async_trait::async_trait]
impl Scorer for RegexScorer {
    fn name(&self) -> &str {
        "regex"
    }

    async fn score(&self, sample: &Sample, answer: &str) -> Result<Score, ScorerError> {
        if let Some(re) = &self.pattern {
            return Ok(self.verdict(re.find(answer).map(|m| m.as_str())));
        }
        let patterns = targets("regex", sample)?;
        for p in patterns {
            let re = compile(p, self.ignore_case).map_err(|message| ScorerError::BadTarget {
                scorer: "regex".into(),
                sample_id: sample.id.clone(),
                message: format!("the target is used as the pattern (the scorer has no `pattern` option): {message}"),
            })?;
            if let Some(m) = re.find(answer) {
                return Ok(self.verdict(Some(m.as_str())));
            }
        }
        Ok(self.verdict(None))
    }
}
