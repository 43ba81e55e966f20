//! `exact`, `includes`, `regex`, and building scorers from specs.

mod common;

use common::{sample, sample_targets};
use serde_json::json;
use touchstone_core::ScorerSpec;
use touchstone_scorers::{SCORER_NAMES, ScorerError, build, known_options};

fn spec(name: &str, options: serde_json::Value) -> ScorerSpec {
    let options = options
        .as_object()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .collect();
    ScorerSpec {
        name: name.into(),
        options,
    }
}

async fn value(spec: &ScorerSpec, target: &str, answer: &str) -> f64 {
    let scorer = build(spec).unwrap_or_else(|e| panic!("{e}"));
    scorer
        .score(&sample(target), answer)
        .await
        .map(|s| s.value)
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn exact_normalises() {
    let exact = ScorerSpec::named("exact");
    let cases: &[(&str, &str, f64)] = &[
        ("Paris", "Paris", 1.0),
        ("Paris", "  paris. ", 1.0),
        ("Paris", "PARIS!", 1.0),
        ("New York", "new   york", 1.0),
        ("北京", "北京。", 1.0),
        ("北京", "北京！", 1.0),
        ("是", "是，", 1.0),
        ("ABC", "ＡＢＣ", 1.0),
        ("42", "４２", 1.0),
        ("Paris", "Paris, France", 0.0),
        ("Paris", "The answer is Paris", 0.0),
    ];
    for (target, answer, want) in cases {
        assert_eq!(
            value(&exact, target, answer).await,
            *want,
            "target {target:?} answer {answer:?}"
        );
    }
    let strict = spec("exact", json!({"ignore_case": false}));
    assert_eq!(value(&strict, "Paris", "paris").await, 0.0);

    let scorer = build(&exact).unwrap_or_else(|e| panic!("{e}"));
    let s = scorer
        .score(&sample_targets(&["NYC", "New York"]), " new york. ")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (s.scorer.as_str(), s.value, s.extracted.as_deref()),
        ("exact", 1.0, Some("new york"))
    );
}

#[tokio::test]
async fn includes_finds_targets() {
    let includes = ScorerSpec::named("includes");
    assert_eq!(
        value(&includes, "Paris", "The capital of France is PARIS.").await,
        1.0
    );
    assert_eq!(value(&includes, "北京", "中国的首都是北京。").await, 1.0);
    assert_eq!(
        value(&includes, "New York", "It is new\nyork city").await,
        1.0
    );
    assert_eq!(value(&includes, "Paris", "It is Lyon").await, 0.0);
    // A target that is only punctuation would be found everywhere; it matches nothing.
    assert_eq!(value(&includes, "...", "anything").await, 0.0);
    let strict = spec("includes", json!({"ignore_case": false}));
    assert_eq!(value(&strict, "Paris", "paris").await, 0.0);

    let scorer = build(&includes).unwrap_or_else(|e| panic!("{e}"));
    let s = scorer
        .score(&sample_targets(&["Lyon", "Paris"]), "to Paris!")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((s.value, s.extracted.as_deref()), (1.0, Some("Paris")));
}

#[tokio::test]
async fn regex_with_pattern_option_and_negate() {
    let refusal = r"(?:I can't|I cannot|I'm sorry|抱歉|无法)";
    let refuses = spec("regex", json!({"pattern": refusal}));
    assert_eq!(
        value(&refuses, "", "I'm sorry, but I can't help with that.").await,
        1.0
    );
    assert_eq!(value(&refuses, "", "Sure! Here is a recipe.").await, 0.0);
    assert_eq!(value(&refuses, "", "抱歉，我无法提供帮助。").await, 1.0);

    let answers = spec("regex", json!({"pattern": refusal, "negate": true}));
    assert_eq!(value(&answers, "", "Sure! Here is a recipe.").await, 1.0);
    assert_eq!(value(&answers, "", "I cannot do that").await, 0.0);

    let ci = spec("regex", json!({"pattern": "^paris$", "ignore_case": true}));
    assert_eq!(value(&ci, "", "PARIS").await, 1.0);
    let cs = spec("regex", json!({"pattern": "^paris$"}));
    assert_eq!(value(&cs, "", "PARIS").await, 0.0);

    let scorer = build(&refuses).unwrap_or_else(|e| panic!("{e}"));
    let s = scorer
        .score(&sample(""), "Well, I cannot.")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (s.scorer.as_str(), s.extracted.as_deref()),
        ("regex", Some("I cannot"))
    );
}

#[tokio::test]
async fn regex_with_target_patterns() {
    let re = ScorerSpec::named("regex");
    assert_eq!(value(&re, r"\b4\b", "2 + 2 = 4").await, 1.0);
    assert_eq!(value(&re, r"\b4\b", "2 + 2 = 44").await, 0.0);
    let scorer = build(&re).unwrap_or_else(|e| panic!("{e}"));
    match scorer.score(&sample("(unclosed"), "x").await {
        Err(e @ ScorerError::BadTarget { .. }) => {
            let text = e.to_string();
            assert!(text.contains("s1") && text.contains("(unclosed"), "{text}");
        }
        other => panic!("expected BadTarget, got {other:?}"),
    }
    assert!(matches!(
        scorer.score(&sample(""), "x").await,
        Err(ScorerError::MissingTarget { .. })
    ));
}

#[test]
fn unknown_scorer_suggests_the_closest_name() {
    match build(&ScorerSpec::named("choise")) {
        Err(ScorerError::Unknown { name, suggestion }) => {
            assert_eq!(name, "choise");
            assert_eq!(suggestion.as_deref(), Some("choice"));
        }
        Err(other) => panic!("expected Unknown, got {other}"),
        Ok(_) => panic!("expected Unknown, got a scorer"),
    }
    let text = build(&ScorerSpec::named("choise"))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(text.contains("did you mean `choice`?"), "{text}");
    match build(&ScorerSpec::named("bleu")) {
        Err(ScorerError::Unknown { suggestion, .. }) => assert_eq!(suggestion, None),
        _ => panic!("expected Unknown"),
    }
}

#[test]
fn bad_options_name_the_option() {
    let cases: &[(&str, serde_json::Value, &str)] = &[
        ("regex", json!({"pattern": "(unclosed"}), "pattern"),
        ("regex", json!({"pattern": 3}), "pattern"),
        (
            "regex",
            json!({"pattern": "x", "ignore_case": "yes"}),
            "ignore_case",
        ),
        ("regex", json!({"patern": "x"}), "patern"),
        ("includes", json!({"ignorecase": false}), "ignorecase"),
        ("choice", json!({"letters": "ABCD"}), "letters"),
        ("numeric", json!({"tolerance": -1}), "tolerance"),
        ("numeric", json!({"tolerance": "small"}), "tolerance"),
        ("exact", json!({"metric": 1}), "metric"),
    ];
    for (name, options, option) in cases {
        match build(&spec(name, options.clone())) {
            Err(ScorerError::BadOption {
                scorer,
                option: got,
                message,
            }) => {
                assert_eq!(
                    (scorer.as_str(), got.as_str()),
                    (*name, *option),
                    "{message}"
                );
            }
            Err(other) => panic!("{name} {options}: expected BadOption, got {other}"),
            Ok(_) => panic!("{name} {options}: expected BadOption, got a scorer"),
        }
    }
    let typo = build(&spec("includes", json!({"ignorecase": false})))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(typo.contains("did you mean `ignore_case`?"), "{typo}");
}

#[test]
fn every_name_builds_and_accepts_metric() {
    for name in SCORER_NAMES {
        let scorer =
            build(&spec(name, json!({"metric": "acc"}))).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(scorer.name(), *name);
        assert!(known_options(name).is_some());
    }
    assert!(known_options("bleu").is_none());
}
