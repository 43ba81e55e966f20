//! The model providers Touchstone ships, as the [`Providers`] factory that a host (the command
//! line, the server) hands to the engine:
//!
//! - `openai:NAME@URL`: any OpenAI-compatible endpoint, through `touchstone-models`, checked to
//!   answer before a run starts;
//! - `local:NAME|PATH`: a GGUF model through llama.cpp (`touchstone-local`), with the `local`
//!   feature (on by default). Without it, a local spec is refused with a clear error.
//!
//! A new provider is a new arm here (and a `ModelSpec` variant in `touchstone-core`); the engine
//! does not change.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use touchstone_core::ModelSpec;
use touchstone_engine::EngineError;
use touchstone_engine::config::ExecOptions;
use touchstone_engine::providers::{LayerPolicy, ProvidedModel, Providers};
use touchstone_models::ModelError;
use touchstone_models::openai::OpenAiModel;

/// Default requests in flight for an HTTP model.
pub const DEFAULT_HTTP_CONCURRENCY: usize = 8;
/// Default per-attempt deadline for HTTP models.
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(120);
/// Local models decode this many sequences per batch by default.
pub const DEFAULT_LOCAL_BATCH: usize = 16;

/// Every provider this build has.
#[derive(Debug, Clone, Copy, Default)]
pub struct Standard;

impl Standard {
    /// The factory as the engine takes it.
    pub fn shared() -> Arc<dyn Providers> {
        Arc::new(Standard)
    }
}

#[async_trait]
impl Providers for Standard {
    async fn open(
        &self,
        spec: &ModelSpec,
        exec: &ExecOptions,
    ) -> Result<ProvidedModel, EngineError> {
        match spec {
            ModelSpec::OpenAi { base_url, .. } => open_openai(spec, base_url, exec).await,
            ModelSpec::Local { source } => open_local(spec, source, exec).await,
        }
    }
}

/// Every provider this build has, with the API keys of `openai:` models given by the host per
/// model label instead of read from the environment: the center decrypts a registered model's
/// key for the run that uses it, and no other process or run sees it. A model without a key
/// here is opened as [`Standard`] would.
pub struct Keyed {
    keys: std::collections::HashMap<String, String>,
}

impl Keyed {
    /// `keys`: model label (`openai:NAME@URL`) → API key.
    pub fn shared(keys: std::collections::HashMap<String, String>) -> Arc<dyn Providers> {
        Arc::new(Keyed { keys })
    }
}

impl std::fmt::Debug for Keyed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The keys themselves never reach a log.
        f.debug_struct("Keyed")
            .field("models", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[async_trait]
impl Providers for Keyed {
    async fn open(
        &self,
        spec: &ModelSpec,
        exec: &ExecOptions,
    ) -> Result<ProvidedModel, EngineError> {
        match (spec, self.keys.get(&spec.label())) {
            (
                ModelSpec::OpenAi {
                    model, base_url, ..
                },
                Some(key),
            ) => {
                let opened = OpenAiModel::new(model, base_url, Some(key.clone()));
                open_openai_model(opened, spec, base_url, exec).await
            }
            _ => Standard.open(spec, exec).await,
        }
    }
}

async fn open_openai(
    spec: &ModelSpec,
    base_url: &str,
    exec: &ExecOptions,
) -> Result<ProvidedModel, EngineError> {
    open_openai_model(OpenAiModel::from_spec(spec), spec, base_url, exec).await
}

async fn open_openai_model(
    model: Result<OpenAiModel, ModelError>,
    spec: &ModelSpec,
    base_url: &str,
    exec: &ExecOptions,
) -> Result<ProvidedModel, EngineError> {
    let model = model.map_err(|error| EngineError::Model {
        model: spec.label(),
        error,
    })?;
    preflight(&model, spec, base_url).await?;
    Ok(ProvidedModel {
        model: Arc::new(model),
        policy: LayerPolicy {
            concurrency: exec.concurrency.unwrap_or(DEFAULT_HTTP_CONCURRENCY).max(1),
            adaptive: true,
            max_retries: exec.max_retries,
            request_timeout: Some(exec.request_timeout().unwrap_or(DEFAULT_HTTP_TIMEOUT)),
        },
    })
}

/// One cheap request before the run: an endpoint that cannot be reached is one clear error.
async fn preflight(
    model: &OpenAiModel,
    spec: &ModelSpec,
    base_url: &str,
) -> Result<(), EngineError> {
    let unreachable = |reason: String| EngineError::Unreachable {
        model: spec.label(),
        url: base_url.to_string(),
        reason,
    };
    match tokio::time::timeout(Duration::from_secs(15), model.list_models()).await {
        Err(_) => Err(unreachable("no answer within 15 s".into())),
        Ok(Err(ModelError::Connection(reason))) => Err(unreachable(reason)),
        // Some servers do not list models, or guard the list differently: not a reason to stop.
        Ok(_) => Ok(()),
    }
}

#[cfg(feature = "local")]
async fn open_local(
    spec: &ModelSpec,
    source: &str,
    exec: &ExecOptions,
) -> Result<ProvidedModel, EngineError> {
    use touchstone_local::{LocalModel, LocalOptions};

    let source = source.to_string();
    let label = spec.label();
    let batch = exec.concurrency.unwrap_or(DEFAULT_LOCAL_BATCH).max(1);
    let threads = exec.threads;
    // Fetching and loading a GGUF file is slow, blocking work.
    let model = tokio::task::spawn_blocking(move || -> Result<LocalModel, EngineError> {
        let provider = |e: touchstone_local::LocalError| EngineError::Provider(Box::new(e));
        let path = touchstone_local::catalogue::resolve(&source).map_err(provider)?;
        let mut options = LocalOptions {
            max_batch_sequences: batch,
            ..LocalOptions::default()
        };
        if let Some(t) = threads {
            options.threads = t.max(1);
        }
        Ok(LocalModel::load(&path, options)
            .map_err(provider)?
            .with_label(label))
    })
    .await
    .map_err(|e| EngineError::Internal(format!("loading {spec}: {e}")))??;
    Ok(ProvidedModel {
        model: Arc::new(model),
        policy: LayerPolicy {
            concurrency: batch,
            adaptive: false,
            max_retries: 0,
            request_timeout: exec.request_timeout(),
        },
    })
}

#[cfg(not(feature = "local"))]
async fn open_local(
    spec: &ModelSpec,
    _source: &str,
    _exec: &ExecOptions,
) -> Result<ProvidedModel, EngineError> {
    Err(EngineError::Provider(
        format!(
            "{spec}: this build of Touchstone has no local models (built without the `local` \
             feature); use an openai: endpoint / 此版本不含本地模型"
        )
        .into(),
    ))
}
