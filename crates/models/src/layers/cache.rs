//! A response cache keyed by model identity, messages and parameters.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;
use sha2::{Digest, Sha256};
use touchstone_core::{Completion, GenerateParams, GenerateRequest, Message};

use crate::{
    Loglikelihood, LoglikelihoodRequest, Model, ModelError, ModelIdentity, RawCompletion,
    RawRequest, SharedModel,
};

/// Where cached completions live. The engine adapts its store to this; a failing store should
/// answer `None` / drop the write (and log), since a cache miss is never an error.
#[async_trait]
pub trait ResponseCache: Send + Sync {
    async fn get(&self, key: &str) -> Option<String>;
    async fn put(&self, key: &str, value: &str);
}

/// The fields that decide an answer, in a fixed order: serde writes struct fields in
/// declaration order and floats in their shortest exact form, so the JSON is canonical.
#[derive(Serialize)]
struct KeyParts<'a> {
    label: &'a str,
    digest: Option<&'a str>,
    messages: &'a [Message],
    params: &'a GenerateParams,
}

/// Hex SHA-256 of the canonical JSON of (identity label, identity digest, messages, params).
pub fn cache_key(identity: &ModelIdentity, request: &GenerateRequest) -> String {
    let parts = KeyParts {
        label: &identity.label,
        digest: identity.digest.as_deref(),
        messages: &request.messages,
        params: &request.params,
    };
    let mut hasher = Sha256::new();
    // Writing into the hasher cannot fail, and these types always serialise.
    if let Err(e) = serde_json::to_writer(HashWriter(&mut hasher), &parts) {
        tracing::warn!("cache key serialisation failed: {e}");
    }
    hex::encode(hasher.finalize())
}

struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Answers from the cache when it can; otherwise asks the inner model and stores a successful
/// answer (as the `Completion`'s JSON). A hit comes back with `cached: true`.
///
/// Every request is cached, sampled ones included: the engine puts the epoch's seed in the
/// request parameters, so different epochs have different keys, and a rerun of the same epoch
/// gets the answer it got before, which is what resuming a run needs. Errors are not cached.
/// Log-likelihoods and raw completions pass through uncached: they serve `serve-model` and
/// log-likelihood tasks, whose answers are recorded per item by the engine anyway.
pub struct Cache {
    inner: SharedModel,
    store: Arc<dyn ResponseCache>,
}

impl Cache {
    pub fn new(inner: SharedModel, store: Arc<dyn ResponseCache>) -> Self {
        Cache { inner, store }
    }
}

#[async_trait]
impl Model for Cache {
    fn identity(&self) -> &ModelIdentity {
        self.inner.identity()
    }

    async fn generate(&self, request: &GenerateRequest) -> Result<Completion, ModelError> {
        let key = cache_key(self.inner.identity(), request);
        if let Some(value) = self.store.get(&key).await {
            match serde_json::from_str::<Completion>(&value) {
                Ok(mut hit) => {
                    hit.cached = true;
                    return Ok(hit);
                }
                // A damaged entry is a miss; the fresh answer overwrites it.
                Err(e) => tracing::warn!(key, "ignoring an unreadable cache entry: {e}"),
            }
        }
        let completion = self.inner.generate(request).await?;
        match serde_json::to_string(&completion) {
            Ok(value) => self.store.put(&key, &value).await,
            Err(e) => tracing::warn!("cannot encode a completion for the cache: {e}"),
        }
        Ok(completion)
    }

    async fn loglikelihood(
        &self,
        request: &LoglikelihoodRequest,
    ) -> Result<Vec<Loglikelihood>, ModelError> {
        self.inner.loglikelihood(request).await
    }

    async fn complete_raw(&self, request: &RawRequest) -> Result<RawCompletion, ModelError> {
        self.inner.complete_raw(request).await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::layers::fake::{Fake, MapCache, identity, request};

    #[tokio::test]
    async fn a_hit_is_marked_cached_and_skips_the_model() {
        let fake = Arc::new(Fake::new(Duration::ZERO));
        let store = Arc::new(MapCache::default());
        let model = Cache::new(fake.clone(), store.clone());
        let first = model.generate(&request("q")).await.unwrap();
        assert!(!first.cached);
        assert_eq!(fake.calls(), 1);
        let second = model.generate(&request("q")).await.unwrap();
        assert!(second.cached);
        assert_eq!(second.text, first.text);
        assert_eq!(second.usage, first.usage);
        assert_eq!(fake.calls(), 1, "a hit must not call the model");
        model.generate(&request("other")).await.unwrap();
        assert_eq!(fake.calls(), 2);
        // What is stored is the uncached completion's JSON.
        let stored = store
            .0
            .lock()
            .unwrap()
            .get(&cache_key(&identity(), &request("q")))
            .cloned()
            .unwrap();
        assert_eq!(serde_json::from_str::<Completion>(&stored).unwrap(), first);
    }

    #[tokio::test]
    async fn errors_are_not_cached_and_damaged_entries_are_misses() {
        let fake = Arc::new(Fake::failing_first(
            Duration::ZERO,
            vec![ModelError::Connection("reset".into())],
        ));
        let store = Arc::new(MapCache::default());
        let model = Cache::new(fake.clone(), store.clone());
        assert!(model.generate(&request("q")).await.is_err());
        assert!(store.0.lock().unwrap().is_empty());
        store
            .0
            .lock()
            .unwrap()
            .insert(cache_key(&identity(), &request("q")), "{not json".into());
        let c = model.generate(&request("q")).await.unwrap();
        assert!(!c.cached);
        assert_eq!(fake.calls(), 2);
    }

    #[test]
    fn key_depends_on_identity_messages_and_params() {
        let id = identity();
        let base = request("q");
        let k = cache_key(&id, &base);
        assert_eq!(k.len(), 64);
        assert_eq!(k, cache_key(&id, &base.clone()), "stable");
        let mut seeded = base.clone();
        seeded.params.seed = Some(1);
        assert_ne!(k, cache_key(&id, &seeded));
        let mut hot = base.clone();
        hot.params.temperature = Some(0.7);
        assert_ne!(k, cache_key(&id, &hot));
        assert_ne!(k, cache_key(&id, &request("q2")));
        let mut other = id.clone();
        other.digest = Some("abc".into());
        assert_ne!(k, cache_key(&other, &base));
        other = id.clone();
        other.label = "fake:n".into();
        assert_ne!(k, cache_key(&other, &base));
        // The same texts in different roles are different conversations.
        let mut sys = base.clone();
        sys.messages = vec![Message::system("q")];
        assert_ne!(k, cache_key(&id, &sys));
    }
}
