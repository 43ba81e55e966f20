//! Arbitrary bytes in each public safety set's native format (SafetyBench needs a key file and
//! is read through its own entry point).
#![no_main]

use libfuzzer_sys::fuzz_target;
use touchstone_core::{DatasetFormat, FieldMap};

fuzz_target!(|data: &[u8]| {
    for format in DatasetFormat::ALL.iter().copied().filter(|f| f.is_public_set() && *f != DatasetFormat::Safetybench) {
        if let Ok(stream) = touchstone_data::read_bytes(data.to_vec(), format, std::path::Path::new("fuzz"), &FieldMap::default()) {
            for item in stream {
                let _ = item;
            }
        }
    }
    let half = data.len() / 2;
    if let Ok(stream) = touchstone_data::read_safetybench_bytes(data[..half].to_vec(), data[half..].to_vec(), std::path::Path::new("fuzz")) {
        for item in stream {
            let _ = item;
        }
    }
});
