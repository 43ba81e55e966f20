//! Letter extraction for multiple choice, table-driven.

mod common;

use common::{block_on, mc_sample, sample};
use touchstone_core::ScorerSpec;
use touchstone_scorers::{ScorerError, build, extract_choice};

fn four() -> Vec<String> {
    ["London", "Paris", "Berlin", "Rome"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

#[test]
fn english_replies() {
    let choices = four();
    let cases: &[(&str, Option<char>)] = &[
        ("B", Some('B')),
        ("b", Some('B')),
        ("B.", Some('B')),
        ("B)", Some('B')),
        ("(B)", Some('B')),
        ("[C]", Some('C')),
        ("**B**", Some('B')),
        ("**Answer:** C", Some('C')),
        ("The answer is B", Some('B')),
        ("The answer is B.", Some('B')),
        ("the answer is b", Some('B')),
        ("The answer is (D).", Some('D')),
        ("answer: (B)", Some('B')),
        ("Answer: B", Some('B')),
        ("ANSWER: c", Some('C')),
        ("Final answer: D", Some('D')),
        ("The correct answer is option C.", Some('C')),
        ("The correct option is A", Some('A')),
        ("The answer is A because London is the capital.", Some('A')),
        ("B and C are wrong, the answer is A", Some('A')),
        ("Option D is correct.", Some('D')),
        ("option b is correct", Some('B')),
        ("C is the correct answer.", Some('C')),
        ("B) Paris", Some('B')),
        ("B. Paris", Some('B')),
        ("C: Berlin", Some('C')),
        ("Option B", Some('B')),
        ("I think it's B.", Some('B')),
        ("I'm fairly sure it is C", Some('C')),
        (
            "Looking at the options, A is wrong and so is C. Therefore D.",
            Some('D'),
        ),
        ("$\\boxed{C}$", Some('C')),
        ("\\boxed{\\text{D}}", Some('D')),
        ("<think>Maybe A? No.</think>The answer is B", Some('B')),
        ("The answer is A. Wait, no: the answer is C.", Some('C')),
        ("Paris", Some('B')),
        ("Paris.", Some('B')),
        ("  rome ", Some('D')),
        ("The capital of France is Paris.", Some('B')),
        // Articles and pronouns are words, not letters.
        (
            "The answer is a lot harder than it looks; it is Paris.",
            Some('B'),
        ),
        ("a lot of people think so", None),
        ("A lot of people say C", Some('C')),
        ("I don't know", None),
        ("The answer is not obvious", None),
        // Letters beyond the options do not count.
        ("E", None),
        ("The answer is E", None),
        ("Because of history, the capital moved.", None),
        ("The U.S. and the U.K. disagree.", None),
        ("", None),
        ("   ", None),
    ];
    for (reply, want) in cases {
        assert_eq!(
            extract_choice(reply, Some(&choices)),
            *want,
            "reply {reply:?}"
        );
    }
}

#[test]
fn chinese_replies() {
    let choices: Vec<String> = ["北京", "上海", "广州", "深圳"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let cases: &[(&str, Option<char>)] = &[
        ("答案是B", Some('B')),
        ("答案是B。", Some('B')),
        ("答案：B", Some('B')),
        ("答案:C", Some('C')),
        ("答案为（D）", Some('D')),
        ("正确答案是 C", Some('C')),
        ("正确答案是Ｃ。", Some('C')),
        ("答案：Ｂ", Some('B')),
        ("选B", Some('B')),
        ("我选择 C", Some('C')),
        ("应选（A）", Some('A')),
        ("故选D。", Some('D')),
        ("Ｂ", Some('B')),
        ("（Ｂ）", Some('B')),
        ("B。", Some('B')),
        ("B，因为上海是直辖市。", Some('B')),
        ("正确的选项是A", Some('A')),
        ("B项正确", Some('B')),
        ("C选项是正确的", Some('C')),
        ("选项A和B都不对，答案是C", Some('C')),
        ("A不正确，B不正确，C正确", Some('C')),
        ("分析：A选项错误，D选项错误。所以答案是B。", Some('B')),
        ("北京", Some('A')),
        ("上海。", Some('B')),
        ("中国的首都是北京。", Some('A')),
        ("我不知道", None),
        ("答案是E", None),
    ];
    for (reply, want) in cases {
        assert_eq!(
            extract_choice(reply, Some(&choices)),
            *want,
            "reply {reply:?}"
        );
    }
}

#[test]
fn option_texts_that_look_like_letters_or_markdown() {
    let algebra: Vec<String> = ["0", "a", "b>c", "8*7"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let cases: &[(&str, Option<char>)] = &[
        // A lone letter is the letter, even though option B's text is "a".
        ("A", Some('A')),
        ("(a)", Some('A')),
        ("b>c", Some('C')),
        ("8*7", Some('D')),
        ("**8*7**", Some('D')),
        ("0", Some('A')),
    ];
    for (reply, want) in cases {
        assert_eq!(
            extract_choice(reply, Some(&algebra)),
            *want,
            "reply {reply:?}"
        );
    }
}

#[test]
fn without_known_choices_any_letter_counts() {
    assert_eq!(extract_choice("The answer is F", None), Some('F'));
    assert_eq!(extract_choice("答案是G", None), Some('G'));
    assert_eq!(extract_choice("Paris", None), None);
    // The pronoun I is not taken for option I.
    assert_eq!(extract_choice("I believe so", None), None);
}

#[tokio::test]
async fn scores_letters_and_option_texts() {
    let scorer = build(&ScorerSpec::named("choice"))
        .map_err(|e| e.to_string())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(scorer.name(), "choice");
    let s = mc_sample("B", &["London", "Paris", "Berlin", "Rome"]);
    let right = scorer
        .score(&s, "The answer is (B).")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (
            right.scorer.as_str(),
            right.value,
            right.extracted.as_deref()
        ),
        ("choice", 1.0, Some("B"))
    );
    let wrong = scorer
        .score(&s, "答案是C")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((wrong.value, wrong.extracted.as_deref()), (0.0, Some("C")));
    let none = scorer
        .score(&s, "no idea")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((none.value, none.extracted), (0.0, None));
    assert!(none.explanation.is_some_and(|e| e.contains("选项")));

    // Target given as the option text, or as "(B)", or full-width.
    for target in ["Paris", "(B)", "Ｂ", "b."] {
        let s = mc_sample(target, &["London", "Paris", "Berlin", "Rome"]);
        let score = scorer
            .score(&s, "B")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(score.value, 1.0, "target {target:?}");
    }
}

#[tokio::test]
async fn bad_targets_are_errors_naming_the_sample() {
    let scorer = build(&ScorerSpec::named("choice")).unwrap_or_else(|e| panic!("{e}"));
    let s = mc_sample("Madrid", &["London", "Paris"]);
    match scorer.score(&s, "A").await {
        Err(e @ ScorerError::BadTarget { .. }) => {
            let text = e.to_string();
            assert!(text.contains("mc1") && text.contains("Madrid"), "{text}");
        }
        other => panic!("expected BadTarget, got {other:?}"),
    }
    // A letter beyond the options.
    let s = mc_sample("E", &["London", "Paris"]);
    assert!(matches!(
        scorer.score(&s, "A").await,
        Err(ScorerError::BadTarget { .. })
    ));
    // No target at all.
    assert!(matches!(
        scorer.score(&sample(""), "A").await,
        Err(ScorerError::MissingTarget { .. })
    ));
    // Option text without choices to match against.
    assert!(matches!(
        scorer.score(&sample("Paris"), "A").await,
        Err(ScorerError::BadTarget { .. })
    ));
    // The future resolves without a runtime too (the property tests rely on this).
    assert!(block_on(scorer.score(&sample("B"), "B")).is_ok());
}
