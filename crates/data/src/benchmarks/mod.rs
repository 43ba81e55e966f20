//! Capability benchmarks: the registry of supported benchmarks ([`list`], [`info`]) and what
//! each one's files, as its authors publish them, become (below).
//!
//! A suite names the format (`format: mmlu`); it is never inferred from an extension, and the
//! task's `FieldMap` is ignored, as for the public safety sets ([`public`](super::public)).
//! [`list`] says which benchmarks are supported and where to get them: none is bundled.
//!
//! The readers are one file per family: `knowledge` (MMLU, CMMLU, C-Eval), `math` (GSM8K),
//! `code` (HumanEval), `choice` (ARC, HellaSwag) and `truthfulqa` (TruthfulQA MC1); `subjects`
//! holds the subject category tables and `files` the subject, split and directory rules.
//!
//! Every sample gets `metadata.source` (the format name) and `metadata.lang`; multiple-choice
//! sets give `choices` in order and `target` as the letter of the right one (`A`, `B`, …).
//!
//! | format | file | id | input | target | metadata besides source, lang |
//! |---|---|---|---|---|---|
//! | `mmlu` | header-less CSV `question,A,B,C,D,answer`, `<split>/<subject>_<split>.csv` | `{subject}/{n}` (n = 0-based question number in the file) | question | answer letter | `subject`, `split`, `subcategory`, `category` (STEM / humanities / social sciences / other, from `benchmarks/mmlu_categories.tsv`) |
//! | `cmmlu` | CSV `,Question,A,B,C,D,Answer`, `<split>/<subject>.csv` | `{subject}/{first column}` | Question | Answer | `subject`, `split`, `subject_zh`, `subcategory`, `category` (STEM / Humanities / Social Science / Other), `china_specific` (from `benchmarks/cmmlu_categories.tsv`) |
//! | `ceval` | CSV `id,question,A,B,C,D[,answer[,explanation]]`, `<split>/<subject>_<split>.csv` | `{subject}/{id}` | question | answer; empty in the test split, which has no answers | `subject`, `split`, `subject_zh`, `category` (STEM / Social Science / Humanities / Other, from `benchmarks/ceval_categories.tsv`), `explanation` when given |
//! | `gsm8k` | JSONL `{question, answer}` | 0-based line number | question | the number after `####`, without thousands commas | `solution` (the whole answer), `split` (from a `train`/`test` file name) |
//! | `humaneval` | JSONL, usually gzipped: `{task_id, prompt, canonical_solution, test, entry_point}` | `task_id` | prompt | empty: graded by running `test` | `entry_point`, `test`, `canonical_solution` |
//! | `truthfulqa_mc` | `mc_task.json` from sylinrl/TruthfulQA: a JSON array of `{question, mc1_targets: {answer: 0/1}, mc2_targets: {answer: 0/1}}` | 0-based position | question | the one MC1 answer marked 1 | `mc2_choices`, `mc2_targets` (letters of the true MC2 answers) |
//! | `arc` | ARC JSONL `{id, question: {stem, choices: [{text, label}]}, answerKey}` | `id` | stem | the answer's letter by position (labels `1`–`4` become `A`–`D`) | `labels` and `answer_key` as written, `split` (from `…-Test`/`-Dev`/`-Train` file names) |
//! | `hellaswag` | JSONL `{ind, ctx, endings, label, activity_label, …}` | `ind` | lm-eval's query `{activity_label}: {ctx_a} {ctx_b capitalised}` (else the `ctx`), endings cleaned as lm-eval does | `label` as a letter; empty when absent (test split) | `ctx`, `activity_label`, `split`, `split_type`, `source_id` when present |
//!
//! TruthfulQA also ships `TruthfulQA.csv` (the generation task's questions with `;`-joined
//! answer lists); its multiple-choice task, scored by the authors from `mc_task.json`, is what
//! `truthfulqa_mc` reads.
//!
//! # Directories
//! `mmlu`, `cmmlu` and `ceval` publish one CSV per subject, so their path may be a directory:
//! - a split folder (one holding `*.csv`): every CSV in it, in byte order of file name;
//! - the benchmark root (holding split folders): the evaluation split, `test/` for MMLU and
//!   CMMLU and `val/` for C-Eval (whose `test/` has no answers). Name a split folder to read
//!   another split.
//!
//! The subject is the file name without extension and without a `_dev`/`_val`/`_test`/`_train`
//! suffix; the split is that suffix, else the name of the folder holding the file when that is
//! `dev`, `val`, `test` or `train`. Sample ids carry the subject, so they are unique across a
//! folder. [`dataset_files`] lists what a path stands for.

pub(crate) mod choice;
pub(crate) mod code;
mod files;
pub(crate) mod knowledge;
pub(crate) mod math;
mod subjects;
mod truthfulqa;

use touchstone_core::DatasetFormat;

pub use files::dataset_files;
pub use subjects::{CmmluSubject, ceval_category, cmmlu_category, mmlu_category};
pub(crate) use truthfulqa::TruthfulqaStream;

/// A supported benchmark: what it is and where to get it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BenchmarkInfo {
    /// The name users know it by (`truthfulqa-mc`).
    pub name: &'static str,
    /// The format a suite names to read it.
    pub format: DatasetFormat,
    pub description_zh: &'static str,
    pub description_en: &'static str,
    /// Where the data is published (the authors' repository and path); nothing is fetched.
    pub source_url_hint: &'static str,
    pub licence: &'static str,
    /// Whether the data ships inside Touchstone. Always false: these are downloaded by users.
    pub bundled: bool,
}

const LIST: [BenchmarkInfo; 9] = [
    BenchmarkInfo {
        name: "mmlu",
        format: DatasetFormat::Mmlu,
        description_zh: "大规模多任务语言理解：57 个学科的四选一选择题（英文）",
        description_en: "Massive Multitask Language Understanding: 4-option questions in 57 subjects (English)",
        source_url_hint: "hendrycks/test on GitHub (data.tar: data/{dev,val,test}/<subject>_<split>.csv)",
        licence: "MIT",
        bundled: false,
    },
    BenchmarkInfo {
        name: "cmmlu",
        format: DatasetFormat::Cmmlu,
        description_zh: "中文大规模多任务语言理解：67 个学科的四选一选择题",
        description_en: "Chinese MMLU: 4-option questions in 67 subjects, many specific to China",
        source_url_hint: "haonan-li/CMMLU on GitHub (data/{dev,test}/<subject>.csv)",
        licence: "CC BY-NC-SA 4.0 (non-commercial, share-alike)",
        bundled: false,
    },
    BenchmarkInfo {
        name: "ceval",
        format: DatasetFormat::Ceval,
        description_zh: "C-Eval：52 个学科的中文四选一选择题（测试集答案未公开，默认读验证集）",
        description_en: "C-Eval: Chinese 4-option questions in 52 subjects (test answers are withheld; val is read by default)",
        source_url_hint: "hkust-nlp/ceval on GitHub (ceval-exam.zip: {dev,val,test}/<subject>_<split>.csv)",
        licence: "CC BY-NC-SA 4.0 (non-commercial, share-alike)",
        bundled: false,
    },
    BenchmarkInfo {
        name: "gsm8k",
        format: DatasetFormat::Gsm8k,
        description_zh: "小学数学应用题，答案为一个数",
        description_en: "Grade-school math word problems with a numeric answer",
        source_url_hint: "openai/grade-school-math on GitHub (grade_school_math/data/test.jsonl)",
        licence: "MIT",
        bundled: false,
    },
    BenchmarkInfo {
        name: "humaneval",
        format: DatasetFormat::Humaneval,
        description_zh: "Python 函数补全，以单元测试判定正确性（须在沙箱中运行）",
        description_en: "Python function completion graded by unit tests (run them sandboxed)",
        source_url_hint: "openai/human-eval on GitHub (data/HumanEval.jsonl.gz)",
        licence: "MIT",
        bundled: false,
    },
    BenchmarkInfo {
        name: "truthfulqa-mc",
        format: DatasetFormat::TruthfulqaMc,
        description_zh: "TruthfulQA 单选（MC1）：辨别常见误解的真实答案",
        description_en: "TruthfulQA multiple choice (MC1): pick the true answer over common misconceptions",
        source_url_hint: "sylinrl/TruthfulQA on GitHub (data/mc_task.json)",
        licence: "Apache-2.0",
        bundled: false,
    },
    BenchmarkInfo {
        name: "arc",
        format: DatasetFormat::Arc,
        description_zh: "AI2 推理挑战：小学科学选择题（Easy / Challenge）",
        description_en: "AI2 Reasoning Challenge: grade-school science multiple choice (Easy / Challenge)",
        source_url_hint: "allenai ARC-V1 release (ARC-Challenge/ARC-Challenge-Test.jsonl, ARC-Easy/…)",
        licence: "CC BY-SA 4.0",
        bundled: false,
    },
    BenchmarkInfo {
        name: "hellaswag",
        format: DatasetFormat::Hellaswag,
        description_zh: "常识推理：为一段情境选出最合理的后续（四选一）",
        description_en: "Commonsense inference: pick the most plausible continuation (4 options)",
        source_url_hint: "rowanz/hellaswag on GitHub (data/hellaswag_val.jsonl)",
        licence: "MIT",
        bundled: false,
    },
    BenchmarkInfo {
        name: "safetybench",
        format: DatasetFormat::Safetybench,
        description_zh: "安全理解选择题，7 个类别，中英文（答案键另存一文件）",
        description_en: "Safety-understanding multiple choice in 7 categories, Chinese and English (answer key in a separate file)",
        source_url_hint: "thu-coai/SafetyBench on GitHub (opensource_data/test_zh_subset.json + test_answers_zh_subset.json)",
        licence: "MIT",
        bundled: false,
    },
];

/// The supported benchmarks, in a fixed order.
pub fn list() -> &'static [BenchmarkInfo] {
    &LIST
}

/// A benchmark by name (`truthfulqa-mc`) or by format name (`truthfulqa_mc`).
pub fn info(name: &str) -> Option<&'static BenchmarkInfo> {
    LIST.iter()
        .find(|b| b.name == name || b.format.name() == name)
}
