//! Capability benchmarks: the registry ([`list`], [`info`]) and the readers of each benchmark's
//! files as its authors publish them (below).
//!
//! A suite names the format (`format: mmlu`); it is never inferred from an extension, and the
//! task's `FieldMap` is ignored, as for the public safety sets ([`public`](super::public)).
//! [`list`] says which benchmarks are supported and where to get them: none is bundled.
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

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::{Map, Value};
use touchstone_core::{DatasetFormat, FieldMap, Sample};

use crate::ReadOptions;
use crate::error::{DataError, Location};
use crate::mapping::{Adapter, Mapper, Record, kind};
use crate::native::{JsonDoc, Native, common, file_stem, letter, record};

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

/// MMLU's grouping of a subject: `(subcategory, category)`, e.g. `("math", "STEM")`.
pub fn mmlu_category(subject: &str) -> Option<(&'static str, &'static str)> {
    mmlu_table().get(subject).map(|cols| (cols[0], cols[1]))
}

/// CMMLU's grouping of a subject (from the authors' `categories.py`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CmmluSubject {
    pub name_zh: &'static str,
    pub subcategory: &'static str,
    /// STEM, Humanities, Social Science or Other.
    pub category: &'static str,
    /// CMMLU's fifth group, which overlaps the other four.
    pub china_specific: bool,
}

pub fn cmmlu_category(subject: &str) -> Option<CmmluSubject> {
    cmmlu_table().get(subject).map(|c| CmmluSubject {
        name_zh: c[0],
        subcategory: c[1],
        category: c[2],
        china_specific: c[3] == "yes",
    })
}

/// C-Eval's grouping of a subject (from the authors' `subject_mapping.json`):
/// `(Chinese name, category)`, e.g. `("高等数学", "STEM")`.
pub fn ceval_category(subject: &str) -> Option<(&'static str, &'static str)> {
    ceval_table().get(subject).map(|c| (c[0], c[1]))
}

type Table = HashMap<&'static str, Vec<&'static str>>;

/// A TSV table keyed by its first column; `#` lines and the header row are skipped.
fn parse_table(text: &'static str) -> Table {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .skip(1)
        .filter_map(|l| {
            let mut cols = l.split('\t');
            Some((cols.next()?, cols.collect()))
        })
        .collect()
}

fn mmlu_table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| parse_table(include_str!("../benchmarks/mmlu_categories.tsv")))
}

fn ceval_table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| parse_table(include_str!("../benchmarks/ceval_categories.tsv")))
}

fn cmmlu_table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| parse_table(include_str!("../benchmarks/cmmlu_categories.tsv")))
}

/// Subject and split of one file (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileCtx {
    subject: String,
    split: Option<String>,
}

const SPLITS: [&str; 4] = ["dev", "val", "test", "train"];

fn file_ctx(path: &Path) -> FileCtx {
    let stem = file_stem(path);
    for split in SPLITS {
        if let Some(subject) = stem.strip_suffix(split).and_then(|s| s.strip_suffix('_'))
            && !subject.is_empty()
        {
            return FileCtx {
                subject: subject.to_string(),
                split: Some(split.to_string()),
            };
        }
    }
    let parent = path
        .parent()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|p| SPLITS.contains(&p.as_str()));
    FileCtx {
        subject: stem,
        split: parent,
    }
}

/// The split named at the end of a file stem after `-` or `_` (`ARC-Challenge-Test` → `test`,
/// `hellaswag_val` → `val`, `test` → `test`).
fn split_from_name(path: &Path) -> Option<String> {
    let ctx = file_ctx(path);
    if let Some(s) = ctx.split {
        return Some(s);
    }
    let last = ctx.subject.rsplit(['-', '_']).next()?.to_ascii_lowercase();
    SPLITS.contains(&last.as_str()).then_some(last)
}

/// The files a dataset path stands for: the path itself, or for a directory given to `mmlu`,
/// `cmmlu` or `ceval` its subject CSVs in sorted order (see the module documentation).
pub fn dataset_files(
    path: &Path,
    format: Option<DatasetFormat>,
) -> Result<Vec<PathBuf>, DataError> {
    let Some(format) = format.filter(|f| f.accepts_directory() && path.is_dir()) else {
        return Ok(vec![path.to_path_buf()]);
    };
    let csvs = csv_files(path)?;
    if !csvs.is_empty() {
        return Ok(csvs);
    }
    let split = if format == DatasetFormat::Ceval {
        "val"
    } else {
        "test"
    };
    let folder = path.join(split);
    if folder.is_dir() {
        let csvs = csv_files(&folder)?;
        if csvs.is_empty() {
            return Err(DataError::Empty { path: folder });
        }
        return Ok(csvs);
    }
    Err(DataError::Open {
        path: path.to_path_buf(),
        source: std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!(
                "a `{format}` directory holds subject CSV files or a `{split}/` folder of them; \
                 this one has neither"
            ),
        ),
    })
}

fn csv_files(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let open_err = |source| DataError::Open {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(open_err)? {
        let p = entry.map_err(open_err)?.path();
        if p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
            files.push(p);
        }
    }
    files.sort();
    Ok(files)
}

const MMLU_FIELDS: &str = "6 columns without a header: question, A, B, C, D, answer";
const CMMLU_FIELDS: &str = "header `,Question,A,B,C,D,Answer`";
const CEVAL_FIELDS: &str = "header `id,question,A,B,C,D,answer,explanation` (test: no answer)";
const MMLU_COLUMNS: [&str; 6] = ["question", "A", "B", "C", "D", "answer"];

/// MMLU's header-less rows, numbered from 0 in the file for their ids.
pub(crate) fn mmlu_adapter(path: PathBuf) -> Adapter {
    let ctx = file_ctx(&path);
    let mut n: u64 = 0;
    Box::new(move |rec, at| {
        n += 1;
        mmlu(rec, at, &path, &ctx, n - 1)
    })
}

/// CMMLU's rows; the count numbers a row without its index column.
pub(crate) fn cmmlu_adapter(path: PathBuf) -> Adapter {
    let format = DatasetFormat::Cmmlu;
    let ctx = file_ctx(&path);
    let mut n: u64 = 0;
    Box::new(move |rec, at| {
        n += 1;
        cmmlu(
            Native::new(rec, at, &path, format, CMMLU_FIELDS),
            &ctx,
            n - 1,
        )
    })
}

/// C-Eval's rows.
pub(crate) fn ceval_adapter(path: PathBuf) -> Adapter {
    let format = DatasetFormat::Ceval;
    let ctx = file_ctx(&path);
    Box::new(move |rec, at| ceval(Native::new(rec, at, &path, format, CEVAL_FIELDS), &ctx))
}

/// A checked answer letter among `n` options; `None` when the cell is empty and `optional`.
fn answer_letter(
    row: &mut Native<'_>,
    field: &str,
    n: usize,
    optional: bool,
) -> Result<Option<String>, DataError> {
    let raw = row.opt_text(field)?;
    let Some(raw) = raw.filter(|a| !a.trim().is_empty() || !optional) else {
        return if optional {
            Ok(None)
        } else {
            Err(row.missing(field))
        };
    };
    let a = raw.trim();
    let last = letter(n - 1);
    match a.as_bytes() {
        [b] if (b'A'..b'A' + n as u8).contains(b) => Ok(Some(a.to_string())),
        _ => Err(row.bad(
            field,
            format!("expected an answer letter A–{last}, found `{raw}`"),
        )),
    }
}

/// The four option columns `A`–`D`, as written.
fn four_options(row: &mut Native<'_>) -> Result<Vec<String>, DataError> {
    ["A", "B", "C", "D"].iter().map(|c| row.text(c)).collect()
}

fn put_ctx(meta: &mut Map<String, Value>, ctx: &FileCtx) {
    meta.insert("subject".into(), ctx.subject.clone().into());
    if let Some(split) = &ctx.split {
        meta.insert("split".into(), split.clone().into());
    }
}

fn mmlu(
    rec: Record,
    at: Location,
    path: &Path,
    ctx: &FileCtx,
    n: u64,
) -> Result<Record, DataError> {
    // Header-less rows arrive as columns "0".."5"; a ragged row is reported by its width, and
    // the columns get MMLU's names so that later errors name the right field.
    if rec.len() != MMLU_COLUMNS.len() {
        return Err(DataError::BadRecord {
            path: path.to_path_buf(),
            at,
            message: format!(
                "expected {MMLU_FIELDS}, found {} column{}",
                rec.len(),
                if rec.len() == 1 { "" } else { "s" }
            ),
        });
    }
    let named: Record = rec
        .into_iter()
        .filter_map(|(k, v)| {
            let i: usize = k.parse().ok()?;
            Some((MMLU_COLUMNS.get(i)?.to_string(), v))
        })
        .collect();
    let mut row = Native::new(named, at, path, DatasetFormat::Mmlu, MMLU_FIELDS);
    let question = stripped(row.prompt("question")?);
    let options = four_options(&mut row)?;
    let target = answer_letter(&mut row, "answer", 4, false)?;
    let mut meta = common("mmlu", "en");
    put_ctx(&mut meta, ctx);
    if let Some((sub, cat)) = mmlu_category(&ctx.subject) {
        meta.insert("subcategory".into(), sub.into());
        meta.insert("category".into(), cat.into());
    }
    let id = format!("{}/{n}", ctx.subject);
    Ok(record(Some(id), question, target, Some(options), meta))
}

/// A question as lm-evaluation-harness's MMLU, CMMLU and C-Eval templates show it
/// (`{{question.strip()}}`): without surrounding whitespace, so that the prompts are
/// byte-identical (some MMLU questions end with a space).
fn stripped(question: String) -> String {
    match question.trim() {
        t if t.len() == question.len() => question,
        t => t.to_string(),
    }
}

fn cmmlu(mut row: Native<'_>, ctx: &FileCtx, n: u64) -> Result<Record, DataError> {
    // The unnamed first column is the authors' 0-based row index.
    let index = row.opt_scalar("")?.unwrap_or_else(|| n.to_string());
    let question = stripped(row.prompt("Question")?);
    let options = four_options(&mut row)?;
    let target = answer_letter(&mut row, "Answer", 4, false)?;
    let mut meta = common("cmmlu", "zh");
    put_ctx(&mut meta, ctx);
    if let Some(c) = cmmlu_category(&ctx.subject) {
        meta.insert("subject_zh".into(), c.name_zh.into());
        meta.insert("subcategory".into(), c.subcategory.into());
        meta.insert("category".into(), c.category.into());
        meta.insert("china_specific".into(), c.china_specific.into());
    }
    let id = format!("{}/{index}", ctx.subject);
    Ok(record(Some(id), question, target, Some(options), meta))
}

fn ceval(mut row: Native<'_>, ctx: &FileCtx) -> Result<Record, DataError> {
    let Some(id) = row.opt_scalar("id")? else {
        return Err(row.missing("id"));
    };
    let question = stripped(row.prompt("question")?);
    let options = four_options(&mut row)?;
    // The test split is published without answers.
    let target = answer_letter(&mut row, "answer", 4, true)?;
    let mut meta = common("ceval", "zh");
    put_ctx(&mut meta, ctx);
    if let Some((name_zh, category)) = ceval_category(&ctx.subject) {
        meta.insert("subject_zh".into(), name_zh.into());
        meta.insert("category".into(), category.into());
    }
    if let Some(e) = row
        .opt_text("explanation")?
        .filter(|e| !e.trim().is_empty())
    {
        meta.insert("explanation".into(), e.into());
    }
    let id = format!("{}/{id}", ctx.subject);
    Ok(record(Some(id), question, target, Some(options), meta))
}

const GSM8K_FIELDS: &str = "one JSON object per line: {\"question\", \"answer\"}";

/// GSM8K's records, numbered from 0 in the file for their ids.
pub(crate) fn gsm8k_adapter(path: PathBuf) -> Adapter {
    let format = DatasetFormat::Gsm8k;
    let split = split_from_name(&path);
    let mut n: u64 = 0;
    Box::new(move |rec, at| {
        n += 1;
        gsm8k(
            Native::new(rec, at, &path, format, GSM8K_FIELDS),
            split.as_deref(),
            n - 1,
        )
    })
}

fn gsm8k(mut row: Native<'_>, split: Option<&str>, n: u64) -> Result<Record, DataError> {
    let question = row.prompt("question")?;
    let solution = row.text("answer")?;
    let Some((_, tail)) = solution.rsplit_once("####") else {
        return Err(row.bad("answer", "has no final answer after `####`".into()));
    };
    // GSM8K writes some answers with thousands separators; the target is the bare number.
    let number: String = tail.trim().chars().filter(|&c| c != ',').collect();
    if number.is_empty() {
        return Err(row.bad("answer", "the final answer after `####` is empty".into()));
    }
    let mut meta = common("gsm8k", "en");
    meta.insert("solution".into(), solution.into());
    if let Some(s) = split {
        meta.insert("split".into(), s.into());
    }
    Ok(record(
        Some(n.to_string()),
        question,
        Some(number),
        None,
        meta,
    ))
}

const HUMANEVAL_FIELDS: &str = "one JSON object per line: {\"task_id\", \"prompt\", \"canonical_solution\", \"test\", \"entry_point\"}";

/// HumanEval's records.
pub(crate) fn humaneval_adapter(path: PathBuf) -> Adapter {
    let format = DatasetFormat::Humaneval;
    Box::new(move |rec, at| humaneval(Native::new(rec, at, &path, format, HUMANEVAL_FIELDS)))
}

fn humaneval(mut row: Native<'_>) -> Result<Record, DataError> {
    let id = row.text("task_id")?;
    let id = row.nonempty("task_id", id)?;
    let prompt = row.prompt("prompt")?;
    let entry = row.text("entry_point")?;
    let entry = row.nonempty("entry_point", entry)?;
    let test = row.text("test")?;
    let test = row.nonempty("test", test)?;
    let mut meta = common("humaneval", "en");
    meta.insert("entry_point".into(), entry.into());
    meta.insert("test".into(), test.into());
    if let Some(s) = row.opt_text("canonical_solution")? {
        meta.insert("canonical_solution".into(), s.into());
    }
    // Graded by running the tests, so there is no target text.
    Ok(record(Some(id), prompt, None, None, meta))
}

const ARC_FIELDS: &str =
    "one JSON object per line: {\"id\", \"question\": {\"stem\", \"choices\"}, \"answerKey\"}";
const HELLASWAG_FIELDS: &str =
    "one JSON object per line: {\"ind\", \"ctx\", \"endings\", \"label\", \"activity_label\"}";

/// ARC's records.
pub(crate) fn arc_adapter(path: PathBuf) -> Adapter {
    let format = DatasetFormat::Arc;
    let split = split_from_name(&path);
    Box::new(move |rec, at| {
        arc(
            Native::new(rec, at, &path, format, ARC_FIELDS),
            split.as_deref(),
        )
    })
}

/// HellaSwag's records.
pub(crate) fn hellaswag_adapter(path: PathBuf) -> Adapter {
    let format = DatasetFormat::Hellaswag;
    Box::new(move |rec, at| hellaswag(Native::new(rec, at, &path, format, HELLASWAG_FIELDS)))
}

fn arc(mut row: Native<'_>, split: Option<&str>) -> Result<Record, DataError> {
    let Some(id) = row.opt_scalar("id")? else {
        return Err(row.missing("id"));
    };
    let question = match row.take("question") {
        None | Some(Value::Null) => return Err(row.missing("question")),
        Some(Value::Object(q)) => q,
        Some(other) => {
            let found = kind(&other);
            return Err(row.bad(
                "question",
                format!("expected an object {{stem, choices}}, found {found}"),
            ));
        }
    };
    let stem = match question.get("stem") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(Value::String(_)) => return Err(row.bad("question.stem", "is empty".into())),
        Some(other) => {
            let found = kind(other);
            return Err(row.bad("question.stem", format!("expected text, found {found}")));
        }
        None => return Err(row.bad("question", "has no `stem`".into())),
    };
    let Some(Value::Array(items)) = question.get("choices") else {
        return Err(row.bad(
            "question.choices",
            "expected a list of {text, label}".into(),
        ));
    };
    let mut texts = Vec::with_capacity(items.len());
    let mut labels = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match (item.get("text"), item.get("label")) {
            (Some(Value::String(t)), Some(Value::String(l))) => {
                texts.push(t.clone());
                labels.push(l.clone());
            }
            _ => {
                return Err(row.bad(
                    "question.choices",
                    format!(
                        "choice {} is not {{\"text\", \"label\"}} with text values",
                        i + 1
                    ),
                ));
            }
        }
    }
    if texts.is_empty() {
        return Err(row.bad("question.choices", "the list of choices is empty".into()));
    }
    let key = row.text("answerKey")?;
    // Most questions are labelled A–D, some 1–4 (and a few have 3 or 5 options): the target
    // is the letter of the answer's position, whatever its label.
    let Some(pos) = labels.iter().position(|l| *l == key) else {
        return Err(row.bad(
            "answerKey",
            format!("`{key}` is none of the choice labels {}", labels.join(", ")),
        ));
    };
    let mut meta = common("arc", "en");
    meta.insert("answer_key".into(), key.into());
    meta.insert("labels".into(), labels.into());
    if let Some(s) = split {
        meta.insert("split".into(), s.into());
    }
    Ok(record(Some(id), stem, Some(letter(pos)), Some(texts), meta))
}

fn hellaswag(mut row: Native<'_>) -> Result<Record, DataError> {
    let Some(id) = row.opt_scalar("ind")? else {
        return Err(row.missing("ind"));
    };
    let raw_ctx = row.prompt("ctx")?;
    let Some(endings) = row.opt_text_list("endings")? else {
        return Err(row.missing("endings"));
    };
    // lm-evaluation-harness's query: "{activity_label}: {ctx_a} {ctx_b.capitalize()}", and the
    // endings, through its WikiHow clean-up (`hellaswag_text`).
    let activity = row.opt_text("activity_label")?;
    let ctx = match (row.opt_text("ctx_a")?, row.opt_text("ctx_b")?) {
        (Some(a), Some(b)) => format!("{a} {}", python_capitalize(&b)),
        _ => raw_ctx.clone(),
    };
    let query = hellaswag_text(&match &activity {
        Some(label) => format!("{label}: {ctx}"),
        None => ctx,
    });
    let endings: Vec<String> = endings.iter().map(|e| hellaswag_text(e)).collect();
    if endings.is_empty() {
        return Err(row.bad("endings", "the list of endings is empty".into()));
    }
    // The label is a number in the released files (a string in some re-exports); the test
    // split has none.
    let target = match row.take("label") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(v) => {
            let index = match &v {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.trim().parse::<u64>().ok(),
                _ => None,
            };
            match index.and_then(|i| usize::try_from(i).ok()) {
                Some(i) if i < endings.len() => Some(letter(i)),
                _ => {
                    return Err(row.bad(
                        "label",
                        format!(
                            "expected an ending number 0–{}, found {v}",
                            endings.len() - 1
                        ),
                    ));
                }
            }
        }
    };
    let mut meta = common("hellaswag", "en");
    meta.insert("ctx".into(), raw_ctx.into());
    if let Some(label) = activity {
        meta.insert("activity_label".into(), label.into());
    }
    for field in ["split", "split_type"] {
        if let Some(v) = row.opt_text(field)? {
            meta.insert(field.into(), v.into());
        }
    }
    if let Some(v) = row.opt_scalar("source_id")? {
        meta.insert("source_id".into(), v.into());
    }
    Ok(record(Some(id), query, target, Some(endings), meta))
}

/// Python's `str.capitalize`: the first character upper case, the rest lower case.
fn python_capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    }
}

/// lm-evaluation-harness's HellaSwag `preprocess`: strip, ` [title]` → `. `, drop every
/// `[…]` (shortest, within a line), then one pass of two spaces → one.
fn hellaswag_text(text: &str) -> String {
    let text = text.trim().replace(" [title]", ". ");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        match after.find([']', '\n']) {
            Some(close) if after.as_bytes()[close] == b']' => {
                out.push_str(&rest[..open]);
                rest = &after[close + 1..];
            }
            _ => {
                out.push_str(&rest[..=open]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out.replace("  ", " ")
}

const TRUTHFULQA_FIELDS: &str =
    "a JSON array of {\"question\", \"mc1_targets\": {answer: 0/1}, \"mc2_targets\"}";

/// TruthfulQA's `mc_task.json`, walked one question at a time.
pub(crate) struct TruthfulqaStream {
    doc: JsonDoc,
    mapper: Mapper,
    n: u64,
    started: bool,
    done: bool,
}

impl TruthfulqaStream {
    pub(crate) fn new(path: PathBuf, bytes: Vec<u8>, options: ReadOptions) -> Self {
        let mut mapper = Mapper::new(&FieldMap::default(), path.clone());
        mapper.set_check_given_ids(options.check_duplicate_ids);
        TruthfulqaStream {
            doc: JsonDoc::new(path, bytes),
            mapper,
            n: 0,
            started: false,
            done: false,
        }
    }

    fn next_sample(&mut self) -> Result<Option<Sample>, DataError> {
        if !self.started {
            self.started = true;
            self.doc.expect(b'[', TRUTHFULQA_FIELDS)?;
            if self.doc.eat(b']') {
                self.doc.end()?;
                return Err(DataError::Empty {
                    path: self.doc.path.clone(),
                });
            }
        } else {
            if self.doc.eat(b']') {
                self.doc.end()?;
                return Ok(None);
            }
            self.doc.expect(b',', "`,` or `]`")?;
        }
        self.doc.skip_ws();
        let at = self.doc.at();
        let value = self.doc.value()?;
        let path = self.doc.path.clone();
        let Value::Object(rec) = value else {
            return Err(DataError::BadRecord {
                path,
                at,
                message: format!(
                    "expected a question object, found {}; the file holds {TRUTHFULQA_FIELDS}",
                    kind(&value)
                ),
            });
        };
        let rec = truthfulqa(
            Native::new(
                rec,
                at,
                &path,
                DatasetFormat::TruthfulqaMc,
                TRUTHFULQA_FIELDS,
            ),
            self.n,
        )?;
        self.n += 1;
        self.mapper.map(rec, at).map(Some)
    }
}

impl Iterator for TruthfulqaStream {
    type Item = Result<Sample, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.next_sample().transpose();
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
            self.doc.bytes = Vec::new();
        }
        item
    }
}

/// Answers in file order and whether each is marked true.
type Marked = (Vec<String>, Vec<bool>);

/// An `{answer: 0/1}` object in file order (serde_json keeps it), as texts and truth values.
fn targets(row: &mut Native<'_>, field: &str) -> Result<Option<Marked>, DataError> {
    let obj = match row.take(field) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(m)) => m,
        Some(other) => {
            let found = kind(&other);
            return Err(row.bad(
                field,
                format!("expected an object {{answer: 0 or 1}}, found {found}"),
            ));
        }
    };
    let mut texts = Vec::with_capacity(obj.len());
    let mut truth = Vec::with_capacity(obj.len());
    for (answer, v) in obj {
        let t = match v.as_u64() {
            Some(0) => false,
            Some(1) => true,
            _ => {
                return Err(row.bad(
                    field,
                    format!("answer `{answer}` is marked {v}, expected 0 or 1"),
                ));
            }
        };
        texts.push(answer);
        truth.push(t);
    }
    Ok(Some((texts, truth)))
}

fn truthfulqa(mut row: Native<'_>, n: u64) -> Result<Record, DataError> {
    let question = row.prompt("question")?;
    let Some((choices, truth)) = targets(&mut row, "mc1_targets")? else {
        return Err(row.missing("mc1_targets"));
    };
    let correct: Vec<usize> = truth
        .iter()
        .enumerate()
        .filter(|(_, t)| **t)
        .map(|(i, _)| i)
        .collect();
    let [answer] = correct[..] else {
        return Err(row.bad(
            "mc1_targets",
            format!("MC1 has exactly one true answer; found {}", correct.len()),
        ));
    };
    let mut meta = common("truthfulqa_mc", "en");
    if let Some((mc2, mc2_truth)) = targets(&mut row, "mc2_targets")? {
        let letters: Vec<Value> = mc2_truth
            .iter()
            .enumerate()
            .filter(|(_, t)| **t)
            .map(|(i, _)| letter(i).into())
            .collect();
        meta.insert("mc2_choices".into(), mc2.into());
        meta.insert("mc2_targets".into(), letters.into());
    }
    Ok(record(
        Some(n.to_string()),
        question,
        Some(letter(answer)),
        Some(choices),
        meta,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_tables_are_complete() {
        assert_eq!(mmlu_table().len(), 57);
        assert_eq!(mmlu_category("abstract_algebra"), Some(("math", "STEM")));
        assert_eq!(ceval_table().len(), 52, "C-Eval has 52 subjects");
        assert_eq!(
            ceval_category("advanced_mathematics"),
            Some(("高等数学", "STEM"))
        );
        assert_eq!(ceval_category("physician"), Some(("医师资格", "Other")));
        for category in ["STEM", "Social Science", "Humanities", "Other"] {
            assert!(
                ceval_table().values().any(|c| c[1] == category),
                "{category}"
            );
        }
        assert_eq!(
            mmlu_category("world_religions"),
            Some(("philosophy", "humanities"))
        );
        assert_eq!(cmmlu_table().len(), 67);
        let c = cmmlu_category("chinese_history").unwrap();
        assert_eq!(
            (c.name_zh, c.category, c.china_specific),
            ("中国历史", "Humanities", true)
        );
    }

    #[test]
    fn subject_and_split_from_names() {
        let c = file_ctx(Path::new("mmlu/test/high_school_mathematics_test.csv"));
        assert_eq!(c.subject, "high_school_mathematics");
        assert_eq!(c.split.as_deref(), Some("test"));
        let c = file_ctx(Path::new("cmmlu/dev/agronomy.csv"));
        assert_eq!(
            (c.subject.as_str(), c.split.as_deref()),
            ("agronomy", Some("dev"))
        );
        let c = file_ctx(Path::new("x/college_medicine.csv"));
        assert_eq!((c.subject.as_str(), c.split), ("college_medicine", None));
        assert_eq!(
            split_from_name(Path::new("ARC-Challenge-Test.jsonl")).as_deref(),
            Some("test")
        );
        assert_eq!(
            split_from_name(Path::new("hellaswag_val.jsonl")).as_deref(),
            Some("val")
        );
    }

    #[test]
    fn hellaswag_text_matches_lm_eval_preprocess() {
        assert_eq!(python_capitalize("he IS"), "He is");
        assert_eq!(python_capitalize(""), "");
        assert_eq!(
            hellaswag_text(" How to tie a tie [title] Cross the ends [step] then pull. "),
            "How to tie a tie. Cross the ends then pull."
        );
        assert_eq!(hellaswag_text("a [b\nc] d"), "a [b\nc] d");
        assert_eq!(hellaswag_text("a [x [y] z] b"), "a z] b");
        assert_eq!(hellaswag_text("a   b"), "a  b");
    }
}
