//! CSV: a header row names the columns, unless the field map addresses columns by number (see
//! the crate documentation).

use std::io::BufRead;
use std::path::PathBuf;

use serde_json::{Map, Value};
use touchstone_core::{FieldMap, Sample};

use crate::bounded::{BUF_BYTES, LineLimited, LineTooLong};
use crate::error::{DataError, Location};
use crate::mapping::Mapper;

/// True when `name` is a 0-based column number.
pub(crate) fn is_column_number(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit())
}

pub(crate) struct CsvStream {
    reader: csv::Reader<LineLimited>,
    mapper: Mapper,
    limit: usize,
    /// Column names from the header; `None` for a headerless file (columns named "0", "1", …).
    header: Option<Vec<String>>,
    header_pending: bool,
    row: u64,
    record: csv::ByteRecord,
    samples: u64,
    done: bool,
}

impl CsvStream {
    pub(crate) fn set_check_given_ids(&mut self, on: bool) {
        self.mapper.set_check_given_ids(on);
    }

    pub(crate) fn new(
        reader: Box<dyn BufRead + Send>,
        path: PathBuf,
        fields: &FieldMap,
        limit: usize,
    ) -> Self {
        let headerless = is_column_number(&fields.input);
        Self::with_mapper(reader, Mapper::new(fields, path), limit, headerless)
    }

    pub(crate) fn with_mapper(
        reader: Box<dyn BufRead + Send>,
        mapper: Mapper,
        limit: usize,
        headerless: bool,
    ) -> Self {
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(BUF_BYTES)
            .from_reader(LineLimited::new(reader, limit));
        CsvStream {
            reader,
            mapper,
            limit,
            header: None,
            header_pending: !headerless,
            row: 0,
            record: csv::ByteRecord::new(),
            samples: 0,
            done: false,
        }
    }

    fn path(&self) -> PathBuf {
        self.mapper.path().clone()
    }

    /// Reads the next record into `self.record`; false at the end.
    fn read_record(&mut self) -> Result<bool, DataError> {
        self.row += 1;
        let at = Location::Row(self.row);
        self.reader.get_mut().mark();
        let more = self
            .reader
            .read_byte_record(&mut self.record)
            .map_err(|e| self.csv_error(e, at))?;
        // Slack for what the CSV parser buffers ahead of the record.
        if self.reader.get_ref().since_mark() > (self.limit + 2 * BUF_BYTES) as u64 {
            return Err(DataError::RowTooLong {
                path: self.path(),
                row: at,
                limit: self.limit as u64,
            });
        }
        Ok(more)
    }

    fn csv_error(&self, e: csv::Error, at: Location) -> DataError {
        match e.into_kind() {
            csv::ErrorKind::Io(io) => {
                if let Some(t) = io
                    .get_ref()
                    .and_then(|inner| inner.downcast_ref::<LineTooLong>())
                {
                    return DataError::TooLong {
                        path: self.path(),
                        at: Location::Line(t.line),
                        bytes: t.bytes,
                        limit: self.limit as u64,
                    };
                }
                DataError::Read {
                    path: self.path(),
                    at,
                    source: io,
                }
            }
            // Not produced with flexible byte records; kept as a read error rather than a panic.
            other => DataError::Read {
                path: self.path(),
                at,
                source: std::io::Error::other(format!("{other:?}")),
            },
        }
    }

    fn text(&self, bytes: &[u8], at: Location, field: Option<String>) -> Result<String, DataError> {
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_string()),
            Err(e) => Err(DataError::InvalidUtf8 {
                path: self.path(),
                at,
                field,
                offset: e.valid_up_to() + 1,
            }),
        }
    }

    fn next_sample(&mut self) -> Result<Option<Sample>, DataError> {
        if self.header_pending {
            self.header_pending = false;
            if !self.read_record()? {
                return Err(DataError::Empty { path: self.path() });
            }
            let at = Location::Row(self.row);
            let mut names: Vec<String> = Vec::with_capacity(self.record.len());
            for (i, cell) in self.record.iter().enumerate() {
                let name = self.text(cell, at, Some(format!("header column {}", i + 1)))?;
                // Two columns of one name: mapping by name would keep one and drop the other.
                if let Some(first) = names.iter().position(|n| *n == name) {
                    return Err(DataError::BadRecord {
                        path: self.path(),
                        at,
                        message: format!(
                            "header columns {} and {} are both named `{name}`; rename one",
                            first + 1,
                            i + 1
                        ),
                    });
                }
                names.push(name);
            }
            self.header = Some(names);
        }
        if !self.read_record()? {
            return if self.samples == 0 {
                Err(DataError::Empty { path: self.path() })
            } else {
                Ok(None)
            };
        }
        let at = Location::Row(self.row);
        // A row must have as many fields as the header: a short row would lose its last
        // fields and a long one its extra cells, silently. The usual cause is quoting.
        if let Some(h) = &self.header
            && self.record.len() != h.len()
        {
            let missing = h
                .get(self.record.len()..)
                .map(|names| {
                    let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                    format!(": no {}", names.join(", "))
                })
                .unwrap_or_default();
            return Err(DataError::BadRecord {
                path: self.path(),
                at,
                message: format!(
                    "{} field(s), the header has {}{missing}. A field that contains a comma must \
                     be in double quotes, and a quote left open runs on into the rows after it",
                    self.record.len(),
                    h.len()
                ),
            });
        }
        let mut rec = Map::new();
        for (i, cell) in self.record.iter().enumerate() {
            let name = match &self.header {
                Some(h) => h[i].clone(),
                None => i.to_string(),
            };
            let value = self.text(cell, at, Some(name.clone()))?;
            rec.insert(name, Value::String(value));
        }
        self.samples += 1;
        self.mapper.map(rec, at).map(Some)
    }
}

impl Iterator for CsvStream {
    type Item = Result<Sample, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.next_sample().transpose();
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
        }
        item
    }
}
