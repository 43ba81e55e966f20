//! HumanEval, Python function completion: each JSONL record rewritten into a prompt that
//! carries the unit tests which grade it.

use std::path::PathBuf;

use touchstone_core::DatasetFormat;

use crate::error::DataError;
use crate::mapping::{Adapter, Record};
use crate::native::{Native, common, record};

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
