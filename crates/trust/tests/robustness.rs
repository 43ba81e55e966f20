//! Certificates and tree heads come from outside: arbitrary bytes, or a valid certificate with
//! arbitrary bytes spliced in, are rejected with an error and never panic `verify`.

mod common;

use proptest::prelude::*;
use touchstone_trust::{PublishedTreeHead, VerifyOptions, verify};

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_are_an_error(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        prop_assert!(verify(&data, &VerifyOptions::default()).is_err());
        let _ = PublishedTreeHead::from_json(&data);
    }

    #[test]
    fn a_spliced_certificate_is_an_error(at in 0usize..20_000, len in 0usize..64, fill in proptest::collection::vec(any::<u8>(), 1..64)) {
        let dir = tempfile::tempdir().unwrap();
        let (mut bytes, _) = common::sample(dir.path());
        let at = at % bytes.len();
        let end = (at + len).min(bytes.len());
        let before = bytes.clone();
        bytes.splice(at..end, fill);
        prop_assume!(bytes != before);
        prop_assert!(verify(&bytes, &VerifyOptions::default()).is_err());
    }
}
