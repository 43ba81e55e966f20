//! One pass over a run's results in item-id order: failures grouped by reason, and a bounded,
//! deterministic selection of responses per (model, task). Memory is bounded by the number of
//! (model, task, reason) groups, not by the run.

use std::collections::BTreeMap;

use touchstone_core::ItemStatus;
use touchstone_engine::RunResults;
use touchstone_store::Store;

use crate::{FailureExample, FailureGroup, ReportData, ReportError, SampleResponse, SampleScore};

/// Scored responses shown per (model, task): the first ones by item id.
pub const SCORED_SAMPLES_PER_TASK: usize = 5;
/// Failed items shown per (model, task) among the sample responses.
pub const FAILED_SAMPLES_PER_TASK: usize = 3;
/// Examples kept per failure group.
pub const FAILURE_EXAMPLES: usize = 3;
/// Answers and errors longer than this many characters are cut.
pub const MAX_ANSWER_CHARS: usize = 2000;
/// Reasons longer than this many characters are cut.
const MAX_REASON_CHARS: usize = 300;
/// Distinct reasons kept per (model, task); the rest are counted under one "other" group.
const MAX_REASONS_PER_TASK: usize = 20;
/// The reason of the group that collects reasons beyond [`MAX_REASONS_PER_TASK`].
pub(crate) const OTHER_REASONS: &str = "…";

#[derive(Default)]
struct PerTask {
    scored: Vec<SampleResponse>,
    failed: Vec<SampleResponse>,
    reasons: BTreeMap<String, FailureGroup>,
}

/// `s` cut to `max` characters; whether it was cut.
pub(crate) fn cut(s: &str, max: usize) -> (String, bool) {
    match s.char_indices().nth(max) {
        Some((at, _)) => (format!("{}…", &s[..at]), true),
        None => (s.to_string(), false),
    }
}

fn reason_of(error: &str) -> String {
    let first = error
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let reason = if first.is_empty() {
        "(no reason recorded / 未记录原因)"
    } else {
        first
    };
    cut(reason, MAX_REASON_CHARS).0
}

pub(crate) fn collect(store: &dyn Store, results: RunResults) -> Result<ReportData, ReportError> {
    let mut per_task: BTreeMap<(String, String), PerTask> = BTreeMap::new();
    store.for_each_result_by_item(&results.run_id, &mut |r| {
        let slot = per_task
            .entry((r.model.clone(), r.task.clone()))
            .or_default();
        let wanted = match r.status {
            ItemStatus::Scored => slot.scored.len() < SCORED_SAMPLES_PER_TASK,
            ItemStatus::Failed => slot.failed.len() < FAILED_SAMPLES_PER_TASK,
        };
        if r.status == ItemStatus::Failed {
            let error = r.error.as_deref().unwrap_or("");
            let mut reason = reason_of(error);
            if !slot.reasons.contains_key(&reason) && slot.reasons.len() >= MAX_REASONS_PER_TASK {
                reason = OTHER_REASONS.to_string();
            }
            let group = slot
                .reasons
                .entry(reason.clone())
                .or_insert_with(|| FailureGroup {
                    model: r.model.clone(),
                    task: r.task.clone(),
                    reason,
                    count: 0,
                    examples: Vec::new(),
                });
            group.count += 1;
            if group.examples.len() < FAILURE_EXAMPLES {
                group.examples.push(FailureExample {
                    item_id: r.item_id.0.clone(),
                    sample_id: r.sample_id.clone(),
                    variant: r.variant.clone(),
                    epoch: r.epoch,
                    error: cut(error, MAX_ANSWER_CHARS).0,
                });
            }
        }
        if wanted {
            let (answer, cut_answer) = match &r.answer {
                Some(a) => {
                    let (a, cut) = cut(a, MAX_ANSWER_CHARS);
                    (Some(a), cut)
                }
                None => (None, false),
            };
            let (error, cut_error) = match &r.error {
                Some(e) => {
                    let (e, cut) = cut(e, MAX_ANSWER_CHARS);
                    (Some(e), cut)
                }
                None => (None, false),
            };
            let sample = SampleResponse {
                model: r.model.clone(),
                task: r.task.clone(),
                item_id: r.item_id.0.clone(),
                sample_id: r.sample_id.clone(),
                variant: r.variant.clone(),
                epoch: r.epoch,
                status: r.status,
                scores: r
                    .scores
                    .iter()
                    .map(|s| SampleScore {
                        scorer: s.scorer.clone(),
                        value: s.value,
                        explanation: s.explanation.clone(),
                    })
                    .collect(),
                answer,
                error,
                truncated: cut_answer || cut_error,
                labels: r.labels.clone(),
            };
            match r.status {
                ItemStatus::Scored => slot.scored.push(sample),
                ItemStatus::Failed => slot.failed.push(sample),
            }
        }
        Ok(())
    })?;

    // The order of results.tasks first (model, task as the suite lists them), then anything
    // stored that the summary does not name, in key order.
    let mut order: Vec<(String, String)> = Vec::new();
    for t in &results.tasks {
        let key = (t.model.clone(), t.name.clone());
        if !order.contains(&key) {
            order.push(key);
        }
    }
    for key in per_task.keys() {
        if !order.contains(key) {
            order.push(key.clone());
        }
    }
    let mut failures = Vec::new();
    let mut samples = Vec::new();
    for key in order {
        let Some(slot) = per_task.remove(&key) else {
            continue;
        };
        let mut groups: Vec<FailureGroup> = slot.reasons.into_values().collect();
        // Most frequent first; the reason breaks ties (BTreeMap order is kept by a stable sort).
        groups.sort_by_key(|g| std::cmp::Reverse(g.count));
        failures.extend(groups);
        samples.extend(slot.scored);
        samples.extend(slot.failed);
    }
    Ok(ReportData {
        results,
        failures,
        samples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_at_characters() {
        assert_eq!(cut("安全评估", 2), ("安全…".to_string(), true));
        assert_eq!(cut("安全", 2), ("安全".to_string(), false));
    }

    #[test]
    fn reasons_are_first_lines() {
        assert_eq!(reason_of("\n  HTTP 500: boom \ndetails"), "HTTP 500: boom");
        assert!(reason_of("").contains("no reason"));
    }
}
