//! Acceptance: faults. 2,000 items against the mock with 30% injected faults of every kind: the
//! run finishes, every item is scored or failed with a reason, none is missing, a 429 with
//! `Retry-After: 1` is waited out, and a hang is cut by `--request-timeout`.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use common::*;
use touchstone_mock::{FaultKind, Faults, MockConfig, spawn_background};

#[test]
fn thirty_percent_faults_of_every_kind() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("mc.jsonl");
    let n = 2000;
    write_choice_dataset(&data, n, |_| true);
    let mock = spawn_background(MockConfig {
        faults: Faults::uniform(0.30),
        seed: 7,
        ..MockConfig::default()
    })
    .unwrap();
    let out_dir = dir.path().join("out");
    let started = Instant::now();
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
        "64",
        "--request-timeout",
        "1",
        "--max-retries",
        "6",
        "--no-cache",
        "--out",
        out_dir.to_str().unwrap(),
        "--quiet",
    ]);
    let elapsed = started.elapsed();
    assert!(o.status.success(), "{}", stderr(&o));
    // Hangs last an hour at the mock: finishing at all means each was cut by the timeout.
    assert!(elapsed < Duration::from_secs(300), "took {elapsed:?}");

    let results = read_json(&out_dir.join("results.json"));
    let (scored, failed) = (
        results["counts"]["scored"].as_u64().unwrap(),
        results["counts"]["failed"].as_u64().unwrap(),
    );
    assert_eq!(results["counts"]["planned"], n as u64);
    assert_eq!(scored + failed, n as u64);
    let samples = read_jsonl(&out_dir.join("samples.jsonl"));
    assert_eq!(samples.len(), n);
    let ids: HashSet<&str> = samples
        .iter()
        .map(|s| s["sample_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), n, "an item is missing or duplicated");
    for s in &samples {
        match s["status"].as_str().unwrap() {
            "scored" => assert_eq!(s["score"], 1.0, "{s}"),
            "failed" => assert!(
                !s["error"].as_str().unwrap_or("").is_empty(),
                "failed without a reason: {s}"
            ),
            other => panic!("unknown status {other}"),
        }
    }
    // With 6 retries, a 30% fault rate leaves (almost) nothing failed.
    assert!(failed <= 5, "{failed} failed");

    // Every kind of fault happened, and each faulted request was followed by a retry.
    let log = mock.requests();
    let kinds: HashSet<FaultKind> = log.iter().filter_map(|r| r.fault).collect();
    assert_eq!(kinds.len(), 7, "fault kinds seen: {kinds:?}");
    let mut by_text: HashMap<&str, Vec<&touchstone_mock::RequestRecord>> = HashMap::new();
    for r in &log {
        by_text.entry(r.user_text.as_str()).or_default().push(r);
    }
    let mut waited_429 = 0;
    let mut cut_hangs = 0;
    for attempts in by_text.values_mut() {
        attempts.sort_by_key(|r| r.seq);
        for pair in attempts.windows(2) {
            let gap = pair[1].at_ms.saturating_sub(pair[0].at_ms);
            match pair[0].fault {
                Some(FaultKind::RateLimit) => {
                    assert!(
                        gap >= 1000,
                        "retried {gap} ms after a 429 with Retry-After: 1"
                    );
                    waited_429 += 1;
                }
                Some(FaultKind::Hang) => {
                    assert!(
                        gap >= 1000,
                        "retried {gap} ms after a hang, before the 1 s timeout"
                    );
                    cut_hangs += 1;
                }
                _ => {}
            }
        }
    }
    assert!(
        waited_429 > 10 && cut_hangs > 10,
        "429s waited: {waited_429}, hangs cut: {cut_hangs}"
    );
}
