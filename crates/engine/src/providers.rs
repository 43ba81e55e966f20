//! Opening the models under test: a provider for each spec, wrapped in the layers
//! (cache, retry, concurrency, rate limit, timeout). The only place that knows which providers
//! exist; the rest of the engine sees `Arc<dyn Model>`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use touchstone_core::ModelSpec;
use touchstone_local::{LocalModel, LocalOptions};
use touchstone_models::layers::{LayerConfig, ResponseCache, layered};
use touchstone_models::openai::OpenAiModel;
use touchstone_models::{ModelError, SharedModel};
use touchstone_store::Store;

use crate::EngineError;
use crate::config::ExecOptions;

/// Default requests in flight for an HTTP model.
pub const DEFAULT_HTTP_CONCURRENCY: usize = 8;
/// Default per-attempt deadline for HTTP models.
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(120);
/// Local models decode this many sequences per batch by default.
pub const DEFAULT_LOCAL_BATCH: usize = 16;

/// An opened, layered model and the number of items the engine keeps in flight for it.
pub struct OpenedModel {
    pub model: SharedModel,
    pub concurrency: usize,
}

/// The response cache, kept in the store.
struct StoreCache(Arc<dyn Store>);

#[async_trait]
impl ResponseCache for StoreCache {
    async fn get(&self, key: &str) -> Option<String> {
        match self.0.cache_get(key) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!("response cache read failed: {e}");
                None
            }
        }
    }
    async fn put(&self, key: &str, value: &str) {
        if let Err(e) = self.0.cache_put(key, value) {
            tracing::warn!("response cache write failed: {e}");
        }
    }
}

/// Open one model under test. HTTP endpoints are checked for reachability first, so an
/// unreachable server is one clear error rather than thousands of failed items.
pub async fn open(
    spec: &ModelSpec,
    exec: &ExecOptions,
    store: Arc<dyn Store>,
) -> Result<OpenedModel, EngineError> {
    let cache: Option<Arc<dyn ResponseCache>> = if exec.no_cache {
        None
    } else {
        Some(Arc::new(StoreCache(store)) as Arc<dyn ResponseCache>)
    };
    match spec {
        ModelSpec::OpenAi { base_url, .. } => {
            let model = OpenAiModel::from_spec(spec).map_err(|e| EngineError::model(spec, e))?;
            preflight(&model, spec, base_url).await?;
            let concurrency = exec.concurrency.unwrap_or(DEFAULT_HTTP_CONCURRENCY).max(1);
            let config = LayerConfig {
                concurrency,
                adaptive: true,
                max_retries: exec.max_retries,
                request_timeout: Some(exec.request_timeout().unwrap_or(DEFAULT_HTTP_TIMEOUT)),
                cache,
                ..LayerConfig::default()
            };
            Ok(OpenedModel {
                model: layered(Arc::new(model), &config),
                concurrency,
            })
        }
        ModelSpec::Local { source } => {
            let source = source.clone();
            let label = spec.label();
            let batch = exec.concurrency.unwrap_or(DEFAULT_LOCAL_BATCH).max(1);
            let threads = exec.threads;
            // Fetching and loading a GGUF file is slow, blocking work.
            let model = tokio::task::spawn_blocking(move || -> Result<LocalModel, EngineError> {
                let path: PathBuf = touchstone_local::catalogue::resolve(&source)?;
                let mut options = LocalOptions {
                    max_batch_sequences: batch,
                    ..LocalOptions::default()
                };
                if let Some(t) = threads {
                    options.threads = t.max(1);
                }
                Ok(LocalModel::load(&path, options)?.with_label(label))
            })
            .await
            .map_err(|e| EngineError::Internal(format!("loading {spec}: {e}")))??;
            let config = LayerConfig {
                concurrency: batch,
                adaptive: false,
                max_retries: 0,
                request_timeout: exec.request_timeout(),
                cache,
                ..LayerConfig::default()
            };
            Ok(OpenedModel {
                model: layered(Arc::new(model), &config),
                concurrency: batch,
            })
        }
    }
}

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
