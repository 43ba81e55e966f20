//! Scripted models for the driver tests: each answers from a queue, or by a rule on the last
//! user message, and records every request it gets.

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;
use touchstone_core::{Completion, GenerateRequest};
use touchstone_models::{Model, ModelError, ModelIdentity};

pub(crate) struct Scripted {
    identity: ModelIdentity,
    replies: Mutex<VecDeque<String>>,
    rule: Option<fn(&str) -> String>,
    pub(crate) requests: Mutex<Vec<GenerateRequest>>,
}

impl Scripted {
    /// Answers with `replies` in order; an error once they run out.
    pub(crate) fn queue(replies: &[&str]) -> Self {
        Self::make(replies.iter().map(|s| s.to_string()).collect(), None)
    }

    /// Answers each request by `rule(last user message)`.
    pub(crate) fn rule(rule: fn(&str) -> String) -> Self {
        Self::make(VecDeque::new(), Some(rule))
    }

    fn make(replies: VecDeque<String>, rule: Option<fn(&str) -> String>) -> Self {
        Scripted {
            identity: ModelIdentity {
                label: "scripted".into(),
                provider: "test".into(),
                name: "scripted".into(),
                digest: None,
            },
            replies: Mutex::new(replies),
            rule,
            requests: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn requests(&self) -> Vec<GenerateRequest> {
        self.requests.lock().unwrap().clone()
    }
}

#[async_trait]
impl Model for Scripted {
    fn identity(&self) -> &ModelIdentity {
        &self.identity
    }

    async fn generate(&self, request: &GenerateRequest) -> Result<Completion, ModelError> {
        self.requests.lock().unwrap().push(request.clone());
        if let Some(rule) = self.rule {
            let last = request
                .messages
                .last()
                .map(|m| m.content.as_str())
                .unwrap_or("");
            return Ok(Completion::new(rule(last)));
        }
        match self.replies.lock().unwrap().pop_front() {
            Some(r) => Ok(Completion::new(r)),
            None => Err(ModelError::Config("the script ran out of replies".into())),
        }
    }
}
