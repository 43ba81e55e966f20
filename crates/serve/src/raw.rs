//! Raw-prompt completion: what `/v1/completions` needs and the [`Model`] trait does not offer.
//!
//! [`Model`] knows chat generation (the model's chat template is applied) and the *total*
//! log-likelihood of a continuation given a context. `/v1/completions` needs two other things:
//! generation from a prompt exactly as given, without a chat template, and, for lm-evaluation-
//! harness's `local-completions` log-likelihoods (`echo: true, logprobs: 1, max_tokens: 0|1`),
//! the log-probability of *every prompt token*, split the way the model tokenises it: lm-eval
//! slices `token_logprobs[ctxlen:-1]` with `ctxlen` counted by its own tokenizer, so no sum over
//! a context/continuation split guessed by the server can stand in for it.
//!
//! A backend that can do this (the local llama.cpp model, once it exposes tokens and per-token
//! scores) implements [`RawCompletions`] and is handed to [`crate::ServeConfig::with_raw`].
//! Without one, `/v1/completions` answers 400 saying which of the two is missing.
//!
//! [`Model`]: touchstone_models::Model

use async_trait::async_trait;
use touchstone_core::{FinishReason, GenerateParams, Usage};
use touchstone_models::ModelError;

/// One prompt of a `/v1/completions` request.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRequest {
    /// The prompt, used verbatim: no chat template.
    pub prompt: String,
    /// `max_tokens` is always set (OpenAI's default is 16); 0 means score only.
    pub params: GenerateParams,
    /// Whether the log-probabilities must cover the prompt's tokens too.
    pub echo: bool,
    /// `Some(n)`: return log-probabilities, with the `n` most likely alternatives per token.
    pub logprobs: Option<u32>,
}

/// One token and its log-probability given everything before it.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenLogprob {
    /// The token's text, as it appears in the prompt or completion.
    pub text: String,
    /// `None` only for the very first prompt token, which has nothing to be conditioned on.
    pub logprob: Option<f64>,
    /// The most likely alternatives at this position, `(text, logprob)`, best first.
    pub top: Vec<(String, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RawCompletion {
    /// The generated text only (the server prepends the prompt when echoing).
    pub text: String,
    pub finish_reason: FinishReason,
    pub usage: Usage,
    /// When the request asked for them: the prompt's tokens (if `echo`), then the generated
    /// tokens, in order; their texts concatenated give back the echoed text.
    pub logprobs: Option<Vec<TokenLogprob>>,
}

/// A model that can complete raw prompts and score them token by token.
#[async_trait]
pub trait RawCompletions: Send + Sync {
    async fn complete(&self, request: &RawRequest) -> Result<RawCompletion, ModelError>;
}
