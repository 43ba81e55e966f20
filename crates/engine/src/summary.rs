//! Aggregation: a run's results, computed only from what is stored (invariant 5: the same store
//! gives the same summary, byte for byte, however the run was interrupted and resumed).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use touchstone_core::ItemStatus;
use touchstone_models::ModelIdentity;
use touchstone_stats::{CiMethod, MeanAccumulator};
use touchstone_store::{RunStatus, Store};

use crate::EngineError;
use crate::config::{DatasetDigest, RunConfig};

/// `results.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResults {
    pub run_id: String,
    pub status: RunStatus,
    pub suite: String,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub counts: RunCounts,
    pub tasks: Vec<TaskResult>,
    pub models: Vec<ModelIdentity>,
    pub datasets: Vec<DatasetDigest>,
    pub touchstone_version: String,
    pub git_revision: String,
    pub config: RunConfig,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCounts {
    pub planned: u64,
    pub scored: u64,
    pub failed: u64,
    /// Planned but not yet recorded (an interrupted run).
    pub pending: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskResult {
    pub name: String,
    pub model: String,
    pub scored: u64,
    pub failed: u64,
    pub metrics: Vec<MetricResult>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expectations: Vec<ExpectationResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricResult {
    pub name: String,
    pub scorer: String,
    pub value: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub n: usize,
    pub ci_method: CiMethod,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectationResult {
    pub metric: String,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub value: Option<f64>,
    pub passed: bool,
}

#[derive(Default)]
struct Group {
    scored: u64,
    failed: u64,
    /// Per scorer. Results arrive in item-id order, so the values (and every floating-point
    /// sum over them) come in an order that depends only on what is stored.
    values: HashMap<String, MeanAccumulator>,
}

pub fn summarize(store: &dyn Store, run_id: &str) -> Result<RunResults, EngineError> {
    let run = store.resolve_run(run_id)?;
    let config: RunConfig = serde_json::from_value(run.config.clone())
        .map_err(|e| EngineError::Internal(format!("run {} has an unreadable configuration: {e}", run.id)))?;
    let epochs_of: HashMap<&str, u32> = config
        .suite
        .tasks
        .iter()
        .map(|t| (t.name.as_str(), crate::plan::epochs(t, &config.options)))
        .collect();

    let mut groups: HashMap<(String, String), Group> = HashMap::new();
    store.for_each_result_by_item(&run.id, &mut |r| {
        let group = groups.entry((r.model.clone(), r.task.clone())).or_default();
        match r.status {
            ItemStatus::Failed => group.failed += 1,
            ItemStatus::Scored => {
                group.scored += 1;
                // Epochs of one sample are not independent draws: cluster them by sample
                // unless the dataset gives a coarser cluster.
                let by_sample = epochs_of.get(r.task.as_str()).copied().unwrap_or(1) > 1;
                let cluster = r.cluster.as_deref().or(by_sample.then_some(r.sample_id.as_str()));
                for s in r.scores {
                    group.values.entry(s.scorer).or_default().push(s.value, cluster);
                }
            }
        }
        Ok(())
    })?;

    let mut tasks = Vec::new();
    let (mut scored, mut failed) = (0, 0);
    for model in &config.models {
        let label = model.label();
        for task in &config.suite.tasks {
            let group = groups.remove(&(label.clone(), task.name.clone())).unwrap_or_default();
            scored += group.scored;
            failed += group.failed;
            let mut metrics = Vec::new();
            for metric in task.effective_metrics() {
                let scorer = metric.scorer.clone().unwrap_or_default();
                let e = group.values.get(&scorer).map(|acc| acc.finish(config.options.seed)).unwrap_or_else(|| MeanAccumulator::new().finish(config.options.seed));
                metrics.push(MetricResult {
                    name: metric.name,
                    scorer,
                    value: e.value,
                    ci_low: e.ci_low,
                    ci_high: e.ci_high,
                    n: e.n,
                    ci_method: e.method,
                });
            }
            let expectations = task
                .expect
                .iter()
                .map(|x| {
                    let value = metrics.iter().find(|m| m.name == x.metric && m.n > 0).map(|m| m.value);
                    ExpectationResult {
                        metric: x.metric.clone(),
                        min: x.min,
                        max: x.max,
                        value,
                        passed: value.is_some_and(|v| x.holds(v)),
                    }
                })
                .collect();
            tasks.push(TaskResult {
                name: task.name.clone(),
                model: label.clone(),
                scored: group.scored,
                failed: group.failed,
                metrics,
                expectations,
            });
        }
    }
    let planned = run.planned.unwrap_or(scored + failed);
    Ok(RunResults {
        run_id: run.id.clone(),
        status: run.status,
        suite: config.suite.name.clone(),
        created_at: run.created_at.clone(),
        finished_at: run.finished_at.clone(),
        counts: RunCounts { planned, scored, failed, pending: planned.saturating_sub(scored + failed) },
        tasks,
        models: config.model_identities.clone(),
        datasets: config.datasets.clone(),
        touchstone_version: config.touchstone_version.clone(),
        git_revision: config.git_revision.clone(),
        config,
    })
}
