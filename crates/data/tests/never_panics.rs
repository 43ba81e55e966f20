//! Arbitrary bytes into each reader: errors are fine, panics are not.

use proptest::prelude::*;
use touchstone_core::{ChoicesField, FieldMap};
use touchstone_data::{read_csv_bytes, read_jsonl_bytes, read_parquet_bytes};

fn drain(result: Result<touchstone_data::SampleStream, touchstone_data::DataError>) -> usize {
    match result {
        Ok(stream) => stream.take(10_000).count(),
        Err(e) => e.to_string().len(),
    }
}

fn headerless() -> FieldMap {
    FieldMap {
        input: "0".into(),
        target: "2".into(),
        choices: ChoicesField::Many(vec!["1".into()]),
        ..FieldMap::default()
    }
}

/// Bytes that look a little like the formats, so the parsers get past the first byte.
fn jsonish() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            Just(b"{\"input\": \"a\", \"id\": 1}\n".to_vec()),
            Just(
                b"{\"input\": [{\"role\": \"user\", \"content\": \"x\"}], \"target\": [1]}\n"
                    .to_vec()
            ),
            Just(b"{\"metadata\": {}, \"choices\": [\"a\"]".to_vec()),
            Just(b"\n\r\n,\"\xff\xfe".to_vec()),
            prop::collection::vec(any::<u8>(), 0..16),
        ],
        0..12,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn jsonl_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512), shaped in jsonish()) {
        drain(read_jsonl_bytes(bytes, &FieldMap::default()));
        drain(read_jsonl_bytes(shaped, &FieldMap::default()));
    }

    #[test]
    fn csv_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512), shaped in jsonish()) {
        drain(read_csv_bytes(bytes.clone(), &FieldMap::default()));
        drain(read_csv_bytes(bytes, &headerless()));
        drain(read_csv_bytes(shaped, &FieldMap::default()));
    }

    #[test]
    fn parquet_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        drain(read_parquet_bytes(bytes.clone(), &FieldMap::default()));
        // With the magic at both ends the footer parser gets to work.
        let mut framed = b"PAR1".to_vec();
        framed.extend_from_slice(&bytes);
        framed.extend_from_slice(b"PAR1");
        drain(read_parquet_bytes(framed, &FieldMap::default()));
    }
}
