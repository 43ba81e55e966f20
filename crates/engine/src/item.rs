//! One item's request: the sample as its variant shows it (a circular rotation of its options,
//! or an attack on its last user turn) and what is sent for it. The planner counts items with
//! the same predicate the executor runs, so both call [`prepare_item`].

use std::sync::Arc;

use touchstone_attacks::Catalogue;
use touchstone_core::{Sample, TaskSpec};

use crate::sent::Sent;
use crate::{attack, prompt};

/// Circular evaluation's variants are `circular-1`, `circular-2`…: the options rotated by that
/// many places. A sample with n options has n − 1 of them.
pub(crate) const CIRCULAR: &str = "circular-";
pub(crate) const MAX_ROTATIONS: usize = 26;

/// The rotation a variant stands for, if it is a circular one.
fn circular_rotation(variant: &str) -> Option<usize> {
    variant.strip_prefix(CIRCULAR).and_then(|r| r.parse().ok())
}

/// The sample with its options rotated `r` places (option i becomes option i − r) and its
/// target letter following its option; `None` when it has no rotation `r`.
fn rotate(sample: &Sample, r: usize) -> Option<Sample> {
    let choices = sample.choices.as_ref()?;
    let n = choices.len();
    if r == 0 || r >= n {
        return None;
    }
    let mut rotated = sample.clone();
    rotated.choices = Some((0..n).map(|i| choices[(i + r) % n].clone()).collect());
    rotated.target = touchstone_core::Target(
        sample
            .target
            .0
            .iter()
            .map(
                |t| match t.trim().chars().next().map(|c| c.to_ascii_uppercase()) {
                    Some(c @ 'A'..='Z')
                        if t.trim().len() == 1 && ((c as usize) - ('A' as usize)) < n =>
                    {
                        touchstone_core::choice_letter(((c as usize) - ('A' as usize) + n - r) % n)
                            .to_string()
                    }
                    _ => t.clone(),
                },
            )
            .collect(),
    );
    Some(rotated)
}

/// The sample an item's scorers see and what it sends, or why it cannot be made; `None` when
/// the variant does not apply to the sample (not planned, see `plan::count_items`). A circular
/// variant is the sample with its options rotated, for the model and the scorers alike.
pub(crate) fn prepare_item(
    task: &TaskSpec,
    catalogue: &Catalogue,
    sample: &Arc<Sample>,
    drawn: &[touchstone_core::FewShot],
    variant: &str,
    seed: u64,
) -> Option<(Arc<Sample>, Result<Sent, String>)> {
    let rotation = circular_rotation(variant);
    let sample = match rotation {
        Some(r) => Arc::new(rotate(sample, r)?),
        None => sample.clone(),
    };
    if !task.output.is_generate() {
        let request = mc_request(task, &sample, drawn).map(Sent::Choices);
        return Some((sample, request));
    }
    let base = prompt::render_with(&task.prompt, &sample, drawn);
    let attack = if rotation.is_some() { "" } else { variant };
    let sent = attack::prepare(catalogue, attack, &base, &sample.id, seed)?;
    Some((sample, sent))
}

/// The log-likelihood request of a multiple-choice sample: its plain-text prompt and the options
/// as continuations (`" A"`, `" B"`… or `" " + option text`).
fn mc_request(
    task: &TaskSpec,
    sample: &Sample,
    drawn: &[touchstone_core::FewShot],
) -> Result<touchstone_models::LoglikelihoodRequest, String> {
    let choices = sample
        .choices
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            format!(
                "sample `{}` has no options to score by log-likelihood",
                sample.id
            )
        })?;
    let delimiter = task.prompt.target_delimiter.as_deref().unwrap_or(" ");
    let continuations = match task.output {
        touchstone_core::TaskOutput::MultipleChoiceTexts => {
            choices.iter().map(|c| format!("{delimiter}{c}")).collect()
        }
        _ => (0..choices.len())
            .map(|i| format!("{delimiter}{}", touchstone_core::choice_letter(i)))
            .collect(),
    };
    Ok(touchstone_models::LoglikelihoodRequest {
        context: prompt::render_text(&task.prompt, sample, drawn),
        continuations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_moves_options_and_target_together() {
        let mut s = Sample::new("q", "Capital of France?", "B");
        s.choices = Some(vec!["Rome".into(), "Paris".into(), "Oslo".into()]);
        let r1 = rotate(&s, 1).unwrap();
        assert_eq!(r1.choices.as_deref().unwrap(), ["Paris", "Oslo", "Rome"]);
        assert_eq!(r1.target.0, ["A"]);
        let r2 = rotate(&s, 2).unwrap();
        assert_eq!(r2.choices.as_deref().unwrap(), ["Oslo", "Rome", "Paris"]);
        assert_eq!(r2.target.0, ["C"]);
        assert!(rotate(&s, 3).is_none());
        assert_eq!(circular_rotation("circular-2"), Some(2));
        assert_eq!(circular_rotation("base64"), None);
    }
}
