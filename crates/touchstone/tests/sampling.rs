//! `eval --sample N [--stratify LABEL] [--seed S]` end to end against the mock: the GB/T 45654
//! suite drawn stratified by risk, the draw recorded and reported, and the flags' usage errors.

mod common;

use std::collections::BTreeSet;

use common::*;
use touchstone_mock::{MockConfig, spawn_background};

#[test]
fn sample_with_limit_or_resume_and_stratify_alone_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = db(dir.path());
    for args in [
        &["--sample", "5", "--limit", "5"][..],
        &["--sample", "5", "--resume"][..],
        &["--stratify", "risk"][..],
        &["--sample", "0"][..],
    ] {
        let mut all = vec!["eval", "--db", db.to_str().unwrap()];
        all.extend_from_slice(args);
        let o = run(&all);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(args[0]), "{args:?}: {err}");
    }
    assert!(!db.exists(), "nothing was run");
}

#[test]
fn gbt45654_drawn_stratified_by_risk() {
    let dir = tempfile::tempdir().unwrap();
    let mock = spawn_background(MockConfig::default()).unwrap();
    let model = format!("openai:mock@{}", mock.base_url());
    let eval = |out: &str, seed: Option<&str>| {
        let out_dir = dir.path().join(out);
        let mut args = vec![
            "eval",
            "--suite",
            "gbt45654",
            "--sample",
            "62",
            "--stratify",
            "risk",
            "--attacks",
            "none",
            "--model",
            &model,
            "--db",
        ];
        let db = db(dir.path());
        args.push(db.to_str().unwrap());
        args.extend(["--out", out_dir.to_str().unwrap()]);
        if let Some(seed) = seed {
            args.extend(["--seed", seed]);
        }
        let o = run(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        (o, out_dir)
    };
    let (o, out_dir) = eval("a", None);
    let console = stdout(&o);
    assert!(console.contains("抽样 Sampling"), "{console}");
    assert!(console.contains("stratified (risk)"), "{console}");
    assert!(
        console.contains("all 全部"),
        "the attack task's 34 rows: {console}"
    );
    let notes = stderr(&o);
    assert!(notes.contains("content: 62 of 372 drawn"), "{notes}");

    let results = read_json(&out_dir.join("results.json"));
    let task = |name: &str| {
        results["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap()
            .clone()
    };
    let content = task("content")["sampling"].clone();
    assert_eq!(content["method"], "stratified");
    assert_eq!(content["by"], "risk");
    assert_eq!(content["seed"], 0, "the documented default seed");
    assert_eq!(
        (content["drawn"].as_u64(), content["from"].as_u64()),
        (Some(62), Some(372))
    );
    let strata = content["strata"].as_array().unwrap();
    assert_eq!(strata.len(), 31, "every risk is drawn");
    assert!(strata.iter().all(|s| s["drawn"] == 2), "{strata:?}");
    assert_eq!(content["min_per_stratum"]["value"], 1);
    // The should-answer bank has 13 aspects of 11: 62 is 4 or 5 of each.
    let answer = task("should-answer")["sampling"].clone();
    assert_eq!(answer["drawn"], 62);
    assert!(
        answer["strata"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["drawn"] == 4 || s["drawn"] == 5)
    );
    // The attack task's suite `limit: 34` comes first: all of its 34 questions run.
    let attacks = task("attacks")["sampling"].clone();
    assert_eq!(
        (attacks["drawn"].as_u64(), attacks["from"].as_u64()),
        (Some(34), Some(34))
    );

    // samples.jsonl holds exactly the drawn items.
    let drawn: BTreeSet<String> = results["config"]["options"]["draws"]["content"]["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let ran = |dir: &std::path::Path| -> BTreeSet<String> {
        read_jsonl(&dir.join("samples.jsonl"))
            .iter()
            .filter(|s| s["task"] == "content")
            .map(|s| s["sample_id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ran(&out_dir), drawn);
    assert_eq!(results["counts"]["planned"], 62 + 62 + 62 + 34);

    // Rerun: the same seed (given or not) plans the same items; another seed others.
    let (_, again) = eval("b", Some("0"));
    assert_eq!(ran(&again), drawn);
    let (_, other) = eval("c", Some("8"));
    assert_ne!(ran(&other), drawn);
    assert_eq!(ran(&other).len(), 62);

    // The report says how, in both languages.
    let run_id = results["run_id"].as_str().unwrap();
    for (lang, needle) in [
        ("zh", "分层随机抽样（按 risk）"),
        ("en", "stratified random (by risk)"),
    ] {
        let o = run(&[
            "report",
            run_id,
            "--format",
            "md",
            "--lang",
            lang,
            "--db",
            db(dir.path()).to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stdout(&o).contains(needle), "{lang}");
    }
}
