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

#[test]
fn a_yaml_bomb_is_refused_with_a_location() {
    // "Billion laughs": nine levels of ten aliases, 10^9 strings once expanded, in a task's
    // scorer options (an open type that would keep every one of them).
    let mut text = String::from(
        "name: bomb\ntasks:\n  - name: a\n    dataset: {builtin: quick/arithmetic}\n    scorers:\n      - name: includes\n        l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for level in 1..=9 {
        let items = vec![format!("*l{}", level - 1); 10].join(", ");
        text.push_str(&format!("        l{level}: &l{level} [{items}]\n"));
    }
    let start = std::time::Instant::now();
    let err = parse_suite_str(&text, "bomb.yaml").unwrap_err();
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
    let SuiteError::Yaml { line, message, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(*line >= 8, "{err}");
    assert!(message.contains("refused"), "{message}");
    assert!(err.to_string().starts_with("bomb.yaml:"), "{err}");
}

proptest::proptest! {
    #[test]
    fn parser_never_panics(text in ".{0,400}") {
        let _ = parse_suite_str(&text, "p.yaml");
    }
}

/// The line, column, message and help of an `Invalid` error from loading `text` as a suite file.
fn invalid(text: &str) -> (usize, usize, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let err = load_file(&write_suite(&dir, text)).unwrap_err();
    let SuiteError::Invalid {
        line,
        column,
        message,
        help,
        ..
    } = err
    else {
        panic!("expected a validation error, got {err:?}")
    };
    (line, column, message, help.unwrap_or_default())
}

/// A one-task suite with `extra` lines (indented as task fields) after the scorers.
fn task_with(extra: &str) -> String {
    format!(
        "name: s\ntasks:\n  - name: other\n    dataset: {{builtin: quick/knowledge}}\n    scorers: [choice]\n  - name: a\n    dataset: {{builtin: quick/knowledge}}\n    scorers: [choice]\n{extra}"
    )
}

#[test]
fn unknown_template_placeholder_is_located_with_a_suggestion() {
    let (line, column, message, help) =
        invalid(&task_with("    prompt: {template: \"{inptu} {choices\"}\n"));
    assert_eq!((line, column), (9, 25), "{message}");
    assert!(
        message.contains("unknown placeholder `{inptu}`"),
        "{message}"
    );
    assert!(help.contains("did you mean `{input}`?"), "{help}");
    assert!(help.contains("{letters}"), "{help}");
}

#[test]
fn unbalanced_template_braces_are_located() {
    let (line, column, message, help) = invalid(&task_with(
        "    prompt:\n      template: |-\n        {input}\n\n        {choices\n",
    ));
    assert_eq!((line, column), (13, 9), "{message}");
    assert!(
        message.contains("`{choices`") && message.contains("`}`"),
        "{message}"
    );
    assert!(help.contains("write `{choices}`"), "{help}");

    let (line, _, message, help) = invalid(&task_with("    prompt: {template: \"Q: input}\"}\n"));
    assert_eq!(line, 9, "{message}");
    assert!(
        message.contains("`input}`") && message.contains("`{`"),
        "{message}"
    );
    assert!(help.contains("write `{input}`"), "{help}");
}

#[test]
fn description_placeholder_in_template_is_rejected() {
    let (line, _, message, _) = invalid(&task_with(
        "    prompt: {template: \"{subject}: {input}\"}\n",
    ));
    assert_eq!(line, 9, "{message}");
    assert!(
        message.contains("only in `prompt.description`"),
        "{message}"
    );
}

#[test]
fn literal_braces_in_templates_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let text = task_with(
        "    prompt:\n      template: |-\n        {input}\n        Reply as JSON: {\"answer\": \"<one of {letters}>\"} or { answer }\n      description: \"About {subject}:\"\n",
    );
    load_file(&write_suite(&dir, &text)).unwrap();
    for name in ["quick", "gbt45654"] {
        load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn generation_settings_are_range_checked() {
    for (generate, key, column, words) in [
        (
            "{temperature: -3, max_tokens: 5}",
            "temperature",
            16,
            "temperature must be between 0 and 2",
        ),
        (
            "{temperature: 2.5}",
            "temperature",
            16,
            "temperature must be",
        ),
        (
            "{temperature: .nan}",
            "temperature",
            16,
            "temperature must be",
        ),
        (
            "{max_tokens: 0}",
            "max_tokens",
            16,
            "max_tokens must be 1 or more",
        ),
        (
            "{top_p: 7}",
            "top_p",
            16,
            "top_p must be above 0 and at most 1",
        ),
        ("{top_p: 0}", "top_p", 16, "top_p must be above 0"),
        ("{stop: [\"\"]}", "stop", 16, "empty string"),
    ] {
        let (line, col, message, help) =
            invalid(&task_with(&format!("    generate: {generate}\n")));
        assert_eq!((line, col), (9, column), "{generate}: {message}");
        assert!(
            message.contains("task `a`") && message.contains(key),
            "{message}"
        );
        assert!(help.contains(words), "{help}");
    }
    // The suite-wide defaults too, pointed at in the top-level `generate`.
    let text = "name: s\ngenerate:\n  top_p: 7\ntasks:\n  - name: a\n    dataset: {builtin: quick/knowledge}\n    generate: {top_p: 0.5}\n    scorers: [choice]\n";
    let (line, column, message, _) = invalid(text);
    assert_eq!((line, column), (3, 3), "{message}");
    assert!(
        message.contains("suite `generate`") && message.contains("top_p: 7"),
        "{message}"
    );
}

#[test]
fn impossible_expectations_are_rejected() {
    let (line, column, message, help) = invalid(&task_with(
        "    expect: [{min: 0.9, max: 0.1, metric: accuracy}]\n",
    ));
    assert_eq!((line, column), (9, 35), "{message}");
    assert!(message.contains("min 0.9 above max 0.1"), "{message}");
    assert!(help.contains("swap"), "{help}");

    let (line, column, message, help) =
        invalid(&task_with("    expect: [{metric: \"\", min: 0.5}]\n"));
    assert_eq!((line, column), (9, 15), "{message}");
    assert!(message.contains("empty `metric`"), "{message}");
    assert!(help.contains("accuracy"), "{help}");

    for bound in ["min: .nan", "max: .inf", "min: -.inf"] {
        let (line, _, message, help) = invalid(&task_with(&format!(
            "    expect: [{{metric: accuracy, {bound}}}]\n"
        )));
        assert_eq!(line, 9, "{message}");
        assert!(message.contains(&bound[..4]), "{message}");
        assert!(help.contains("finite number"), "{help}");
    }

    let (line, _, message, _) =
        invalid(&task_with("    metrics: [{name: \"\", scorer: choice}]\n"));
    assert_eq!(line, 9, "{message}");
    assert!(message.contains("empty name"), "{message}");
}

#[test]
fn zero_limit_is_rejected() {
    let text = "name: s\ntasks:\n  - name: a\n    dataset:\n      builtin: quick/knowledge\n      limit: 0\n    scorers: [choice]\n";
    let (line, column, message, help) = invalid(text);
    assert_eq!((line, column), (6, 7), "{message}");
    assert!(
        message.contains("limit: 0") && message.contains("no samples"),
        "{message}"
    );
    assert!(help.contains("1 or more"), "{help}");
}

#[test]
fn scorer_entry_without_a_name_says_what_an_entry_is() {
    let text = "name: s\ntasks:\n  - name: a\n    dataset: {builtin: quick/knowledge}\n    scorers: [{pattern: x}]\n";
    let err = parse_suite_str(text, "s.yaml").unwrap_err();
    let SuiteError::Yaml { line, message, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*line, 5, "{message}");
    assert!(!message.contains("ScorerRepr"), "{message}");
    assert!(
        message.contains("no `name:`") && message.contains("`pattern`"),
        "{message}"
    );
    assert!(
        message.contains("`choice`") && message.contains("{name: regex"),
        "{message}"
    );
    assert!(err.to_string().starts_with("s.yaml:5:"), "{err}");

    let text =
        "name: s\ntasks:\n  - name: a\n    dataset: {builtin: quick/knowledge}\n    scorers: [3]\n";
    let err = parse_suite_str(text, "s.yaml").unwrap_err();
    assert!(err.to_string().contains("a name such as `choice`"), "{err}");
    assert!(err.to_string().starts_with("s.yaml:5:"), "{err}");
}

#[test]
fn directory_dataset_is_located_and_called_a_folder() {
    let (line, column, message, help) = invalid(&task_with(
        "  - name: b\n    dataset:\n      path: .\n    scorers: [exact]\n",
    ));
    assert_eq!((line, column), (11, 7), "{message}");
    assert!(
        message.contains("task `b`") && message.contains("is a folder"),
        "{message}"
    );
    assert!(help.contains("format: mmlu"), "{help}");
}

#[test]
fn few_shot_files_are_relative_to_the_suite_file_like_datasets() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    for name in ["test.jsonl", "dev.jsonl"] {
        std::fs::write(
            dir.path().join("data").join(name),
            "{\"input\": \"1+1\", \"target\": \"2\"}\n",
        )
        .unwrap();
    }
    let path = write_suite(
        &dir,
        "name: shots\ntasks:\n  - name: t\n    dataset: {path: data/test.jsonl}\n    prompt:\n      few_shot_from: {dataset: {path: data/dev.jsonl}, n: 1}\n    scorers: [exact]\n",
    );
    let suite = load_file(&path).unwrap();
    let from = suite.spec.tasks[0].prompt.few_shot_from.as_ref().unwrap();
    let touchstone_core::DatasetSource::Path(p) = &from.dataset.source else {
        panic!("a path dataset");
    };
    let base = std::fs::canonicalize(dir.path()).unwrap();
    assert_eq!(*p, base.join("data/dev.jsonl"));
}
