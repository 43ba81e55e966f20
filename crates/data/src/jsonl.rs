//! JSON Lines: one JSON object per line; blank lines are skipped.

use std::io::BufRead;
use std::path::PathBuf;

use serde_json::Value;
use touchstone_core::{FieldMap, Sample};

use crate::bounded::{LineRead, read_line};
use crate::error::{DataError, Location};
use crate::mapping::{Mapper, kind};

pub(crate) struct JsonlStream {
    reader: Box<dyn BufRead + Send>,
    mapper: Mapper,
    limit: usize,
    line: u64,
    buf: Vec<u8>,
    samples: u64,
    done: bool,
}

impl JsonlStream {
    pub(crate) fn set_check_given_ids(&mut self, on: bool) {
        self.mapper.set_check_given_ids(on);
    }

    pub(crate) fn new(
        reader: Box<dyn BufRead + Send>,
        path: PathBuf,
        fields: &FieldMap,
        limit: usize,
    ) -> Self {
        Self::with_mapper(reader, Mapper::new(fields, path), limit)
    }

    pub(crate) fn with_mapper(
        reader: Box<dyn BufRead + Send>,
        mapper: Mapper,
        limit: usize,
    ) -> Self {
        JsonlStream {
            reader,
            mapper,
            limit,
            line: 0,
            buf: Vec::new(),
            samples: 0,
            done: false,
        }
    }

    fn path(&self) -> PathBuf {
        self.mapper.path().clone()
    }

    fn next_sample(&mut self) -> Option<Result<Sample, DataError>> {
        loop {
            self.line += 1;
            let at = Location::Line(self.line);
            match read_line(self.reader.as_mut(), &mut self.buf, self.limit) {
                Err(source) => {
                    return Some(Err(DataError::Read {
                        path: self.path(),
                        at,
                        source,
                    }));
                }
                Ok(LineRead::TooLong(bytes)) => {
                    return Some(Err(DataError::TooLong {
                        path: self.path(),
                        at,
                        bytes,
                        limit: self.limit as u64,
                    }));
                }
                Ok(LineRead::Eof) => {
                    return (self.samples == 0)
                        .then(|| Err(DataError::Empty { path: self.path() }));
                }
                Ok(LineRead::Line) => {}
            }
            let text = match std::str::from_utf8(&self.buf) {
                Ok(t) => t,
                Err(e) => {
                    return Some(Err(DataError::InvalidUtf8 {
                        path: self.path(),
                        at,
                        field: None,
                        offset: e.valid_up_to() + 1,
                    }));
                }
            };
            let text = if self.line == 1 {
                text.trim_start_matches('\u{feff}')
            } else {
                text
            };
            if text.trim().is_empty() {
                continue;
            }
            let value: Value = match serde_json::from_str(text) {
                Ok(v) => v,
                Err(e) => {
                    return Some(Err(DataError::Json {
                        path: self.path(),
                        line: self.line,
                        column: e.column(),
                        message: json_message(&e),
                    }));
                }
            };
            let record = match value {
                Value::Object(m) => m,
                other => {
                    return Some(Err(DataError::NotAnObject {
                        path: self.path(),
                        line: self.line,
                        found: kind(&other),
                    }));
                }
            };
            self.samples += 1;
            return Some(self.mapper.map(record, at));
        }
    }
}

/// serde_json's message without its own " at line L column C" suffix (we give the location).
pub(crate) fn json_message(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

impl Iterator for JsonlStream {
    type Item = Result<Sample, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.next_sample();
        // The stream ends after the first error (or at the end).
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
            self.buf = Vec::new();
        }
        item
    }
}
