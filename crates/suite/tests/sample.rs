//! A task's `sample:` (how its items are drawn) is read and checked with located errors.

use std::io::Write;

use touchstone_core::SampleSpec;
use touchstone_suite::{SuiteError, load_file, parse_suite_str};

fn write_suite(dir: &tempfile::TempDir, text: &str) -> std::path::PathBuf {
    let path = dir.path().join("suite.yaml");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    path
}

/// A suite whose second task (`content`, the built-in content bank with its labels) has
/// `sample` as written (a flow mapping, or block lines indented as task fields).
fn suite_with(sample: &str) -> String {
    format!(
        "name: s\ntasks:\n  - name: other\n    dataset: {{builtin: quick/knowledge}}\n    scorers: [choice]\n  - name: content\n    dataset:\n      builtin: gbt45654/content\n      fields: {{input: text, metadata: [lang, risk, bank]}}\n    scorers: [refusal]\n    sample: {sample}\n"
    )
}

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

#[test]
fn a_sample_is_read_in_both_forms() {
    let dir = tempfile::tempdir().unwrap();
    let suite = load_file(&write_suite(
        &dir,
        &suite_with("{n: 62, stratify: risk, seed: 7}"),
    ))
    .unwrap();
    assert_eq!(
        suite.spec.tasks[1].sample,
        Some(SampleSpec {
            n: 62,
            stratify: Some("risk".into()),
            seed: Some(7),
        })
    );
    assert_eq!(suite.spec.tasks[0].sample, None);
    let suite = load_file(&write_suite(&dir, &suite_with("\n      n: 10\n"))).unwrap();
    assert_eq!(
        suite.spec.tasks[1].sample,
        Some(SampleSpec {
            n: 10,
            stratify: None,
            seed: None,
        })
    );
}

#[test]
fn zero_samples_are_refused_where_written() {
    let (line, column, message, help) = invalid(&suite_with("{n: 0, stratify: risk}"));
    assert_eq!((line, column), (11, 14), "{message}");
    assert!(
        message.contains("n: 0") && message.contains("content"),
        "{message}"
    );
    assert!(help.contains("1 or more"), "{help}");
}

#[test]
fn a_label_the_data_does_not_carry_is_refused_with_a_suggestion() {
    let (line, column, message, help) = invalid(&suite_with("{n: 5, stratify: rsik}"));
    assert_eq!((line, column), (11, 20), "{message}");
    assert!(
        message.contains("`rsik`") && message.contains("content-A.1a-zh-01"),
        "{message}"
    );
    assert!(help.contains("did you mean `risk`?"), "{help}");
    assert!(help.contains("lang, risk"), "{help}");
    // A field of the data that `fields.metadata` does not list is no label.
    let (_, _, message, _) = invalid(&suite_with("{n: 5, stratify: source}"));
    assert!(message.contains("`source`"), "{message}");
    let (_, _, message, _) = invalid(&suite_with("{n: 5, stratify: ''}"));
    assert!(message.contains("empty"), "{message}");
}

#[test]
fn unknown_and_negative_sample_fields_are_located() {
    let err = parse_suite_str(&suite_with("{n: 5, by: risk}"), "s.yaml").unwrap_err();
    let SuiteError::Yaml { line, message, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*line, 11, "{message}");
    assert!(message.contains("by"), "{message}");
    let err = parse_suite_str(&suite_with("{n: -3}"), "s.yaml").unwrap_err();
    assert!(err.to_string().starts_with("s.yaml:11:"), "{err}");
}
