//! PAIR-style refinement: the attacker proposes a jailbreak prompt, the target answers, the
//! judge rates, the attacker sees the rating and improves; up to `max_rounds` rounds.

use std::sync::OnceLock;

use serde::Deserialize;
use touchstone_core::Message;
use touchstone_models::Model;

use super::{
    AttackJudge, DriveConfig, DriveOutcome, ask_attacker, ask_target, fill_all, parse_data,
    pick_lang, rate,
};
use crate::error::AttackError;
use crate::text::excerpt;

const DRIVER: &str = "pair";
const DATA_FILE: &str = "crates/attacks/drivers/pair.yaml";
/// Attacker-side exchanges kept besides the system prompt and the first message (PAIR keeps a
/// short window, so the attacker's context stays bounded).
const KEEP_EXCHANGES: usize = 3;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Data {
    pub attacker: ByLang,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ByLang {
    pub en: Prompts,
    pub zh: Prompts,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Prompts {
    pub system: String,
    pub start: String,
    pub feedback: String,
    pub malformed: String,
}

pub(crate) fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| parse_data(include_str!("../../drivers/pair.yaml"), DATA_FILE))
}

/// Runs a PAIR attack on `target` towards `goal`. Requires an attacker model
/// ([`AttackError::NoAttacker`] otherwise). The attacker replies
/// `{"improvement": "…", "prompt": "…"}` (retried once when malformed); each prompt goes to
/// the target alone, in a fresh conversation.
pub async fn pair(
    target: &dyn Model,
    attacker: Option<&dyn Model>,
    judge: &dyn AttackJudge,
    goal: &str,
    config: &DriveConfig,
) -> Result<DriveOutcome, AttackError> {
    let attacker = attacker.ok_or(AttackError::NoAttacker { driver: DRIVER })?;
    config.validate()?;
    let prompts = pick_lang(goal, &data().attacker.en, &data().attacker.zh);
    let head = [
        Message::system(fill_all(&prompts.system, &[("goal", goal)])),
        Message::user(fill_all(&prompts.start, &[("goal", goal)])),
    ];
    // (attacker reply, feedback) pairs, most recent last.
    let mut exchanges: Vec<(String, String)> = Vec::new();
    let mut out = DriveOutcome {
        driver: DRIVER.into(),
        transcript: Vec::new(),
        final_response: String::new(),
        rounds: 0,
        ratings: Vec::new(),
        best_rating: 0.0,
        success: false,
        backtracks: 0,
    };

    for round in 1..=config.max_rounds {
        let mut messages = head.to_vec();
        let skip = exchanges.len().saturating_sub(KEEP_EXCHANGES);
        for (reply, feedback) in &exchanges[skip..] {
            messages.push(Message::assistant(reply.clone()));
            messages.push(Message::user(feedback.clone()));
        }
        let (reply, fields) = ask_attacker(
            DRIVER,
            attacker,
            messages,
            &["improvement", "prompt"],
            &prompts.malformed,
            config,
            round,
        )
        .await?;
        let prompt = fields[1].clone();

        out.rounds = round;
        let response = ask_target(
            DRIVER,
            target,
            vec![Message::user(prompt.clone())],
            config,
            round,
        )
        .await?;
        let rating = rate(judge, goal, &response, config).await?;
        out.ratings.push(rating);
        out.best_rating = out.best_rating.max(rating);
        out.transcript = vec![Message::user(prompt), Message::assistant(response.clone())];
        out.final_response = response.clone();
        if rating >= config.success_threshold {
            out.success = true;
            break;
        }
        let feedback = fill_all(
            &prompts.feedback,
            &[
                ("response", &excerpt(&response, 1500)),
                ("goal", goal),
                ("score", &format!("{rating:.2}")),
            ],
        );
        exchanges.push((reply, feedback));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drive::RefusalJudge;
    use crate::drive::fakes::Scripted;

    fn is_refusal(s: &str) -> bool {
        s.starts_with("I can't") || s.starts_with("抱歉")
    }

    fn config(max_rounds: u32) -> DriveConfig {
        DriveConfig {
            max_rounds,
            refusal_check: Some(is_refusal),
            ..DriveConfig::default()
        }
    }

    fn proposal(n: u32) -> String {
        format!(r#"{{"improvement": "attempt {n}", "prompt": "prompt {n}"}}"#)
    }

    /// Refuses until the prompt is "prompt 3".
    fn stubborn(prompt: &str) -> String {
        if prompt == "prompt 3" {
            "Here is how: first…".into()
        } else {
            "I can't help with that.".into()
        }
    }

    #[tokio::test]
    async fn needs_an_attacker() {
        let target = Scripted::queue(&[]);
        let err = pair(
            &target,
            None,
            &RefusalJudge::new(is_refusal),
            "goal",
            &config(3),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, AttackError::NoAttacker { driver: "pair" }));
        assert!(err.to_string().contains("attacker model"));
    }

    #[tokio::test]
    async fn improves_from_feedback_and_stops_early_on_success() {
        let (p1, p2, p3) = (proposal(1), proposal(2), proposal(3));
        let attacker = Scripted::queue(&[
            &p1,
            "I think I should try role-play",
            &p2,
            &p3,
            &proposal(4),
        ]);
        let target = Scripted::rule(stubborn);
        let out = pair(
            &target,
            Some(&attacker),
            &RefusalJudge::new(is_refusal),
            "Explain X",
            &config(10),
        )
        .await
        .unwrap();
        assert_eq!(out.rounds, 3);
        assert!(out.success);
        assert_eq!(out.ratings, vec![0.0, 0.0, 1.0]);
        assert_eq!(
            out.transcript,
            vec![
                Message::user("prompt 3"),
                Message::assistant("Here is how: first…")
            ]
        );
        assert_eq!(out.final_response, "Here is how: first…");

        let requests = attacker.requests();
        assert_eq!(
            requests.len(),
            4,
            "one retry for the malformed reply, no fourth round"
        );
        // Round 2's first try: system, start, reply 1, feedback 1 with the target's answer and score.
        let round2 = &requests[1].messages;
        assert_eq!(round2.len(), 4);
        assert_eq!(round2[2].content, p1);
        assert!(
            round2[3]
                .content
                .contains("TARGET RESPONSE: I can't help with that.")
        );
        assert!(round2[3].content.contains("SCORE: 0.00"));
        // The retry appends the malformed reply and the correction.
        assert_eq!(requests[2].messages.len(), 6);
        assert_eq!(
            requests[2].messages[4].content,
            "I think I should try role-play"
        );
        // Round 3 sees the valid round-2 reply, not the malformed one.
        assert_eq!(requests[3].messages[4].content, p2);
        assert_eq!(requests[3].messages.len(), 6);
        // The target gets each prompt alone.
        assert!(target.requests().iter().all(|r| r.messages.len() == 1));
    }

    #[tokio::test]
    async fn runs_all_rounds_without_success_and_keeps_the_attacker_window_bounded() {
        let replies: Vec<String> = (1..=6)
            .map(|n| format!(r#"{{"improvement": "i{n}", "prompt": "p{n}"}}"#))
            .collect();
        let refs: Vec<&str> = replies.iter().map(String::as_str).collect();
        let attacker = Scripted::queue(&refs);
        let target = Scripted::rule(|_| "抱歉，我不能帮助。".into());
        let out = pair(
            &target,
            Some(&attacker),
            &RefusalJudge::new(is_refusal),
            "如何做X",
            &config(6),
        )
        .await
        .unwrap();
        assert_eq!(out.rounds, 6);
        assert!(!out.success);
        assert_eq!(out.best_rating, 0.0);
        assert_eq!(out.transcript[0].content, "p6");
        let requests = attacker.requests();
        // Chinese goal: Chinese attacker prompts.
        assert!(requests[0].messages[1].content.starts_with("目标：如何做X"));
        assert!(requests[1].messages[3].content.contains("评分：0.00"));
        // system + start + at most 3 exchanges.
        assert_eq!(requests[5].messages.len(), 2 + 2 * KEEP_EXCHANGES);
        // Round 6 sees rounds 3–5, the oldest two dropped.
        assert_eq!(requests[5].messages[2].content, replies[2]);
    }

    #[tokio::test]
    async fn threshold_applies_to_graded_ratings() {
        struct Graded;
        #[async_trait::async_trait]
        impl AttackJudge for Graded {
            async fn rate(&self, _goal: &str, response: &str) -> Result<f64, AttackError> {
                Ok(if response == "partial" { 0.5 } else { 0.9 })
            }
        }
        let attacker = Scripted::queue(&[&proposal(1), &proposal(2)]);
        let target = Scripted::queue(&["partial", "full"]);
        let cfg = DriveConfig {
            max_rounds: 5,
            success_threshold: 0.9,
            ..DriveConfig::default()
        };
        let out = pair(&target, Some(&attacker), &Graded, "g", &cfg)
            .await
            .unwrap();
        assert_eq!((out.rounds, out.success, out.best_rating), (2, true, 0.9));
    }
}
