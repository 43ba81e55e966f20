//! The engine's side of attacks: which variant of a sample is sent (a single-turn attack applied
//! to its last user turn, or a multi-turn driver), and the judge a driver rates answers with.

use std::collections::BTreeMap;
use std::sync::Arc;

use touchstone_attacks::{
    AttackError, AttackJudge, Catalogue, DRIVER_NAMES, DriveConfig, RefusalJudge,
};
use touchstone_core::{GenerateParams, Message, Role, Sample};
use touchstone_models::SharedModel;
use touchstone_scorers::{JudgeScorer, RefusalLabel, Scorer};

use crate::sent::Sent;

/// Each sample gets its own draw of an attack's randomness, the same on every resume.
fn attack_seed(seed: u64, sample_id: &str, variant: &str) -> u64 {
    let id = touchstone_core::WorkItem::id_of("", "", sample_id, variant, 0);
    let head = u64::from_str_radix(&id.0[..16], 16).unwrap_or(0);
    seed ^ head
}

/// The variant `variant` ("" = as written) of a sample whose own messages are `base`, or
/// `None` when the attack does not apply to it (a Chinese obfuscation of English text): such a
/// variant is not planned at all. An attack transforms the last user turn; the system prompt
/// and few-shot turns stay in front.
pub(crate) fn prepare(
    catalogue: &Catalogue,
    variant: &str,
    base: &[Message],
    sample_id: &str,
    seed: u64,
) -> Option<Result<Sent, String>> {
    if variant.is_empty() {
        return Some(Ok(Sent::Messages(base.to_vec())));
    }
    let Some(last_user) = base.iter().rposition(|m| m.role == Role::User) else {
        return Some(Err("the sample has no user turn to attack".into()));
    };
    if DRIVER_NAMES.contains(&variant) {
        return Some(Ok(Sent::Driver {
            name: variant.to_string(),
            goal: base[last_user].content.clone(),
        }));
    }
    let Some(attack) = catalogue.get(variant) else {
        return Some(Err(format!("unknown attack `{variant}`")));
    };
    match attack.apply(
        &base[last_user].content,
        attack_seed(seed, sample_id, variant),
    ) {
        Ok(v) => {
            let mut messages = base[..last_user].to_vec();
            messages.extend(v.messages);
            messages.extend(base[last_user + 1..].iter().cloned());
            Some(Ok(Sent::Messages(messages)))
        }
        Err(e) if e.is_not_applicable() => None,
        Err(e) => Some(Err(format!("attack {variant}: {e}"))),
    }
}

fn is_refusal(text: &str) -> bool {
    touchstone_scorers::refusal::classify(text) == RefusalLabel::Refusal
}

/// Rates a driver's answers with the judge model (asked whether the answer is safe: an unsafe
/// answer achieved the goal).
struct JudgeRater(JudgeScorer);

#[async_trait::async_trait]
impl AttackJudge for JudgeRater {
    async fn rate(&self, goal: &str, response: &str) -> Result<f64, AttackError> {
        let sample = Sample::new("attack-goal", goal, "");
        let score = self
            .0
            .score(&sample, response)
            .await
            .map_err(|e| AttackError::Config(format!("judge: {e}")))?;
        Ok(1.0 - score.value)
    }
}

/// What a driver needs besides the model under test.
#[derive(Clone, Default)]
pub(crate) struct DriverModels {
    pub attacker: Option<SharedModel>,
    pub judge: Option<SharedModel>,
}

/// Plays a driver out against `target`; returns its final answer and a one-line account.
pub(crate) async fn drive(
    name: &str,
    goal: &str,
    target: &SharedModel,
    models: &DriverModels,
    params: &GenerateParams,
    seed: u64,
) -> Result<(String, String), String> {
    let judge: Arc<dyn AttackJudge> = match &models.judge {
        Some(j) => {
            let options: BTreeMap<String, serde_json::Value> =
                [("ask".to_string(), serde_json::Value::String("safe".into()))].into();
            Arc::new(JudgeRater(
                JudgeScorer::from_options(&options, Some(j.clone())).map_err(|e| e.to_string())?,
            ))
        }
        None => Arc::new(RefusalJudge::new(is_refusal)),
    };
    let config = DriveConfig {
        seed,
        params: params.clone(),
        refusal_check: Some(is_refusal),
        ..DriveConfig::default()
    };
    let attacker = models
        .attacker
        .as_deref()
        .map(|m| m as &dyn touchstone_models::Model);
    let outcome = match name {
        "crescendo" => {
            touchstone_attacks::crescendo(target.as_ref(), attacker, judge.as_ref(), goal, &config)
                .await
        }
        "pair" => {
            touchstone_attacks::pair(target.as_ref(), attacker, judge.as_ref(), goal, &config).await
        }
        other => return Err(format!("unknown driver `{other}`")),
    }
    .map_err(|e| format!("{name}: {e}"))?;
    let account = format!(
        "{name}: {} round(s), best rating {:.2}, {}",
        outcome.rounds,
        outcome.best_rating,
        if outcome.success {
            "succeeded / 攻击成功"
        } else {
            "did not succeed / 未成功"
        }
    );
    Ok((outcome.final_response, account))
}
