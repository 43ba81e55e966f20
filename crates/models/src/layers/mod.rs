//! Layers: concurrency limit, adaptive concurrency, rate limit, retry, timeout and cache around
//! any [`Model`](crate::Model).
//!
//! Each layer is a struct that wraps an `Arc<dyn Model>` and is itself a `Model`, so layers
//! stack in any order and the engine still sees one `Arc<dyn Model>` (invariant 4). This is
//! tower's idea without tower's `Service::poll_ready(&mut self)`: the engine shares one model
//! among many concurrent tasks through `&self`, and tower's `&mut self` would force a clone of
//! the whole stack per task (plus a buffer task to share the limiters between the clones).
//! Instead each layer keeps its shared state (a semaphore, a token bucket, counters) behind
//! `&self`, and waits for capacity inside `generate` itself.
//!
//! Every layer forwards `loglikelihood` and `complete_raw` through the same policy as
//! `generate` (the cache excepted: it caches chat completions only).
//!
//! [`layered`] stacks the layers in this order, outermost first:
//!
//! 1. **Cache**: a hit costs no slot, no rate token and no attempt.
//! 2. **Retry**: outside the concurrency limit, so a backoff sleep does not hold a slot that
//!    another request could use, and so that every attempt (each 429 included) passes through
//!    the adaptive limiter below and teaches it.
//! 3. **Concurrency limit** (fixed or adaptive).
//! 4. **Rate limit**: inside the slot, so a request takes its token only when it is about to be
//!    sent; outside, tokens would be spent by requests still queueing for a slot, and the
//!    requests would then go out in a burst when slots free up.
//! 5. **Timeout**: innermost, so that its deadline covers one attempt on the wire only, never
//!    the time spent waiting for a slot or a token.

mod adaptive;
mod cache;
mod concurrency;
mod rate;
mod retry;
mod timeout;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use adaptive::AdaptiveConcurrency;
pub use cache::{Cache, ResponseCache, cache_key};
pub use concurrency::ConcurrencyLimit;
pub use rate::{RateLimit, estimate_tokens};
pub use retry::{Retry, count_attempts};
pub use timeout::Timeout;

use crate::SharedModel;

/// How to wrap a model. `Default` is a sensible single-endpoint setup.
#[derive(Clone)]
pub struct LayerConfig {
    /// Most requests in flight at once (the start and ceiling when `adaptive`). At least 1.
    pub concurrency: usize,
    /// Halve the limit on 429 and grow it back one at a time (AIMD) instead of a fixed limit.
    pub adaptive: bool,
    pub requests_per_minute: Option<u32>,
    pub tokens_per_minute: Option<u32>,
    /// Extra attempts after the first on retryable errors.
    pub max_retries: u32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Deadline for one attempt.
    pub request_timeout: Option<Duration>,
    pub cache: Option<Arc<dyn ResponseCache>>,
}

impl Default for LayerConfig {
    fn default() -> Self {
        LayerConfig {
            concurrency: 8,
            adaptive: false,
            requests_per_minute: None,
            tokens_per_minute: None,
            max_retries: 5,
            backoff_base: Duration::from_millis(250),
            backoff_max: Duration::from_secs(30),
            request_timeout: Some(Duration::from_secs(120)),
            cache: None,
        }
    }
}

impl fmt::Debug for LayerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LayerConfig")
            .field("concurrency", &self.concurrency)
            .field("adaptive", &self.adaptive)
            .field("requests_per_minute", &self.requests_per_minute)
            .field("tokens_per_minute", &self.tokens_per_minute)
            .field("max_retries", &self.max_retries)
            .field("backoff_base", &self.backoff_base)
            .field("backoff_max", &self.backoff_max)
            .field("request_timeout", &self.request_timeout)
            .field("cache", &self.cache.as_ref().map(|_| "<cache>"))
            .finish()
    }
}

/// Wrap `model` in the layers `config` asks for, in the order described in the module docs.
/// Call the result inside [`count_attempts`] to learn how many attempts each call took (0 for a
/// cache hit).
pub fn layered(model: SharedModel, config: &LayerConfig) -> SharedModel {
    let mut m = model;
    if let Some(t) = config.request_timeout {
        m = Arc::new(Timeout::new(m, t));
    }
    if config.requests_per_minute.is_some() || config.tokens_per_minute.is_some() {
        m = Arc::new(RateLimit::new(
            m,
            config.requests_per_minute,
            config.tokens_per_minute,
        ));
    }
    let concurrency = config.concurrency.max(1);
    m = if config.adaptive {
        Arc::new(AdaptiveConcurrency::new(m, concurrency))
    } else {
        Arc::new(ConcurrencyLimit::new(m, concurrency))
    };
    // Even with no retries the layer stays: it is what counts attempts for `count_attempts`.
    m = Arc::new(
        Retry::new(m, config.max_retries).with_backoff(config.backoff_base, config.backoff_max),
    );
    if let Some(cache) = &config.cache {
        m = Arc::new(Cache::new(m, cache.clone()));
    }
    m
}

#[cfg(test)]
pub(crate) mod fake {
    //! Small in-test models.

    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
    use std::time::Duration;

    use async_trait::async_trait;
    use touchstone_core::{Completion, GenerateRequest, Message};

    use crate::{
        Loglikelihood, LoglikelihoodRequest, Model, ModelError, ModelIdentity, RawCompletion,
        RawRequest,
    };

    /// An in-memory response cache.
    #[derive(Default)]
    pub struct MapCache(pub Mutex<std::collections::HashMap<String, String>>);

    #[async_trait]
    impl crate::layers::ResponseCache for MapCache {
        async fn get(&self, key: &str) -> Option<String> {
            self.0.lock().unwrap().get(key).cloned()
        }
        async fn put(&self, key: &str, value: &str) {
            self.0.lock().unwrap().insert(key.into(), value.into());
        }
    }

    pub fn identity() -> ModelIdentity {
        ModelIdentity {
            label: "fake:m".into(),
            provider: "fake".into(),
            name: "m".into(),
            digest: None,
        }
    }

    pub fn request(text: &str) -> GenerateRequest {
        GenerateRequest {
            messages: vec![Message::user(text)],
            params: Default::default(),
        }
    }

    /// Answers after `delay`, failing with the scripted errors first (in order), and counts
    /// calls and the most calls in flight at once.
    pub struct Fake {
        pub identity: ModelIdentity,
        pub delay: Duration,
        pub script: Mutex<Vec<ModelError>>,
        pub calls: AtomicU32,
        pub in_flight: AtomicUsize,
        pub max_in_flight: AtomicUsize,
        /// When set, every call fails with a clone of this error (after the script runs out).
        pub always: Mutex<Option<ModelError>>,
    }

    impl Fake {
        pub fn new(delay: Duration) -> Self {
            Fake {
                identity: identity(),
                delay,
                script: Mutex::new(Vec::new()),
                calls: AtomicU32::new(0),
                in_flight: AtomicUsize::new(0),
                max_in_flight: AtomicUsize::new(0),
                always: Mutex::new(None),
            }
        }

        pub fn failing_first(delay: Duration, errors: Vec<ModelError>) -> Self {
            let f = Fake::new(delay);
            let mut errors = errors;
            errors.reverse();
            *f.script.lock().unwrap() = errors;
            f
        }

        pub fn calls(&self) -> u32 {
            self.calls.load(Ordering::SeqCst)
        }

        pub fn max_in_flight(&self) -> usize {
            self.max_in_flight.load(Ordering::SeqCst)
        }

        pub fn reset_max(&self) {
            self.max_in_flight.store(0, Ordering::SeqCst);
        }

        async fn call(&self) -> Result<(), ModelError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_in_flight.fetch_max(now, Ordering::SeqCst);
            if !self.delay.is_zero() {
                tokio::time::sleep(self.delay).await;
            }
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            if let Some(e) = self.script.lock().unwrap().pop() {
                return Err(e);
            }
            match &*self.always.lock().unwrap() {
                Some(e) => Err(e.clone()),
                None => Ok(()),
            }
        }
    }

    #[async_trait]
    impl Model for Fake {
        fn identity(&self) -> &ModelIdentity {
            &self.identity
        }

        async fn generate(&self, request: &GenerateRequest) -> Result<Completion, ModelError> {
            self.call().await?;
            let mut c = Completion::new(format!("echo: {}", request.messages[0].content));
            c.usage.prompt_tokens = 10;
            c.usage.completion_tokens = 5;
            Ok(c)
        }

        async fn loglikelihood(
            &self,
            request: &LoglikelihoodRequest,
        ) -> Result<Vec<Loglikelihood>, ModelError> {
            self.call().await?;
            Ok(request
                .continuations
                .iter()
                .map(|_| Loglikelihood {
                    logprob: -1.0,
                    is_greedy: true,
                    tokens: 1,
                })
                .collect())
        }

        async fn complete_raw(&self, request: &RawRequest) -> Result<RawCompletion, ModelError> {
            self.call().await?;
            Ok(RawCompletion {
                text: format!("{} more", request.prompt),
                finish_reason: touchstone_core::FinishReason::Length,
                usage: Default::default(),
                logprobs: None,
            })
        }
    }

    pub fn raw_request(prompt: &str) -> RawRequest {
        RawRequest {
            prompt: prompt.into(),
            params: touchstone_core::GenerateParams {
                max_tokens: Some(1),
                ..Default::default()
            },
            echo: false,
            logprobs: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::{Fake, MapCache, request};
    use super::*;
    use crate::{Model, ModelError};

    #[tokio::test(start_paused = true)]
    async fn full_stack_retries_limits_and_caches() {
        let fake = Arc::new(Fake::failing_first(
            Duration::from_millis(10),
            vec![
                ModelError::RateLimited { retry_after: None },
                ModelError::Timeout(Duration::from_secs(1)),
            ],
        ));
        let cache = Arc::new(MapCache::default());
        let config = LayerConfig {
            concurrency: 2,
            adaptive: true,
            requests_per_minute: Some(6000),
            tokens_per_minute: Some(1_000_000),
            max_retries: 3,
            request_timeout: Some(Duration::from_secs(1)),
            cache: Some(cache.clone()),
            ..LayerConfig::default()
        };
        let model = layered(fake.clone(), &config);
        assert_eq!(model.identity().label, "fake:m");
        let (first, attempts) = count_attempts(model.generate(&request("q"))).await;
        let first = first.unwrap();
        assert_eq!(attempts, 3);
        assert!(!first.cached);
        let (second, attempts) = count_attempts(model.generate(&request("q"))).await;
        let second = second.unwrap();
        assert_eq!(attempts, 0);
        assert!(second.cached);
        assert_eq!(second.text, first.text);
        assert_eq!(fake.calls(), 3);
        assert!(format!("{config:?}").contains("<cache>"));
    }

    #[tokio::test(start_paused = true)]
    async fn full_stack_forwards_raw_completions_uncached() {
        let fake = Arc::new(Fake::failing_first(
            Duration::from_millis(10),
            vec![ModelError::RateLimited { retry_after: None }],
        ));
        let config = LayerConfig {
            concurrency: 2,
            adaptive: true,
            requests_per_minute: Some(6000),
            tokens_per_minute: Some(1_000_000),
            max_retries: 3,
            request_timeout: Some(Duration::from_secs(1)),
            cache: Some(Arc::new(MapCache::default())),
            ..LayerConfig::default()
        };
        let model = layered(fake.clone(), &config);
        let (first, attempts) =
            count_attempts(model.complete_raw(&super::fake::raw_request("p"))).await;
        assert_eq!(first.unwrap().text, "p more");
        assert_eq!(attempts, 2, "the 429 was retried");
        // Not cached: the model is asked again.
        let (second, attempts) =
            count_attempts(model.complete_raw(&super::fake::raw_request("p"))).await;
        assert_eq!(second.unwrap().text, "p more");
        assert_eq!((attempts, fake.calls()), (1, 3));
    }

    #[tokio::test(start_paused = true)]
    async fn raw_completions_time_out_and_default_to_unsupported() {
        let slow = Arc::new(Fake::new(Duration::from_secs(5)));
        let timed = Timeout::new(slow, Duration::from_secs(1));
        assert_eq!(
            timed
                .complete_raw(&super::fake::raw_request("p"))
                .await
                .unwrap_err()
                .kind(),
            "timeout"
        );

        struct ChatOnly(crate::ModelIdentity);
        #[async_trait::async_trait]
        impl Model for ChatOnly {
            fn identity(&self) -> &crate::ModelIdentity {
                &self.0
            }
            async fn generate(
                &self,
                _: &touchstone_core::GenerateRequest,
            ) -> Result<touchstone_core::Completion, ModelError> {
                Ok(touchstone_core::Completion::new("x"))
            }
        }
        let model = layered(
            Arc::new(ChatOnly(super::fake::identity())),
            &LayerConfig::default(),
        );
        let (out, attempts) =
            count_attempts(model.complete_raw(&super::fake::raw_request("p"))).await;
        let err = out.unwrap_err();
        assert_eq!(err.kind(), "unsupported", "{err}");
        assert_eq!(attempts, 1, "unsupported is not retried");
    }

    #[tokio::test]
    async fn attempts_are_counted_without_retries_too() {
        let fake = Arc::new(Fake::failing_first(
            Duration::ZERO,
            vec![ModelError::Connection("reset".into())],
        ));
        let config = LayerConfig {
            max_retries: 0,
            request_timeout: None,
            ..LayerConfig::default()
        };
        let model = layered(fake.clone(), &config);
        let (out, attempts) = count_attempts(model.generate(&request("q"))).await;
        assert_eq!(out.unwrap_err(), ModelError::Connection("reset".into()));
        assert_eq!(attempts, 1);
        let (out, attempts) = count_attempts(model.generate(&request("q"))).await;
        assert!(out.is_ok());
        assert_eq!(attempts, 1);
    }
}
