//! Arbitrary bytes as a keyword library (JSONL and CSV) and, when one loads, as text to scan.
#![no_main]

use libfuzzer_sys::fuzz_target;
use touchstone_keywords::{KeywordLibrary, ScanOptions, Scanner};

fuzz_target!(|data: &[u8]| {
    for lib in [KeywordLibrary::from_jsonl(data, "fuzz.jsonl"), KeywordLibrary::from_csv(data, "fuzz.csv")].into_iter().flatten() {
        if let Ok(scanner) = Scanner::new(&lib, ScanOptions { expand_split: true }) {
            let _ = scanner.find(&String::from_utf8_lossy(data));
        }
    }
});
