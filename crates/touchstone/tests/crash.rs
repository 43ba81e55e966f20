//! Acceptance: crash safety. SIGKILL `touchstone eval` mid-run against the mock, resume, and
//! check that every planned item has exactly one result and that the mock received no second
//! request for any item recorded before the kill.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use common::*;
use touchstone_mock::{MockConfig, spawn_background};
use touchstone_store::{SqliteStore, Store};

#[test]
fn sigkill_then_resume_loses_nothing_and_repeats_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("mc.jsonl");
    let n = 300;
    write_choice_dataset(&data, n, |i| i % 3 != 0);
    let mock = spawn_background(MockConfig { latency: Duration::from_millis(15), ..MockConfig::default() }).unwrap();
    let db_path = db(dir.path());
    let model = format!("openai:mock@{}", mock.base_url());

    let mut child = bin()
        .args(["eval", "--dataset", data.to_str().unwrap(), "--scorer", "choice", "--model", &model])
        .args(["--db", db_path.to_str().unwrap(), "--concurrency", "4", "--no-cache", "--quiet"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();

    // Wait until a good part, but not all, of the run is recorded, then kill -9.
    let deadline = Instant::now() + Duration::from_secs(60);
    let run_id = loop {
        assert!(Instant::now() < deadline, "the run never got going");
        std::thread::sleep(Duration::from_millis(20));
        if !db_path.exists() {
            continue;
        }
        let Ok(store) = SqliteStore::open(&db_path) else { continue };
        let Ok(runs) = store.runs() else { continue };
        if let Some(s) = runs.first()
            && s.counts.scored + s.counts.failed >= 60
        {
            break s.run.id.clone();
        }
    };
    child.kill().unwrap(); // SIGKILL on Unix: no chance to clean up.
    child.wait().unwrap();

    let store = SqliteStore::open(&db_path).unwrap();
    let recorded_before: HashSet<String> = store.recorded_ids(&run_id).unwrap().into_iter().map(|id| id.0).collect();
    assert!(recorded_before.len() >= 60 && recorded_before.len() < n, "{} recorded", recorded_before.len());
    let mut recorded_samples = HashSet::new();
    store
        .for_each_result(&run_id, &mut |r| {
            recorded_samples.insert(r.sample_id.clone());
            Ok(())
        })
        .unwrap();
    drop(store);

    let out_dir = dir.path().join("out");
    let o = run(&["eval", "--resume", "--db", db_path.to_str().unwrap(), "--out", out_dir.to_str().unwrap(), "--quiet"]);
    assert!(o.status.success(), "resume failed: {}", stderr(&o));

    // Every planned item has exactly one result.
    let results = read_json(&out_dir.join("results.json"));
    assert_eq!(results["run_id"], run_id.as_str());
    assert_eq!(results["counts"]["planned"], n as u64);
    assert_eq!(results["counts"]["scored"].as_u64().unwrap() + results["counts"]["failed"].as_u64().unwrap(), n as u64);
    let samples = read_jsonl(&out_dir.join("samples.jsonl"));
    assert_eq!(samples.len(), n);
    let ids: HashSet<&str> = samples.iter().map(|s| s["item_id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), n, "an item was recorded twice");
    for id in &recorded_before {
        assert!(ids.contains(id.as_str()));
    }

    // No second request for anything recorded before the kill.
    let mut requests_per_sample: HashMap<String, usize> = HashMap::new();
    for r in mock.requests() {
        let sample = r.user_text.split(':').next().unwrap().trim_start_matches("Question ").to_string();
        *requests_per_sample.entry(format!("q{:05}", sample.parse::<usize>().unwrap())).or_default() += 1;
    }
    for sample in &recorded_samples {
        assert_eq!(requests_per_sample.get(sample), Some(&1), "sample {sample} was requested again after being recorded");
    }
    // And everything was asked at least once.
    assert_eq!(requests_per_sample.len(), n);
}
