//! The sample browser, the review and flag forms, and the review queue. The table is the API's
//! samples page (its filters and keyset), the reviews, flags and queue the API's; the drawer's
//! item is read after the API allowed the run.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Value, json};
use touchstone_console::{self as console, Lang};

use super::{Shown, api, ask, derived, field, in_form, json_of, list, render, text};
use crate::error::ApiError;
use crate::exchange::{Call, Reply};
use crate::policy::{self, Action};
use crate::{Center, blocking};

/// Items on one page of the browser.
const PAGE: usize = 50;

/// Characters of an answer the table shows.
const EXCERPT: usize = 140;

fn filter_of(call: &Call) -> console::SampleFilter {
    let q = |name: &str| call.query(name).unwrap_or_default();
    console::SampleFilter {
        task: q("task"),
        model: q("model"),
        status: q("status"),
        label: q("label"),
        score_min: q("score_min"),
        score_max: q("score_max"),
        text: q("text"),
        baseline: q("baseline"),
    }
}

fn excerpt(s: &str) -> String {
    let mut out: String = s.chars().take(EXCERPT).collect();
    if s.chars().nth(EXCERPT).is_some() {
        out.push('…');
    }
    out
}

/// `GET /console/runs/{id}/samples`: the table, and with `?item=` the drawer.
pub(super) async fn browse(
    center: &Arc<Center>,
    call: &Call,
    status: u16,
    refused: Option<console::Refused>,
) -> Result<Reply, ApiError> {
    let id = call.param(0).to_string();
    // The run as the API shows it to this caller: another organisation's is not found.
    ask(center, call, Action::RunsGet, vec![id.clone()], Value::Null).await?;
    let filter = filter_of(call);
    let after = call.query("after").unwrap_or_default();
    let mut query = filter.query();
    if !query.is_empty() {
        query.push('&');
    }
    query.push_str(&format!("limit={PAGE}"));
    if !after.is_empty() {
        query.push_str(&format!("&after={}", console::encode(&after)));
    }
    let page = json_of(
        api(
            center,
            call,
            Action::RunsSamples,
            vec![id.clone()],
            &query,
            Bytes::new(),
        )
        .await?,
    )?;
    let reviews = ask(
        center,
        call,
        Action::ReviewsList,
        vec![id.clone()],
        Value::Null,
    )
    .await?;
    let current = |item: &str| {
        reviews["current"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["item_id"] == item)
            .and_then(|c| c["reviewed"].as_f64())
    };
    let rows = page["samples"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let item_id = text(&s["item_id"]);
            console::SampleRow {
                reviewed: current(&item_id),
                sample_id: text(&s["sample_id"]),
                model: text(&s["model"]),
                task: text(&s["task"]),
                variant: text(&s["variant"]),
                status: text(&s["status"]),
                score: s["scores"][0]["value"].as_f64(),
                excerpt: excerpt(
                    s["answer"]
                        .as_str()
                        .or_else(|| s["error"].as_str())
                        .unwrap_or(""),
                ),
                item_id,
            }
        })
        .collect();
    let (c, run, item) = (center.clone(), id.clone(), call.query("item"));
    let (tasks, models, found) = blocking(move || -> Result<_, ApiError> {
        let Some(record) = c.store.run(&run)? else {
            return Ok((Vec::new(), Vec::new(), None));
        };
        // The suite's tasks as the run recorded them: no scan of its items.
        let tasks: Vec<String> = record.config["suite"]["tasks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["name"].as_str().map(str::to_string))
            .collect();
        let found = match &item {
            Some(i) => Some(c.store.result(&run, i)?.ok_or_else(ApiError::not_found)?),
            None => None,
        };
        Ok((tasks, record.models, found))
    })
    .await??;
    let can_review = policy::decide(call.principal.as_ref(), Action::ReviewsCreate).is_ok();
    let can_flag = policy::decide(call.principal.as_ref(), Action::FlagsCreate).is_ok();
    let selected = found.map(|r| detail(r, &reviews, can_review, can_flag));
    // The finished runs this viewer may read, as baselines.
    let runs = ask(center, call, Action::RunsList, vec![], Value::Null).await?;
    let baselines = list(&runs, "runs")
        .iter()
        .filter(|r| r["status"] == "completed" && r["run_id"] != id.as_str())
        .map(|r| text(&r["run_id"]))
        .collect();
    let view = console::SamplesView {
        run_id: id.clone(),
        tasks,
        models,
        baselines,
        filter,
        after,
        rows,
        next: page["next"].as_str().map(str::to_string),
        selected,
        refused,
    };
    Ok(render(call, status, |f| console::samples(f, &view))?.on(format!("run:{id}")))
}

fn detail(
    r: touchstone_store::ItemResult,
    reviews: &Value,
    can_review: bool,
    can_flag: bool,
) -> console::SampleDetail {
    let flags = list(reviews, "flags")
        .iter()
        .filter(|f| f["item_id"] == r.item_id.0.as_str())
        .map(flag_line)
        .collect();
    let mine: Vec<&Value> = reviews["reviews"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["item_id"] == r.item_id.0.as_str())
        .collect();
    let review_lines = mine
        .iter()
        .enumerate()
        .map(|(i, v)| console::ReviewLine {
            scorer: text(&v["scorer"]),
            automatic: v["automatic"].as_f64().unwrap_or(0.0),
            value: v["value"].as_f64().unwrap_or(0.0),
            reason: text(&v["reason"]),
            reviewer: text(&v["reviewer"]),
            created_at: text(&v["created_at"]),
            // Reviews come oldest first: one is superseded when a later one reviews its score.
            superseded: mine[i + 1..]
                .iter()
                .any(|later| later["scorer"] == v["scorer"]),
        })
        .collect();
    console::SampleDetail {
        can_review: can_review && r.status == touchstone_core::ItemStatus::Scored,
        item_id: r.item_id.0,
        sample_id: r.sample_id,
        model: r.model,
        task: r.task,
        variant: r.variant,
        epoch: r.epoch,
        status: r.status.as_str().to_string(),
        labels: r.labels.into_iter().collect(),
        scores: r
            .scores
            .into_iter()
            .map(|s| console::ScoreLine {
                scorer: s.scorer,
                value: s.value,
                extracted: s.extracted,
                explanation: s.explanation,
                agreement: s.agreement,
            })
            .collect(),
        answer: r.answer,
        error: r.error,
        latency_ms: r.latency_ms,
        attempts: r.attempts,
        cached: r.cached,
        reviews: review_lines,
        flags,
        can_flag,
    }
}

/// A flag (as the API gives it) as the pages show it.
fn flag_line(f: &Value) -> console::FlagLine {
    console::FlagLine {
        by: text(&f["by"]),
        reason: text(&f["reason"]),
        at: text(&f["at"]),
    }
}

/// `GET /console/runs/{id}/queue`: the review queue, from the API's.
pub(super) async fn queue(center: &Arc<Center>, call: &Call) -> Result<Reply, ApiError> {
    let id = call.param(0).to_string();
    let queue = ask(
        center,
        call,
        Action::ReviewQueue,
        vec![id.clone()],
        Value::Null,
    )
    .await?;
    let counts = &queue["counts"];
    let view = console::QueueView {
        run_id: id.clone(),
        counts: ["disagree", "low_agreement", "flagged", "open"]
            .map(|k| counts[k].as_u64().unwrap_or(0)),
        rows: list(&queue, "items")
            .iter()
            .map(|q| console::QueueRow {
                item_id: text(&q["item_id"]),
                task: text(&q["task"]),
                model: text(&q["model"]),
                sample_id: text(&q["sample_id"]),
                reasons: list(q, "reasons").iter().map(text).collect(),
                lowest_agreement: q["lowest_agreement"].as_f64(),
                flags: list(q, "flags").iter().map(flag_line).collect(),
                reviewed: q["reviewed"].as_bool().unwrap_or(false),
            })
            .collect(),
    };
    Ok(render(call, 200, |f| console::queue(f, &view))?.on(format!("run:{id}")))
}

/// `POST /console/runs/{id}/flags`: the API's flag; back to the item, or the drawer again with
/// what was wrong.
pub(super) async fn flag(center: &Arc<Center>, call: &Call) -> Result<Reply, ApiError> {
    let id = call.param(0).to_string();
    let form: Value = call.json()?;
    let body = json!({ "item": field(&form, "item"), "reason": field(&form, "reason") });
    let outcome = match ask(center, call, Action::FlagsCreate, vec![id.clone()], body).await {
        Ok(_) => Ok(()),
        Err(e) => Err(in_form(e, call.lang)?),
    };
    back_to_drawer(center, call, &id, &form, outcome, console::Refused::Flag).await
}

/// `POST /console/runs/{id}/reviews`: the API's review; back to the item, or the drawer again
/// with what was wrong.
pub(super) async fn review(center: &Arc<Center>, call: &Call) -> Result<Reply, ApiError> {
    let id = call.param(0).to_string();
    let form: Value = call.json()?;
    let lang = call.lang;
    let value = field(&form, "value");
    let outcome = match value.trim().parse::<f64>() {
        Err(_) => Err(Shown::field(match lang {
            Lang::Zh => format!("复核值须为 0 至 1 之间的数，而不是 “{value}”"),
            Lang::En => format!("the reviewed value is a number from 0 to 1, not “{value}”"),
        })),
        Ok(v) => {
            let body = json!({
                "item": field(&form, "item"),
                "value": v,
                "reason": field(&form, "reason"),
                "scorer": super::optional(&form, "scorer"),
            });
            match ask(center, call, Action::ReviewsCreate, vec![id.clone()], body).await {
                Ok(_) => Ok(()),
                Err(e) => Err(in_form(e, lang)?),
            }
        }
    };
    back_to_drawer(center, call, &id, &form, outcome, console::Refused::Review).await
}

/// After a drawer's form: back to the item, or its drawer again with the refusal in the form.
async fn back_to_drawer(
    center: &Arc<Center>,
    call: &Call,
    id: &str,
    form: &Value,
    outcome: Result<(), Shown>,
    refused: fn(String) -> console::Refused,
) -> Result<Reply, ApiError> {
    let back = super::local_path(
        Some(&field(form, "back")),
        &format!("/console/runs/{}/samples", console::encode(id)),
    );
    match outcome {
        Ok(()) => Ok(Reply::redirect(format!("{back}#drawer")).on(format!("run:{id}"))),
        Err(r) => {
            let query = back.split_once('?').map_or("", |(_, q)| q);
            let path = format!("/console/runs/{}/samples", console::encode(id));
            let again = derived(call, call.params.clone(), query, Bytes::new(), path);
            Ok(browse(center, &again, r.status, Some(refused(r.message)))
                .await?
                .refusing(r.code))
        }
    }
}
