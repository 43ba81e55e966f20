//! Raw-prompt completion: what an OpenAI `/v1/completions` endpoint needs beyond chat.
//!
//! Chat generation applies the model's chat template, and `loglikelihood` gives only the *total*
//! log-probability of a continuation. `/v1/completions` needs two other things: generation from
//! a prompt exactly as given, without a chat template, and, for lm-evaluation-harness's
//! `local-completions` log-likelihoods (`echo: true, logprobs: 1, max_tokens: 0|1`), the
//! log-probability of *every prompt token*, split the way the model tokenises it: lm-eval slices
//! `token_logprobs[ctxlen:-1]` with `ctxlen` counted by its own tokenizer, so no sum over a
//! context/continuation split guessed by a server can stand in for it.

use serde::{Deserialize, Serialize};

use crate::generate::{FinishReason, GenerateParams, Usage};

/// Most alternatives per token a request may ask for (OpenAI's limit).
pub const MAX_TOP_LOGPROBS: u32 = 5;

/// One prompt of a `/v1/completions` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawRequest {
    /// The prompt, used verbatim: no chat template.
    pub prompt: String,
    /// `max_tokens` is always set by the server (OpenAI's default is 16); 0 means score only.
    pub params: GenerateParams,
    /// Whether the log-probabilities must cover the prompt's tokens too.
    pub echo: bool,
    /// `Some(n)`: return log-probabilities, with the `n` most likely alternatives per token.
    pub logprobs: Option<u32>,
}

/// One token and its log-probability given everything before it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenLogprob {
    /// The token's text, as it appears in the prompt or completion.
    pub text: String,
    /// `None` only for the very first prompt token, which has nothing to be conditioned on.
    pub logprob: Option<f64>,
    /// The most likely alternatives at this position, `(text, logprob)`, best first.
    pub top: Vec<(String, f64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawCompletion {
    /// The generated text only (a server prepends the prompt when echoing).
    pub text: String,
    pub finish_reason: FinishReason,
    pub usage: Usage,
    /// When the request asked for them: the prompt's tokens (if `echo`), then the generated
    /// tokens, in order; their texts concatenated give back the echoed text.
    pub logprobs: Option<Vec<TokenLogprob>>,
}
