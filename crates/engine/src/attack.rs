//! The engine's side of attacks: which variant of a sample is sent (a single-turn attack applied
//! to its last user turn, or a multi-turn driver), and the judge a driver rates answers with.

use std::collections::BTreeMap;
use std::sync::Arc;

use touchstone_attacks::{AttackError, AttackJudge, Catalogue, DRIVER_NAMES, DriveConfig, RefusalJudge};
use touchstone_core::{GenerateParams, Message, Role, Sample};
use touchstone_models::SharedModel;
use touchstone_scorers::{JudgeScorer, RefusalLabel, Scorer};

/// What one variant of one sample sends to the model under test.
pub(crate) enum Prepared {
    /// One request with these messages.
    Messages(Vec<Message>),
    /// A multi-turn driver (`crescendo`, `pair`) pursuing the sample's text as its goal.
    Driver { name: String, goal: String },
    /// The attack does not apply to this sample (a Chinese obfuscation of English text): the
    /// variant is not planned at all.
    NotApplicable,
}

/// Each sample gets its own draw of an attack's randomness, the same on every resume.
fn attack_seed(seed: u64, sample_id: &str, variant: &str) -> u64 {
    let id = touchstone_core::WorkItem::id_of("", "", sample_id, variant, 0);
    let head = u64::from_str_radix(&id.0[..16], 16).unwrap_or(0);
    seed ^ head
}

/// The variant `variant` ("" = as written) of a sample whose own messages are `base`. An
/// attack transforms the last user turn; the system prompt and few-shot turns stay in front.
pub(crate) fn prepare(catalogue: &Catalogue, variant: &str, base: &[Message], sample_id: &str, seed: u64) -> Result<Prepared, String> {
    if variant.is_empty() {
        return Ok(Prepared::Messages(base.to_vec()));
    }
    let last_user = base.iter().rposition(|m| m.role == Role::User).ok_or("the sample has no user turn to attack")?;
    if DRIVER_NAMES.contains(&variant) {
        return Ok(Prepared::Driver { name: variant.to_string(), goal: base[last_user].content.clone() });
    }
    let attack = catalogue.get(variant).ok_or_else(|| format!("unknown attack `{variant}`"))?;
    match attack.apply(&base[last_user].content, attack_seed(seed, sample_id, variant)) {
        Ok(v) => {
            let mut messages = base[..last_user].to_vec();
            messages.extend(v.messages);
            messages.extend(base[last_user + 1..].iter().cloned());
            Ok(Prepared::Messages(messages))
        }
        Err(e) if e.is_not_applicable() => Ok(Prepared::NotApplicable),
        Err(e) => Err(format!("attack {variant}: {e}")),
    }
}

/// Whether a variant is planned for a sample (the execution pass and the count agree on it).
pub(crate) fn applies(catalogue: &Catalogue, variant: &str, base: &[Message], sample_id: &str, seed: u64) -> bool {
    !matches!(prepare(catalogue, variant, base, sample_id, seed), Ok(Prepared::NotApplicable))
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
        let score = self.0.score(&sample, response).await.map_err(|e| AttackError::Config(format!("judge: {e}")))?;
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
            let options: BTreeMap<String, serde_json::Value> = [("ask".to_string(), serde_json::Value::String("safe".into()))].into();
            Arc::new(JudgeRater(JudgeScorer::from_options(&options, Some(j.clone())).map_err(|e| e.to_string())?))
        }
        None => Arc::new(RefusalJudge::new(is_refusal)),
    };
    let config = DriveConfig { seed, params: params.clone(), refusal_check: Some(is_refusal), ..DriveConfig::default() };
    let attacker = models.attacker.as_deref().map(|m| m as &dyn touchstone_models::Model);
    let outcome = match name {
        "crescendo" => touchstone_attacks::crescendo(target.as_ref(), attacker, judge.as_ref(), goal, &config).await,
        "pair" => touchstone_attacks::pair(target.as_ref(), attacker, judge.as_ref(), goal, &config).await,
        other => return Err(format!("unknown driver `{other}`")),
    }
    .map_err(|e| format!("{name}: {e}"))?;
    let account = format!(
        "{name}: {} round(s), best rating {:.2}, {}",
        outcome.rounds,
        outcome.best_rating,
        if outcome.success { "succeeded / 攻击成功" } else { "did not succeed / 未成功" }
    );
    Ok((outcome.final_response, account))
}
