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
    let mock = spawn_background(MockConfig {
        latency: Duration::from_millis(15),
        ..MockConfig::default()
    })
    .unwrap();
    let db_path = db(dir.path());
    let model = format!("openai:mock@{}", mock.base_url());

    let mut child = bin()
        .args([
            "eval",
            "--dataset",
            data.to_str().unwrap(),
            "--scorer",
            "choice",
            "--model",
            &model,
        ])
        .args([
            "--db",
            db_path.to_str().unwrap(),
            "--concurrency",
            "4",
            "--no-cache",
            "--quiet",
        ])
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
        let Ok(store) = SqliteStore::open(&db_path) else {
            continue;
        };
        let Ok(runs) = store.runs() else { continue };
        if let Some(s) = runs.first()
            && s.counts.scored + s.counts.failed >= 60
        {
            break s.run.id.clone();
        }
    };
    // While it runs, a second process may not resume it: its requests would be sent twice.
    let o = run(&[
        "eval",
        "--resume",
        &run_id,
        "--db",
        db_path.to_str().unwrap(),
    ]);
    assert_clean_failure(
        &o,
        &["is being executed by process", &child.id().to_string()],
    );

    child.kill().unwrap(); // SIGKILL on Unix: no chance to clean up.
    child.wait().unwrap();

    // Still `running` in the store, but its process is gone: listed as stopped.
    let o = run(&["runs", "list", "--db", db_path.to_str().unwrap()]);
    let listed = stdout(&o);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with(run_id.as_str()) && l.contains("stopped")),
        "{listed}"
    );
    assert!(listed.contains("--resume"), "{listed}");

    let store = SqliteStore::open(&db_path).unwrap();
    let recorded_before: HashSet<String> = store
        .recorded_ids(&run_id)
        .unwrap()
        .into_iter()
        .map(|id| id.0)
        .collect();
    assert!(
        recorded_before.len() >= 60 && recorded_before.len() < n,
        "{} recorded",
        recorded_before.len()
    );
    let mut recorded_samples = HashSet::new();
    store
        .for_each_result(&run_id, &mut |r| {
            recorded_samples.insert(r.sample_id.clone());
            Ok(())
        })
        .unwrap();
    drop(store);

    let out_dir = dir.path().join("out");
    let o = run(&[
        "eval",
        "--resume",
        "--db",
        db_path.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "resume failed: {}", stderr(&o));

    // Every planned item has exactly one result.
    let results = read_json(&out_dir.join("results.json"));
    assert_eq!(results["run_id"], run_id.as_str());
    assert_eq!(results["counts"]["planned"], n as u64);
    assert_eq!(
        results["counts"]["scored"].as_u64().unwrap()
            + results["counts"]["failed"].as_u64().unwrap(),
        n as u64
    );
    let samples = read_jsonl(&out_dir.join("samples.jsonl"));
    assert_eq!(samples.len(), n);
    let ids: HashSet<&str> = samples
        .iter()
        .map(|s| s["item_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), n, "an item was recorded twice");
    for id in &recorded_before {
        assert!(ids.contains(id.as_str()));
    }

    // No second request for anything recorded before the kill.
    let mut requests_per_sample: HashMap<String, usize> = HashMap::new();
    for r in mock.requests() {
        let sample = r
            .user_text
            .split(':')
            .next()
            .unwrap()
            .trim_start_matches("Question ")
            .to_string();
        *requests_per_sample
            .entry(format!("q{:05}", sample.parse::<usize>().unwrap()))
            .or_default() += 1;
    }
    for sample in &recorded_samples {
        assert_eq!(
            requests_per_sample.get(sample),
            Some(&1),
            "sample {sample} was requested again after being recorded"
        );
    }
    // And everything was asked at least once.
    assert_eq!(requests_per_sample.len(), n);
}

#[test]
fn ctrl_c_stops_cleanly_and_leaves_a_resumable_run() {
    a_signal_stops_cleanly_and_leaves_a_resumable_run("-INT");
}

/// SIGTERM is what `kill`, systemd and container runtimes send: the same clean stop.
#[test]
fn sigterm_stops_cleanly_and_leaves_a_resumable_run() {
    a_signal_stops_cleanly_and_leaves_a_resumable_run("-TERM");
}

fn a_signal_stops_cleanly_and_leaves_a_resumable_run(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("mc.jsonl");
    let n = 200;
    write_choice_dataset(&data, n, |_| true);
    let mock = spawn_background(MockConfig {
        latency: Duration::from_millis(20),
        ..MockConfig::default()
    })
    .unwrap();
    let db_path = db(dir.path());
    let child = bin()
        .args([
            "eval",
            "--dataset",
            data.to_str().unwrap(),
            "--scorer",
            "choice",
        ])
        .args(["--model", &format!("openai:mock@{}", mock.base_url())])
        .args([
            "--db",
            db_path.to_str().unwrap(),
            "--concurrency",
            "2",
            "--no-cache",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while mock.request_count() < 20 {
        assert!(Instant::now() < deadline, "the run never got going");
        std::thread::sleep(Duration::from_millis(10));
    }
    let status = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("--resume"), "tells how to continue: {err}");

    let store = SqliteStore::open(&db_path).unwrap();
    let interrupted = store
        .latest_unfinished()
        .unwrap()
        .expect("an interrupted run");
    assert_eq!(interrupted.status, touchstone_store::RunStatus::Interrupted);
    let recorded = store.counts(&interrupted.id).unwrap();
    assert!(
        recorded.scored >= 15 && recorded.scored < n as u64,
        "{recorded:?}"
    );
    // Everything the model answered before the stop was recorded (at most the in-flight two lost).
    assert!(
        mock.request_count() <= recorded.scored + 2,
        "{} requests, {} recorded",
        mock.request_count(),
        recorded.scored
    );

    let o = run(&[
        "eval",
        "--resume",
        &interrupted.id,
        "--db",
        db_path.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        SqliteStore::open(&db_path)
            .unwrap()
            .counts(&interrupted.id)
            .unwrap()
            .scored,
        n as u64
    );
}

/// A signal stops the run at once even while generated code runs for seconds in the sandbox (the
/// item is not recorded; a resume runs it again). A second signal, sent before the first is
/// handled, changes nothing.
#[test]
fn a_signal_stops_at_once_while_code_runs() {
    if !std::path::Path::new("/usr/bin/python3").exists() {
        eprintln!("skipped: no /usr/bin/python3 to run generated code");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("HumanEval.jsonl");
    let line = humaneval_add(
        "Slow/0",
        "import time\ntime.sleep(8.25)\ndef add(a, b):\n    return a + b\n",
    );
    std::fs::write(&data, format!("{line}\n")).unwrap();
    let mock = spawn_background(MockConfig::default()).unwrap();
    let db_path = db(dir.path());
    let mut child = bin()
        .args([
            "eval",
            "--benchmark",
            "humaneval",
            "--data-dir",
            data.to_str().unwrap(),
        ])
        .args(["--model", &format!("openai:mock@{}", mock.base_url())])
        .args(["--db", db_path.to_str().unwrap(), "--allow-unisolated-code"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while mock.request_count() < 1 {
        assert!(Instant::now() < deadline, "the run never got going");
        std::thread::sleep(Duration::from_millis(10));
    }
    // The answer is in; its code is sleeping in the sandbox.
    std::thread::sleep(Duration::from_millis(1000));
    let pid = child.id().to_string();
    let kill = |signal: &str| {
        std::process::Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap()
    };
    assert!(kill("-TERM").success());
    let _ = kill("-TERM");
    let status = wait_within(
        &mut child,
        Duration::from_secs(3),
        "the run, 3 s after the signals",
    );
    assert_eq!(status.code(), Some(130));
    let store = SqliteStore::open(&db_path).unwrap();
    assert!(store.latest_unfinished().unwrap().is_some());
}
