//! Bad input gives a clear, located error and never a panic.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use touchstone_core::{DatasetFormat, FieldMap, Sample};
use touchstone_data::{DataError, Location, MAX_LINE_BYTES, open_file};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn read_all(path: &Path, fields: &FieldMap) -> Result<Vec<Sample>, DataError> {
    open_file(path, None, fields)?.collect()
}

#[test]
fn invalid_utf8_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "u.jsonl",
        b"{\"input\": \"ok\"}\n\n{\"input\": \"caf\xe9\"}\n",
    );
    let err = read_all(&path, &FieldMap::default()).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::InvalidUtf8 {
                at: Location::Line(3),
                offset: 15,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("u.jsonl: line 3 is not valid UTF-8"),
        "{err}"
    );
}

#[test]
fn invalid_utf8_in_csv_names_row_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "u.csv",
        b"input,target\nfine,A\nbad \xff here,B\n",
    );
    let err = read_all(&path, &FieldMap::default()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("u.csv: row 3, field `input`, is not valid UTF-8 (byte 5)"),
        "{msg}"
    );
}

#[test]
fn csv_rows_must_have_the_header_s_fields() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes, says) in [
        // A short row would lose its target; a long one its extra cell.
        (
            "short.csv",
            &b"id,input,target\n1,q1,A\n2,q2\n3,q3,A\n"[..],
            "short.csv: row 3: 2 field(s), the header has 3",
        ),
        (
            "long.csv",
            b"id,input,target\n1,q1,A,extra\n",
            "long.csv: row 2: 4 field(s), the header has 3",
        ),
        // An unclosed quote swallows the rows after it into one field.
        (
            "quote.csv",
            b"id,input,target\n1,\"q1 unterminated,A\n2,q2,A\n",
            "quote.csv: row 2: 2 field(s), the header has 3",
        ),
        (
            "twice.csv",
            b"id,input,input,target\n1,a,b,A\n",
            "twice.csv: row 1: header columns 2 and 3 are both named `input`",
        ),
    ] {
        let path = write(dir.path(), name, bytes);
        let msg = read_all(&path, &FieldMap::default())
            .unwrap_err()
            .to_string();
        assert!(msg.contains(says), "{name}: {msg}");
    }
    // A field with a comma, quoted, is one field.
    let path = write(dir.path(), "ok.csv", b"id,input,target\n1,\"a, b\",A\n");
    let samples = read_all(&path, &FieldMap::default()).unwrap();
    assert_eq!(samples[0].input.text(), "a, b");
}

#[test]
fn empty_files_have_no_samples() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("e.jsonl", &b""[..]),
        ("blank.jsonl", b"\n  \n\r\n"),
        ("e.csv", b""),
        ("h.csv", b"input,target\n"),
    ] {
        let path = write(dir.path(), name, bytes);
        let err = read_all(&path, &FieldMap::default()).unwrap_err();
        assert!(
            matches!(&err, DataError::Empty { path: p } if p == &path),
            "{name}: {err:?}"
        );
        assert!(err.to_string().ends_with("dataset has no samples"), "{err}");
    }
}

#[test]
fn fifty_megabyte_line_is_an_error_not_an_allocation() {
    let dir = tempfile::tempdir().unwrap();
    let size = 50 * 1024 * 1024;
    for name in ["big.jsonl", "big.csv"] {
        let path = dir.path().join(name);
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let chunk = vec![b'a'; 1024 * 1024];
        for _ in 0..50 {
            f.write_all(&chunk).unwrap();
        }
        f.write_all(b"\n").unwrap();
        drop(f);
        let start = Instant::now();
        let err = read_all(&path, &FieldMap::default()).unwrap_err();
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{name} took {:?}",
            start.elapsed()
        );
        assert!(
            matches!(err, DataError::TooLong { at: Location::Line(1), bytes, limit, .. }
                if bytes == size as u64 && limit == MAX_LINE_BYTES as u64),
            "{name}: {err:?}"
        );
        assert!(
            err.to_string()
                .contains("line 1 is 52428800 bytes, over the 16 MiB limit"),
            "{err}"
        );
    }
}

#[test]
fn missing_input_names_row_field_and_what_the_row_has() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "m.csv", b"question,answer\nq1,a1\n");
    let err = read_all(&path, &FieldMap::default()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("m.csv: row 2 has no field `input`"), "{msg}");
    assert!(msg.contains("it has: `question`, `answer`"), "{msg}");

    let path = write(
        dir.path(),
        "m.jsonl",
        b"{\"input\": \"a\"}\n{\"prompt\": \"b\", \"target\": \"c\"}\n",
    );
    let msg = read_all(&path, &FieldMap::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("m.jsonl: line 2 has no field `input`"),
        "{msg}"
    );
    assert!(msg.contains("`prompt`, `target`"), "{msg}");
}

#[test]
fn missing_target_is_an_empty_target() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "t.jsonl", b"{\"input\": \"a\"}\n");
    let samples = read_all(&path, &FieldMap::default()).unwrap();
    assert!(samples[0].target.is_empty());
}

#[test]
fn duplicate_ids_name_both_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "d.jsonl", b"{\"id\": 1, \"input\": \"a\"}\n{\"id\": 2, \"input\": \"b\"}\n\n{\"id\": \"1\", \"input\": \"c\"}\n");
    let err = read_all(&path, &FieldMap::default()).unwrap_err();
    assert!(
        matches!(&err, DataError::DuplicateId { id, first: Location::Line(1), second: Location::Line(4), .. } if id == "1"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("sample id `1` appears on line 1 and line 4"),
        "{err}"
    );

    let path = write(dir.path(), "d.csv", b"id,input\nx,a\ny,b\nx,c\n");
    let msg = read_all(&path, &FieldMap::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("sample id `x` appears on row 2 and row 4"),
        "{msg}"
    );
}

#[test]
fn bad_json_gives_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "j.jsonl",
        b"{\"input\": \"a\"}\n{\"input\": \"b\",, }\n",
    );
    let err = read_all(&path, &FieldMap::default()).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::Json {
                line: 2,
                column: 15,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with(&format!(
            "{}: line 2, column 15: invalid JSON:",
            path.display()
        )),
        "{err}"
    );

    let path = write(dir.path(), "arr.jsonl", b"[1, 2]\n");
    let msg = read_all(&path, &FieldMap::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("line 1: expected a JSON object (one sample per line), found a list"),
        "{msg}"
    );
}

#[test]
fn the_stream_ends_after_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "s.jsonl",
        b"{\"input\": \"a\"}\nnot json\n{\"input\": \"b\"}\n",
    );
    let items: Vec<_> = open_file(&path, None, &FieldMap::default())
        .unwrap()
        .collect();
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok() && items[1].is_err());
}

#[test]
fn unknown_extension_and_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "data.txt", b"{\"input\": \"a\"}\n");
    let err = open_file(&path, None, &FieldMap::default()).err().unwrap();
    assert!(matches!(err, DataError::UnknownFormat { .. }), "{err:?}");
    // An explicit format overrides the extension.
    let samples: Vec<_> = open_file(&path, Some(DatasetFormat::Jsonl), &FieldMap::default())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(samples.len(), 1);
    let err = open_file(&dir.path().join("none.jsonl"), None, &FieldMap::default())
        .err()
        .unwrap();
    assert!(matches!(err, DataError::Open { .. }), "{err:?}");
    assert!(err.to_string().contains("none.jsonl"), "{err}");
}

#[test]
fn not_parquet_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "x.parquet", b"this is not parquet at all");
    let err = open_file(&path, None, &FieldMap::default()).err().unwrap();
    assert!(
        matches!(err, DataError::Parquet { at: None, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("not a readable Parquet file"),
        "{err}"
    );
}

#[test]
fn a_later_pass_may_skip_the_repeated_id_table_but_not_content_id_numbering() {
    use touchstone_data::{ReadOptions, open_file_with};
    let dir = tempfile::tempdir().unwrap();
    let given = write(
        dir.path(),
        "g.jsonl",
        b"{\"id\": 1, \"input\": \"a\"}\n{\"id\": 1, \"input\": \"b\"}\n",
    );
    let off = ReadOptions {
        check_duplicate_ids: false,
    };
    let ids: Vec<String> = open_file_with(&given, None, &FieldMap::default(), off)
        .unwrap()
        .map(|s| s.unwrap().id)
        .collect();
    assert_eq!(ids, ["1", "1"]);
    assert!(
        open_file_with(&given, None, &FieldMap::default(), ReadOptions::default())
            .unwrap()
            .any(|s| s.is_err())
    );

    // Identical samples without ids still get -2, -3 … with the check off: ids must not change.
    let hashed = write(
        dir.path(),
        "h.jsonl",
        b"{\"input\": \"same\"}\n{\"input\": \"same\"}\n",
    );
    let on: Vec<String> = read_all(&hashed, &FieldMap::default())
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    let off: Vec<String> = open_file_with(&hashed, None, &FieldMap::default(), off)
        .unwrap()
        .map(|s| s.unwrap().id)
        .collect();
    assert_eq!(on, off);
    assert!(on[1].ends_with("-2"));
}
