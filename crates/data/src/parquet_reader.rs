//! Parquet through the `parquet` crate's row API (no Arrow): each row becomes a JSON object
//! keyed by column name, then maps like a JSONL line.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use parquet::file::reader::{ChunkReader, FileReader, SerializedFileReader};
use parquet::record::reader::RowIter;
use parquet::record::{Field, Row};
use serde_json::{Map, Number, Value};
use touchstone_core::{FieldMap, Sample};

use crate::error::{DataError, Location};
use crate::mapping::Mapper;

pub(crate) struct ParquetStream {
    rows: RowIter<'static>,
    mapper: Mapper,
    row: u64,
    done: bool,
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    let detail = p
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    format!("the Parquet decoder failed on malformed data ({detail})")
}

impl ParquetStream {
    pub(crate) fn set_check_given_ids(&mut self, on: bool) {
        self.mapper.set_check_given_ids(on);
    }

    /// The parquet crate is known to panic on some corrupt files; a corrupt file must be an
    /// error, so its calls are guarded.
    pub(crate) fn open<R: ChunkReader + 'static>(
        source: R,
        path: PathBuf,
        fields: &FieldMap,
    ) -> Result<Self, DataError> {
        let opened = catch_unwind(AssertUnwindSafe(|| -> Result<RowIter<'static>, String> {
            let reader = SerializedFileReader::new(source).map_err(|e| e.to_string())?;
            let boxed: Box<dyn FileReader> = Box::new(reader);
            Ok(RowIter::from_file_into(boxed))
        }));
        let rows = match opened {
            Ok(Ok(rows)) => rows,
            Ok(Err(message)) => {
                return Err(DataError::Parquet {
                    path,
                    at: None,
                    message,
                });
            }
            Err(p) => {
                return Err(DataError::Parquet {
                    path,
                    at: None,
                    message: panic_message(p),
                });
            }
        };
        Ok(ParquetStream {
            rows,
            mapper: Mapper::new(fields, path),
            row: 0,
            done: false,
        })
    }

    fn path(&self) -> PathBuf {
        self.mapper.path().clone()
    }

    fn next_sample(&mut self) -> Option<Result<Sample, DataError>> {
        self.row += 1;
        let at = Location::Row(self.row);
        let rows = &mut self.rows;
        let next = match catch_unwind(AssertUnwindSafe(|| rows.next())) {
            Ok(n) => n,
            Err(p) => {
                return Some(Err(DataError::Parquet {
                    path: self.path(),
                    at: Some(at),
                    message: panic_message(p),
                }));
            }
        };
        match next {
            None => (self.row == 1).then(|| Err(DataError::Empty { path: self.path() })),
            Some(Err(e)) => Some(Err(DataError::Parquet {
                path: self.path(),
                at: Some(at),
                message: e.to_string(),
            })),
            Some(Ok(row)) => Some(self.mapper.map(row_to_object(&row), at)),
        }
    }
}

impl Iterator for ParquetStream {
    type Item = Result<Sample, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.next_sample();
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
        }
        item
    }
}

fn row_to_object(row: &Row) -> Map<String, Value> {
    row.get_column_iter()
        .map(|(name, field)| (name.clone(), field_to_json(field)))
        .collect()
}

fn float(f: f64) -> Value {
    Number::from_f64(f)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

fn field_to_json(field: &Field) -> Value {
    match field {
        Field::Null => Value::Null,
        Field::Bool(b) => Value::Bool(*b),
        Field::Byte(n) => Value::from(*n),
        Field::Short(n) => Value::from(*n),
        Field::Int(n) => Value::from(*n),
        Field::Long(n) => Value::from(*n),
        Field::UByte(n) => Value::from(*n),
        Field::UShort(n) => Value::from(*n),
        Field::UInt(n) => Value::from(*n),
        Field::ULong(n) => Value::from(*n),
        Field::Float16(n) => float(f64::from(*n)),
        Field::Float(n) => float(f64::from(*n)),
        Field::Double(n) => float(*n),
        Field::Str(s) => Value::String(s.clone()),
        // Text is often stored as plain BYTE_ARRAY without a UTF-8 annotation; real binary
        // becomes hex.
        Field::Bytes(b) => match std::str::from_utf8(b.data()) {
            Ok(s) => Value::String(s.to_string()),
            Err(_) => Value::String(hex::encode(b.data())),
        },
        Field::Group(row) => Value::Object(row_to_object(row)),
        Field::ListInternal(list) => {
            Value::Array(list.elements().iter().map(field_to_json).collect())
        }
        Field::MapInternal(map) => Value::Object(
            map.entries()
                .iter()
                .map(|(k, v)| {
                    let key = match field_to_json(k) {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (key, field_to_json(v))
                })
                .collect(),
        ),
        // Decimals, dates, times and timestamps as Parquet writes them.
        other => Value::String(other.to_string()),
    }
}
