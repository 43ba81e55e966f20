//! `numeric`: the number a reply arrives at equals the target number (GSM8K style).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;
use touchstone_core::{Sample, Score};

use crate::normalize::{fold_width, strip_reasoning};
use crate::options::Options;
use crate::{Scorer, ScorerError, targets};

pub(crate) const OPTIONS: &[&str] = &["tolerance"];

/// Default relative tolerance: numbers that differ by at most this fraction (of the larger, or
/// of 1 near zero) are equal, so `0.75` equals `3/4` and `1200.50` equals `1200.5`.
pub const DEFAULT_TOLERANCE: f64 = 1e-6;

const NO_NUMBER: &str = "no number found in the answer / 回答中未找到数字";

/// A number in text: optional sign and `$`, digits with optional thousands separators and
/// decimals (or a bare `.5`), optionally a fraction `a/b`.
static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"([-−]?)\$?\s?((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)(?:\s?/\s?(\d+(?:\.\d+)?))?",
    )
    .expect("static number pattern")
});

/// Phrases after which the stated answer follows.
static ANSWER_IS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\banswer\s*(?:(?:is|was|would\s+be|should\s+be|will\s+be|:|=)\s*)+|答案\s*(?:应该|应|就)?\s*(?:是|为|:|=)?|\\boxed\{",
    )
    .expect("static answer pattern")
});

/// Scores 1 when the number extracted from the reply (see [`extract_number`]) equals one of
/// the target numbers (see [`parse_target_number`]) within a relative tolerance (option
/// `tolerance`, default 1e-6).
#[derive(Debug, Clone)]
pub struct NumericScorer {
    tolerance: f64,
}

impl Default for NumericScorer {
    fn default() -> Self {
        NumericScorer {
            tolerance: DEFAULT_TOLERANCE,
        }
    }
}

impl NumericScorer {
    pub fn new(tolerance: f64) -> Self {
        NumericScorer { tolerance }
    }

    pub fn from_options(options: &BTreeMap<String, Value>) -> Result<Self, ScorerError> {
        let o = Options::new("numeric", options, OPTIONS)?;
        Ok(NumericScorer {
            tolerance: o.non_negative("tolerance", DEFAULT_TOLERANCE)?,
        })
    }
}

#[async_trait::async_trait]
impl Scorer for NumericScorer {
    fn name(&self) -> &str {
        "numeric"
    }

    async fn score(&self, sample: &Sample, answer: &str) -> Result<Score, ScorerError> {
        let mut expected = Vec::new();
        for t in targets("numeric", sample)? {
            let n = parse_target_number(t).ok_or_else(|| ScorerError::BadTarget {
                scorer: "numeric".into(),
                sample_id: sample.id.clone(),
                message: format!(
                    "target `{}` has no number (expected a number such as `1,234`, `-3`, `0.5`, `3/4`, or text ending in `#### N`)",
                    shorten(t)
                ),
            })?;
            expected.push(n);
        }
        Ok(match extract_number(answer) {
            Some(got) => {
                let correct = expected
                    .iter()
                    .any(|&want| close(got, want, self.tolerance));
                Score::binary("numeric", correct, Some(format_number(got)))
            }
            None => {
                let mut s = Score::binary("numeric", false, None);
                s.explanation = Some(NO_NUMBER.to_string());
                s
            }
        })
    }
}

fn shorten(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(MAX).collect::<String>())
    }
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance * a.abs().max(b.abs()).max(1.0)
}

/// Integers print without a decimal point, everything else in the shortest exact form.
fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// The number a target stands for: what follows the last `####` (GSM8K's answer field), else
/// the first number in the target.
pub fn parse_target_number(target: &str) -> Option<f64> {
    let text = fold_width(target);
    let tail = match text.rfind("####") {
        Some(i) => &text[i + 4..],
        None => text.as_str(),
    };
    numbers(tail).next().map(|(_, v)| v)
}

/// The number a reply arrives at: the one after the last `####`; else after the last "answer
/// is" / "答案是" / `\boxed{`; else the last number in the text. Thousands separators, `$`,
/// negative numbers, decimals and fractions (`3/4` is 0.75) are understood; a `<think>` section
/// is ignored.
pub fn extract_number(answer: &str) -> Option<f64> {
    let text = fold_width(strip_reasoning(answer));
    if let Some(i) = text.rfind("####")
        && let Some((_, v)) = numbers(&text[i + 4..]).next()
    {
        return Some(v);
    }
    let stated = ANSWER_IS
        .find_iter(&text)
        .filter_map(|m| first_number_on_line(&text[m.end()..]))
        .last();
    stated.or_else(|| numbers(&text).last().map(|(_, v)| v))
}

/// The first number in `s` before its first line break.
fn first_number_on_line(s: &str) -> Option<f64> {
    let line = s
        .trim_start_matches([' ', '\t'])
        .split('\n')
        .next()
        .unwrap_or("");
    numbers(line).next().map(|(_, v)| v)
}

/// Every number in `s`, with its start offset.
fn numbers(s: &str) -> impl Iterator<Item = (usize, f64)> + '_ {
    NUMBER.captures_iter(s).filter_map(move |caps| {
        let whole = caps.get(0)?;
        let digits = caps.get(2)?;
        // "16-3": a minus right after a digit, letter or ")" is subtraction, not a sign.
        let sign_is_minus = caps.get(1).is_some_and(|m| !m.is_empty())
            && !s[..whole.start()]
                .chars()
                .next_back()
                .is_some_and(|p| p.is_ascii_alphanumeric() || p == ')');
        let mut value: f64 = digits.as_str().replace(',', "").parse().ok()?;
        if let Some(den) = caps.get(3) {
            let d: f64 = den.as_str().parse().ok()?;
            if d != 0.0 {
                value /= d;
            }
        }
        if sign_is_minus {
            value = -value;
        }
        value.is_finite().then_some((whole.start(), value))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerance_is_relative_with_a_floor_of_one() {
        assert!(close(0.75, 0.750_000_000_1, 1e-6));
        assert!(close(1_000_000.0, 1_000_000.5, 1e-6));
        assert!(!close(1_000_000.0, 1_000_002.0, 1e-6));
        assert!(!close(0.0, 0.001, 1e-6));
    }

    #[test]
    fn formats_numbers() {
        assert_eq!(format_number(1234.0), "1234");
        assert_eq!(format_number(-3.0), "-3");
        assert_eq!(format_number(0.75), "0.75");
        assert_eq!(format_number(1200.5), "1200.5");
    }
}
