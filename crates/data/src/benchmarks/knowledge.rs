//! The knowledge benchmarks MMLU, CMMLU and C-Eval: four-option questions in one CSV per
//! subject, each row rewritten into a sample labelled with its subject, split and category.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use touchstone_core::DatasetFormat;

use super::files::{FileCtx, file_ctx};
use super::subjects::{ceval_category, cmmlu_category, mmlu_category};
use crate::error::{DataError, Location};
use crate::mapping::{Adapter, Record};
use crate::native::{Native, common, letter, record};

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
