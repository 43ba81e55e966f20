//! Format dispatch, in one place: which format a path is, how each [`DatasetFormat`] is stored
//! ([`Layout`]), and which reader and native record rewriter open it.

use std::io::{BufRead, Cursor, Read};
use std::path::{Path, PathBuf};

use touchstone_core::{DatasetFormat, FieldMap, Sample};

use crate::benchmarks::{self, TruthfulqaStream, choice, code, knowledge, math};
use crate::csv_reader::CsvStream;
use crate::error::{DataError, Location};
use crate::jsonl::JsonlStream;
use crate::mapping::{Adapter, Mapper};
use crate::native::{MAX_DOCUMENT_BYTES, read_document};
use crate::parquet_reader::ParquetStream;
use crate::public::{prompts, safetybench};
use crate::{MAX_LINE_BYTES, ReadOptions, SampleStream, bounded};

/// How a format is stored, which decides the reader that opens it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// One JSON object per line.
    Jsonl,
    /// CSV rows. `headerless`: the native format's files have no header row (MMLU); a plain
    /// `csv` is header-less when its field map says so (see the crate documentation).
    Csv {
        headerless: bool,
    },
    Parquet,
    /// One JSON document read whole and walked question by question (TruthfulQA's
    /// `mc_task.json`).
    Document,
    /// A JSON document of questions plus an answer key in a companion file (SafetyBench).
    KeyedDocument,
}

/// The storage of every format.
pub(crate) fn layout(format: DatasetFormat) -> Layout {
    use DatasetFormat as F;
    match format {
        F::Jsonl | F::DoNotAnswer | F::Cvalues => Layout::Jsonl,
        F::Gsm8k | F::Humaneval | F::Arc | F::Hellaswag => Layout::Jsonl,
        F::Csv | F::Xstest | F::Advbench | F::Harmbench => Layout::Csv { headerless: false },
        F::Cmmlu | F::Ceval => Layout::Csv { headerless: false },
        F::Mmlu => Layout::Csv { headerless: true },
        F::Parquet => Layout::Parquet,
        F::TruthfulqaMc => Layout::Document,
        F::Safetybench => Layout::KeyedDocument,
    }
}

/// The rewriter of a native CSV or JSONL format's records into records with the default field
/// names; `None` for the generic formats (read through the field map) and the document
/// formats (whose streams rewrite their own).
fn adapter(format: DatasetFormat, path: &Path) -> Option<Adapter> {
    use DatasetFormat as F;
    let path = path.to_path_buf();
    Some(match format {
        F::Xstest => prompts::xstest_adapter(path),
        F::DoNotAnswer => prompts::do_not_answer_adapter(path),
        F::Advbench => prompts::advbench_adapter(path),
        F::Harmbench => prompts::harmbench_adapter(path),
        F::Cvalues => prompts::cvalues_adapter(path),
        F::Mmlu => knowledge::mmlu_adapter(path),
        F::Cmmlu => knowledge::cmmlu_adapter(path),
        F::Ceval => knowledge::ceval_adapter(path),
        F::Gsm8k => math::gsm8k_adapter(path),
        F::Humaneval => code::humaneval_adapter(path),
        F::Arc => choice::arc_adapter(path),
        F::Hellaswag => choice::hellaswag_adapter(path),
        F::Jsonl | F::Csv | F::Parquet | F::TruthfulqaMc | F::Safetybench => return None,
    })
}

/// The format of `path` from its extension; a trailing `.gz` is looked through.
pub fn infer_format(path: &Path) -> Option<DatasetFormat> {
    let ext = path.extension()?.to_str()?;
    if ext.eq_ignore_ascii_case("gz") {
        let inner = Path::new(path.file_stem()?).extension()?.to_str()?;
        return DatasetFormat::from_extension(inner).filter(|f| *f != DatasetFormat::Parquet);
    }
    DatasetFormat::from_extension(ext)
}

/// Files besides `path` that a dataset's samples depend on (SafetyBench's answer key), so that a
/// run record can hash them too. Empty for every other format.
pub fn companion_files(path: &Path, format: Option<DatasetFormat>) -> Vec<PathBuf> {
    match format.map(layout) {
        Some(Layout::KeyedDocument) => vec![safetybench::answers_path(path)],
        _ => Vec::new(),
    }
}

/// A dataset file, or a directory of subject files ([`crate::open_file_with`]).
pub(crate) fn open_path(
    path: &Path,
    format: Option<DatasetFormat>,
    fields: &FieldMap,
    options: ReadOptions,
) -> Result<SampleStream, DataError> {
    let Some(format) = format.or_else(|| infer_format(path)) else {
        return Err(DataError::UnknownFormat {
            path: path.to_path_buf(),
        });
    };
    if layout(format) == Layout::KeyedDocument {
        return safetybench::open(path, None, options);
    }
    if format.accepts_directory() && path.is_dir() {
        let files = benchmarks::dataset_files(path, Some(format))?;
        return Ok(Box::new(FilesStream::new(files, format, options)));
    }
    let file = touchstone_input::open(path).map_err(|source| DataError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    if layout(format) == Layout::Parquet {
        let mut stream = ParquetStream::open(file, path.to_path_buf(), fields)?;
        stream.set_check_given_ids(options.check_duplicate_ids);
        return Ok(Box::new(stream));
    }
    read_text(
        file,
        format,
        path.to_path_buf(),
        fields,
        MAX_LINE_BYTES,
        options,
    )
}

/// A dataset held in memory ([`crate::read_bytes`]).
pub(crate) fn read_bytes(
    bytes: Vec<u8>,
    format: DatasetFormat,
    source: &Path,
    fields: &FieldMap,
) -> Result<SampleStream, DataError> {
    match layout(format) {
        Layout::Parquet => {
            let stream =
                ParquetStream::open(bytes::Bytes::from(bytes), source.to_path_buf(), fields)?;
            Ok(Box::new(stream))
        }
        Layout::KeyedDocument => Err(DataError::FormatNotSupported {
            name: source.display().to_string(),
            format,
            reason: "SafetyBench questions need their answer key; use read_safetybench_bytes",
        }),
        Layout::Jsonl | Layout::Csv { .. } | Layout::Document => read_text(
            Cursor::new(bytes),
            format,
            source.to_path_buf(),
            fields,
            MAX_LINE_BYTES,
            ReadOptions::default(),
        ),
    }
}

/// A text format from any reader (plain or gzip), lines or rows capped at `limit` bytes.
pub(crate) fn read_text<R: Read + Send + 'static>(
    reader: R,
    format: DatasetFormat,
    path: PathBuf,
    fields: &FieldMap,
    limit: usize,
    options: ReadOptions,
) -> Result<SampleStream, DataError> {
    let layout = layout(format);
    let decode = |reader: R, path: &Path| -> Result<Box<dyn BufRead + Send>, DataError> {
        bounded::decode(reader).map_err(|source| DataError::Read {
            path: path.to_path_buf(),
            at: first_place(layout),
            source,
        })
    };
    // A native format goes through the JSONL or CSV reader with a mapper that rewrites its
    // records first.
    let mapper = adapter(format, &path).map(|a| Mapper::with_adapter(path.clone(), a));
    Ok(match layout {
        Layout::Jsonl => {
            let decoded = decode(reader, &path)?;
            let mut s = match mapper {
                Some(m) => JsonlStream::with_mapper(decoded, m, limit),
                None => JsonlStream::new(decoded, path, fields, limit),
            };
            s.set_check_given_ids(options.check_duplicate_ids);
            Box::new(s)
        }
        Layout::Csv { headerless } => {
            let decoded = decode(reader, &path)?;
            let mut s = match mapper {
                Some(m) => CsvStream::with_mapper(decoded, m, limit, headerless),
                None => CsvStream::new(decoded, path, fields, limit),
            };
            s.set_check_given_ids(options.check_duplicate_ids);
            Box::new(s)
        }
        Layout::Document => {
            // One JSON document, walked question by question.
            let bytes = read_document(reader, &path, MAX_DOCUMENT_BYTES)?;
            Box::new(TruthfulqaStream::new(path, bytes, options))
        }
        Layout::KeyedDocument => {
            return Err(DataError::FormatNotSupported {
                name: path.display().to_string(),
                format,
                reason: "SafetyBench questions need their answer key; use open_file (which \
                         finds the key next to the questions), open_safetybench or \
                         read_safetybench_bytes",
            });
        }
        Layout::Parquet => {
            return Err(DataError::Parquet {
                path,
                at: None,
                message: "Parquet is not a text format".into(),
            });
        }
    })
}

/// Where a file's first record is: line 1 of a JSON format, row 1 of a CSV or Parquet file.
fn first_place(layout: Layout) -> Location {
    match layout {
        Layout::Jsonl | Layout::Document | Layout::KeyedDocument => Location::Line(1),
        Layout::Csv { .. } | Layout::Parquet => Location::Row(1),
    }
}

/// Several files read one after another, as one stream that ends at the first error.
struct FilesStream {
    files: std::vec::IntoIter<PathBuf>,
    current: Option<SampleStream>,
    format: DatasetFormat,
    options: ReadOptions,
    done: bool,
}

impl FilesStream {
    fn new(files: Vec<PathBuf>, format: DatasetFormat, options: ReadOptions) -> Self {
        FilesStream {
            files: files.into_iter(),
            current: None,
            format,
            options,
            done: false,
        }
    }
}

impl Iterator for FilesStream {
    type Item = Result<Sample, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            if let Some(stream) = self.current.as_mut() {
                match stream.next() {
                    Some(Ok(s)) => return Some(Ok(s)),
                    Some(Err(e)) => {
                        self.done = true;
                        return Some(Err(e));
                    }
                    None => self.current = None,
                }
            }
            // Files are opened one at a time, so only one is held open.
            let Some(file) = self.files.next() else {
                self.done = true;
                return None;
            };
            match open_path(&file, Some(self.format), &FieldMap::default(), self.options) {
                Ok(s) => self.current = Some(s),
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(stream: SampleStream) -> Result<Vec<Sample>, DataError> {
        stream.collect()
    }

    #[test]
    fn infers_formats() {
        assert_eq!(
            infer_format(Path::new("a/b.JSONL")),
            Some(DatasetFormat::Jsonl)
        );
        assert_eq!(
            infer_format(Path::new("b.ndjson")),
            Some(DatasetFormat::Jsonl)
        );
        assert_eq!(
            infer_format(Path::new("b.csv.gz")),
            Some(DatasetFormat::Csv)
        );
        assert_eq!(
            infer_format(Path::new("b.parquet")),
            Some(DatasetFormat::Parquet)
        );
        assert_eq!(infer_format(Path::new("b.parquet.gz")), None);
        assert_eq!(infer_format(Path::new("b.txt")), None);
        assert_eq!(infer_format(Path::new("b")), None);
    }

    #[test]
    fn small_limit_reports_long_jsonl_line() {
        let data = b"{\"input\": \"a\"}\n{\"input\": \"0123456789\"}\n".to_vec();
        let stream = read_text(
            Cursor::new(data),
            DatasetFormat::Jsonl,
            "x.jsonl".into(),
            &FieldMap::default(),
            20,
            ReadOptions::default(),
        )
        .unwrap();
        let err = drain(stream).unwrap_err().to_string();
        assert_eq!(err, "x.jsonl: line 2 is 23 bytes, over the 20 bytes limit");
    }

    #[test]
    fn small_limit_reports_long_csv_line() {
        let data = b"input,target\nab,c\n0123456789012345678901234,x\n".to_vec();
        let stream = read_text(
            Cursor::new(data),
            DatasetFormat::Csv,
            "x.csv".into(),
            &FieldMap::default(),
            20,
            ReadOptions::default(),
        )
        .unwrap();
        let err = drain(stream).unwrap_err().to_string();
        assert_eq!(err, "x.csv: line 3 is 27 bytes, over the 20 bytes limit");
    }
}
