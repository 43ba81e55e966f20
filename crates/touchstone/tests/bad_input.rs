//! Acceptance: bad input gives a clear error and a non-zero exit; nothing panics.

mod common;

use std::io::Write;

use common::*;

fn eval_dataset(
    dir: &std::path::Path,
    data: &std::path::Path,
    scorer: &str,
) -> std::process::Output {
    // The endpoint is never reached: the dataset is read before any model is opened.
    run(&[
        "eval",
        "--dataset",
        data.to_str().unwrap(),
        "--scorer",
        scorer,
        "--model",
        "openai:m@http://127.0.0.1:9/v1",
        "--db",
        db(dir).to_str().unwrap(),
        "--quiet",
    ])
}

#[test]
fn malformed_yaml_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("bad.yaml");
    std::fs::write(
        &suite,
        "name: bad\ntasks:\n  - name: a\n    dataset: [unclosed\n    scorers: [exact]\n",
    )
    .unwrap();
    let o = run(&["suites", "validate", suite.to_str().unwrap()]);
    assert_clean_failure(&o, &["bad.yaml:"]);
    let err = stderr(&o);
    // `file:line:column:` in the message, and a source snippet.
    assert!(
        err.lines().any(|l| l.contains("bad.yaml:")
            && l.split(':')
                .filter(|p| p.trim().parse::<u32>().is_ok())
                .count()
                >= 2),
        "{err}"
    );
    let o = run(&[
        "eval",
        "--suite",
        suite.to_str().unwrap(),
        "--db",
        db(dir.path()).to_str().unwrap(),
    ]);
    assert_clean_failure(&o, &["bad.yaml:"]);
}

#[test]
fn unknown_scorer_suggests_a_name() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.jsonl");
    std::fs::write(&data, "{\"input\": \"hi\", \"target\": \"A\"}\n").unwrap();
    let o = eval_dataset(dir.path(), &data, "choise");
    assert_clean_failure(&o, &["choise", "choice"]);

    let suite = dir.path().join("s.yaml");
    std::fs::write(
        &suite,
        "name: s\ntasks:\n  - name: a\n    dataset: {path: d.jsonl}\n    scorers: [numerik]\n",
    )
    .unwrap();
    let o = run(&["suites", "validate", suite.to_str().unwrap()]);
    assert_clean_failure(&o, &["numerik", "numeric", "s.yaml:5:"]);
}

#[test]
fn missing_field_names_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.jsonl");
    std::fs::write(&data, "{\"input\": \"a\", \"target\": \"1\"}\n{\"input\": \"b\", \"target\": \"2\"}\n{\"question\": \"c\", \"target\": \"3\"}\n").unwrap();
    let o = eval_dataset(dir.path(), &data, "exact");
    assert_clean_failure(&o, &["d.jsonl", "3", "input"]);

    let csv = dir.path().join("d.csv");
    std::fs::write(&csv, "question,target\nx,1\n").unwrap();
    let o = eval_dataset(dir.path(), &csv, "exact");
    assert_clean_failure(&o, &["d.csv", "row 2", "input"]);
}

#[test]
fn invalid_utf8_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.jsonl");
    std::fs::write(
        &data,
        b"{\"input\": \"ok\", \"target\": \"1\"}\n{\"input\": \"\xff\xfe\", \"target\": \"2\"}\n",
    )
    .unwrap();
    let o = eval_dataset(dir.path(), &data, "exact");
    assert_clean_failure(&o, &["d.jsonl", "2", "UTF-8"]);
}

#[test]
fn empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("empty.jsonl");
    std::fs::write(&data, b"").unwrap();
    let o = eval_dataset(dir.path(), &data, "exact");
    assert_clean_failure(&o, &["empty.jsonl"]);
}

#[test]
fn a_fifty_megabyte_single_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("huge.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&data).unwrap());
    f.write_all(b"{\"input\": \"").unwrap();
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..50 {
        f.write_all(&chunk).unwrap();
    }
    f.write_all(b"\", \"target\": \"1\"}\n").unwrap();
    drop(f);
    let o = eval_dataset(dir.path(), &data, "exact");
    assert_clean_failure(&o, &["huge.jsonl", "line 1"]);
}

#[test]
fn unreachable_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.jsonl");
    std::fs::write(&data, "{\"input\": \"hi\", \"target\": \"hi\"}\n").unwrap();
    // Port 9 (discard) on loopback: nothing listens there.
    let o = eval_dataset(dir.path(), &data, "exact");
    assert_clean_failure(&o, &["cannot reach", "127.0.0.1:9"]);
}

#[test]
fn model_file_that_is_not_gguf() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("model.gguf");
    std::fs::write(&fake, b"this is not a model file at all").unwrap();
    let o = run(&[
        "eval",
        "--model",
        &format!("local:{}", fake.display()),
        "--limit",
        "1",
        "--db",
        db(dir.path()).to_str().unwrap(),
        "--quiet",
    ]);
    assert_clean_failure(&o, &["model.gguf", "GGUF"]);
}

#[test]
fn bad_model_spec() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&[
        "eval",
        "--model",
        "gpt-4o",
        "--db",
        db(dir.path()).to_str().unwrap(),
    ]);
    assert_clean_failure(&o, &["gpt-4o", "openai:NAME@BASE_URL"]);
}

#[test]
fn resume_with_nothing_to_resume() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["eval", "--resume", "--db", db(dir.path()).to_str().unwrap()]);
    assert_clean_failure(&o, &["no unfinished run"]);
}

#[test]
fn a_log_likelihood_scorer_on_a_dataset_is_refused_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("mc.jsonl");
    write_choice_dataset(&data, 2, |_| true);
    for scorer in ["acc", "acc_norm"] {
        let o = eval_dataset(dir.path(), &data, scorer);
        assert_clean_failure(
            &o,
            &[&format!("--scorer {scorer}"), "log-likelihoods", "choice"],
        );
    }
}

#[test]
fn reading_commands_do_not_create_a_database_at_a_wrong_path() {
    let dir = tempfile::tempdir().unwrap();
    let wrong = dir.path().join("typo/x/t.db");
    for args in [
        vec!["runs", "list"],
        vec!["runs", "show", "abc"],
        vec!["report", "abc"],
    ] {
        let mut all = args.clone();
        all.extend(["--db", wrong.to_str().unwrap()]);
        let o = run(&all);
        assert_clean_failure(&o, &["no run database at", "--db"]);
    }
    assert!(!dir.path().join("typo").exists(), "nothing is created");
    // A folder is not a database file.
    let o = run(&["runs", "list", "--db", dir.path().to_str().unwrap()]);
    assert_clean_failure(&o, &["is a folder", "--db names the database file"]);
}

#[test]
fn benchmark_flags_without_a_benchmark_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("mc.jsonl");
    write_choice_dataset(&data, 2, |_| true);
    for flag in [["--shots", "3"], ["--mc-method", "cot"]] {
        let o = eval_choice(dir.path(), &data, "openai:m@http://127.0.0.1:9/v1", &flag);
        assert_clean_failure(&o, &["--benchmark"]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    }
}

#[test]
fn suites_validate_reads_the_data_too() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("d.jsonl"),
        "{\"input\": \"a\", \"target\": \"1\"}\n{\"input\": \"b\", \"target\": \"2\"}\n{\"input\": broken}\n",
    )
    .unwrap();
    let suite = dir.path().join("s.yaml");
    std::fs::write(
        &suite,
        "name: s\ntasks:\n  - name: a\n    dataset: {path: d.jsonl}\n    scorers: [exact]\n",
    )
    .unwrap();
    let o = run(&["suites", "validate", suite.to_str().unwrap()]);
    assert_clean_failure(&o, &["task `a`", "d.jsonl", "line 3"]);
    // Mended, it validates and says how much would run.
    std::fs::write(
        dir.path().join("d.jsonl"),
        "{\"input\": \"a\", \"target\": \"1\"}\n{\"input\": \"b\", \"target\": \"2\"}\n",
    )
    .unwrap();
    let o = run(&["suites", "validate", suite.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("1 task(s), 2 sample(s)"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_dataset_error_in_a_suite_names_the_task() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("d.jsonl"),
        "{\"input\": \"a\", \"target\": \"1\"}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("empty.jsonl"), "").unwrap();
    let suite = dir.path().join("s.yaml");
    std::fs::write(
        &suite,
        "name: s\ntasks:\n  - name: first\n    dataset: {path: d.jsonl}\n    scorers: [exact]\n  - name: second\n    dataset: {path: empty.jsonl}\n    scorers: [exact]\n",
    )
    .unwrap();
    let o = run(&[
        "eval",
        "--suite",
        suite.to_str().unwrap(),
        "--model",
        "openai:m@http://127.0.0.1:9/v1",
        "--db",
        db(dir.path()).to_str().unwrap(),
    ]);
    assert_clean_failure(&o, &["task `second`", "empty.jsonl", "no samples"]);
}
