//! Errors of dataset reading. Every error that concerns a place in a file names the file and
//! the line (JSONL) or row (CSV, Parquet) and, where it matters, the field.

use std::fmt;
use std::path::PathBuf;

use touchstone_core::DatasetFormat;

/// A place in a dataset file: a physical line (JSONL, and CSV lines that are too long) or a
/// 1-based row (CSV: the header is row 1; Parquet: the first record is row 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Location {
    Line(u64),
    Row(u64),
}

impl Location {
    pub fn number(self) -> u64 {
        match self {
            Location::Line(n) | Location::Row(n) => n,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(n) => write!(f, "line {n}"),
            Location::Row(n) => write!(f, "row {n}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot open dataset {}: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{}: read error at {at}: {source}", path.display())]
    Read {
        path: PathBuf,
        at: Location,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "cannot tell the format of {} from its extension; name it .jsonl, .ndjson, .csv or .parquet \
         (optionally .gz for JSONL and CSV), or give the format (jsonl, csv, parquet)",
        path.display()
    )]
    UnknownFormat { path: PathBuf },

    #[error("{}: dataset has no samples", path.display())]
    Empty { path: PathBuf },

    #[error("{}: {at} is {bytes} bytes, over the {} limit", path.display(), human_bytes(*limit))]
    TooLong {
        path: PathBuf,
        at: Location,
        bytes: u64,
        limit: u64,
    },

    #[error(
        "{}: {row} is over the {} limit (a quoted field spans too many lines?)",
        path.display(),
        human_bytes(*limit)
    )]
    RowTooLong {
        path: PathBuf,
        row: Location,
        limit: u64,
    },

    #[error(
        "{}: {at}{} is not valid UTF-8 (byte {offset}); save the file as UTF-8",
        path.display(),
        field.as_ref().map(|f| format!(", field `{f}`,")).unwrap_or_default()
    )]
    InvalidUtf8 {
        path: PathBuf,
        at: Location,
        field: Option<String>,
        offset: usize,
    },

    #[error("{}: line {line}, column {column}: invalid JSON: {message}", path.display())]
    Json {
        path: PathBuf,
        line: u64,
        column: usize,
        message: String,
    },

    #[error("{}: line {line}: expected a JSON object (one sample per line), found {found}", path.display())]
    NotAnObject {
        path: PathBuf,
        line: u64,
        found: &'static str,
    },

    #[error(
        "{}: {at} has no field `{field}` (the sample's {role}); it has: {}. \
         Map the right field with `fields.{role}`",
        path.display(),
        list_fields(available)
    )]
    MissingField {
        path: PathBuf,
        at: Location,
        field: String,
        role: &'static str,
        available: Vec<String>,
    },

    #[error("{}: {at}, field `{field}`: {message}", path.display())]
    BadValue {
        path: PathBuf,
        at: Location,
        field: String,
        message: String,
    },

    #[error("{}: sample id `{id}` appears on {first} and {second}; ids must be unique", path.display())]
    DuplicateId {
        path: PathBuf,
        id: String,
        first: Location,
        second: Location,
    },

    #[error(
        "{}: {}not a readable Parquet file: {message}",
        path.display(),
        at.map(|a| format!("{a}: ")).unwrap_or_default()
    )]
    Parquet {
        path: PathBuf,
        at: Option<Location>,
        message: String,
    },

    #[error("no built-in bank `{name}`; built-in banks: {}", known.join(", "))]
    UnknownBuiltin { name: String, known: Vec<String> },

    /// A public set's file lacks one of its native fields. (`fields` does not apply to these
    /// formats, so the advice differs from `MissingField`.)
    #[error(
        "{}: {at} has no field `{field}`, which a `{format}` file has ({expected}); it has: {}. \
         Is this the right file for `format: {format}`?",
        path.display(),
        list_fields(available)
    )]
    MissingNativeField {
        path: PathBuf,
        at: Location,
        format: DatasetFormat,
        field: String,
        expected: &'static str,
        available: Vec<String>,
    },

    #[error("{}: {at}: {message}", path.display())]
    BadRecord {
        path: PathBuf,
        at: Location,
        message: String,
    },

    #[error(
        "{}: cannot read its SafetyBench answer key {}: {source}. The key of `test_zh_subset.json` \
         is `test_answers_zh_subset.json` in the same folder (`<first>_answers_<rest>.json`)",
        path.display(),
        key.display()
    )]
    NoAnswerKey {
        path: PathBuf,
        key: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "{}: {at}: question id `{id}` has no entry in the answer key {}; use the key that \
         belongs to these questions",
        path.display(),
        key.display()
    )]
    MissingAnswer {
        path: PathBuf,
        at: Location,
        id: String,
        key: PathBuf,
    },

    /// A format read as one JSON document (SafetyBench) is held in memory whole, so it is capped.
    #[error("{}: the JSON document is over the {} limit for a whole-document file", path.display(), human_bytes(*limit))]
    DocumentTooLarge { path: PathBuf, limit: u64 },

    #[error("{name}: format `{format}` cannot be read here: {reason}")]
    FormatNotSupported {
        /// The file or built-in bank.
        name: String,
        format: DatasetFormat,
        reason: &'static str,
    },
}

pub(crate) fn human_bytes(n: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else {
        format!("{n} bytes")
    }
}

fn list_fields(fields: &[String]) -> String {
    const SHOWN: usize = 40;
    if fields.is_empty() {
        return "no fields".to_string();
    }
    let mut s = fields
        .iter()
        .take(SHOWN)
        .map(|f| format!("`{f}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if fields.len() > SHOWN {
        s.push_str(&format!(" and {} more", fields.len() - SHOWN));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_long_reads_like_the_spec() {
        let e = DataError::TooLong {
            path: "big.jsonl".into(),
            at: Location::Line(1),
            bytes: 52_428_800,
            limit: 16 * 1024 * 1024,
        };
        assert_eq!(
            e.to_string(),
            "big.jsonl: line 1 is 52428800 bytes, over the 16 MiB limit"
        );
    }

    #[test]
    fn missing_field_lists_what_the_row_has() {
        let e = DataError::MissingField {
            path: "x.csv".into(),
            at: Location::Row(3),
            field: "input".into(),
            role: "input",
            available: vec!["question".into(), "answer".into()],
        };
        let s = e.to_string();
        assert!(s.contains("x.csv: row 3 has no field `input`"), "{s}");
        assert!(s.contains("`question`, `answer`"), "{s}");
        assert!(s.contains("fields.input"), "{s}");
    }

    #[test]
    fn utf8_error_names_the_field_when_known() {
        let e = DataError::InvalidUtf8 {
            path: "x.csv".into(),
            at: Location::Row(2),
            field: Some("A".into()),
            offset: 4,
        };
        assert_eq!(
            e.to_string(),
            "x.csv: row 2, field `A`, is not valid UTF-8 (byte 4); save the file as UTF-8"
        );
    }
}
