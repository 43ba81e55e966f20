//! GSM8K, grade-school maths: each JSONL record rewritten into a question whose target is the
//! final number of the worked solution.

use std::path::PathBuf;

use touchstone_core::DatasetFormat;

use super::files::split_from_name;
use crate::error::DataError;
use crate::mapping::{Adapter, Record};
use crate::native::{Native, common, record};

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
