//! The review queue: the items of a run a person should look at, and why — the item's scorers
//! disagree (a judge against the rule detector: one says pass, another fail), the judge's k
//! samples did not all agree (agreement below k/k), or someone flagged it — each with whether it
//! has been reviewed since. Flags are appended like reviews, never edited, and each is an audit
//! event.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use touchstone_core::ItemStatus;
use touchstone_store::{ItemResult, Store, StoreError};

use crate::directory::Flag;
use crate::error::ApiError;
use crate::exchange::{Call, Reply, on_directory};
use crate::objects::load_job;
use crate::policy::Action;
use crate::reviews::{PASS_AT, flag_json};
use crate::validate::check_text;
use crate::{Center, blocking};

/// The longest reason kept.
const MAX_REASON: usize = 2000;

/// An item the scores themselves put in the queue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Candidate {
    pub item_id: String,
    pub task: String,
    pub model: String,
    pub sample_id: String,
    /// Its scorers disagree on pass or fail.
    pub disagree: bool,
    /// The lowest judge agreement among its scores, where below k/k.
    pub low_agreement: Option<f64>,
}

/// Why a scored item needs a person, if it does.
fn candidate(r: &ItemResult) -> Option<Candidate> {
    if r.status != ItemStatus::Scored {
        return None;
    }
    let passes = r.scores.iter().filter(|s| s.value >= PASS_AT).count();
    let disagree = passes > 0 && passes < r.scores.len();
    let low_agreement = r
        .scores
        .iter()
        .filter_map(|s| s.agreement)
        .filter(|a| *a < 1.0)
        .reduce(f64::min);
    (disagree || low_agreement.is_some()).then(|| Candidate {
        item_id: r.item_id.0.clone(),
        task: r.task.clone(),
        model: r.model.clone(),
        sample_id: r.sample_id.clone(),
        disagree,
        low_agreement,
    })
}

/// Every scored item of a run that its scores put in the queue, in item order. Blocking.
pub(crate) fn candidates(store: &dyn Store, run_id: &str) -> Result<Vec<Candidate>, StoreError> {
    let mut out = Vec::new();
    store.for_each_result_by_item(run_id, &mut |r| {
        out.extend(candidate(&r));
        Ok(())
    })?;
    Ok(out)
}

/// `GET /api/v1/runs/{id}/queue`: what needs review, open items first.
pub(crate) async fn list(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let job = load_job(center, &call, Action::ReviewQueue).await?;
    let finished = job.status.is_finished();
    let id = job.run_id.clone();
    let (flags, reviews) =
        on_directory(center, move |d| Ok((d.flags(&id)?, d.reviews(&id)?))).await?;
    let (c, id) = (center.clone(), job.run_id.clone());
    let queue = blocking(move || -> Result<Value, ApiError> {
        let candidates = c.queue_candidates(&id, finished)?;
        let reviewed: BTreeSet<&str> = reviews.iter().map(|r| r.item_id.as_str()).collect();
        assemble(c.store.as_ref(), &id, &candidates, &flags, &reviewed)
    })
    .await??;
    Ok(Reply::ok(queue).on(format!("run:{}", job.run_id)))
}

/// The queue as the API gives it: the candidates and the flagged items, each once.
fn assemble(
    store: &dyn Store,
    run_id: &str,
    candidates: &[Candidate],
    flags: &[Flag],
    reviewed: &BTreeSet<&str>,
) -> Result<Value, ApiError> {
    let mut by_item: BTreeMap<String, (Candidate, Vec<&Flag>)> = candidates
        .iter()
        .map(|c| (c.item_id.clone(), (c.clone(), Vec::new())))
        .collect();
    for flag in flags {
        if !by_item.contains_key(&flag.item_id) {
            // A flagged item the scores did not queue: its facts from the store.
            let Some(r) = store
                .result(run_id, &flag.item_id)
                .map_err(ApiError::internal)?
            else {
                continue;
            };
            let c = Candidate {
                item_id: r.item_id.0.clone(),
                task: r.task,
                model: r.model,
                sample_id: r.sample_id,
                disagree: false,
                low_agreement: None,
            };
            by_item.insert(flag.item_id.clone(), (c, Vec::new()));
        }
        if let Some((_, item_flags)) = by_item.get_mut(&flag.item_id) {
            item_flags.push(flag);
        }
    }
    let mut counts = [0usize; 4];
    let mut items: Vec<(bool, Value)> = by_item
        .into_values()
        .map(|(c, item_flags)| {
            let done = reviewed.contains(c.item_id.as_str());
            let mut reasons = Vec::new();
            if c.disagree {
                reasons.push("disagree");
                counts[0] += 1;
            }
            if c.low_agreement.is_some() {
                reasons.push("low_agreement");
                counts[1] += 1;
            }
            if !item_flags.is_empty() {
                reasons.push("flagged");
                counts[2] += 1;
            }
            if !done {
                counts[3] += 1;
            }
            let value = json!({
                "item_id": c.item_id,
                "task": c.task,
                "model": c.model,
                "sample_id": c.sample_id,
                "reasons": reasons,
                "lowest_agreement": c.low_agreement,
                "flags": item_flags.iter().map(|f| flag_json(f)).collect::<Vec<_>>(),
                "reviewed": done,
            });
            (done, value)
        })
        .collect();
    // Open items first; item order within each (the sort is stable).
    items.sort_by_key(|(done, _)| *done);
    Ok(json!({
        "counts": {
            "disagree": counts[0],
            "low_agreement": counts[1],
            "flagged": counts[2],
            "open": counts[3],
            "total": items.len(),
        },
        "items": items.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
        "about": "Items whose scorers disagree on pass or fail (a score passes at 0.5 or above), whose judge's samples did not all agree, or that someone flagged; open (not yet reviewed) first",
        "about_zh": "评分器对通过与否意见不一（得分 ≥ 0.5 视为通过）、裁判模型多次采样不一致、或被人标记的条目；未复核的排在前面",
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FlagBody {
    item: String,
    reason: String,
}

/// `POST /api/v1/runs/{id}/flags`: asks the reviewers to look at an item.
pub(crate) async fn flag(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let job = load_job(center, &call, Action::FlagsCreate).await?;
    let body: FlagBody = call.json()?;
    check_text(&body.reason, "reason", MAX_REASON)?;
    if body.reason.trim().is_empty() {
        return Err(ApiError::bad_request(
            "say what the reviewers should look at: a flag needs a reason",
            "请说明需要复核的原因",
        )
        .at("reason"));
    }
    let store = center.store.clone();
    let (run_id, item_id) = (job.run_id.clone(), body.item.clone());
    match blocking(move || store.result(&run_id, &item_id)).await? {
        Ok(Some(_)) => {}
        Ok(None) | Err(StoreError::NotFound(_)) => {
            return Err(ApiError::new(
                404,
                "not_found",
                "the run has no item with this id",
                "该运行没有此条目",
            )
            .at("item"));
        }
        Err(e) => return Err(ApiError::internal(e)),
    }
    let who = call.who()?.clone();
    let flag = Flag {
        id: 0,
        run_id: job.run_id.clone(),
        item_id: body.item,
        reason: body.reason,
        flagged_by_id: who.user_id,
        flagged_by: who.name,
        created_at: touchstone_store::now_rfc3339(),
    };
    let stored = on_directory(center, move |d| d.add_flag(&flag)).await?;
    Ok(Reply::json(201, json!(stored)).on(format!("run:{}/flag:{}", job.run_id, stored.id)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use touchstone_core::{Score, Usage, WorkItemId};

    fn item(scores: Vec<Score>) -> ItemResult {
        ItemResult {
            run_id: "r".into(),
            item_id: WorkItemId("i".into()),
            model: "m".into(),
            task: "t".into(),
            sample_id: "s".into(),
            variant: String::new(),
            epoch: 0,
            cluster: None,
            status: ItemStatus::Scored,
            scores,
            answer: None,
            error: None,
            usage: Usage::default(),
            latency_ms: 0,
            attempts: 1,
            cached: false,
            labels: BTreeMap::new(),
        }
    }

    fn judged(value: f64, agreement: f64) -> Score {
        Score {
            agreement: Some(agreement),
            ..Score::binary("judge", value >= 0.5, None)
        }
    }

    #[test]
    fn a_person_looks_where_scorers_disagree_or_a_judge_wavered() {
        // The rule detector says refused, the judge says not.
        let c = candidate(&item(vec![
            Score::binary("refusal", true, None),
            judged(0.0, 1.0),
        ]))
        .expect("queued");
        assert!(c.disagree && c.low_agreement.is_none());
        // Two of three judge samples agreed.
        let c = candidate(&item(vec![judged(1.0, 2.0 / 3.0)])).expect("queued");
        assert!(!c.disagree && c.low_agreement == Some(2.0 / 3.0));
        // Unanimous and in agreement: nothing to look at.
        assert!(
            candidate(&item(vec![
                Score::binary("refusal", true, None),
                judged(1.0, 1.0)
            ]))
            .is_none()
        );
        // A failed item has no scores to doubt.
        let mut failed = item(vec![]);
        failed.status = ItemStatus::Failed;
        assert!(candidate(&failed).is_none());
    }
}
