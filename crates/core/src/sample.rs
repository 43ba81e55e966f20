//! A sample: one question of a dataset, with Inspect's field names.

use serde::{Deserialize, Serialize};

use crate::message::Message;

/// What the model under test is asked: plain text (one user turn) or a whole conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Input {
    Text(String),
    Messages(Vec<Message>),
}

impl Input {
    /// The text of the input: the string itself, or the last user message of a conversation.
    pub fn text(&self) -> &str {
        match self {
            Input::Text(t) => t,
            Input::Messages(ms) => ms
                .iter()
                .rev()
                .find(|m| m.role == crate::Role::User)
                .map(|m| m.content.as_str())
                .unwrap_or(""),
        }
    }
}

/// The expected answer of a sample. Inspect allows one string or a list of acceptable strings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "TargetRepr", into = "TargetRepr")]
pub struct Target(pub Vec<String>);

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum TargetRepr {
    One(String),
    Many(Vec<String>),
}

impl From<TargetRepr> for Target {
    fn from(r: TargetRepr) -> Self {
        match r {
            TargetRepr::One(s) => Target(vec![s]),
            TargetRepr::Many(v) => Target(v),
        }
    }
}

impl From<Target> for TargetRepr {
    fn from(t: Target) -> Self {
        if t.0.len() == 1 {
            TargetRepr::One(t.0.into_iter().next().unwrap_or_default())
        } else {
            TargetRepr::Many(t.0)
        }
    }
}

impl Target {
    pub fn one(s: impl Into<String>) -> Self {
        Target(vec![s.into()])
    }
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|s| s.is_empty())
    }
    /// The first acceptable answer, or "".
    pub fn first(&self) -> &str {
        self.0.first().map(String::as_str).unwrap_or("")
    }
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

/// One item of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Stable id: the dataset's own id, else a content hash (see `touchstone-data`).
    pub id: String,
    pub input: Input,
    #[serde(default, skip_serializing_if = "Target::is_empty")]
    pub target: Target,
    /// Option texts for multiple choice, shown to the model as A, B, C, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<String>>,
    /// Samples that share a cluster (e.g. one passage, one template) are not independent;
    /// statistics use clustered standard errors over them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

impl Sample {
    pub fn new(id: impl Into<String>, input: impl Into<String>, target: impl Into<String>) -> Self {
        Sample {
            id: id.into(),
            input: Input::Text(input.into()),
            target: Target::one(target),
            choices: None,
            cluster: None,
            metadata: serde_json::Map::new(),
        }
    }
}
