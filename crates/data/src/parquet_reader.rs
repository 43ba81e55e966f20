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
        // Converted here rather than by parquet's `Display`, which panics on legal values
        // (a DECIMAL whose scale equals its precision, a DATE or TIMESTAMP far from today) and
        // writes timestamps in the local time zone.
        Field::Decimal(d) => Value::String(decimal_text(d.data(), d.scale())),
        Field::Date(days) => Value::String(date_text(i64::from(*days))),
        Field::TimeMillis(ms) => Value::String(time_text(i64::from(*ms), 1_000)),
        Field::TimeMicros(us) => Value::String(time_text(*us, 1_000_000)),
        Field::TimestampMillis(ms) => Value::String(timestamp_text(*ms, 1_000)),
        Field::TimestampMicros(us) => Value::String(timestamp_text(*us, 1_000_000)),
    }
}

/// A DECIMAL's unscaled value (big-endian two's complement) with the point `scale` digits from
/// the right; a scale outside 0..=38 is written in exponent form rather than padded out.
fn decimal_text(bytes: &[u8], scale: i32) -> String {
    if bytes.is_empty() || bytes.len() > 16 {
        return format!("0x{}", hex::encode(bytes));
    }
    let fill = if bytes[0] & 0x80 != 0 { 0xff } else { 0 };
    let mut wide = [fill; 16];
    wide[16 - bytes.len()..].copy_from_slice(bytes);
    let value = i128::from_be_bytes(wide);
    let sign = if value < 0 { "-" } else { "" };
    let digits = value.unsigned_abs().to_string();
    match usize::try_from(scale) {
        Ok(0) => format!("{sign}{digits}"),
        Ok(scale) if scale <= 38 => {
            let padded = format!("{digits:0>width$}", width = scale + 1);
            let (whole, fraction) = padded.split_at(padded.len() - scale);
            format!("{sign}{whole}.{fraction}")
        }
        _ => format!("{sign}{digits}E{}", -i64::from(scale)),
    }
}

/// Days since 1970-01-01 as a proleptic Gregorian `YYYY-MM-DD` (H. Hinnant's civil_from_days;
/// exact for every i64 day count that a Parquet value can give).
fn date_text(days: i64) -> String {
    let z = i128::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i128::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// A time of day from units since midnight (`per_second` units a second), `HH:MM:SS.fff…`.
fn time_text(units: i64, per_second: i64) -> String {
    let seconds = units.div_euclid(per_second);
    let fraction = units.rem_euclid(per_second);
    let width = if per_second == 1_000 { 3 } else { 6 };
    format!(
        "{:02}:{:02}:{:02}.{fraction:0width$}",
        seconds / 3_600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// An instant from units since the Unix epoch, in UTC: `YYYY-MM-DDTHH:MM:SS.fff…Z`.
fn timestamp_text(units: i64, per_second: i64) -> String {
    let per_day = per_second * 86_400;
    let date = date_text(units.div_euclid(per_day));
    let time = time_text(units.rem_euclid(per_day), per_second);
    format!("{date}T{time}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_dates_and_times_convert_without_panicking() {
        // DECIMAL(2,2) 0.42: parquet's own Display asserts precision > scale.
        assert_eq!(decimal_text(&42i32.to_be_bytes(), 2), "0.42");
        assert_eq!(decimal_text(&(-5i32).to_be_bytes(), 3), "-0.005");
        assert_eq!(decimal_text(&12345i64.to_be_bytes(), 2), "123.45");
        assert_eq!(decimal_text(&[0x01, 0x00], 0), "256");
        assert_eq!(decimal_text(&7i32.to_be_bytes(), -3), "7E3");
        assert_eq!(decimal_text(&7i32.to_be_bytes(), i32::MAX), "7E-2147483647");
        assert_eq!(decimal_text(&[], 2), "0x");

        assert_eq!(date_text(0), "1970-01-01");
        assert_eq!(date_text(19_000), "2022-01-08");
        assert_eq!(date_text(-1), "1969-12-31");
        assert_eq!(date_text(i64::from(i32::MAX)), "5881580-07-11");
        assert_eq!(date_text(i64::from(i32::MIN)), "-5877641-06-23");

        assert_eq!(time_text(3_723_004, 1_000), "01:02:03.004");
        assert_eq!(time_text(1, 1_000_000), "00:00:00.000001");
        assert_eq!(
            timestamp_text(1_700_000_000_123, 1_000),
            "2023-11-14T22:13:20.123Z"
        );
        assert_eq!(timestamp_text(-1, 1_000), "1969-12-31T23:59:59.999Z");
        // The extremes that panicked in parquet's Display.
        assert!(timestamp_text(i64::MAX, 1_000).ends_with('Z'));
        assert!(timestamp_text(i64::MIN, 1_000_000).ends_with('Z'));
    }
}
