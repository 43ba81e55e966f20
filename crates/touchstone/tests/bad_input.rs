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

/// Runs the binary, failing the test (and killing the process) if it has not ended in time: a
/// command that waits on a pipe would otherwise hang the test run.
fn run_within(args: &[&str], limit: std::time::Duration) -> std::process::Output {
    let mut child = bin()
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_within(
        &mut child,
        limit,
        &format!("`touchstone {}`", args.join(" ")),
    );
    child.wait_with_output().unwrap()
}

fn mkfifo(path: &std::path::Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

#[test]
fn pipes_and_devices_are_refused_at_once_with_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("input.yaml");
    mkfifo(&fifo);
    let fifo = fifo.to_str().unwrap();
    let database = db(dir.path());
    let database = database.to_str().unwrap();
    let limit = std::time::Duration::from_secs(30);
    for args in [
        vec!["eval", "--suite", fifo, "--db", database],
        vec!["eval", "--dataset", fifo, "--db", database],
        vec![
            "eval",
            "--benchmark",
            "humaneval",
            "--data-dir",
            fifo,
            "--db",
            database,
        ],
        vec!["suites", "validate", fifo],
        vec!["verify", fifo],
    ] {
        let o = run_within(&args, limit);
        assert_clean_failure(&o, &["named pipe", "FIFO", "regular"]);
        assert!(!stderr(&o).contains("does not exist"), "{}", stderr(&o));
    }
    let o = run_within(&["verify", "/dev/zero"], limit);
    assert_clean_failure(&o, &["character device"]);
}

#[test]
fn a_database_that_cannot_be_opened_leaves_nothing_beside_it() {
    // A device: SQLite would have made `/dev/full-journal`.
    let o = run(&["runs", "list", "--db", "/dev/full"]);
    assert_clean_failure(&o, &["character device", "--db"]);
    let o = run(&[
        "eval",
        "--db",
        "/dev/full",
        "--dataset",
        "/nonexistent.jsonl",
    ]);
    assert!(!o.status.success());
    for side in ["-journal", "-wal", "-shm"] {
        assert!(!std::path::Path::new(&format!("/dev/full{side}")).exists());
    }
    // A file that is not a database: refused, nothing added beside it.
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, vec![0x5a_u8; 8192]).unwrap();
    let o = run(&["runs", "list", "--db", junk.to_str().unwrap()]);
    assert_clean_failure(&o, &["junk.db"]);
    let listing = |dir: &std::path::Path| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(listing(dir.path()), ["junk.db"]);
    assert_eq!(std::fs::read(&junk).unwrap(), vec![0x5a_u8; 8192]);
    // A database under a path that cannot be a directory: nothing is made on the way.
    let blocked = junk.join("sub/t.db");
    let o = run(&[
        "eval",
        "--db",
        blocked.to_str().unwrap(),
        "--dataset",
        "/nonexistent.jsonl",
    ]);
    assert!(!o.status.success());
    assert_eq!(listing(dir.path()), ["junk.db"]);
}

#[test]
fn verify_refuses_an_oversized_file_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.cert");
    // A sparse gibibyte: were it read whole, this test would allocate 1 GiB first.
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let o = run_within(
        &["verify", huge.to_str().unwrap()],
        std::time::Duration::from_secs(30),
    );
    assert_clean_failure(&o, &["1073741824 bytes", "more than"]);
}

#[test]
fn nul_bytes_in_a_csv_are_refused_with_their_row() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.csv");
    std::fs::write(
        &data,
        b"input,target\nWhat is 1 + 1?,2\nWhat is 2\x00+ 2?,4\n",
    )
    .unwrap();
    let o = eval_dataset(dir.path(), &data, "exact");
    assert_clean_failure(&o, &["row 3", "`input`", "NUL"]);
    // And in JSON text, written as an escape.
    let data = dir.path().join("d.jsonl");
    std::fs::write(&data, "{\"input\": \"ok\", \"target\": \"a\\u0000\"}\n").unwrap();
    let o = eval_dataset(dir.path(), &data, "exact");
    assert_clean_failure(&o, &["line 1", "`target`", "NUL"]);
}
