//! Acceptance: scoring is exact. The mock answers a known fraction of 400 multiple-choice items
//! correctly (in varied phrasings); the reported accuracy equals that fraction, with a Wilson
//! interval.

mod common;

use common::*;
use touchstone_mock::{MockConfig, spawn_background};

#[test]
fn accuracy_equals_the_known_fraction_with_a_wilson_interval() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("mc.jsonl");
    // 283 of 400 correct: an uneven fraction, so a near miss would show.
    let correct = |i: usize| (i * 7919) % 400 < 283;
    write_choice_dataset(&data, 400, correct);
    let mock = spawn_background(MockConfig::default()).unwrap();
    let out_dir = dir.path().join("out");
    let o = run(&[
        "eval",
        "--dataset",
        data.to_str().unwrap(),
        "--scorer",
        "choice",
        "--model",
        &format!("openai:mock@{}", mock.base_url()),
        "--db",
        db(dir.path()).to_str().unwrap(),
        "--concurrency",
        "16",
        "--out",
        out_dir.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let results = read_json(&out_dir.join("results.json"));
    assert_eq!(results["counts"]["planned"], 400);
    assert_eq!(results["counts"]["scored"], 400);
    assert_eq!(results["counts"]["failed"], 0);
    let metric = &results["tasks"][0]["metrics"][0];
    assert_eq!(metric["name"], "accuracy");
    assert_eq!(metric["n"], 400);
    assert_eq!(metric["value"].as_f64().unwrap(), 283.0 / 400.0);
    assert_eq!(metric["ci_method"], "wilson");
    let (lo, hi) = touchstone_stats::wilson(283, 400, 1.959963984540054);
    assert!((metric["ci_low"].as_f64().unwrap() - lo).abs() < 1e-9);
    assert!((metric["ci_high"].as_f64().unwrap() - hi).abs() < 1e-9);
    // The table on stdout shows the same number.
    assert!(stdout(&o).contains("0.708"), "{}", stdout(&o));

    let samples = read_jsonl(&out_dir.join("samples.jsonl"));
    assert_eq!(samples.len(), 400);
    for s in &samples {
        let i: usize = s["sample_id"].as_str().unwrap()[1..].parse().unwrap();
        assert_eq!(s["status"], "scored");
        assert_eq!(
            s["score"].as_f64().unwrap(),
            if correct(i) { 1.0 } else { 0.0 },
            "sample {i}: {s}"
        );
    }
    assert_eq!(mock.request_count(), 400);
}
