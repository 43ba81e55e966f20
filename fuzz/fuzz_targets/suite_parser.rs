//! Arbitrary text as a suite file: a suite or a located error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = touchstone_suite::parse_suite_str(text, "fuzz.yaml");
    }
});
