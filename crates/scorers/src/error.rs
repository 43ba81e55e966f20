//! Errors of building and running scorers.

use crate::{MODEL_SCORER_NAMES, SCORER_NAMES};

#[derive(Debug, thiserror::Error)]
pub enum ScorerError {
    /// The suite names a scorer that does not exist.
    #[error("unknown scorer `{name}`{}; known scorers: {}", did_you_mean(.suggestion), all_names().join(", "))]
    Unknown {
        name: String,
        suggestion: Option<String>,
    },

    /// An option of a scorer is unknown, has the wrong type or an invalid value.
    #[error("scorer `{scorer}`, option `{option}`: {message}")]
    BadOption {
        scorer: String,
        option: String,
        message: String,
    },

    /// The sample has no target, and the scorer needs one.
    #[error(
        "scorer `{scorer}`: sample `{sample_id}` has no target; give the sample a `target` \
         (or map the dataset's answer field to `target`)"
    )]
    MissingTarget { scorer: String, sample_id: String },

    /// The sample's target cannot be used by this scorer (not a number, not a letter, an
    /// invalid regular expression, …).
    #[error("scorer `{scorer}`: sample `{sample_id}`: {message}")]
    BadTarget {
        scorer: String,
        sample_id: String,
        message: String,
    },

    /// The suite uses a scorer that needs a judge model, and none was given.
    #[error(
        "scorer `{scorer}` needs a judge model; pass `--judge SPEC` (e.g. \
         `--judge openai:NAME@http://HOST:PORT/v1`), or remove the `{scorer}` scorer from the task"
    )]
    NoJudge { scorer: String },

    /// The judge gave no usable verdict after every re-ask: the item is failed, not scored.
    #[error(
        "unjudgeable: the judge gave no verdict for sample `{sample_id}` in {attempts} call(s) \
         ({problem}); last output: {last_output:?}. Use a judge model that follows instructions, \
         or raise the scorer's `retries`"
    )]
    Unjudgeable {
        sample_id: String,
        /// Judge calls made for this sample, re-asks included.
        attempts: u32,
        /// Why the last reply held no verdict.
        problem: String,
        /// The start of the last reply.
        last_output: String,
    },

    /// The judge model itself failed (after its retry layer gave up).
    #[error("the judge model failed on sample `{sample_id}`: {source}")]
    JudgeFailed {
        sample_id: String,
        #[source]
        source: touchstone_models::ModelError,
    },

    /// A judge rubric is malformed.
    #[error("rubric `{rubric}`: {message}")]
    BadRubric { rubric: String, message: String },
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!(" (did you mean `{s}`?)"),
        None => String::new(),
    }
}

/// Every scorer name: those [`crate::build`] builds, then those that need a model.
pub(crate) fn all_names() -> Vec<&'static str> {
    SCORER_NAMES
        .iter()
        .chain(MODEL_SCORER_NAMES)
        .copied()
        .collect()
}

/// The candidate closest to `input`, when it is close enough to be a likely typo.
pub(crate) fn suggest(input: &str, candidates: &[&str]) -> Option<String> {
    let lowered = input.trim().to_lowercase();
    candidates
        .iter()
        .map(|&c| {
            let distance = strsim::damerau_levenshtein(&lowered, c);
            let similarity = strsim::jaro_winkler(&lowered, c);
            (c, distance, similarity)
        })
        .filter(|&(c, distance, similarity)| distance <= 2.max(c.len() / 4) || similarity >= 0.88)
        .min_by(|a, b| a.1.cmp(&b.1).then(b.2.total_cmp(&a.2)))
        .map(|(c, _, _)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(suggest("choise", SCORER_NAMES).as_deref(), Some("choice"));
        assert_eq!(suggest("Choice", SCORER_NAMES).as_deref(), Some("choice"));
        assert_eq!(
            suggest("include", SCORER_NAMES).as_deref(),
            Some("includes")
        );
        assert_eq!(suggest("numerc", SCORER_NAMES).as_deref(), Some("numeric"));
        assert_eq!(suggest("regexp", SCORER_NAMES).as_deref(), Some("regex"));
        assert_eq!(suggest("bleu", SCORER_NAMES), None);
        assert_eq!(suggest("judgde", &all_names()).as_deref(), Some("judge"));
        assert_eq!(
            suggest("ignorecase", &["ignore_case", "negate", "pattern"]).as_deref(),
            Some("ignore_case")
        );
    }

    #[test]
    fn unknown_message_names_the_suggestion_and_the_list() {
        let e = ScorerError::Unknown {
            name: "choise".into(),
            suggestion: Some("choice".into()),
        };
        let text = e.to_string();
        assert!(text.contains("unknown scorer `choise`"), "{text}");
        assert!(text.contains("did you mean `choice`?"), "{text}");
        assert!(
            text.contains("exact, includes, regex, choice, numeric"),
            "{text}"
        );
        assert!(text.ends_with(", judge"), "{text}");
    }
}
