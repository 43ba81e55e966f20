//! What the public sees: an assessor publishes a completed run, and the leaderboard shows each
//! suite's published runs — every model's headline metric per task with its interval, the
//! verdicts, the publication date and whether a certificate can be checked. A model appears by
//! its registered name only: its endpoint's address is the organisation's business.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};
use touchstone_compliance::VerdictKind;
use touchstone_engine::RunResults;
use touchstone_engine::compare::Contestant;

use crate::directory::JobStatus;
use crate::error::ApiError;
use crate::exchange::{Call, Reply, on_directory};
use crate::objects::load_job;
use crate::policy::Action;
use crate::{Center, blocking};

/// `POST /api/v1/runs/{id}/publish`: makes a completed run public.
pub(crate) async fn publish(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let job = load_job(center, &call, Action::RunsPublish).await?;
    if job.status != JobStatus::Completed {
        return Err(ApiError::conflict(
            format!(
                "the run is {}: only a completed run is published",
                job.status.as_str()
            ),
            "运行尚未完成，不能公开",
        ));
    }
    let by = call.who()?.name.clone();
    let id = job.run_id.clone();
    let at = on_directory(center, move |d| {
        d.publish(&id, &by, &touchstone_store::now_rfc3339())
    })
    .await?;
    Ok(
        Reply::ok(json!({ "run_id": job.run_id, "published_at": at }))
            .on(format!("run:{}", job.run_id)),
    )
}

/// `GET /api/v1/published` (public): the leaderboard's data.
pub(crate) async fn list(center: &Arc<Center>) -> Result<Reply, ApiError> {
    let c = center.clone();
    let boards = blocking(move || leaderboard(&c)).await??;
    Ok(Reply::ok(boards))
}

/// The name a model spec shows in public: `openai:NAME@URL` → `NAME`.
pub(crate) fn public_model_name(spec: &str) -> &str {
    let rest = spec.split_once(':').map_or(spec, |(_, r)| r);
    rest.split_once('@').map_or(rest, |(name, _)| name)
}

/// A published (so completed) run's results.
fn results_of(center: &Center, run_id: &str) -> Result<RunResults, ApiError> {
    let text = center
        .results_text(run_id, true)?
        .ok_or_else(|| ApiError::internal("a published run has no results"))?;
    serde_json::from_str(&text).map_err(ApiError::internal)
}

/// One suite's leaderboard as it is built.
#[derive(Default)]
struct Board {
    columns: Vec<String>,
    /// Each task's column (its headline metric).
    column_of: BTreeMap<String, String>,
    /// Rows with the run and endpoint spec they show, which the tiers are matched by (the spec
    /// itself never leaves: an address is the organisation's business).
    rows: Vec<(Contestant, Value)>,
}

/// Per suite (by name), its columns and one row per published run and model.
fn leaderboard(center: &Center) -> Result<Value, ApiError> {
    let published = center.directory.published()?;
    let mut suites: BTreeMap<String, Board> = BTreeMap::new();
    for (job, published_at) in published {
        let results = results_of(center, &job.run_id)?;
        let certified = center.directory.latest_certificate(&job.run_id)?.is_some();
        let board = suites.entry(results.suite.clone()).or_default();
        for task in &results.tasks {
            if let Some(m) = task.metrics.first() {
                let column = format!("{} · {}", task.name, m.name);
                if !board.columns.contains(&column) {
                    board.columns.push(column.clone());
                }
                board.column_of.insert(task.name.clone(), column);
            }
        }
        // Each model once, in the order its first task appears (tasks interleave models).
        let mut models: Vec<&str> = Vec::new();
        for task in &results.tasks {
            if !models.contains(&task.model.as_str()) {
                models.push(&task.model);
            }
        }
        for model in models {
            let mut cells = BTreeMap::new();
            for task in results.tasks.iter().filter(|t| t.model == model) {
                if let Some(m) = task.metrics.first() {
                    cells.insert(
                        format!("{} · {}", task.name, m.name),
                        json!({ "value": m.value, "ci_low": m.ci_low, "ci_high": m.ci_high, "n": m.n }),
                    );
                }
            }
            let mut verdicts = [0usize; 4];
            for v in results.verdicts.iter().filter(|v| v.model == model) {
                verdicts[match v.verdict {
                    VerdictKind::Conforms => 0,
                    VerdictKind::DoesNotConform => 1,
                    VerdictKind::NotApplicable => 2,
                    VerdictKind::CannotDecide => 3,
                }] += 1;
            }
            let contestant = Contestant {
                run_id: job.run_id.clone(),
                model: model.to_string(),
            };
            board.rows.push((
                contestant,
                json!({
                    "run_id": job.run_id,
                    "organisation": job.organisation,
                    "model": public_model_name(model),
                    "published_at": published_at,
                    "finished_at": results.finished_at,
                    "cells": cells,
                    "verdicts": {
                        "conforms": verdicts[0],
                        "does_not_conform": verdicts[1],
                        "not_applicable": verdicts[2],
                        "cannot_decide": verdicts[3],
                    },
                    "certificate": certified,
                }),
            ));
        }
    }
    let mut boards = Vec::with_capacity(suites.len());
    for (suite, mut board) in suites {
        add_tiers(center, &mut board)?;
        let rows: Vec<Value> = board.rows.into_iter().map(|(_, row)| row).collect();
        boards.push(json!({ "suite": suite, "columns": board.columns, "runs": rows }));
    }
    Ok(json!({ "suites": boards }))
}

/// Each row's tier per column (1 is the top): the models a paired test cannot tell apart from
/// the tier's leader share its tier, as in `touchstone compare`, over the items every published
/// model of the suite was scored on. Columns without a comparison get none.
fn add_tiers(center: &Center, board: &mut Board) -> Result<(), ApiError> {
    let mut runs: Vec<String> = Vec::new();
    for (c, _) in &board.rows {
        if !runs.contains(&c.run_id) {
            runs.push(c.run_id.clone());
        }
    }
    let Some(comparison) = center.published_comparison(&runs)? else {
        return Ok(());
    };
    for (who, row) in &mut board.rows {
        let Some(contestant) = comparison.contestants.iter().position(|c| c == who) else {
            continue;
        };
        let mut tiers = serde_json::Map::new();
        for task in comparison.tasks.iter().filter(|t| t.common_items > 0) {
            let score = task.scores.iter().find(|s| s.contestant == contestant);
            if let (Some(score), Some(column)) = (score, board.column_of.get(&task.task)) {
                tiers.insert(column.clone(), json!(score.tier + 1));
            }
        }
        row["tiers"] = Value::Object(tiers);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_sees_a_model_name_and_not_its_address() {
        assert_eq!(
            public_model_name("openai:qwen-7b@http://10.0.0.8:8000/v1"),
            "qwen-7b"
        );
        assert_eq!(public_model_name("local:smollm2"), "smollm2");
        assert_eq!(public_model_name("plain"), "plain");
    }
}
