//! Property: no scorer panics on arbitrary answers, targets and choices.

mod common;

use common::block_on;
use proptest::prelude::*;
use touchstone_core::{Sample, ScorerSpec, Target};
use touchstone_scorers::{
    SCORER_NAMES, build, extract_choice, extract_number, parse_target_number,
};

/// Strings that mix the characters the extractors look at with arbitrary Unicode.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        r"[ A-Ea-e0-9.,:()$#/\-]{0,40}",
        r"(答案|选|正确|####|answer is|\\boxed\{|Ｂ|（|）|：|。|[ABCD]|[0-9]|,|-|/| ){0,20}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn scorers_never_panic(
        answer in text(),
        targets in prop::collection::vec(text(), 0..3),
        choices in prop::option::of(prop::collection::vec(text(), 0..6)),
    ) {
        let sample = Sample {
            id: "p".into(),
            input: touchstone_core::Input::Text("q".into()),
            target: Target(targets),
            choices,
            cluster: None,
            metadata: serde_json::Map::new(),
        };
        for name in SCORER_NAMES {
            let scorer = build(&ScorerSpec::named(*name)).map_err(|e| TestCaseError::fail(e.to_string()))?;
            if let Ok(score) = block_on(scorer.score(&sample, &answer)) {
                prop_assert!(score.value == 0.0 || score.value == 1.0);
                prop_assert_eq!(score.scorer.as_str(), *name);
            }
        }
        let _ = extract_choice(&answer, sample.choices.as_deref());
        let _ = extract_number(&answer);
        let _ = parse_target_number(&answer);
    }

    #[test]
    fn extracted_letters_are_within_the_choices(answer in text(), n in 1usize..8) {
        let choices: Vec<String> = (0..n).map(|i| format!("option text {i}")).collect();
        if let Some(letter) = extract_choice(&answer, Some(&choices)) {
            prop_assert!(letter.is_ascii_uppercase() && ((letter as u8 - b'A') as usize) < n, "{letter}");
        }
    }
}
