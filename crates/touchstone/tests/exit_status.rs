//! What `touchstone eval`'s exit status tells a script: 4 when nothing was scored, 3 under
//! `--strict` when an expectation is not met, a usage error (2) for out-of-range flags, a
//! refused `--out` before anything is sent, and a quiet stop (141, not a panic) when the reader
//! of its output goes away.

mod common;

use std::io::Read;
use std::process::Stdio;

use common::*;
use touchstone_mock::{Faults, MockConfig, spawn_background};

fn mock_spec(mock: &touchstone_mock::BackgroundMock) -> String {
    format!("openai:mock@{}", mock.base_url())
}

#[test]
fn a_run_in_which_every_item_failed_exits_4() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("mc.jsonl");
    write_choice_dataset(&data, 5, |_| true);
    let mock = spawn_background(MockConfig {
        faults: Faults {
            server_error: 1.0,
            ..Faults::default()
        },
        ..MockConfig::default()
    })
    .unwrap();
    let o = eval_choice(
        dir.path(),
        &data,
        &mock_spec(&mock),
        &["--max-retries", "0", "--no-cache", "--quiet"],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(err.contains("nothing was scored"), "{err}");
    assert!(err.contains("all 5 recorded item(s)"), "{err}");
}

#[test]
fn a_refused_api_key_stops_the_run_at_once_and_it_resumes_once_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("mc.jsonl");
    write_choice_dataset(&data, 40, |_| true);
    let mock = spawn_background(MockConfig {
        api_key: Some("right-key".into()),
        ..MockConfig::default()
    })
    .unwrap();
    let dbp = db(dir.path());
    let eval = |key: &str, resume: bool| {
        let spec = mock_spec(&mock);
        let mut args = vec!["--db", dbp.to_str().unwrap(), "--quiet", "eval"];
        if resume {
            args.push("--resume");
        } else {
            args.extend([
                "--dataset",
                data.to_str().unwrap(),
                "--scorer",
                "choice",
                "--model",
                &spec,
                "--concurrency",
                "2",
            ]);
        }
        bin()
            .args(&args)
            .env("TOUCHSTONE_TEST_KEY", key)
            .args(["--api-key-env", "TOUCHSTONE_TEST_KEY"])
            .output()
            .unwrap()
    };
    let o = eval("wrong-key", false);
    assert_clean_failure(&o, &["HTTP 401", "API key", "--api-key-env", "--resume"]);
    // A handful of requests at most (those in flight), not all forty.
    let refused = mock.requests().len();
    assert!(refused <= 4, "{refused} requests after the first refusal");
    // Nothing was recorded as failed: with the right key the run completes.
    let o = eval("right-key", true);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["runs", "list", "--db", dbp.to_str().unwrap()]);
    assert!(stdout(&o).contains("completed"), "{}", stdout(&o));
}

fn suite_with_expectation(dir: &std::path::Path) -> std::path::PathBuf {
    let data = dir.join("mc.jsonl");
    // Half right: accuracy 0.5, below the suite's `min: 0.9`.
    write_choice_dataset(&data, 8, |i| i % 2 == 0);
    let suite = dir.join("gate.yaml");
    std::fs::write(
        &suite,
        format!(
            "name: gate\ntasks:\n  - name: mc\n    dataset: {{path: {}}}\n    scorers: [choice]\n    expect:\n      - {{metric: accuracy, min: 0.9}}\n",
            data.display()
        ),
    )
    .unwrap();
    suite
}

#[test]
fn strict_fails_an_unmet_expectation_and_plain_eval_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let suite = suite_with_expectation(dir.path());
    let mock = spawn_background(MockConfig::default()).unwrap();
    let eval = |strict: bool, quiet: bool, db_name: &str| {
        let db = dir.path().join(db_name);
        let mut args = vec![
            "eval",
            "--suite",
            suite.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
        ];
        let spec = mock_spec(&mock);
        args.extend(["--model", &spec]);
        if strict {
            args.push("--strict");
        }
        if quiet {
            args.push("--quiet");
        }
        run(&args)
    };
    let plain = eval(false, false, "plain.db");
    assert!(plain.status.success(), "{}", stderr(&plain));
    assert!(
        stderr(&plain)
            .contains("1 expectation(s) and 0 compliance check(s) not met; with --strict"),
        "{}",
        stderr(&plain)
    );
    // Quiet: results and errors only, so no hint.
    let quiet = eval(false, true, "quiet.db");
    assert!(quiet.status.success(), "{}", stderr(&quiet));
    assert!(!stderr(&quiet).contains("--strict"), "{}", stderr(&quiet));
    let strict = eval(true, true, "strict.db");
    let err = stderr(&strict);
    assert_eq!(strict.status.code(), Some(3), "{err}");
    assert!(err.contains("expectation not met"), "{err}");
    assert!(
        err.contains("mc · openai:mock@") && err.contains("accuracy ≥ 0.9"),
        "{err}"
    );
    // The results are printed either way.
    assert!(stdout(&strict).contains("accuracy"), "{}", stdout(&strict));
}

#[test]
fn an_out_path_that_is_a_file_is_refused_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("mc.jsonl");
    write_choice_dataset(&data, 3, |_| true);
    let file = dir.path().join("results");
    std::fs::write(&file, "not a directory").unwrap();
    let mock = spawn_background(MockConfig::default()).unwrap();
    let o = eval_choice(
        dir.path(),
        &data,
        &mock_spec(&mock),
        &["--out", file.to_str().unwrap()],
    );
    assert_clean_failure(&o, &["it is a file", "--out"]);
    assert!(
        mock.requests().is_empty(),
        "no request may be sent when the output cannot be written"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "not a directory",
        "the file is left as it was"
    );
}

#[test]
fn out_of_range_flags_are_usage_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("mc.jsonl");
    write_choice_dataset(&data, 2, |_| true);
    for (flag, value, says) in [
        ("--request-timeout", "inf", "86400"),
        ("--request-timeout", "1e99", "86400"),
        ("--request-timeout", "NaN", "86400"),
        ("--request-timeout", "0", "86400"),
        ("--epochs", "0", "1..=1000"),
        ("--epochs", "4294967295", "1..=1000"),
        ("--concurrency", "0", "1..=10000"),
        ("--limit", "0", "1.."),
        ("--limit", "-1", "not a whole number"),
    ] {
        // `--flag=value`, so that a negative number is read as the flag's value.
        let arg = format!("{flag}={value}");
        let o = eval_choice(dir.path(), &data, "openai:m@http://127.0.0.1:9/v1", &[&arg]);
        assert_clean_failure(&o, &[flag, says]);
        assert_eq!(o.status.code(), Some(2), "{flag} {value}: {}", stderr(&o));
    }
}

#[test]
fn a_closed_output_pipe_ends_the_program_quietly() {
    // Far more output than a pipe buffers (64 KiB): the write after the reader is gone fails.
    let text = "炸弹a".repeat(12_000);
    let mut child = bin()
        .args(["attacks", "show", "base64", "--text", &text])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(status.code(), Some(141), "{err}");
    assert!(
        err.is_empty(),
        "nothing to say about a reader that left: {err}"
    );
}
