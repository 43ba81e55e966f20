//! Arbitrary bytes as a JSONL dataset: every item must be a sample or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use touchstone_core::FieldMap;

fuzz_target!(|data: &[u8]| {
    if let Ok(stream) = touchstone_data::read_jsonl_bytes(data.to_vec(), &FieldMap::default()) {
        for item in stream {
            let _ = item;
        }
    }
});
