//! Known-answer tests for ML-DSA-65 (FIPS 204) from NIST ACVP, trimmed into tests/data/ with their
//! source noted in each file. SM3 and SM2 known answers are unit tests in src/digest.rs and
//! src/keys.rs; the RFC 8785 examples are in src/canonical.rs.

use ml_dsa::{EncodedSignature, EncodedVerifyingKey, MlDsa65, Signature, SigningKey, VerifyingKey};

fn unhex(s: &str) -> Vec<u8> {
    // ACVP writes uppercase hex; the crate's own decoder only accepts lowercase.
    touchstone_trust::hex::decode(&s.to_ascii_lowercase()).unwrap()
}

fn load(name: &str) -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn ml_dsa_65_key_generation_from_seed() {
    let v = load("mldsa65_keygen.json");
    assert_eq!(v["parameterSet"], "ML-DSA-65");
    let tests = v["tests"].as_array().unwrap();
    assert!(!tests.is_empty());
    for t in tests {
        let seed: [u8; 32] = unhex(t["seed"].as_str().unwrap()).try_into().unwrap();
        let sk = SigningKey::<MlDsa65>::from_seed(&seed.into());
        let pk = sk.expanded_key().verifying_key().encode();
        assert_eq!(
            pk.as_slice(),
            unhex(t["pk"].as_str().unwrap()).as_slice(),
            "tcId {}",
            t["tcId"]
        );
        #[allow(deprecated)]
        let expanded = sk.expanded_key().to_expanded();
        assert_eq!(
            expanded.as_slice(),
            unhex(t["sk"].as_str().unwrap()).as_slice(),
            "tcId {}",
            t["tcId"]
        );
    }
}

#[test]
fn ml_dsa_65_signature_verification() {
    let v = load("mldsa65_sigver.json");
    assert_eq!(v["parameterSet"], "ML-DSA-65");
    let pk_bytes = unhex(v["pk"].as_str().unwrap());
    let pk = VerifyingKey::<MlDsa65>::decode(
        &EncodedVerifyingKey::<MlDsa65>::try_from(pk_bytes.as_slice()).unwrap(),
    );
    let tests = v["tests"].as_array().unwrap();
    let (mut passed, mut failed) = (0, 0);
    for t in tests {
        let msg = unhex(t["message"].as_str().unwrap());
        let sig_bytes = unhex(t["signature"].as_str().unwrap());
        let expected = t["testPassed"].as_bool().unwrap();
        // ACVP's internal interface: ML-DSA.Verify_internal(pk, M, σ).
        let got = EncodedSignature::<MlDsa65>::try_from(sig_bytes.as_slice())
            .ok()
            .and_then(|enc| Signature::<MlDsa65>::decode(&enc))
            .is_some_and(|sig| pk.verify_internal(&msg, &sig));
        assert_eq!(got, expected, "tcId {} ({})", t["tcId"], t["reason"]);
        if expected { passed += 1 } else { failed += 1 }
    }
    assert!(passed >= 1 && failed >= 1);
}
