//! Bad suite files give errors that say where and what to do (invariant 6).

use std::io::Write;

use touchstone_suite::{SuiteError, load, load_file, parse_suite_str};

fn write_suite(dir: &tempfile::TempDir, text: &str) -> std::path::PathBuf {
    let path = dir.path().join("suite.yaml");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    path
}

#[test]
fn malformed_yaml_names_line_and_column() {
    let text = "name: broken\ntasks:\n  - name: a\n    dataset: {builtin: quick/arithmetic\n    scorers: [numeric]\n";
    let err = parse_suite_str(text, "broken.yaml").unwrap_err();
    match &err {
        SuiteError::Yaml { line, column, .. } => {
            assert!(*line >= 4, "line {line}");
            assert!(*column >= 1);
        }
        other => panic!("expected a YAML error, got {other:?}"),
    }
    let shown = err.to_string();
    assert!(shown.starts_with("broken.yaml:"), "{shown}");
}

#[test]
fn unknown_field_is_located() {
    let text = "name: s\ntasks:\n  - name: a\n    dataset: {builtin: quick/arithmetic}\n    scorers: [numeric]\n    epoch: 2\n";
    let err = parse_suite_str(text, "s.yaml").unwrap_err();
    let SuiteError::Yaml { line, message, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        *line, 6,
        "the unknown field itself is pointed at: {message}"
    );
    assert!(message.contains("epoch"), "{message}");
}

#[test]
fn unknown_scorer_suggests_the_closest() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_suite(
        &dir,
        "name: s\ntasks:\n  - name: a\n    dataset: {builtin: quick/knowledge}\n    scorers: [choise]\n",
    );
    let err = load_file(&path).unwrap_err();
    let SuiteError::Invalid {
        line,
        column,
        message,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!((*line, *column), (5, 15));
    assert!(
        message.contains("choice"),
        "should suggest `choice`: {message}"
    );
}

#[test]
fn missing_dataset_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_suite(
        &dir,
        "name: s\ntasks:\n  - name: a\n    dataset: {path: nowhere.jsonl}\n    scorers: [exact]\n",
    );
    let err = load_file(&path).unwrap_err();
    assert!(err.to_string().contains("nowhere.jsonl"), "{err}");
    assert!(err.to_string().contains(":4:"), "{err}");
}

#[test]
fn relative_dataset_paths_resolve_against_the_suite_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("items.jsonl"),
        "{\"input\": \"hi\", \"target\": \"hi\"}\n",
    )
    .unwrap();
    let path = write_suite(
        &dir,
        "name: s\ntasks:\n  - name: a\n    dataset: {path: items.jsonl}\n    scorers: [exact]\n",
    );
    let suite = load_file(&path).unwrap();
    let touchstone_core::DatasetSource::Path(p) = &suite.spec.tasks[0].dataset.source else {
        panic!()
    };
    assert!(p.is_absolute() && p.ends_with("items.jsonl"));
}

#[test]
fn duplicate_task_names_and_bad_expectations() {
    let dup = "name: s\ntasks:\n  - name: a\n    dataset: {builtin: quick/format}\n    scorers: [exact]\n  - name: a\n    dataset: {builtin: quick/format}\n    scorers: [exact]\n";
    let dir = tempfile::tempdir().unwrap();
    let err = load_file(&write_suite(&dir, dup)).unwrap_err();
    assert!(err.to_string().contains("used twice"), "{err}");

    let bad_expect = "name: s\ntasks:\n  - name: a\n    dataset: {builtin: quick/format}\n    scorers: [exact]\n    expect: [{metric: acuracy, min: 0.5}]\n";
    let err = load_file(&write_suite(&dir, bad_expect)).unwrap_err();
    assert!(err.to_string().contains("acuracy"), "{err}");
}

#[test]
fn empty_and_unknown_suites() {
    assert!(matches!(
        parse_suite_str("  \n", "e.yaml"),
        Err(SuiteError::Empty { .. })
    ));
    let err = load("quik").unwrap_err();
    let SuiteError::NotFound { suggestion, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(suggestion.as_deref(), Some("quick"));
}

#[test]
fn non_utf8_suite_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, b"name: \xff\xfe\n").unwrap();
    assert!(matches!(
        load_file(&path),
        Err(SuiteError::NotUtf8 { offset: 6, .. })
    ));
}

proptest::proptest! {
    #[test]
    fn parser_never_panics(text in ".{0,400}") {
        let _ = parse_suite_str(&text, "p.yaml");
    }
}
