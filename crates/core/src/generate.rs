//! What is sent to a model and what comes back.

use serde::{Deserialize, Serialize};

use crate::message::Message;

/// Generation parameters. `None` leaves the choice to the provider's default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

impl GenerateParams {
    /// Fill every unset field of `self` from `defaults`.
    pub fn or(mut self, defaults: &GenerateParams) -> Self {
        self.max_tokens = self.max_tokens.or(defaults.max_tokens);
        self.temperature = self.temperature.or(defaults.temperature);
        self.top_p = self.top_p.or(defaults.top_p);
        if self.stop.is_empty() {
            self.stop = defaults.stop.clone();
        }
        self.seed = self.seed.or(defaults.seed);
        self
    }
}

/// One chat generation request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerateRequest {
    pub messages: Vec<Message>,
    pub params: GenerateParams,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    Stop,
    Length,
    ContentFilter,
    Other,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
}

/// A model's answer to one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    pub text: String,
    pub finish_reason: FinishReason,
    #[serde(default)]
    pub usage: Usage,
    /// True when the answer came from the response cache rather than the model.
    #[serde(default)]
    pub cached: bool,
}

impl Completion {
    pub fn new(text: impl Into<String>) -> Self {
        Completion {
            text: text.into(),
            finish_reason: FinishReason::Stop,
            usage: Usage::default(),
            cached: false,
        }
    }
}
