//! Reading datasets into [`Sample`]s: JSONL, CSV and Parquet files and the built-in banks,
//! streamed one sample at a time, with errors that say where (file, line or row, field).
//!
//! # Streams
//! Every reader returns a [`SampleStream`]. It never holds more than one line or row in memory
//! (lines and CSV rows are capped at [`MAX_LINE_BYTES`]; a longer one is an error measured
//! without being loaded). The stream ends after the first error it yields; a file without
//! samples yields [`DataError::Empty`].
//!
//! # Field mapping
//! A [`FieldMap`] names the source fields of each sample field; the defaults are Inspect's
//! (`id`, `input`, `target`, `choices`, `metadata`).
//! - `input` (required): text, or (JSONL) a list of chat messages `{role, content}`.
//! - `target` (optional; absent means empty): text, a number, or a list of them.
//! - `choices`: one field holding a list (in CSV a cell holding a JSON list), or a list of
//!   fields each holding one option, such as MMLU's `A`, `B`, `C`, `D`.
//! - `cluster`: an optional field grouping non-independent samples.
//! - `metadata`: fields copied into `sample.metadata`; a source field named `metadata` that
//!   holds an object is always merged into it.
//!
//! # Sample ids
//! The mapped `id` field (numbers as written) when present and non-empty; a repeated id is an
//! error naming both places. Otherwise the first 16 hex digits of the SHA-256 of the JSON array
//! `[input, target, choices]` ([`content_id`]), so reading a file twice gives the same ids;
//! identical samples get `-2`, `-3`, … in file order.
//!
//! # CSV without a header
//! A CSV file has a header row unless `fields.input` is a column number (ASCII digits only,
//! 0-based). Then there is no header; fields are named `"0"`, `"1"`, … and every field name is
//! matched against those numbers. Default names such as `id` or `choices` simply match nothing
//! (content-hash ids, no choices). MMLU's original files (question, A, B, C, D, answer):
//! `input: "0"`, `choices: ["1", "2", "3", "4"]`, `target: "5"`.
//!
//! Rows are numbered from 1 and the header is row 1; Parquet rows are numbered from 1.
//! Gzip-compressed JSONL and CSV (`.jsonl.gz`, `.csv.gz`) are recognised by their content.
//!
//! # Public safety sets
//! The formats `xstest`, `do_not_answer`, `advbench`, `harmbench`, `cvalues` and `safetybench`
//! read those sets in their native layouts, ignoring the `FieldMap` (see [`public`] for the
//! mapping of each). They are never inferred from an extension. SafetyBench's answer
//! key is found next to the questions ([`safetybench_answers_path`]) or given to
//! [`open_safetybench`].
//!
//! # Capability benchmarks
//! The formats `mmlu`, `cmmlu`, `ceval`, `gsm8k`, `humaneval`, `truthfulqa_mc`, `arc` and
//! `hellaswag` read those benchmarks as their authors publish them (see [`benchmarks`], whose
//! [`benchmarks::list`] names every supported benchmark). For `mmlu`, `cmmlu` and `ceval` the
//! path may be a directory: a split folder, or the benchmark root (its evaluation split);
//! every subject file in it is read in sorted order ([`dataset_files`]).
//!
//! # Code layout
//! This file holds the entry points, the built-in banks and hashing. `dispatch` decides which
//! reader opens each format; `jsonl`, `csv_reader` and `parquet_reader` read records and
//! `mapping` turns them into samples; `native` holds what the native-format readers of
//! [`public`] and [`benchmarks`] share.

pub mod benchmarks;
mod bounded;
mod csv_reader;
mod dispatch;
mod error;
mod jsonl;
mod mapping;
mod native;
mod parquet_reader;
pub mod public;

use std::io::{BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use touchstone_core::{DatasetFormat, FieldMap, Sample};

use dispatch::{Layout, layout, read_text};
use public::safetybench;

pub use benchmarks::dataset_files;
pub use dispatch::{companion_files, infer_format};
pub use error::{DataError, Location};
pub use mapping::content_id;
pub use native::MAX_DOCUMENT_BYTES;

/// The longest line (JSONL) or CSV line accepted: 16 MiB.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

pub type SampleStream = Box<dyn Iterator<Item = Result<Sample, DataError>> + Send>;

mod banks {
    include!(concat!(env!("OUT_DIR"), "/banks.rs"));
}

/// Open a dataset file. `format` None = infer from the extension (.jsonl/.ndjson/.csv/.parquet,
/// and .jsonl.gz/.csv.gz).
pub fn open_file(
    path: &Path,
    format: Option<DatasetFormat>,
    fields: &FieldMap,
) -> Result<SampleStream, DataError> {
    open_file_with(path, format, fields, ReadOptions::default())
}

/// How a dataset is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// Report an id that the file gives twice. Costs 12 bytes per sample; a caller that has
    /// already read the same bytes with the check on may turn it off.
    pub check_duplicate_ids: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            check_duplicate_ids: true,
        }
    }
}

/// [`open_file`] with options.
pub fn open_file_with(
    path: &Path,
    format: Option<DatasetFormat>,
    fields: &FieldMap,
    options: ReadOptions,
) -> Result<SampleStream, DataError> {
    dispatch::open_path(path, format, fields, options)
}

/// Open SafetyBench questions (a JSON array `[{id, category, question, options}]`) joined with
/// their answer key (`{"<id>": {"category", "answer": 0-3}}`): `answers`, or when None the file
/// [`safetybench_answers_path`] names. Each sample's target is the answer as a letter (0 = `A`)
/// and its choices are the options. A question whose id the key lacks is an error naming the
/// id; ids in the key without a question are ignored (a subset may use a full key).
pub fn open_safetybench(
    questions: &Path,
    answers: Option<&Path>,
    options: ReadOptions,
) -> Result<SampleStream, DataError> {
    safetybench::open(questions, answers, options)
}

/// SafetyBench from memory (fuzzing, embedded data). `source` names the questions in errors,
/// and the key is named after it as [`safetybench_answers_path`] would.
pub fn read_safetybench_bytes(
    questions: Vec<u8>,
    answers: Vec<u8>,
    source: &Path,
) -> Result<SampleStream, DataError> {
    safetybench::from_bytes(questions, answers, source)
}

/// The SafetyBench answer key that belongs to a question file: same folder, name
/// `<first>_answers_<rest>` for `<first>_<rest>` (split at the first `_`), so
/// `test_zh_subset.json` → `test_answers_zh_subset.json` and `test_en.json` →
/// `test_answers_en.json`; `questions.json` → `questions_answers.json`.
pub fn safetybench_answers_path(questions: &Path) -> PathBuf {
    safetybench::answers_path(questions)
}

/// Read JSONL from any reader (plain or gzip). `source` names it in errors.
pub fn read_jsonl<R: Read + Send + 'static>(
    reader: R,
    source: &Path,
    fields: &FieldMap,
) -> Result<SampleStream, DataError> {
    read_text(
        reader,
        DatasetFormat::Jsonl,
        source.to_path_buf(),
        fields,
        MAX_LINE_BYTES,
        ReadOptions::default(),
    )
}

/// Read CSV from any reader (plain or gzip). `source` names it in errors.
pub fn read_csv<R: Read + Send + 'static>(
    reader: R,
    source: &Path,
    fields: &FieldMap,
) -> Result<SampleStream, DataError> {
    read_text(
        reader,
        DatasetFormat::Csv,
        source.to_path_buf(),
        fields,
        MAX_LINE_BYTES,
        ReadOptions::default(),
    )
}

/// Read a dataset held in memory (fuzzing, embedded data). `source` names it in errors (and
/// gives Do-Not-Answer its risk area). `safetybench` is refused here: it needs its answer key
/// ([`read_safetybench_bytes`]).
pub fn read_bytes(
    bytes: Vec<u8>,
    format: DatasetFormat,
    source: &Path,
    fields: &FieldMap,
) -> Result<SampleStream, DataError> {
    dispatch::read_bytes(bytes, format, source, fields)
}

/// JSONL from bytes, named `fuzz.jsonl` in errors (the fuzz entry point).
pub fn read_jsonl_bytes(bytes: Vec<u8>, fields: &FieldMap) -> Result<SampleStream, DataError> {
    read_bytes(bytes, DatasetFormat::Jsonl, Path::new("fuzz.jsonl"), fields)
}

/// CSV from bytes, named `fuzz.csv` in errors (the fuzz entry point).
pub fn read_csv_bytes(bytes: Vec<u8>, fields: &FieldMap) -> Result<SampleStream, DataError> {
    read_bytes(bytes, DatasetFormat::Csv, Path::new("fuzz.csv"), fields)
}

/// Parquet from bytes, named `fuzz.parquet` in errors (the fuzz entry point).
pub fn read_parquet_bytes(bytes: Vec<u8>, fields: &FieldMap) -> Result<SampleStream, DataError> {
    read_bytes(
        bytes,
        DatasetFormat::Parquet,
        Path::new("fuzz.parquet"),
        fields,
    )
}

/// Open a built-in bank embedded in the binary, e.g. "quick/arithmetic". Errors name it
/// `builtin:quick/arithmetic`.
pub fn open_builtin(name: &str, fields: &FieldMap) -> Result<SampleStream, DataError> {
    open_builtin_with(name, None, fields)
}

/// [`open_builtin`] with a format. Built-in banks are JSONL, so the format may be `jsonl` (the
/// same as none) or a public set stored as JSONL (`do_not_answer`, `cvalues`); any other is an
/// error rather than being ignored.
pub fn open_builtin_with(
    name: &str,
    format: Option<DatasetFormat>,
    fields: &FieldMap,
) -> Result<SampleStream, DataError> {
    let format = format.unwrap_or(DatasetFormat::Jsonl);
    if layout(format) != Layout::Jsonl {
        return Err(DataError::FormatNotSupported {
            name: format!("builtin:{name}"),
            format,
            reason: "built-in banks are JSONL; use `jsonl`, `do_not_answer` or `cvalues`, or \
                     no format",
        });
    }
    let Some(bytes) = builtin_bytes(name) else {
        return Err(DataError::UnknownBuiltin {
            name: name.to_string(),
            known: builtin_names().into_iter().map(str::to_string).collect(),
        });
    };
    read_text(
        Cursor::new(bytes),
        format,
        PathBuf::from(format!("builtin:{name}")),
        fields,
        MAX_LINE_BYTES,
        ReadOptions::default(),
    )
}

/// Names of the built-in banks (every `banks/**/*.jsonl` of this crate), sorted.
pub fn builtin_names() -> Vec<&'static str> {
    banks::BANKS.iter().map(|(name, _)| *name).collect()
}

/// Raw bytes of a built-in bank (for hashing).
pub fn builtin_bytes(name: &str) -> Option<&'static [u8]> {
    banks::BANKS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, bytes)| *bytes)
}

/// Hex SHA-256 of a file, streaming.
pub fn file_sha256(path: &Path) -> Result<String, DataError> {
    if path.is_dir() {
        return dir_sha256(path);
    }
    let file = touchstone_input::open(path).map_err(|source| DataError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = BufReader::with_capacity(bounded::BUF_BYTES, file);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; bounded::BUF_BYTES];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(DataError::Open {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// A directory dataset (MMLU-style subject files): the SHA-256 of its sorted listing of
/// `relative/path\tsha256\n` lines over every file below it, so any change to any file shows.
fn dir_sha256(root: &Path) -> Result<String, DataError> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), DataError> {
        let open_err = |source| DataError::Open {
            path: dir.to_path_buf(),
            source,
        };
        for entry in std::fs::read_dir(dir).map_err(open_err)? {
            let p = entry.map_err(open_err)?.path();
            if p.is_dir() {
                walk(&p, out)?;
            } else {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(root, &mut files)?;
    files.sort();
    let mut listing = String::new();
    for f in &files {
        let rel = f.strip_prefix(root).unwrap_or(f);
        listing.push_str(&format!("{}\t{}\n", rel.display(), file_sha256(f)?));
    }
    Ok(sha256_hex(listing.as_bytes()))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(stream: SampleStream) -> Result<Vec<Sample>, DataError> {
        stream.collect()
    }

    #[test]
    fn gzip_is_read_through() {
        use flate2::{Compression, write::GzEncoder};
        use std::io::Write;
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(b"{\"input\": \"a\", \"target\": 1}\n")
            .unwrap();
        let gz = enc.finish().unwrap();
        let samples = drain(read_jsonl_bytes(gz, &FieldMap::default()).unwrap()).unwrap();
        assert_eq!(samples.len(), 1);
        assert_eq!(samples[0].target.first(), "1");
    }

    #[test]
    fn builtin_table_lists_the_quick_banks() {
        let names = builtin_names();
        assert!(names.contains(&"quick/arithmetic"), "{names:?}");
        assert!(builtin_bytes("quick/arithmetic").is_some());
        assert!(builtin_bytes("nope").is_none());
        let err = open_builtin("quick/nope", &FieldMap::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("no built-in bank `quick/nope`") && err.contains("quick/arithmetic"),
            "{err}"
        );
    }

    #[test]
    fn sha256_of_bytes() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
