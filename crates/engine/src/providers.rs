//! Opening the models a run uses. Which providers exist (`openai:`, `local:`, …) is not the
//! engine's business: the host (the command line, the server) hands it a [`Providers`], and
//! the engine wraps what that opens in its layers (cache, retry, concurrency, rate limit,
//! timeout). The rest of the engine sees `Arc<dyn Model>`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use touchstone_core::ModelSpec;
use touchstone_models::SharedModel;
use touchstone_models::layers::{LayerConfig, ResponseCache, layered};
use touchstone_store::Store;

use crate::EngineError;
use crate::config::ExecOptions;

/// How the engine should layer a model its provider opened: the provider knows what suits it
/// (an HTTP endpoint wants adaptive concurrency and retries; a local model neither).
#[derive(Debug, Clone, PartialEq)]
pub struct LayerPolicy {
    /// Items in flight for this model.
    pub concurrency: usize,
    /// Lower concurrency when the endpoint pushes back (429, 503, time-outs).
    pub adaptive: bool,
    pub max_retries: u32,
    /// Per-attempt deadline.
    pub request_timeout: Option<Duration>,
}

/// A model as its provider opened it, before the engine's layers.
pub struct ProvidedModel {
    pub model: SharedModel,
    pub policy: LayerPolicy,
}

/// The factory of models: given a spec and the run's execution options, the bare model (already
/// checked to be reachable, so that an unreachable endpoint is one clear error rather than
/// thousands of failed items). A spec it does not serve is an [`EngineError::Provider`].
#[async_trait]
pub trait Providers: Send + Sync {
    async fn open(
        &self,
        spec: &ModelSpec,
        exec: &ExecOptions,
    ) -> Result<ProvidedModel, EngineError>;
}

/// An opened, layered model and the number of items the engine keeps in flight for it.
pub struct OpenedModel {
    pub model: SharedModel,
    pub concurrency: usize,
}

/// The response cache, kept in the store (whose calls block: see [`crate::blocking`]).
struct StoreCache(Arc<dyn Store>);

#[async_trait]
impl ResponseCache for StoreCache {
    async fn get(&self, key: &str) -> Option<String> {
        let key = key.to_string();
        match crate::blocking(&self.0, move |s| s.cache_get(&key)).await {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!("response cache read failed: {e}");
                None
            }
        }
    }
    async fn put(&self, key: &str, value: &str) {
        let (key, value) = (key.to_string(), value.to_string());
        if let Err(e) = crate::blocking(&self.0, move |s| s.cache_put(&key, &value)).await {
            tracing::warn!("response cache write failed: {e}");
        }
    }
}

/// Opens one model through `providers` and wraps it in the engine's layers, with the response
/// cache in `store` unless the run turned caching off.
pub async fn open(
    providers: &dyn Providers,
    spec: &ModelSpec,
    exec: &ExecOptions,
    store: Arc<dyn Store>,
) -> Result<OpenedModel, EngineError> {
    let ProvidedModel { model, policy } = providers.open(spec, exec).await?;
    let cache: Option<Arc<dyn ResponseCache>> = if exec.no_cache {
        None
    } else {
        Some(Arc::new(StoreCache(store)) as Arc<dyn ResponseCache>)
    };
    let config = LayerConfig {
        concurrency: policy.concurrency,
        adaptive: policy.adaptive,
        max_retries: policy.max_retries,
        request_timeout: policy.request_timeout,
        cache,
        ..LayerConfig::default()
    };
    Ok(OpenedModel {
        model: layered(model, &config),
        concurrency: policy.concurrency,
    })
}
