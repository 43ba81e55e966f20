//! Choice scoring on real multiple-choice items: MMLU (English) and CMMLU (Chinese).

mod common;

use std::path::{Path, PathBuf};

use common::{block_on, mc_sample};
use touchstone_core::{ScorerSpec, choice_letter};
use touchstone_scorers::build;

fn data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

/// (question, options, answer letter) rows of one CSV file; `skip` leading columns (CMMLU's
/// index column) and an optional header.
fn rows(path: &Path, has_header: bool, skip: usize) -> Vec<(Vec<String>, String)> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(has_header)
        .from_path(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    reader
        .records()
        .enumerate()
        .map(|(i, r)| {
            let r = r.unwrap_or_else(|e| panic!("{} row {}: {e}", path.display(), i + 1));
            let options: Vec<String> = (skip + 1..skip + 5).map(|j| r[j].to_string()).collect();
            (options, r[skip + 5].trim().to_string())
        })
        .collect()
}

fn check(files: &[(PathBuf, bool, usize)], stated: impl Fn(char) -> String) {
    let scorer = build(&ScorerSpec::named("choice")).unwrap_or_else(|e| panic!("{e}"));
    let (mut total, mut by_text, mut text_right) = (0, 0, 0);
    for (path, header, skip) in files {
        for (options, answer) in rows(path, *header, *skip) {
            let refs: Vec<&str> = options.iter().map(String::as_str).collect();
            let s = mc_sample(&answer, &refs);
            let letter = answer.chars().next().unwrap_or('?');
            for wrong in (0..4).map(choice_letter).filter(|&l| l != letter) {
                let score =
                    block_on(scorer.score(&s, &stated(wrong))).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(score.value, 0.0, "{}: {answer} vs {wrong}", path.display());
            }
            let score =
                block_on(scorer.score(&s, &stated(letter))).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(score.value, 1.0, "{}: {answer} {options:?}", path.display());
            // A reply that is only the text of the correct option.
            let index = (letter as u8 - b'A') as usize;
            if options.iter().filter(|o| *o == &options[index]).count() == 1 {
                by_text += 1;
                let score =
                    block_on(scorer.score(&s, &options[index])).unwrap_or_else(|e| panic!("{e}"));
                text_right += score.value as usize;
            }
            total += 1;
        }
    }
    eprintln!("{total} rows; {text_right} of {by_text} option-text replies scored");
    assert!(total > 100, "only {total} rows");
    // Including texts that look like letters or contain `*` ("a,b in H", "b>c", "8*7").
    assert_eq!(
        text_right, by_text,
        "{text_right} of {by_text} option-text replies scored"
    );
}

#[test]
fn mmlu_rows() {
    let dir = data().join("mmlu/test");
    let files: Vec<_> = [
        "abstract_algebra_test.csv",
        "anatomy_test.csv",
        "global_facts_test.csv",
        "machine_learning_test.csv",
    ]
    .iter()
    .map(|f| (dir.join(f), false, 0))
    .collect();
    check(&files, |l| format!("The answer is ({l})."));
}

#[test]
fn cmmlu_rows() {
    let dir = data().join("cmmlu/test");
    let files: Vec<_> = [
        "agronomy.csv",
        "chinese_history.csv",
        "elementary_mathematics.csv",
    ]
    .iter()
    .map(|f| (dir.join(f), true, 1))
    .collect();
    check(&files, |l| format!("根据分析，正确答案是{l}。"));
}
