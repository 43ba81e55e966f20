//! The built-in banks embedded in the binary.

use touchstone_core::FieldMap;
use touchstone_data::{DataError, builtin_bytes, builtin_names, open_builtin, sha256_hex};

#[test]
fn every_quick_bank_is_embedded() {
    let names = builtin_names();
    for bank in [
        "arithmetic",
        "knowledge",
        "format",
        "chinese",
        "instructions",
        "should_refuse",
        "should_answer",
    ] {
        let name = format!("quick/{bank}");
        assert!(
            names.contains(&name.as_str()),
            "{name} missing from {names:?}"
        );
    }
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
}

#[test]
fn builtin_bytes_are_the_files_bytes() {
    for name in builtin_names() {
        let path = format!("{}/banks/{name}.jsonl", env!("CARGO_MANIFEST_DIR"));
        let on_disk = std::fs::read(&path).unwrap();
        assert_eq!(
            builtin_bytes(name).map(sha256_hex),
            Some(sha256_hex(&on_disk)),
            "{name}"
        );
    }
}

#[test]
fn every_bank_reads_with_inspect_fields() {
    // The safety banks use the bank format (`text`, `risk`, `bank`, …), the rest Inspect's.
    let bank_fields = FieldMap {
        input: "text".into(),
        metadata: vec![
            "lang".into(),
            "risk".into(),
            "bank".into(),
            "source".into(),
            "license".into(),
        ],
        ..FieldMap::default()
    };
    for name in builtin_names() {
        let fields = if name.starts_with("gbt45654/") {
            bank_fields.clone()
        } else {
            FieldMap::default()
        };
        match open_builtin(name, &fields).and_then(|s| s.collect::<Result<Vec<_>, _>>()) {
            Ok(samples) => assert!(samples.iter().all(|s| !s.id.is_empty()), "{name}"),
            // A bank that is still being written may be empty; it must say so by name.
            Err(DataError::Empty { path }) => {
                assert_eq!(path.to_string_lossy(), format!("builtin:{name}"))
            }
            Err(e) => panic!("{name}: {e}"),
        }
    }
}
