//! Arbitrary bytes as a CSV dataset, with a header and without (columns by number).
#![no_main]

use libfuzzer_sys::fuzz_target;
use touchstone_core::{ChoicesField, FieldMap};

fuzz_target!(|data: &[u8]| {
    let headerless = FieldMap {
        input: "0".into(),
        target: "5".into(),
        choices: ChoicesField::Many(vec!["1".into(), "2".into()]),
        ..FieldMap::default()
    };
    for fields in [FieldMap::default(), headerless] {
        if let Ok(stream) = touchstone_data::read_csv_bytes(data.to_vec(), &fields) {
            for item in stream {
                let _ = item;
            }
        }
    }
});
