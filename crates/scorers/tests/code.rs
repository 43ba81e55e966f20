//! The `code` scorer on the real HumanEval file: programs are really run in the sandbox.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::json;
use touchstone_core::{DatasetFormat, FieldMap, Sample, ScorerSpec};
use touchstone_scorers::{Scorer, build};

fn humaneval() -> Vec<Sample> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/humaneval/HumanEval.jsonl.gz");
    touchstone_data::open_file(&path, Some(DatasetFormat::Humaneval), &FieldMap::default())
        .and_then(|s| s.collect::<Result<Vec<_>, _>>())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The sandbox looks python3 up in the standard system directories only.
fn have_python() -> bool {
    let found = ["/usr/local/bin/python3", "/usr/bin/python3", "/bin/python3"]
        .iter()
        .any(|p| Path::new(p).exists());
    if !found {
        eprintln!("skipped: python3 is not installed in /usr/local/bin, /usr/bin or /bin");
    }
    found
}

fn scorer(options: serde_json::Value) -> Box<dyn Scorer> {
    let mut spec = ScorerSpec::named("code");
    if let serde_json::Value::Object(map) = options {
        spec.options.extend(map);
    }
    build(&spec).unwrap_or_else(|e| panic!("{e}"))
}

fn meta<'a>(s: &'a Sample, key: &str) -> &'a str {
    s.metadata[key]
        .as_str()
        .unwrap_or_else(|| panic!("{}: no {key}", s.id))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canonical_solutions_pass_concurrently() {
    if !have_python() {
        return;
    }
    let scorer: Arc<dyn Scorer> = Arc::from(scorer(json!({})));
    // Started together, so the scorer's own limit on concurrent runs is exercised.
    let runs: Vec<_> = humaneval()
        .into_iter()
        .take(6)
        .map(|s| {
            let scorer = Arc::clone(&scorer);
            tokio::spawn(async move {
                let score = scorer.score(&s, meta(&s, "canonical_solution")).await;
                (s.id, score)
            })
        })
        .collect();
    for run in runs {
        let (id, score) = run.await.unwrap();
        let score = score.unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(score.value, 1.0, "{id}: {:?}", score.explanation);
        assert_eq!(score.scorer, "code");
        assert_eq!(score.extracted.as_deref(), Some("passed"));
        let why = score.explanation.unwrap();
        assert!(
            why.starts_with("all tests passed; sandbox: bubblewrap, seccomp"),
            "{why}"
        );
        assert!(why.contains(", user: "), "{why}");
        eprintln!("{id}: {why}");
    }
}

#[tokio::test]
async fn a_wrong_solution_fails_with_the_assertion() {
    if !have_python() {
        return;
    }
    let samples = humaneval();
    let s = &samples[0]; // has_close_elements
    let score = scorer(json!({}))
        .score(s, "    return False\n")
        .await
        .unwrap();
    assert_eq!(score.value, 0.0);
    assert_eq!(score.extracted.as_deref(), Some("failed"));
    let why = score.explanation.unwrap();
    assert!(why.starts_with("AssertionError"), "{why}");
}

#[tokio::test]
async fn a_fenced_full_function_passes() {
    if !have_python() {
        return;
    }
    let samples = humaneval();
    let s = &samples[2]; // truncate_number(number: float) -> float
    assert_eq!(meta(s, "entry_point"), "truncate_number");
    let answer = "Sure! Here is the function:\n\n```python\ndef truncate_number(number: float) -> float:\n    return number % 1.0\n```\n\nIt returns the decimal part.";
    let score = scorer(json!({})).score(s, answer).await.unwrap();
    assert_eq!(score.value, 1.0, "{:?}", score.explanation);

    // The same with a wrong body fails: the answer's definition is the one tested.
    let wrong = answer.replace("number % 1.0", "number");
    let score = scorer(json!({})).score(s, &wrong).await.unwrap();
    assert_eq!(score.value, 0.0, "{:?}", score.explanation);
}

#[tokio::test]
async fn a_full_function_may_use_the_prompts_helpers() {
    if !have_python() {
        return;
    }
    let samples = humaneval();
    // HumanEval/38: decode_cyclic's prompt defines encode_cyclic, which the answer calls.
    let s = samples.iter().find(|s| s.id == "HumanEval/38").unwrap();
    let answer =
        "```python\ndef decode_cyclic(s: str):\n    return encode_cyclic(encode_cyclic(s))\n```";
    let score = scorer(json!({})).score(s, answer).await.unwrap();
    assert_eq!(score.value, 1.0, "{:?}", score.explanation);
}

#[tokio::test]
async fn an_infinite_loop_times_out() {
    if !have_python() {
        return;
    }
    let samples = humaneval();
    let s = &samples[0];
    let start = std::time::Instant::now();
    let score = scorer(json!({"timeout": 1}))
        .score(s, "    while True:\n        pass\n")
        .await
        .unwrap();
    assert_eq!(score.value, 0.0);
    assert_eq!(score.extracted.as_deref(), Some("timed_out"));
    assert!(score.explanation.unwrap().starts_with("timed out after 1s"));
    assert!(start.elapsed().as_secs() < 8, "took {:?}", start.elapsed());
}

#[tokio::test]
async fn missing_metadata_is_a_clear_error() {
    let samples = humaneval();
    let scorer = scorer(json!({}));
    for field in ["test", "entry_point"] {
        let mut s = samples[0].clone();
        s.metadata.remove(field);
        let e = scorer
            .score(&s, "    return True\n")
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("HumanEval/0"), "{e}");
        assert!(e.contains(&format!("`{field}` is missing")), "{e}");
        assert!(e.contains("format: humaneval"), "{e}");
    }
    let mut s = samples[0].clone();
    s.metadata
        .insert("entry_point".into(), json!("x); import os; (y"));
    let e = scorer.score(&s, "").await.unwrap_err().to_string();
    assert!(e.contains("not a Python identifier"), "{e}");
}

#[test]
fn options_are_validated_and_listed() {
    assert_eq!(
        touchstone_scorers::known_options("code"),
        Some(&["timeout", "memory_mb"][..])
    );
    assert!(touchstone_scorers::SCORER_NAMES.contains(&"code"));
    let mut spec = ScorerSpec::named("code");
    spec.options.insert("timeout".into(), json!("ten"));
    let e = build(&spec)
        .err()
        .expect("a string timeout is rejected")
        .to_string();
    assert!(e.contains("scorer `code`, option `timeout`"), "{e}");
}

/// Every canonical solution passes, as a continuation and as a full function; slow (164 × 2
/// Python runs), so run on demand: `cargo test -p touchstone-scorers --test code -- --ignored`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn every_canonical_solution_passes() {
    if !have_python() {
        return;
    }
    let scorer = scorer(json!({}));
    let mut failures = Vec::new();
    for s in humaneval() {
        let body = meta(&s, "canonical_solution");
        let full = format!("```python\n{}{body}```", s.input.text());
        for answer in [body.to_string(), full] {
            let score = scorer.score(&s, &answer).await.unwrap();
            if score.value != 1.0 {
                failures.push(format!("{}: {:?}", s.id, score.explanation));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
