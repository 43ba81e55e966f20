//! Planning: which samples each task has, streamed, so memory does not grow with the dataset.
//!
//! Planning is deterministic: the same suite, options and data give the same work items in the
//! same order, with the same ids (resume rests on this).

use std::collections::BTreeMap;

use touchstone_compliance::Profile;
use touchstone_core::{DatasetSource, Sample, SuiteSpec, TaskSpec};
use touchstone_data::SampleStream;

use crate::EngineError;
use crate::config::{DatasetDigest, EvalOptions};
use crate::sample::{Candidate, Draw, Recipe, minimum_for};

/// Whether a reading of a dataset is the first (which validates it) or a later one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Checks everything, including repeated ids.
    Validate,
    /// The data was validated by an earlier pass over the same bytes (the run record holds
    /// their SHA-256); skipping the repeated-id table keeps memory flat on large files.
    Execute,
}

/// Open a task's samples, limited by the task's own `limit` and the run's `--limit`.
pub fn samples(
    task: &TaskSpec,
    options: &EvalOptions,
    pass: Pass,
) -> Result<impl Iterator<Item = Result<Sample, EngineError>> + Send + use<>, EngineError> {
    let read = touchstone_data::ReadOptions {
        check_duplicate_ids: pass == Pass::Validate,
    };
    let stream: SampleStream = match &task.dataset.source {
        DatasetSource::Builtin(name) => {
            touchstone_data::open_builtin_with(name, task.dataset.format, &task.dataset.fields)?
        }
        DatasetSource::Path(path) => {
            touchstone_data::open_file_with(path, task.dataset.format, &task.dataset.fields, read)?
        }
    };
    let limit = match (task.dataset.limit, options.limit) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or(usize::MAX),
    };
    let filter = task.dataset.filter.clone();
    // A task that samples runs only the items of the run's draw (`sample`), made from what
    // the filter and the limit leave.
    let drawn: Option<std::collections::HashSet<String>> = options
        .draws
        .get(&task.name)
        .map(|d| d.ids.iter().cloned().collect());
    // The filter runs before the limit: `--limit 5` means five samples that pass it.
    Ok(stream
        .filter(move |r| r.as_ref().map_or(true, |s| passes(&filter, s)))
        .take(limit)
        .filter(move |r| match (r, &drawn) {
            (Ok(s), Some(drawn)) => drawn.contains(&s.id),
            _ => true,
        })
        .map(|r| r.map_err(EngineError::from)))
}

/// Every sample of a task, ignoring limits (for checking a bank against a profile).
pub fn all_samples(
    task: &TaskSpec,
) -> Result<impl Iterator<Item = Result<Sample, EngineError>> + Send + use<>, EngineError> {
    let mut unlimited = task.clone();
    unlimited.dataset.limit = None;
    samples(&unlimited, &EvalOptions::default(), Pass::Execute)
}

/// Reads a task's data as a run would (its samples after `limit` and `filter`, and the file
/// its worked examples come from) and returns how many samples it would run: a dataset that
/// cannot be read fails here, with its location, before anything is sent.
pub fn check_task_data(task: &TaskSpec) -> Result<usize, EngineError> {
    check_task_data_with(task, None)
}

/// [`check_task_data`] with the suite's profile: a task that samples is drawn as a run would
/// draw it (keeping the profile's minimum per stratum), and counts what it draws.
pub fn check_task_data_with(
    task: &TaskSpec,
    profile: Option<&touchstone_compliance::Profile>,
) -> Result<usize, EngineError> {
    let mut options = EvalOptions::default();
    if let Some(draw) = draw_task(task, &options, profile)? {
        options.draws.insert(task.name.clone(), draw);
    }
    let mut n = 0;
    for sample in samples(task, &options, Pass::Execute)? {
        sample?;
        n += 1;
    }
    FewShotPool::load(&task.prompt)?;
    Ok(n)
}

/// Draw a task's items as its `sample:` says (the seed defaulting to the run's), reading its
/// data after `filter` and `limit`; `None` for a task that does not sample.
pub fn draw_task(
    task: &TaskSpec,
    options: &EvalOptions,
    profile: Option<&Profile>,
) -> Result<Option<Draw>, EngineError> {
    let Some(spec) = &task.sample else {
        return Ok(None);
    };
    let in_task = |e: EngineError| match e {
        EngineError::Data(source) => EngineError::TaskData {
            task: task.name.clone(),
            source: Box::new(source),
        },
        other => other,
    };
    // The bank the draw is made from: no earlier draw applies to it.
    let reading = EvalOptions {
        limit: options.limit,
        ..EvalOptions::default()
    };
    let mut items = Vec::new();
    for sample in samples(task, &reading, Pass::Validate).map_err(in_task)? {
        let sample = sample.map_err(in_task)?;
        let stratum = match &spec.stratify {
            None => String::new(),
            Some(by) => match sample.metadata.get(by) {
                Some(v) => metadata_text(v),
                None => {
                    let mut carried: Vec<&str> =
                        sample.metadata.keys().map(String::as_str).collect();
                    carried.sort();
                    return Err(EngineError::Config(format!(
                        "task `{}`: sample `{}` has no `{by}` to stratify by (it carries: {}); \
                         stratify by a label every sample has, or list it in the task's \
                         `fields.metadata` / 样本缺少分层标签",
                        task.name,
                        sample.id,
                        if carried.is_empty() {
                            "nothing".to_string()
                        } else {
                            carried.join(", ")
                        }
                    )));
                }
            },
        };
        items.push(Candidate {
            id: sample.id,
            stratum,
        });
    }
    let recipe = Recipe {
        n: spec.n,
        by: spec.stratify.clone(),
        seed: spec.seed.unwrap_or(options.seed),
        minimum: spec
            .stratify
            .as_deref()
            .and_then(|by| minimum_for(task, by, profile)),
    };
    crate::sample::draw(items, &recipe)
        .map(Some)
        .map_err(|e| EngineError::Config(format!("task `{}`: {e}", task.name)))
}

/// The draw of every task that samples, by task name.
pub fn draw_all(
    suite: &SuiteSpec,
    options: &EvalOptions,
    profile: Option<&Profile>,
) -> Result<BTreeMap<String, Draw>, EngineError> {
    let mut out = BTreeMap::new();
    for task in &suite.tasks {
        if let Some(draw) = draw_task(task, options, profile)? {
            out.insert(task.name.clone(), draw);
        }
    }
    Ok(out)
}

/// Whether a sample's metadata has every value a dataset filter asks for.
fn passes(filter: &std::collections::BTreeMap<String, String>, sample: &Sample) -> bool {
    filter.iter().all(|(k, want)| {
        sample
            .metadata
            .get(k)
            .is_some_and(|v| metadata_text(v) == *want)
    })
}

/// A metadata value as text: strings as they are, other JSON values as JSON.
pub fn metadata_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The variants each sample is run as: as written (""), then each attack.
pub fn variants(task: &TaskSpec) -> Vec<String> {
    let rotations = (1..crate::item::MAX_ROTATIONS)
        .filter(|_| task.circular)
        .map(|r| format!("{}{r}", crate::item::CIRCULAR));
    std::iter::once(String::new())
        .chain(task.attacks.iter().cloned())
        .chain(rotations)
        .collect()
}

pub fn epochs(task: &TaskSpec, options: &EvalOptions) -> u32 {
    options.epochs.unwrap_or(task.epochs).max(1)
}

/// Read every task's dataset once before any request is sent: counts the work items of one
/// model (for the progress bar and `counts.planned`) and surfaces bad data with its location
/// up front. An attack that does not apply to a sample is not planned for it.
pub fn count_items(
    task: &TaskSpec,
    options: &EvalOptions,
    attacks: &touchstone_attacks::Catalogue,
) -> Result<u64, EngineError> {
    let variants = variants(task);
    let catalogue = (variants.len() > 1).then_some(attacks);
    let mut n = 0u64;
    for sample in samples(task, options, Pass::Validate)? {
        let sample = sample?;
        n += match &catalogue {
            None => 1,
            Some(catalogue) => {
                // The execution pass's own predicate, so the count and the items agree.
                let sample = std::sync::Arc::new(sample);
                variants
                    .iter()
                    .filter(|v| {
                        crate::item::prepare_item(task, catalogue, &sample, &[], v, options.seed)
                            .is_some()
                    })
                    .count() as u64
            }
        };
    }
    Ok(n * u64::from(epochs(task, options)))
}

pub fn digest(task: &TaskSpec) -> Result<DatasetDigest, EngineError> {
    let mut digest = source_digest(task)?;
    // Worked examples drawn from another file (MMLU's dev split) are data too: a changed
    // example file is a changed prompt.
    if let Some(from) = &task.prompt.few_shot_from {
        let shots = source_digest(&TaskSpec::new("few-shot", from.dataset.clone(), Vec::new()))?;
        digest.sha256 =
            touchstone_data::sha256_hex(format!("{}{}", digest.sha256, shots.sha256).as_bytes());
    }
    Ok(digest)
}

fn source_digest(task: &TaskSpec) -> Result<DatasetDigest, EngineError> {
    Ok(match &task.dataset.source {
        DatasetSource::Builtin(name) => DatasetDigest {
            task: task.name.clone(),
            source: format!("builtin:{name}"),
            sha256: touchstone_data::sha256_hex(
                touchstone_data::builtin_bytes(name).unwrap_or_default(),
            ),
        },
        DatasetSource::Path(path) => {
            // A dataset with companion files (SafetyBench's answer key) is hashed with them: a
            // changed key is changed data.
            let mut sha256 = touchstone_data::file_sha256(path)?;
            for companion in touchstone_data::companion_files(path, task.dataset.format) {
                sha256 = touchstone_data::sha256_hex(
                    format!("{sha256}{}", touchstone_data::file_sha256(&companion)?).as_bytes(),
                );
            }
            DatasetDigest {
                task: task.name.clone(),
                source: path.display().to_string(),
                sha256,
            }
        }
    })
}

/// Worked examples a task draws per sample (`prompt.few_shot_from`): the first `n` samples of
/// the source dataset for each value of its `by` field.
#[derive(Default)]
pub struct FewShotPool {
    by: Option<String>,
    shots: std::collections::HashMap<String, Vec<touchstone_core::FewShot>>,
}

impl FewShotPool {
    pub fn load(prompt: &touchstone_core::PromptSpec) -> Result<FewShotPool, EngineError> {
        let Some(from) = &prompt.few_shot_from else {
            return Ok(FewShotPool::default());
        };
        let source = TaskSpec::new("few-shot", from.dataset.clone(), Vec::new());
        let mut shots: std::collections::HashMap<String, Vec<touchstone_core::FewShot>> =
            std::collections::HashMap::new();
        for sample in all_samples(&source)? {
            let sample = sample?;
            let key = from
                .by
                .as_ref()
                .and_then(|b| sample.metadata.get(b))
                .map(metadata_text)
                .unwrap_or_default();
            let bucket = shots.entry(key).or_default();
            if bucket.len() < from.n {
                bucket.push(crate::prompt::as_shot(&sample));
            }
        }
        Ok(FewShotPool {
            by: from.by.clone(),
            shots,
        })
    }

    /// The examples for one sample (none when the source has none for its group).
    pub fn for_sample(&self, sample: &Sample) -> &[touchstone_core::FewShot] {
        let key = self
            .by
            .as_ref()
            .and_then(|b| sample.metadata.get(b))
            .map(metadata_text)
            .unwrap_or_default();
        self.shots.get(&key).map(Vec::as_slice).unwrap_or(&[])
    }
}
