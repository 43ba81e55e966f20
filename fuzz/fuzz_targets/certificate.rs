//! Arbitrary bytes as a certificate file and as a published tree head, through `verify`: a
//! certificate comes from outside (anyone can hand one over), so no input may panic it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use touchstone_trust::{PublishedTreeHead, PublicKeys, VerifyOptions, verify};

fuzz_target!(|data: &[u8]| {
    let _ = verify(data, &VerifyOptions::default());
    let _ = PublicKeys::from_json(data);
    if let Ok(head) = PublishedTreeHead::from_json(data) {
        let _ = verify(data, &VerifyOptions { tree_head: Some(head), ..VerifyOptions::default() });
    }
});
