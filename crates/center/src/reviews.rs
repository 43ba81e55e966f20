//! Human review of scores: a reviewer (or an assessor) gives one score of one item a value with
//! a reason. Reviews are appended, never edited: a later review of the same score supersedes the
//! earlier, and both stay (the directory's triggers refuse edits and removals), and each is an
//! audit event. Readers of the run see every review, the current value of each reviewed score
//! beside the automatic one, and how far reviewers and the automatic scorers agree (Cohen's κ
//! with a bootstrap interval).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::directory::{Flag, Review};
use crate::error::ApiError;
use crate::exchange::{Call, Reply, on_directory};
use crate::objects::load_job;
use crate::policy::Action;
use crate::validate::check_text;
use crate::{Center, blocking};

/// A value at or above this counts as a pass when agreement is measured.
pub(crate) const PASS_AT: f64 = 0.5;
/// The seed of κ's bootstrap: the same reviews give the same interval.
const KAPPA_SEED: u64 = 0x7265_7669_6577;
/// The longest reason kept.
const MAX_REASON: usize = 2000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewBody {
    /// The item's id, as the samples page gives it.
    item: String,
    /// Which of the item's scores; its first when not given.
    #[serde(default)]
    scorer: Option<String>,
    /// The reviewed value, in [0, 1].
    value: f64,
    reason: String,
}

/// `POST /api/v1/runs/{id}/reviews`.
pub(crate) async fn create(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let job = load_job(center, &call, Action::ReviewsCreate).await?;
    let body: ReviewBody = call.json()?;
    if !(0.0..=1.0).contains(&body.value) {
        return Err(ApiError::bad_request(
            "a reviewed value is a number from 0 to 1 (1 is correct / desired)",
            "复核值须为 0 至 1 之间的数（1 表示正确或符合期望）",
        )
        .at("value"));
    }
    check_text(&body.reason, "reason", MAX_REASON)?;
    if body.reason.trim().is_empty() {
        return Err(
            ApiError::bad_request("say why: a review needs a reason", "请填写复核理由")
                .at("reason"),
        );
    }
    let who = call.who()?.clone();
    let store = center.store.clone();
    let (run_id, item_id) = (job.run_id.clone(), body.item.clone());
    let found = blocking(move || store.result(&run_id, &item_id)).await?;
    let item = match found {
        Ok(Some(item)) => item,
        // A queued run has nothing recorded yet: no item either.
        Ok(None) | Err(touchstone_store::StoreError::NotFound(_)) => {
            return Err(ApiError::new(
                404,
                "not_found",
                "the run has no item with this id",
                "该运行没有此条目",
            )
            .at("item"));
        }
        Err(e) => return Err(ApiError::internal(e)),
    };
    let score = match &body.scorer {
        None => item.scores.first(),
        Some(name) => item.scores.iter().find(|s| &s.scorer == name),
    };
    let Some(score) = score else {
        let (en, zh, at) = match &body.scorer {
            None => (
                "the item has no score to review (it failed)".to_string(),
                "该条目没有得分（执行失败），无法复核".to_string(),
                "item",
            ),
            Some(_) => (
                format!(
                    "the item has no score by this scorer; it has: {}",
                    item.scores
                        .iter()
                        .map(|s| s.scorer.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                "该条目没有此评分器的得分".to_string(),
                "scorer",
            ),
        };
        return Err(ApiError::new(409, "nothing_to_review", en, zh).at(at));
    };
    let review = Review {
        id: 0,
        run_id: job.run_id.clone(),
        item_id: item.item_id.0.clone(),
        scorer: score.scorer.clone(),
        automatic: score.value,
        value: body.value,
        reason: body.reason,
        reviewer_id: who.user_id,
        reviewer: who.name,
        created_at: touchstone_store::now_rfc3339(),
        supersedes: None,
    };
    let stored = on_directory(center, move |d| d.add_review(&review)).await?;
    Ok(Reply::json(201, json!(stored)).on(format!("run:{}/review:{}", job.run_id, stored.id)))
}

/// `GET /api/v1/runs/{id}/reviews`.
pub(crate) async fn list(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let job = load_job(center, &call, Action::ReviewsList).await?;
    let id = job.run_id.clone();
    let (reviews, flags) =
        on_directory(center, move |d| Ok((d.reviews(&id)?, d.flags(&id)?))).await?;
    let mut summary = blocking(move || summarise(&reviews)).await?;
    // The requests for review too, so that a page showing an item's reviews has its flags.
    summary["flags"] = flags.iter().map(flag_json).collect();
    Ok(Reply::ok(summary).on(format!("run:{}", job.run_id)))
}

/// A flag (a request for review, `queue`) as the reviews list and the queue give it.
pub(crate) fn flag_json(f: &Flag) -> Value {
    json!({ "item_id": f.item_id, "by": f.flagged_by, "reason": f.reason, "at": f.created_at })
}

/// Every review, the current one of each reviewed score, and the agreement.
fn summarise(reviews: &[Review]) -> Value {
    // Reviews come oldest first, so the last of each score is its current one.
    let mut current: BTreeMap<(&str, &str), (&Review, usize)> = BTreeMap::new();
    for r in reviews {
        let entry = current
            .entry((r.item_id.as_str(), r.scorer.as_str()))
            .or_insert((r, 0));
        *entry = (r, entry.1 + 1);
    }
    let automatic: Vec<bool> = current
        .values()
        .map(|(r, _)| r.automatic >= PASS_AT)
        .collect();
    let reviewed: Vec<bool> = current.values().map(|(r, _)| r.value >= PASS_AT).collect();
    let kappa = touchstone_stats::cohen_kappa(&automatic, &reviewed, KAPPA_SEED);
    let changed = automatic
        .iter()
        .zip(&reviewed)
        .filter(|(a, b)| a != b)
        .count();
    json!({
        "reviews": reviews,
        "current": current.values().map(|(r, count)| json!({
            "item_id": r.item_id,
            "scorer": r.scorer,
            "automatic": r.automatic,
            "reviewed": r.value,
            "reason": r.reason,
            "reviewer": r.reviewer,
            "reviewed_at": r.created_at,
            "review_id": r.id,
            "reviews": count,
        })).collect::<Vec<_>>(),
        "agreement": {
            "reviewed_scores": kappa.n,
            "changed": changed,
            "pass_at": PASS_AT,
            "observed": (kappa.n > 0).then_some(kappa.observed),
            "kappa": kappa.kappa,
            "kappa_ci95": kappa.ci.map(|(lo, hi)| [lo, hi]),
            "about": "Cohen's kappa between the automatic scorers and the current reviews, each value read as pass at 0.5 or above; null where undefined (no reviews, or both sides constant)",
            "about_zh": "自动评分与当前复核结果之间的 Cohen's κ（得分 ≥ 0.5 视为通过）；无法计算时为 null（无复核，或双方结果恒定）",
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review(id: u64, item: &str, automatic: f64, value: f64) -> Review {
        Review {
            id,
            run_id: "r".into(),
            item_id: item.into(),
            scorer: "choice".into(),
            automatic,
            value,
            reason: format!("because {id}"),
            reviewer_id: "u".into(),
            reviewer: "rev".into(),
            created_at: "2026-12-07T00:00:00Z".into(),
            supersedes: None,
        }
    }

    #[test]
    fn the_latest_review_of_a_score_is_current_and_agreement_counts_it_once() {
        let reviews = [
            review(1, "a", 1.0, 0.0),
            review(2, "b", 0.0, 0.0),
            // Supersedes 1: now agrees with the scorer.
            review(3, "a", 1.0, 1.0),
            review(4, "c", 1.0, 0.0),
        ];
        let s = summarise(&reviews);
        assert_eq!(s["reviews"].as_array().unwrap().len(), 4);
        let current = s["current"].as_array().unwrap();
        assert_eq!(current.len(), 3);
        assert_eq!(current[0]["item_id"], "a");
        assert_eq!(current[0]["reviewed"], 1.0);
        assert_eq!(current[0]["review_id"], 3);
        assert_eq!(current[0]["reviews"], 2);
        assert_eq!(s["agreement"]["reviewed_scores"], 3);
        assert_eq!(s["agreement"]["changed"], 1);
        // automatic: a pass, b fail, c pass; reviewed: a pass, b fail, c fail.
        // p_o = 2/3; p_e = 2/3·1/3 + 1/3·2/3 = 4/9; κ = (2/3 − 4/9)/(5/9) = 0.4.
        let kappa = s["agreement"]["kappa"].as_f64().unwrap();
        assert!((kappa - 0.4).abs() < 1e-12, "{kappa}");
    }

    #[test]
    fn no_reviews_give_no_agreement() {
        let s = summarise(&[]);
        assert_eq!(s["agreement"]["reviewed_scores"], 0);
        assert!(s["agreement"]["kappa"].is_null());
        assert!(s["agreement"]["observed"].is_null());
    }
}
