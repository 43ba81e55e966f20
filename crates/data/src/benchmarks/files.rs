//! Benchmark files on disk: the subject and split a file name gives, and the subject CSVs a
//! directory stands for.

use std::path::{Path, PathBuf};

use touchstone_core::DatasetFormat;

use crate::error::DataError;
use crate::native::file_stem;

/// Subject and split of one file (see the [`benchmarks`](super) documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FileCtx {
    pub(super) subject: String,
    pub(super) split: Option<String>,
}

const SPLITS: [&str; 4] = ["dev", "val", "test", "train"];

pub(super) fn file_ctx(path: &Path) -> FileCtx {
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
pub(super) fn split_from_name(path: &Path) -> Option<String> {
    let ctx = file_ctx(path);
    if let Some(s) = ctx.split {
        return Some(s);
    }
    let last = ctx.subject.rsplit(['-', '_']).next()?.to_ascii_lowercase();
    SPLITS.contains(&last.as_str()).then_some(last)
}

/// The files a dataset path stands for: the path itself, or for a directory given to `mmlu`,
/// `cmmlu` or `ceval` its subject CSVs in sorted order (see the [`benchmarks`](super)
/// documentation).
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
