//! Whole JSON documents (SafetyBench, TruthfulQA's `mc_task.json`): read into memory capped at
//! [`MAX_DOCUMENT_BYTES`] and walked one value at a time, so that every error has its line.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::bounded;
use crate::error::{DataError, Location};
use crate::jsonl::json_message;

/// The largest JSON document read (a SafetyBench question file or answer key, TruthfulQA's
/// `mc_task.json`): they are held in memory whole.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024 * 1024;

/// A whole document (plain or gzip), up to `limit` bytes.
pub(crate) fn read_document<R: Read + Send + 'static>(
    reader: R,
    path: &Path,
    limit: usize,
) -> Result<Vec<u8>, DataError> {
    let decoded = bounded::decode(reader).map_err(|source| DataError::Read {
        path: path.to_path_buf(),
        at: Location::Line(1),
        source,
    })?;
    let mut bytes = Vec::new();
    if let Err(source) = decoded.take(limit as u64 + 1).read_to_end(&mut bytes) {
        // What was read before the failure is in `bytes`: the failure is on the line after.
        let line = 1 + bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        return Err(DataError::Read {
            path: path.to_path_buf(),
            at: Location::Line(line),
            source,
        });
    }
    if bytes.len() > limit {
        return Err(DataError::DocumentTooLarge {
            path: path.to_path_buf(),
            limit: limit as u64,
        });
    }
    Ok(bytes)
}

/// A JSON document walked one value at a time, keeping the line of the current position.
pub(crate) struct JsonDoc {
    pub(crate) path: PathBuf,
    pub(crate) bytes: Vec<u8>,
    pos: usize,
    line: u64,
    line_start: usize,
}

impl JsonDoc {
    pub(crate) fn new(path: PathBuf, bytes: Vec<u8>) -> Self {
        let pos = if bytes.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        JsonDoc {
            path,
            bytes,
            pos,
            line: 1,
            line_start: 0,
        }
    }

    pub(crate) fn at(&self) -> Location {
        Location::Line(self.line)
    }

    pub(crate) fn skip_ws(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b'\n' => {
                    self.pos += 1;
                    self.line += 1;
                    self.line_start = self.pos;
                }
                b' ' | b'\t' | b'\r' => self.pos += 1,
                _ => break,
            }
        }
    }

    fn syntax(&self, message: String) -> DataError {
        DataError::Json {
            path: self.path.clone(),
            line: self.line,
            column: self.pos - self.line_start + 1,
            message,
        }
    }

    /// Consumes `b` (after whitespace) if it comes next.
    pub(crate) fn eat(&mut self, b: u8) -> bool {
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub(crate) fn expect(&mut self, b: u8, what: &str) -> Result<(), DataError> {
        if self.eat(b) {
            return Ok(());
        }
        let found = match self.bytes.get(self.pos) {
            None => "the end of the file".to_string(),
            Some(&c) if c.is_ascii_graphic() => format!("`{}`", c as char),
            Some(&c) => format!("byte 0x{c:02x}"),
        };
        Err(self.syntax(format!("expected {what}, found {found}")))
    }

    /// Parses one JSON value at the current position.
    pub(crate) fn value(&mut self) -> Result<Value, DataError> {
        self.skip_ws();
        if self.pos >= self.bytes.len() {
            return Err(self.syntax("expected a value, found the end of the file".into()));
        }
        let parsed = {
            let mut values =
                serde_json::Deserializer::from_slice(&self.bytes[self.pos..]).into_iter::<Value>();
            match values.next() {
                Some(Ok(v)) => Ok((v, values.byte_offset())),
                Some(Err(e)) => Err(e),
                None => return Err(self.syntax("expected a value".into())),
            }
        };
        match parsed {
            Ok((v, len)) => {
                let end = self.pos + len;
                for i in self.pos..end {
                    if self.bytes[i] == b'\n' {
                        self.line += 1;
                        self.line_start = i + 1;
                    }
                }
                self.pos = end;
                Ok(v)
            }
            Err(e) => {
                // serde_json counts from the start of the slice, i.e. from the current position.
                let rel_line = e.line().max(1) as u64;
                let column = if rel_line == 1 {
                    self.pos - self.line_start + e.column()
                } else {
                    e.column()
                };
                Err(DataError::Json {
                    path: self.path.clone(),
                    line: self.line + rel_line - 1,
                    column,
                    message: json_message(&e),
                })
            }
        }
    }

    /// Only whitespace may follow the document.
    pub(crate) fn end(&mut self) -> Result<(), DataError> {
        self.skip_ws();
        if self.pos < self.bytes.len() {
            return Err(self.syntax("unexpected text after the end of the JSON document".into()));
        }
        Ok(())
    }
}
