//! Comparing models on the same items: per task the paired difference of two models with its
//! bootstrap interval and a significance test (McNemar's exact test for right/wrong scores, a
//! paired t-test otherwise), and, for three or more models, a leaderboard whose tiers group the
//! models that cannot be told apart once the p-values are Holm-corrected.
//!
//! Like [`crate::summarize`], this is a pure function of the store: items are paired by
//! (task, sample, variant, epoch), the model under test being what differs, and each item's
//! value is its first score (the task's primary scorer).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use touchstone_core::ItemStatus;
use touchstone_store::Store;

use crate::EngineError;

/// The significance level of every test here.
pub const ALPHA: f64 = 0.05;

/// Which model of which run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contestant {
    pub run_id: String,
    pub model: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub contestants: Vec<Contestant>,
    pub tasks: Vec<TaskComparison>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskComparison {
    pub task: String,
    /// The scorer whose values are compared (the task's first).
    pub scorer: String,
    /// Items scored for every contestant: the leaderboard's common ground.
    pub common_items: usize,
    /// One per contestant, in the contestants' order, over the common items.
    pub scores: Vec<ContestantScore>,
    /// Every pair of contestants, over the items both have scored.
    pub pairs: Vec<PairComparison>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContestantScore {
    pub contestant: usize,
    pub value: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub n: usize,
    /// 0 is the top tier; models in one tier are not significantly different from its leader.
    pub tier: usize,
    /// 1-based rank by value (ties share the better rank's order by contestant index).
    pub rank: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairComparison {
    pub a: usize,
    pub b: usize,
    /// Items both scored.
    pub n: usize,
    pub mean_a: f64,
    pub mean_b: f64,
    /// mean_a − mean_b, with its 95% paired-bootstrap interval.
    pub difference: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub test: PairTest,
    /// For McNemar: items only A got right, and only B.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discordant: Option<(u64, u64)>,
    pub p_value: f64,
    /// Holm-corrected over the task's pairs.
    pub p_holm: f64,
    pub significant: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PairTest {
    /// Every value is 0 or 1.
    McnemarExact,
    /// Graded scores.
    PairedT,
}

/// (task, sample, variant, epoch): the same question asked of different models.
type ItemKey = (String, String, u32);

/// Per contestant, per task: item → value, and the task's primary scorer name.
struct Collected {
    values: BTreeMap<String, BTreeMap<ItemKey, f64>>,
    scorers: BTreeMap<String, String>,
}

/// Every contestant's values, reading each run once however many of its models take part.
fn collect(store: &dyn Store, contestants: &[Contestant]) -> Result<Vec<Collected>, EngineError> {
    let mut collected: Vec<Collected> = contestants
        .iter()
        .map(|_| Collected {
            values: BTreeMap::new(),
            scorers: BTreeMap::new(),
        })
        .collect();
    let runs: BTreeSet<&str> = contestants.iter().map(|c| c.run_id.as_str()).collect();
    for run in runs {
        store.for_each_result_by_item(run, &mut |r| {
            if r.status != ItemStatus::Scored {
                return Ok(());
            }
            let Some(i) = contestants
                .iter()
                .position(|c| c.run_id == run && c.model == r.model)
            else {
                return Ok(());
            };
            let Some(score) = r.scores.first() else {
                return Ok(());
            };
            if !score.value.is_finite() {
                return Ok(());
            }
            let c = &mut collected[i];
            c.scorers
                .entry(r.task.clone())
                .or_insert_with(|| score.scorer.clone());
            let key = (r.sample_id, r.variant, r.epoch);
            c.values.entry(r.task).or_default().insert(key, score.value);
            Ok(())
        })?;
    }
    Ok(collected)
}

/// The contestants of the given runs: every model of each run, in the runs' order.
pub fn contestants_of(store: &dyn Store, runs: &[String]) -> Result<Vec<Contestant>, EngineError> {
    let mut out = Vec::new();
    let mut given: Vec<(String, &String)> = Vec::new();
    for id in runs {
        let run = store.resolve_run(id)?;
        // The same run twice (perhaps by two prefixes) would compare a model with itself.
        if let Some((_, first)) = given.iter().find(|(seen, _)| *seen == run.id) {
            return Err(EngineError::Config(format!(
                "`{first}` and `{id}` are the same run {}: name each run once / 同一运行被重复给出",
                run.id
            )));
        }
        given.push((run.id.clone(), id));
        for model in &run.models {
            out.push(Contestant {
                run_id: run.id.clone(),
                model: model.clone(),
            });
        }
    }
    Ok(out)
}

/// The items of `run` whose outcome differs from the same question in `baseline`: one passed
/// (its first score at 0.5 or above) where the other did not, or one failed to run where the
/// other was scored. Items are paired by (task, sample, variant, epoch) and by model where the
/// two runs have the same models; a baseline of one model is the baseline of every model of
/// `run`. Items the baseline lacks are not counted as differing. Sorted by item id.
pub fn differing_items(
    store: &dyn Store,
    run: &str,
    baseline: &str,
) -> Result<Vec<String>, EngineError> {
    let (this, base) = (store.resolve_run(run)?, store.resolve_run(baseline)?);
    if this.id == base.id {
        return Err(EngineError::Config(
            "the baseline is the run itself: pick another run / 基线不能是运行本身".into(),
        ));
    }
    let by_model = if this.models == base.models {
        true
    } else if base.models.len() == 1 {
        false
    } else {
        return Err(EngineError::Config(format!(
            "the baseline run has other models ({}): pick a run of the same models, or of one model / 基线运行的模型与本运行不同",
            base.models.join(", ")
        )));
    };
    // None: failed; Some(pass).
    type Key = (String, String, String, u32, String);
    let outcome = |r: &touchstone_store::ItemResult| -> Option<bool> {
        (r.status == ItemStatus::Scored).then(|| r.scores.first().is_some_and(|s| s.value >= 0.5))
    };
    let key = |r: &touchstone_store::ItemResult| -> Key {
        (
            r.task.clone(),
            r.sample_id.clone(),
            r.variant.clone(),
            r.epoch,
            if by_model {
                r.model.clone()
            } else {
                String::new()
            },
        )
    };
    let mut seen: BTreeMap<Key, Option<bool>> = BTreeMap::new();
    store.for_each_result_by_item(&base.id, &mut |r| {
        seen.insert(key(&r), outcome(&r));
        Ok(())
    })?;
    let mut out = Vec::new();
    store.for_each_result_by_item(&this.id, &mut |r| {
        if let Some(before) = seen.get(&key(&r))
            && *before != outcome(&r)
        {
            out.push(r.item_id.0);
        }
        Ok(())
    })?;
    Ok(out)
}

/// Compares the contestants on every task that all of them ran.
pub fn compare(
    store: &dyn Store,
    contestants: &[Contestant],
    seed: u64,
) -> Result<Comparison, EngineError> {
    if contestants.len() < 2 {
        return Err(EngineError::Config(format!(
            "compare needs at least two models, got {}: name two runs, or one run of several models / 比较至少需要两个模型",
            contestants.len()
        )));
    }
    let collected = collect(store, contestants)?;
    let common_tasks: BTreeSet<&String> = collected[0]
        .values
        .keys()
        .filter(|task| collected.iter().all(|c| c.values.contains_key(*task)))
        .collect();
    if common_tasks.is_empty() {
        return Err(EngineError::Config(
            "the models share no task with scored items: compare runs of the same suite / 这些模型没有共同的已评分任务".into(),
        ));
    }
    let tasks = common_tasks
        .into_iter()
        .map(|task| {
            let per: Vec<&BTreeMap<ItemKey, f64>> =
                collected.iter().map(|c| &c.values[task]).collect();
            compare_task(task, &collected[0].scorers[task], &per, seed)
        })
        .collect();
    Ok(Comparison {
        contestants: contestants.to_vec(),
        tasks,
    })
}

fn compare_task(
    task: &str,
    scorer: &str,
    per: &[&BTreeMap<ItemKey, f64>],
    seed: u64,
) -> TaskComparison {
    // The leaderboard's scores: only items every contestant has, so no model is ranked on
    // easier or harder items than another.
    let common: Vec<&ItemKey> = per[0]
        .keys()
        .filter(|k| per.iter().all(|m| m.contains_key(*k)))
        .collect();
    let mut scores: Vec<ContestantScore> = per
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let values: Vec<f64> = common.iter().map(|k| m[*k]).collect();
            let e = touchstone_stats::mean_ci(&values, None, seed);
            ContestantScore {
                contestant: i,
                value: e.value,
                ci_low: e.ci_low,
                ci_high: e.ci_high,
                n: e.n,
                tier: 0,
                rank: 0,
            }
        })
        .collect();

    let mut pairs = Vec::new();
    for a in 0..per.len() {
        for b in a + 1..per.len() {
            pairs.push(compare_pair(a, b, per[a], per[b], seed));
        }
    }
    let adjusted = touchstone_stats::holm(&pairs.iter().map(|p| p.p_value).collect::<Vec<_>>());
    for (pair, p) in pairs.iter_mut().zip(adjusted) {
        pair.p_holm = p;
        pair.significant = p < ALPHA;
    }

    let values: Vec<f64> = scores.iter().map(|s| s.value).collect();
    let significant = |i: usize, j: usize| {
        let (a, b) = (i.min(j), i.max(j));
        pairs.iter().any(|p| p.a == a && p.b == b && p.significant)
    };
    let tiers = touchstone_stats::tiers(&values, &significant);
    let mut order: Vec<usize> = (0..scores.len()).collect();
    // Best first, NaN (no common items) last, as `tiers` orders them.
    order.sort_by(|&i, &j| {
        values[i]
            .is_nan()
            .cmp(&values[j].is_nan())
            .then(values[j].total_cmp(&values[i]))
            .then(i.cmp(&j))
    });
    for (rank, &i) in order.iter().enumerate() {
        scores[i].rank = rank + 1;
        scores[i].tier = tiers[i];
    }
    TaskComparison {
        task: task.to_owned(),
        scorer: scorer.to_owned(),
        common_items: common.len(),
        scores,
        pairs,
    }
}

fn compare_pair(
    a: usize,
    b: usize,
    va: &BTreeMap<ItemKey, f64>,
    vb: &BTreeMap<ItemKey, f64>,
    seed: u64,
) -> PairComparison {
    let (xs, ys): (Vec<f64>, Vec<f64>) = va
        .iter()
        .filter_map(|(k, x)| vb.get(k).map(|y| (*x, *y)))
        .unzip();
    let n = xs.len();
    let mean = |v: &[f64]| {
        if v.is_empty() {
            f64::NAN
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    };
    let diff = touchstone_stats::paired_difference(&xs, &ys, seed);
    let binary = xs.iter().chain(&ys).all(|v| *v == 0.0 || *v == 1.0);
    let (test, discordant, p_value) = if binary {
        let a_only = xs
            .iter()
            .zip(&ys)
            .filter(|(x, y)| **x == 1.0 && **y == 0.0)
            .count() as u64;
        let b_only = xs
            .iter()
            .zip(&ys)
            .filter(|(x, y)| **x == 0.0 && **y == 1.0)
            .count() as u64;
        (
            PairTest::McnemarExact,
            Some((a_only, b_only)),
            touchstone_stats::mcnemar_exact_counts(a_only, b_only),
        )
    } else {
        (
            PairTest::PairedT,
            None,
            touchstone_stats::paired_t_test(&xs, &ys),
        )
    };
    PairComparison {
        a,
        b,
        n,
        mean_a: mean(&xs),
        mean_b: mean(&ys),
        difference: diff.value,
        ci_low: diff.ci_low,
        ci_high: diff.ci_high,
        test,
        discordant,
        p_value,
        p_holm: p_value,
        significant: false,
    }
}
