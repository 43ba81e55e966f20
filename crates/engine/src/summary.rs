//! Aggregation: a run's results, computed only from what is stored (invariant 5: the same store
//! gives the same summary, byte for byte, however the run was interrupted and resumed).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use touchstone_compliance::{Evidence, Measured, Verdict};
use touchstone_core::{ItemStatus, TaskSpec};
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
    /// One per check of the suite's compliance profile and model under test.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verdicts: Vec<Verdict>,
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
    /// The metrics again, per value of each label the task is broken down by (risk, attack…).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub breakdowns: Vec<Breakdown>,
    /// How the task's items were drawn, when it samples (`sample:`, `--sample`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling: Option<crate::sample::Sampling>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Breakdown {
    /// The label: a sample metadata field (`risk`) or `attack`.
    pub by: String,
    pub groups: Vec<GroupResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupResult {
    pub key: String,
    pub scored: u64,
    pub failed: u64,
    pub metrics: Vec<MetricResult>,
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

/// What a finished run leaves unmet: the suite's expectations that failed and the compliance
/// checks that do not conform, each as `task · model · metric` / `check · model`. A script that
/// gates on a run (`touchstone eval --strict`) reads this.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Unmet {
    pub expectations: Vec<String>,
    pub verdicts: Vec<String>,
}

impl Unmet {
    pub fn is_empty(&self) -> bool {
        self.expectations.is_empty() && self.verdicts.is_empty()
    }
}

impl RunResults {
    /// Planned items exist and every recorded one failed: the run measured nothing (a wrong
    /// API key, a dead endpoint). Pending items of an interrupted run do not count as failed.
    pub fn nothing_scored(&self) -> bool {
        self.counts.scored == 0 && self.counts.failed > 0
    }

    pub fn unmet(&self) -> Unmet {
        let expectations =
            self.tasks
                .iter()
                .flat_map(|t| {
                    t.expectations.iter().filter(|x| !x.passed).map(move |x| {
                        format!("{} · {} · {} {}", t.name, t.model, x.metric, x.bound())
                    })
                })
                .collect();
        let verdicts = self
            .verdicts
            .iter()
            .filter(|v| v.verdict == touchstone_compliance::VerdictKind::DoesNotConform)
            .map(|v| format!("{} · {}", v.check, v.model))
            .collect();
        Unmet {
            expectations,
            verdicts,
        }
    }
}

impl ExpectationResult {
    /// The expected range as people read it: `≥ 0.85`, `≤ 0.05`, `0.2–0.4`.
    pub fn bound(&self) -> String {
        match (self.min, self.max) {
            (Some(lo), Some(hi)) => format!("{lo}–{hi}"),
            (Some(lo), None) => format!("≥ {lo}"),
            (None, Some(hi)) => format!("≤ {hi}"),
            (None, None) => String::new(),
        }
    }
}

#[derive(Default)]
struct Group {
    scored: u64,
    failed: u64,
    /// Per scorer. Results arrive in item-id order, so the values (and every floating-point
    /// sum over them) come in an order that depends only on what is stored.
    values: HashMap<String, MeanAccumulator>,
    /// Per scorer, for judged scores: how far the judge's k samples agreed.
    agreement: HashMap<String, MeanAccumulator>,
}

impl Group {
    fn add(
        &mut self,
        status: ItemStatus,
        scores: &[touchstone_core::Score],
        cluster: Option<&str>,
    ) {
        match status {
            ItemStatus::Failed => self.failed += 1,
            ItemStatus::Scored => {
                self.scored += 1;
                for s in scores {
                    self.values
                        .entry(s.scorer.clone())
                        .or_default()
                        .push(s.value, cluster);
                    if let Some(a) = s.agreement {
                        self.agreement
                            .entry(s.scorer.clone())
                            .or_default()
                            .push(a, cluster);
                    }
                }
            }
        }
    }

    fn metrics(&self, task: &TaskSpec, seed: u64) -> Vec<MetricResult> {
        let result = |name: String, scorer: String, acc: Option<&MeanAccumulator>| {
            let e = acc
                .map(|acc| acc.finish(seed))
                .unwrap_or_else(|| MeanAccumulator::new().finish(seed));
            MetricResult {
                name,
                scorer,
                value: e.value,
                ci_low: e.ci_low,
                ci_high: e.ci_high,
                n: e.n,
                ci_method: e.method,
            }
        };
        let mut metrics = Vec::new();
        for metric in task.effective_metrics() {
            let scorer = metric.scorer.clone().unwrap_or_default();
            metrics.push(result(
                metric.name,
                scorer.clone(),
                self.values.get(&scorer),
            ));
        }
        for s in &task.scorers {
            if let Some(acc) = self.agreement.get(&s.name) {
                metrics.push(result("judge_agreement".into(), s.name.clone(), Some(acc)));
            }
        }
        metrics
    }
}

/// What one (model, task) accumulates: the whole, and one group per label value.
#[derive(Default)]
struct TaskGroups {
    all: Group,
    by_label: BTreeMap<(String, String), Group>,
    /// Per sample, for pass@k and circular accuracy (only for tasks that ask for them).
    per_sample: BTreeMap<String, SampleTally>,
}

/// One sample's items (epochs, rotations) by the task's first scorer.
#[derive(Default, Clone, Copy)]
struct SampleTally {
    n: u64,
    correct: u64,
    failed: bool,
}

/// pass@k for each k the task asks for, and `circular_accuracy` for circular tasks: both are
/// per-sample statistics over a sample's items, so they come from the per-sample tallies.
fn per_sample_metrics(
    task: &TaskSpec,
    tallies: &BTreeMap<String, SampleTally>,
    seed: u64,
) -> Vec<MetricResult> {
    let scorer = task
        .scorers
        .first()
        .map(|s| s.name.clone())
        .unwrap_or_default();
    let result = |name: String, values: Vec<f64>| {
        let e = touchstone_stats::mean_ci(&values, None, seed);
        MetricResult {
            name,
            scorer: scorer.clone(),
            value: e.value,
            ci_low: e.ci_low,
            ci_high: e.ci_high,
            n: e.n,
            ci_method: e.method,
        }
    };
    let mut out = Vec::new();
    for &k in &task.pass_at_k {
        // A sample with fewer than k answers cannot be drawn k times; it is left out.
        let values: Vec<f64> = tallies
            .values()
            .filter(|t| !t.failed)
            .filter_map(|t| touchstone_stats::pass_at_k(t.n, t.correct, u64::from(k)))
            .collect();
        out.push(result(format!("pass@{k}"), values));
    }
    if task.circular {
        // A sample with a failed rotation was not fully asked: it is left out, not counted wrong.
        let values: Vec<f64> = tallies
            .values()
            .filter(|t| !t.failed)
            .map(|t| if t.correct == t.n { 1.0 } else { 0.0 })
            .collect();
        out.push(result("circular_accuracy".into(), values));
    }
    out
}

pub fn summarize(store: &dyn Store, run_id: &str) -> Result<RunResults, EngineError> {
    let run = store.resolve_run(run_id)?;
    let config: RunConfig = serde_json::from_value(run.config.clone()).map_err(|e| {
        EngineError::Internal(format!(
            "run {} has an unreadable configuration: {e}",
            run.id
        ))
    })?;
    let epochs_of: HashMap<&str, u32> = config
        .suite
        .tasks
        .iter()
        .map(|t| (t.name.as_str(), crate::plan::epochs(t, &config.options)))
        .collect();

    // Attack variants and rotations of one sample are as dependent as its epochs.
    let attacked: HashMap<&str, bool> = config
        .suite
        .tasks
        .iter()
        .map(|t| (t.name.as_str(), !t.attacks.is_empty() || t.circular))
        .collect();

    let per_sample: HashMap<&str, bool> = config
        .suite
        .tasks
        .iter()
        .map(|t| (t.name.as_str(), t.circular || !t.pass_at_k.is_empty()))
        .collect();
    let mut groups: HashMap<(String, String), TaskGroups> = HashMap::new();
    store.for_each_result_by_item(&run.id, &mut |r| {
        let groups = groups.entry((r.model.clone(), r.task.clone())).or_default();
        // Epochs and attack variants of one sample are not independent draws: cluster them by
        // sample unless the dataset gives a coarser cluster.
        let by_sample = epochs_of.get(r.task.as_str()).copied().unwrap_or(1) > 1
            || attacked.get(r.task.as_str()).copied().unwrap_or(false);
        let cluster = r
            .cluster
            .as_deref()
            .or(by_sample.then_some(r.sample_id.as_str()));
        groups.all.add(r.status, &r.scores, cluster);
        if per_sample.get(r.task.as_str()).copied().unwrap_or(false) {
            let tally = groups.per_sample.entry(r.sample_id.clone()).or_default();
            match r.status {
                ItemStatus::Failed => tally.failed = true,
                ItemStatus::Scored => {
                    tally.n += 1;
                    if r.scores.first().is_some_and(|s| s.value >= 1.0) {
                        tally.correct += 1;
                    }
                }
            }
        }
        for (label, value) in &r.labels {
            groups
                .by_label
                .entry((label.clone(), value.clone()))
                .or_default()
                .add(r.status, &r.scores, cluster);
        }
        Ok(())
    })?;

    let mut tasks = Vec::new();
    let (mut scored, mut failed) = (0, 0);
    for model in &config.models {
        let label = model.label();
        for task in &config.suite.tasks {
            let TaskGroups {
                all: group,
                by_label,
                per_sample,
            } = groups
                .remove(&(label.clone(), task.name.clone()))
                .unwrap_or_default();
            scored += group.scored;
            failed += group.failed;
            let mut metrics = group.metrics(task, config.options.seed);
            metrics.extend(per_sample_metrics(task, &per_sample, config.options.seed));
            let mut breakdowns: Vec<Breakdown> = Vec::new();
            for ((by, key), g) in by_label {
                let result = GroupResult {
                    key,
                    scored: g.scored,
                    failed: g.failed,
                    metrics: g.metrics(task, config.options.seed),
                };
                match breakdowns.last_mut() {
                    Some(b) if b.by == by => b.groups.push(result),
                    _ => breakdowns.push(Breakdown {
                        by,
                        groups: vec![result],
                    }),
                }
            }
            if let Some(field) = &task.macro_over {
                metrics.extend(macro_metrics(
                    &metrics,
                    breakdowns.iter().find(|b| b.by == *field),
                ));
            }
            let expectations = task
                .expect
                .iter()
                .map(|x| {
                    let value = metrics
                        .iter()
                        .find(|m| m.name == x.metric && m.n > 0)
                        .map(|m| m.value);
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
                breakdowns,
                sampling: config
                    .options
                    .draws
                    .get(&task.name)
                    .map(|d| d.sampling.clone()),
            });
        }
    }
    let verdicts = verdicts(&config, &tasks);
    let planned = run.planned.unwrap_or(scored + failed);
    Ok(RunResults {
        run_id: run.id.clone(),
        status: run.status,
        suite: config.suite.name.clone(),
        created_at: run.created_at.clone(),
        finished_at: run.finished_at.clone(),
        counts: RunCounts {
            planned,
            scored,
            failed,
            pending: planned.saturating_sub(scored + failed),
        },
        tasks,
        verdicts,
        models: config.model_identities.clone(),
        datasets: config.datasets.clone(),
        touchstone_version: config.touchstone_version.clone(),
        git_revision: config.git_revision.clone(),
        config,
    })
}

/// The verdict on every check of the run's profile, for every model under test: each check's
/// metric comes from the task that assesses it, with the bank that task was measured on.
fn verdicts(config: &RunConfig, tasks: &[TaskResult]) -> Vec<Verdict> {
    let Some(profile) = &config.profile else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for model in &config.models {
        let label = model.label();
        out.extend(touchstone_compliance::decide_all(
            profile,
            &label,
            |check| {
                let Some(task) = config
                    .suite
                    .tasks
                    .iter()
                    .find(|t| t.assess.contains(&check.id))
                else {
                    return Evidence::default();
                };
                let measured = tasks
                    .iter()
                    .find(|t| t.model == label && t.name == task.name)
                    .and_then(|t| t.metrics.iter().find(|m| m.name == check.metric))
                    .map(|m| Measured {
                        value: m.value,
                        ci_low: m.ci_low,
                        ci_high: m.ci_high,
                        n: m.n,
                    })
                    // Assessed but measured nothing: a measurement of zero items, not a missing one.
                    .or(Some(Measured {
                        value: 0.0,
                        ci_low: 0.0,
                        ci_high: 0.0,
                        n: 0,
                    }));
                Evidence {
                    measured,
                    bank: config
                        .banks
                        .iter()
                        .find(|b| b.task == task.name)
                        .map(|b| b.qualification.clone()),
                    classifier: config.options.judge.is_some(),
                }
            },
        ));
    }
    out
}

/// `NAME_macro` for each metric: the average of its per-group values, each group (e.g. MMLU
/// subject) weighing the same, beside the micro average (every item the same) that `NAME` is.
fn macro_metrics(metrics: &[MetricResult], by: Option<&Breakdown>) -> Vec<MetricResult> {
    let Some(by) = by else { return Vec::new() };
    metrics
        .iter()
        .map(|m| {
            let groups: Vec<touchstone_stats::Estimate> = by
                .groups
                .iter()
                .filter_map(|g| {
                    g.metrics
                        .iter()
                        .find(|x| x.name == m.name && x.scorer == m.scorer)
                })
                .map(|x| touchstone_stats::Estimate {
                    value: x.value,
                    ci_low: x.ci_low,
                    ci_high: x.ci_high,
                    n: x.n,
                    method: x.ci_method,
                })
                .collect();
            let e = touchstone_stats::macro_average(&groups);
            MetricResult {
                name: format!("{}_macro", m.name),
                scorer: m.scorer.clone(),
                value: e.value,
                ci_low: e.ci_low,
                ci_high: e.ci_high,
                n: e.n,
                ci_method: e.method,
            }
        })
        .collect()
}
