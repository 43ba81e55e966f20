//! Number extraction (GSM8K style), on hand-written cases and on the real GSM8K test set.

mod common;

use std::path::PathBuf;

use common::{block_on, sample, sample_targets};
use touchstone_core::ScorerSpec;
use touchstone_scorers::{ScorerError, build, extract_number, parse_target_number};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn extracts_numbers_from_replies() {
    let cases: &[(&str, Option<f64>)] = &[
        ("18", Some(18.0)),
        ("The answer is 18.", Some(18.0)),
        ("She makes 9 * 2 = $18 every day.\n#### 18", Some(18.0)),
        ("#### 1,234", Some(1234.0)),
        ("####-3", Some(-3.0)),
        ("Total: 1,234,567 apples", Some(1_234_567.0)),
        ("He paid $1,200.50.", Some(1200.5)),
        ("The temperature dropped to -15 degrees.", Some(-15.0)),
        ("16-3-4=9", Some(9.0)),
        ("16 - 3 - 4 = 9 eggs", Some(9.0)),
        ("It takes 3/4 of an hour", Some(0.75)),
        ("Half is 0.5", Some(0.5)),
        ("about .25 of it", Some(0.25)),
        ("The answer is 42, not 41 as 7*6 suggests", Some(42.0)),
        (
            "The answer is: $70,000. He spent 130,000 in total.",
            Some(70000.0),
        ),
        ("答案是 18 元", Some(18.0)),
        ("答案：-7", Some(-7.0)),
        ("所以答案为3，共有5种情况", Some(3.0)),
        ("答案是１２３", Some(123.0)),
        ("Final answer: \\boxed{540}", Some(540.0)),
        (
            "Janet has 16 eggs, eats 3, bakes 4, so she sells 9 and earns 18 dollars.",
            Some(18.0),
        ),
        ("<think>maybe 17</think>So 18.", Some(18.0)),
        ("The answer is\n\n20 after all, said 3 people", Some(20.0)),
        // A stated answer with no number on its line falls back to the last number.
        ("The answer is below.\nWe get 20, then 3", Some(3.0)),
        ("no numbers here", None),
        ("", None),
    ];
    for (reply, want) in cases {
        let got = extract_number(reply);
        match (got, want) {
            (Some(g), Some(w)) => assert!(close(g, *w), "reply {reply:?}: got {g}, want {w}"),
            (g, w) => assert_eq!(g, *w, "reply {reply:?}"),
        }
    }
}

#[test]
fn parses_targets() {
    assert_eq!(parse_target_number("Step one.\n#### 70000"), Some(70000.0));
    assert_eq!(parse_target_number("#### 65,960"), Some(65960.0));
    assert_eq!(parse_target_number("#### -3"), Some(-3.0));
    assert_eq!(parse_target_number("1,234"), Some(1234.0));
    assert_eq!(parse_target_number("3/4"), Some(0.75));
    assert_eq!(parse_target_number("$5"), Some(5.0));
    assert_eq!(parse_target_number("five"), None);
}

#[tokio::test]
async fn scores_with_tolerance_and_reports_the_number() {
    let scorer = build(&ScorerSpec::named("numeric")).unwrap_or_else(|e| panic!("{e}"));
    let s = sample("Janet sells 9 eggs.\n#### 18");
    let right = scorer
        .score(&s, "She makes $18.00 every day.")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (
            right.scorer.as_str(),
            right.value,
            right.extracted.as_deref()
        ),
        ("numeric", 1.0, Some("18"))
    );
    let wrong = scorer
        .score(&s, "The answer is 17")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((wrong.value, wrong.extracted.as_deref()), (0.0, Some("17")));
    let none = scorer
        .score(&s, "I cannot say")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((none.value, none.extracted), (0.0, None));

    let frac = sample("0.75");
    assert_eq!(
        scorer.score(&frac, "3/4").await.map(|s| s.value).ok(),
        Some(1.0)
    );
    let many = sample_targets(&["12", "twelve"]);
    // Every target must be a number; one that is not is an error, not a silent 0.
    assert!(matches!(
        scorer.score(&many, "12").await,
        Err(ScorerError::BadTarget { .. })
    ));

    let loose = build(&ScorerSpec {
        name: "numeric".into(),
        options: [("tolerance".to_string(), serde_json::json!(0.01))]
            .into_iter()
            .collect(),
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        loose
            .score(&sample("100"), "100.5")
            .await
            .map(|s| s.value)
            .ok(),
        Some(1.0)
    );
    assert_eq!(
        scorer
            .score(&sample("100"), "100.5")
            .await
            .map(|s| s.value)
            .ok(),
        Some(0.0)
    );
}

#[tokio::test]
async fn bad_targets_name_the_sample() {
    let scorer = build(&ScorerSpec::named("numeric")).unwrap_or_else(|e| panic!("{e}"));
    let err = scorer
        .score(&sample("#### many"), "3")
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("`s1`") && err.contains("#### many"), "{err}");
    assert!(matches!(
        scorer.score(&sample(""), "3").await,
        Err(ScorerError::MissingTarget { .. })
    ));
}

fn gsm8k_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/gsm8k/test.jsonl")
}

/// Every GSM8K test answer's `#### N` parses, and the reference solution itself (the whole answer
/// field, working included) scores 1 against its own target.
#[test]
fn gsm8k_targets_all_parse_and_reference_solutions_score_one() {
    let path = gsm8k_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let scorer = build(&ScorerSpec::named("numeric")).unwrap_or_else(|e| panic!("{e}"));
    let mut lines = 0;
    for (i, line) in text.lines().enumerate() {
        let row: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), i + 1));
        let answer = row["answer"]
            .as_str()
            .unwrap_or_else(|| panic!("{}:{}: no answer", path.display(), i + 1));
        let hashes = answer
            .rfind("####")
            .unwrap_or_else(|| panic!("line {}: no ####", i + 1));
        let raw = answer[hashes + 4..].trim();
        let target = parse_target_number(answer)
            .unwrap_or_else(|| panic!("line {}: target {raw:?} did not parse", i + 1));
        // The parsed value is exactly the digits after ####, separators removed.
        let plain: f64 = raw
            .replace(',', "")
            .parse()
            .unwrap_or_else(|e| panic!("line {}: {raw:?}: {e}", i + 1));
        assert_eq!(target, plain, "line {}", i + 1);

        let s = sample(answer);
        let score =
            block_on(scorer.score(&s, answer)).unwrap_or_else(|e| panic!("line {}: {e}", i + 1));
        assert_eq!(
            score.value,
            1.0,
            "line {}: reference solution scored 0 ({:?})",
            i + 1,
            score.extracted
        );
        // The same solution without its #### line: the last number is usually the answer; at
        // least the reply "The answer is N." must score.
        let stated = format!("The answer is {raw}.");
        assert_eq!(
            block_on(scorer.score(&s, &stated)).map(|s| s.value).ok(),
            Some(1.0),
            "line {}",
            i + 1
        );
        lines += 1;
    }
    assert_eq!(lines, 1319);
}
