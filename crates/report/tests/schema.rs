//! `schema/results.schema.json` describes what `summarize` writes: a stored run's results.json
//! validates, and broken ones do not.

mod common;

use touchstone_store::SqliteStore;

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(touchstone_report::RESULTS_SCHEMA).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    jsonschema::draft202012::new(&schema).expect("the schema is a valid draft 2020-12 schema")
}

fn results_json() -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("r.db")).unwrap();
    let run = common::write_gbt_run(&store, true);
    let results = touchstone_engine::summarize(&store, &run).unwrap();
    // Exactly the bytes results.json gets.
    let out = dir.path().join("out");
    touchstone_engine::write_outputs(&store, &results, &out).unwrap();
    serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap()
}

#[test]
fn a_summarized_run_validates() {
    let v = validator();
    let results = results_json();
    let errors: Vec<String> = v
        .iter_errors(&results)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(10)
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The parts the report relies on are there.
    assert!(
        results["verdicts"]
            .as_array()
            .is_some_and(|v| !v.is_empty())
    );
    assert!(results["tasks"].as_array().unwrap().iter().any(|t| {
        t["breakdowns"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["by"] == "risk_attack")
    }));
}

#[test]
fn broken_results_do_not_validate() {
    let v = validator();
    let good = results_json();
    let mut bad = good.clone();
    bad["status"] = "done".into();
    assert!(!v.is_valid(&bad), "unknown status");
    let mut bad = good.clone();
    bad["tasks"][0]["metrics"][0]["ci_method"] = "magic".into();
    assert!(!v.is_valid(&bad), "unknown interval method");
    let mut bad = good.clone();
    bad["counts"].as_object_mut().unwrap().remove("pending");
    assert!(!v.is_valid(&bad), "missing count");
    let mut bad = good.clone();
    bad["verdicts"][0]["verdict"] = "符合".into();
    assert!(!v.is_valid(&bad), "verdicts are snake_case kinds");
    let mut bad = good;
    bad["surprise"] = true.into();
    assert!(!v.is_valid(&bad), "no unknown top-level fields");
}
