//! The certificate's JSON Schema (`schema/certificate.schema.json`) describes what `issue` and
//! `attach_proof` write, and rejects what `verify` would reject for its shape.

mod common;

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(touchstone_trust::CERTIFICATE_SCHEMA).unwrap();
    jsonschema::draft202012::new(&schema).expect("a valid draft 2020-12 schema")
}

#[test]
fn a_logged_certificate_matches_its_schema() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, _) = common::sample(dir.path());
    let cert: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let v = validator();
    let errors: Vec<String> = v
        .iter_errors(&cert)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    let broken = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut c = cert.clone();
        f(&mut c);
        !v.is_valid(&c)
    };
    assert!(
        broken(&|c| c["signatures"].as_array_mut().unwrap().truncate(1)),
        "both signatures are required"
    );
    assert!(
        broken(&|c| c["signatures"].as_array_mut().unwrap().reverse()),
        "SM2 comes first"
    );
    assert!(broken(
        &|c| c["body"]["algorithms"]["signature"] = serde_json::json!(["SM2-with-SM3"])
    ));
    assert!(
        broken(&|c| c["body"]["subjects"][0]["sha256"] = "ABC".into()),
        "lowercase 64-digit hex"
    );
    assert!(
        broken(&|c| c["body"]["extra"] = 1.into()),
        "no unknown fields"
    );
    assert!(broken(&|c| c["log"]["tree_head"]["tree_size"] = 0.into()));
}
