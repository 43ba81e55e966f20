//! Arbitrary bytes as a Parquet dataset.
#![no_main]

use libfuzzer_sys::fuzz_target;
use touchstone_core::FieldMap;

fuzz_target!(|data: &[u8]| {
    if let Ok(stream) = touchstone_data::read_parquet_bytes(data.to_vec(), &FieldMap::default()) {
        for item in stream {
            let _ = item;
        }
    }
});
