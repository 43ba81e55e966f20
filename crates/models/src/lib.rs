//! Models under test, seen through one trait.
//!
//! The engine knows models only as `Arc<dyn Model>` (invariant 4). Providers implement
//! [`Model`]; cross-cutting concerns (concurrency, rate limits, retries, timeouts, caching) are
//! layers: structs that wrap an `Arc<dyn Model>` and are themselves a `Model`.

pub mod error;
pub mod layers;
pub mod openai;

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
pub use touchstone_core::{Completion, GenerateRequest, RawCompletion, RawRequest, TokenLogprob};

pub use error::ModelError;
pub use layers::{LayerConfig, ResponseCache, cache_key, layered};
pub use openai::{ApiKey, OpenAiModel};

/// Who a model is, for run records, reports and cache keys. Carries no secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ModelIdentity {
    /// The spec label, e.g. `openai:qwen@http://…/v1` or `local:smollm2`.
    pub label: String,
    /// `openai` or `local`.
    pub provider: String,
    /// The model's own name (API model name, or GGUF file name).
    pub name: String,
    /// A content digest where one is known (SHA-256 of a GGUF file), else None.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// Log-likelihood request: for each continuation, the sum of log-probabilities of its tokens
/// given the context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoglikelihoodRequest {
    pub context: String,
    pub continuations: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Loglikelihood {
    /// Sum of token log-probabilities of the continuation.
    pub logprob: f64,
    /// Whether greedy decoding from the context would produce exactly this continuation.
    pub is_greedy: bool,
    pub tokens: u32,
}

/// A model under test.
#[async_trait]
pub trait Model: Send + Sync {
    fn identity(&self) -> &ModelIdentity;

    /// Chat generation.
    async fn generate(&self, request: &GenerateRequest) -> Result<Completion, ModelError>;

    /// Log-likelihood of continuations, where the backend can compute it.
    async fn loglikelihood(
        &self,
        request: &LoglikelihoodRequest,
    ) -> Result<Vec<Loglikelihood>, ModelError> {
        let _ = request;
        Err(ModelError::Unsupported(format!(
            "{} cannot compute log-likelihoods",
            self.identity().label
        )))
    }

    /// Completion of a prompt used verbatim (no chat template), with per-token
    /// log-probabilities of the prompt and the generated tokens where asked: what an
    /// OpenAI-compatible `/v1/completions` endpoint serves. Backends that see only chat
    /// (HTTP chat providers) keep this default.
    async fn complete_raw(&self, request: &RawRequest) -> Result<RawCompletion, ModelError> {
        let _ = request;
        Err(ModelError::Unsupported(format!(
            "{} cannot complete a raw prompt with per-token log-probabilities",
            self.identity().label
        )))
    }
}

pub type SharedModel = Arc<dyn Model>;
