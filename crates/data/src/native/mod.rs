//! What every native-format reader shares: [`Native`], a source record whose field accessors
//! name the place and field in their errors, and [`record`], the rewritten record it becomes.

mod document;

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use touchstone_core::DatasetFormat;

use crate::error::{DataError, Location};
use crate::mapping::{Record, kind};

pub use document::MAX_DOCUMENT_BYTES;
pub(crate) use document::{JsonDoc, read_document};

/// The common metadata of a native sample: `source` (the format's name) and `lang`.
pub(crate) fn common(source: &str, lang: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("source".into(), source.into());
    m.insert("lang".into(), lang.into());
    m
}

/// A record with the default field names, for the `Mapper`.
pub(crate) fn record(
    id: Option<String>,
    input: String,
    target: Option<String>,
    choices: Option<Vec<String>>,
    metadata: Map<String, Value>,
) -> Record {
    let mut r = Map::new();
    if let Some(id) = id {
        r.insert("id".into(), id.into());
    }
    r.insert("input".into(), input.into());
    if let Some(t) = target {
        r.insert("target".into(), t.into());
    }
    if let Some(c) = choices {
        r.insert("choices".into(), c.into());
    }
    r.insert("metadata".into(), Value::Object(metadata));
    r
}

/// The file name without its extensions (`a/b.jsonl.gz` → `b`).
pub(crate) fn file_stem(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match name.find('.') {
        Some(i) if i > 0 => name[..i].to_string(),
        _ => name,
    }
}

/// The letter of a 0-based option number: 0 = `A`.
pub(crate) fn letter(index: usize) -> String {
    char::from(b'A' + (index % 26) as u8).to_string()
}

/// One native record, with accessors whose errors name the place and the field.
pub(crate) struct Native<'a> {
    rec: Record,
    at: Location,
    path: &'a Path,
    format: DatasetFormat,
    expected: &'static str,
}

impl<'a> Native<'a> {
    pub(crate) fn new(
        rec: Record,
        at: Location,
        path: &'a Path,
        format: DatasetFormat,
        expected: &'static str,
    ) -> Self {
        Native {
            rec,
            at,
            path,
            format,
            expected,
        }
    }

    fn path(&self) -> PathBuf {
        self.path.to_path_buf()
    }

    pub(crate) fn missing(&self, field: &str) -> DataError {
        DataError::MissingNativeField {
            path: self.path(),
            at: self.at,
            format: self.format,
            field: field.to_string(),
            expected: self.expected,
            available: self.rec.keys().cloned().collect(),
        }
    }

    pub(crate) fn bad(&self, field: &str, message: String) -> DataError {
        DataError::BadValue {
            path: self.path(),
            at: self.at,
            field: field.to_string(),
            message,
        }
    }

    /// A required text field (absent or null is an error).
    pub(crate) fn text(&mut self, field: &str) -> Result<String, DataError> {
        match self.opt_text(field)? {
            Some(s) => Ok(s),
            None => Err(self.missing(field)),
        }
    }

    /// A required, non-empty text field: the prompt.
    pub(crate) fn prompt(&mut self, field: &str) -> Result<String, DataError> {
        let s = self.text(field)?;
        self.nonempty(field, s)
    }

    pub(crate) fn nonempty(&self, field: &str, s: String) -> Result<String, DataError> {
        if s.trim().is_empty() {
            Err(self.bad(field, "is empty".into()))
        } else {
            Ok(s)
        }
    }

    /// An optional text field: absent or null is `None`, anything but text an error.
    pub(crate) fn opt_text(&mut self, field: &str) -> Result<Option<String>, DataError> {
        match self.rec.get_mut(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(std::mem::take(s))),
            Some(other) => {
                let found = kind(other);
                Err(self.bad(field, format!("expected text, found {found}")))
            }
        }
    }

    /// An optional id: text or a number, as written; empty text counts as absent.
    pub(crate) fn opt_scalar(&mut self, field: &str) -> Result<Option<String>, DataError> {
        match self.rec.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => {
                let found = kind(other);
                Err(self.bad(
                    field,
                    format!("expected an id (text or a number), found {found}"),
                ))
            }
        }
    }

    /// An optional list of text (a JSON list; in CSV a cell holding one).
    pub(crate) fn opt_text_list(&mut self, field: &str) -> Result<Option<Vec<String>>, DataError> {
        let items = match self.rec.get(field) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Array(items)) => items.clone(),
            Some(other) => {
                let found = kind(other);
                return Err(self.bad(field, format!("expected a list of text, found {found}")));
            }
        };
        self.text_items(field, &items).map(Some)
    }

    pub(crate) fn text_items(
        &self,
        field: &str,
        items: &[Value],
    ) -> Result<Vec<String>, DataError> {
        items
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(self.bad(
                    field,
                    format!("item {} is {}, expected text", i + 1, kind(other)),
                )),
            })
            .collect()
    }

    pub(crate) fn take(&mut self, field: &str) -> Option<Value> {
        self.rec.remove(field)
    }
}
