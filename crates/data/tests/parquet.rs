//! Parquet: a small file written with the parquet crate's writer, read back through the row API.

use std::path::Path;
use std::sync::Arc;

use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use touchstone_core::{ChoicesField, FieldMap, Input, Target};
use touchstone_data::{DataError, Location, open_file, read_parquet_bytes};

const SCHEMA: &str = "
message sample {
  required int64 qid;
  required binary question (UTF8);
  optional binary answer (UTF8);
  required group options (LIST) {
    repeated group list {
      required binary element (UTF8);
    }
  }
  required binary subject (UTF8);
}";

fn bytes(items: &[&str]) -> Vec<ByteArray> {
    items.iter().map(|s| ByteArray::from(*s)).collect()
}

fn write_parquet(path: &Path) -> Result<(), parquet::errors::ParquetError> {
    let schema = Arc::new(parse_message_type(SCHEMA)?);
    let file = std::fs::File::create(path)?;
    let mut writer =
        SerializedFileWriter::new(file, schema, Arc::new(WriterProperties::builder().build()))?;
    let mut group = writer.next_row_group()?;
    let mut index = 0;
    while let Some(mut col) = group.next_column()? {
        match index {
            0 => {
                col.typed::<Int64Type>()
                    .write_batch(&[10, 11, 12], None, None)?;
            }
            1 => {
                col.typed::<ByteArrayType>().write_batch(
                    &bytes(&["1+1?", "2+2?", "3+3?"]),
                    None,
                    None,
                )?;
            }
            2 => {
                // Row 2 has no answer (null).
                col.typed::<ByteArrayType>().write_batch(
                    &bytes(&["2", "6"]),
                    Some(&[1, 0, 1]),
                    None,
                )?;
            }
            3 => {
                col.typed::<ByteArrayType>().write_batch(
                    &bytes(&["1", "2", "3", "4", "5", "6"]),
                    Some(&[1, 1, 1, 1, 1, 1]),
                    Some(&[0, 1, 0, 1, 0, 1]),
                )?;
            }
            _ => {
                col.typed::<ByteArrayType>().write_batch(
                    &bytes(&["math", "math", "math"]),
                    None,
                    None,
                )?;
            }
        }
        col.close()?;
        index += 1;
    }
    group.close()?;
    writer.close()?;
    Ok(())
}

fn map() -> FieldMap {
    FieldMap {
        id: "qid".into(),
        input: "question".into(),
        target: "answer".into(),
        choices: ChoicesField::One("options".into()),
        metadata: vec!["subject".into()],
        ..FieldMap::default()
    }
}

#[test]
fn reads_rows_and_maps_columns() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("s.parquet");
    write_parquet(&path)?;
    let samples: Vec<_> = open_file(&path, None, &map())?.collect::<Result<_, _>>()?;
    assert_eq!(samples.len(), 3);
    assert_eq!(samples[0].id, "10");
    assert_eq!(samples[0].input, Input::Text("1+1?".into()));
    assert_eq!(samples[0].target, Target::one("2"));
    assert_eq!(samples[0].choices, Some(vec!["1".into(), "2".into()]));
    assert_eq!(
        samples[0].metadata.get("subject").and_then(|v| v.as_str()),
        Some("math")
    );
    assert!(
        samples[1].target.is_empty(),
        "null answer is an empty target"
    );
    assert_eq!(samples[2].choices, Some(vec!["5".into(), "6".into()]));

    // The same bytes through the in-memory entry point.
    let again: Vec<_> =
        read_parquet_bytes(std::fs::read(&path)?, &map())?.collect::<Result<_, _>>()?;
    assert_eq!(again, samples);
    Ok(())
}

#[test]
fn missing_column_names_the_row() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("s.parquet");
    write_parquet(&path)?;
    let err = open_file(&path, None, &FieldMap::default())?
        .next()
        .and_then(Result::err);
    let err = err.ok_or("expected an error")?;
    assert!(
        matches!(&err, DataError::MissingField { at: Location::Row(1), field, .. } if field == "input"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("`qid`, `question`, `answer`, `options`, `subject`"),
        "{err}"
    );
    Ok(())
}

#[test]
fn truncated_parquet_is_an_error() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("s.parquet");
    write_parquet(&path)?;
    let full = std::fs::read(&path)?;
    for cut in [0, 4, full.len() / 2, full.len() - 1] {
        let result = read_parquet_bytes(full[..cut].to_vec(), &map())
            .and_then(|s| s.collect::<Result<Vec<_>, _>>());
        assert!(
            matches!(result, Err(DataError::Parquet { .. })),
            "cut at {cut}: {result:?}"
        );
    }
    Ok(())
}

mod mutated {
    use super::*;
    use proptest::prelude::*;

    fn valid_file() -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.parquet");
        write_parquet(&path).unwrap();
        std::fs::read(&path).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// A real file with a few bytes changed: the decoder gets deep, and must still only
        /// ever give samples or errors.
        #[test]
        fn corrupted_parquet_never_panics(edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)) {
            let mut bytes = valid_file();
            for (at, value) in edits {
                let i = at.index(bytes.len());
                bytes[i] = value;
            }
            if let Ok(stream) = read_parquet_bytes(bytes, &map()) {
                for item in stream.take(100) {
                    let _ = item;
                }
            }
        }
    }
}

/// Columns whose values parquet's own `Display` panics on: a DECIMAL whose scale equals its
/// precision, and a DATE and a TIMESTAMP at the ends of their ranges.
#[test]
fn decimal_date_and_timestamp_columns_are_read_without_panicking() {
    use parquet::data_type::Int32Type;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typed.parquet");
    let schema = Arc::new(
        parse_message_type(
            "message m {
               required binary input (UTF8);
               required int32 share (DECIMAL(2,2));
               required int32 day (DATE);
               required int64 at (TIMESTAMP_MILLIS);
             }",
        )
        .unwrap(),
    );
    let file = std::fs::File::create(&path).unwrap();
    let mut writer =
        SerializedFileWriter::new(file, schema, Arc::new(WriterProperties::builder().build()))
            .unwrap();
    let mut group = writer.next_row_group().unwrap();
    let mut index = 0;
    while let Some(mut col) = group.next_column().unwrap() {
        match index {
            0 => col
                .typed::<ByteArrayType>()
                .write_batch(&bytes(&["q1", "q2"]), None, None)
                .map(drop),
            1 => col
                .typed::<Int32Type>()
                .write_batch(&[42, -5], None, None)
                .map(drop),
            2 => col
                .typed::<Int32Type>()
                .write_batch(&[19_000, i32::MAX], None, None)
                .map(drop),
            _ => col
                .typed::<Int64Type>()
                .write_batch(&[1_700_000_000_123, i64::MAX], None, None)
                .map(drop),
        }
        .unwrap();
        col.close().unwrap();
        index += 1;
    }
    group.close().unwrap();
    writer.close().unwrap();

    let fields = FieldMap {
        metadata: vec!["share".into(), "day".into(), "at".into()],
        ..FieldMap::default()
    };
    let samples: Vec<_> = open_file(&path, None, &fields)
        .unwrap()
        .collect::<Result<_, DataError>>()
        .unwrap();
    assert_eq!(samples.len(), 2);
    let meta = |i: usize, k: &str| samples[i].metadata[k].as_str().unwrap().to_string();
    assert_eq!(meta(0, "share"), "0.42");
    assert_eq!(meta(1, "share"), "-0.05");
    assert_eq!(meta(0, "day"), "2022-01-08");
    assert_eq!(meta(1, "day"), "5881580-07-11");
    assert_eq!(meta(0, "at"), "2023-11-14T22:13:20.123Z");
    assert!(meta(1, "at").ends_with('Z'));
}
