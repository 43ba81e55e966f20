//! Retries with exponential backoff and full jitter, honouring `Retry-After`.

use std::cell::Cell;
use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use rand::Rng;
use touchstone_core::{Completion, GenerateRequest};

use crate::{
    Loglikelihood, LoglikelihoodRequest, Model, ModelError, ModelIdentity, RawCompletion,
    RawRequest, SharedModel,
};

tokio::task_local! {
    static ATTEMPTS: Cell<u32>;
}

/// Run `call` and count the attempts every [`Retry`] layer inside it made.
///
/// `Completion` has no room for an attempt count (and the core type stays as it is), so the
/// count travels beside the call in a task-local: the engine wraps each model call in
/// `count_attempts` and gets `(result, attempts)`, through any stack of layers, at the cost of
/// one cell. A cache hit counts 0 attempts. [`crate::layers::layered`] always includes a retry
/// layer (with `max_retries: 0` it makes one attempt), so its models always count.
/// On failure the error itself also says how many attempts it took
/// ([`ModelError::AfterAttempts`]), so the count is in the reason string too.
pub async fn count_attempts<F: Future>(call: F) -> (F::Output, u32) {
    ATTEMPTS
        .scope(Cell::new(0), async {
            let out = call.await;
            (out, ATTEMPTS.with(Cell::get))
        })
        .await
}

fn note_attempt() {
    // Outside `count_attempts` nobody is counting; that is fine.
    let _ = ATTEMPTS.try_with(|c| c.set(c.get() + 1));
}

/// A `Retry-After` longer than this is not waited out: the error is returned at once, since a
/// provider that asks for an hour's pause is better reported than silently waited for.
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

/// Up to `max_retries` more attempts after a retryable error ([`ModelError::is_retryable`]).
///
/// Before attempt `n + 1` it sleeps a uniformly random time in
/// `[0, min(backoff_max, backoff_base · 2^(n-1))]` ("full jitter", which spreads many callers
/// that failed together), and at least the `Retry-After` the provider sent. When it gives up
/// after more than one attempt, the last error comes back wrapped in
/// [`ModelError::AfterAttempts`].
pub struct Retry {
    inner: SharedModel,
    max_retries: u32,
    base: Duration,
    max: Duration,
    max_retry_after: Duration,
}

impl Retry {
    /// Backoff base 250 ms, cap 30 s; see [`Retry::with_backoff`].
    pub fn new(inner: SharedModel, max_retries: u32) -> Self {
        Retry {
            inner,
            max_retries,
            base: Duration::from_millis(250),
            max: Duration::from_secs(30),
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
        }
    }

    pub fn with_backoff(mut self, base: Duration, max: Duration) -> Self {
        self.base = base;
        self.max = max.max(base);
        self
    }

    pub fn with_max_retry_after(mut self, limit: Duration) -> Self {
        self.max_retry_after = limit;
        self
    }

    /// The jittered pause before the attempt after failed attempt `attempt` (1-based).
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
        let ceiling = exp.min(self.max);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rand::rng().random_range(0..=nanos))
    }

    async fn run<T, F, Fut>(&self, mut call: F) -> Result<T, ModelError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ModelError>>,
    {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            note_attempt();
            let error = match call().await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let asked = error.retry_after();
            let give_up = !error.is_retryable()
                || attempt > self.max_retries
                || asked.is_some_and(|d| d > self.max_retry_after);
            if give_up {
                return Err(if attempt > 1 {
                    ModelError::AfterAttempts {
                        attempts: attempt,
                        last: Box::new(error),
                    }
                } else {
                    error
                });
            }
            let pause = self.backoff(attempt).max(asked.unwrap_or(Duration::ZERO));
            tracing::debug!(attempt, error = %error, pause_ms = pause.as_millis() as u64, "retrying");
            tokio::time::sleep(pause).await;
        }
    }
}

#[async_trait]
impl Model for Retry {
    fn identity(&self) -> &ModelIdentity {
        self.inner.identity()
    }

    async fn generate(&self, request: &GenerateRequest) -> Result<Completion, ModelError> {
        self.run(|| self.inner.generate(request)).await
    }

    async fn loglikelihood(
        &self,
        request: &LoglikelihoodRequest,
    ) -> Result<Vec<Loglikelihood>, ModelError> {
        self.run(|| self.inner.loglikelihood(request)).await
    }

    async fn complete_raw(&self, request: &RawRequest) -> Result<RawCompletion, ModelError> {
        self.run(|| self.inner.complete_raw(request)).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tokio::time::Instant;

    use super::*;
    use crate::layers::fake::{Fake, request};

    fn server_error() -> ModelError {
        ModelError::Server {
            status: 503,
            body: "busy".into(),
            retry_after: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retries_transient_errors_until_success() {
        let fake = Arc::new(Fake::failing_first(
            Duration::ZERO,
            vec![
                server_error(),
                ModelError::Connection("reset".into()),
                ModelError::Malformed("x".into()),
            ],
        ));
        let retry = Retry::new(fake.clone(), 5);
        let (out, attempts) = count_attempts(retry.generate(&request("x"))).await;
        assert_eq!(out.unwrap().text, "echo: x");
        assert_eq!(attempts, 4);
        assert_eq!(fake.calls(), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_max_retries_with_the_count_in_the_reason() {
        let fake = Arc::new(Fake::new(Duration::ZERO));
        *fake.always.lock().unwrap() = Some(ModelError::Timeout(Duration::from_secs(5)));
        let retry = Retry::new(fake.clone(), 3);
        let (out, attempts) = count_attempts(retry.generate(&request("x"))).await;
        let err = out.unwrap_err();
        assert_eq!(
            err.to_string(),
            "timeout after 4 attempts: no answer within 5s"
        );
        assert_eq!(err.kind(), "timeout");
        assert_eq!(err.attempts(), 4);
        assert_eq!(attempts, 4);
        assert_eq!(fake.calls(), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn does_not_retry_client_errors() {
        let fake = Arc::new(Fake::failing_first(
            Duration::ZERO,
            vec![ModelError::Client {
                status: 400,
                body: "bad".into(),
            }],
        ));
        let retry = Retry::new(fake.clone(), 5);
        let err = retry.generate(&request("x")).await.unwrap_err();
        assert_eq!(
            err,
            ModelError::Client {
                status: 400,
                body: "bad".into()
            }
        );
        assert_eq!(fake.calls(), 1);
        let r = LoglikelihoodRequest {
            context: "c".into(),
            continuations: vec!["a".into()],
        };
        assert_eq!(retry.loglikelihood(&r).await.unwrap().len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn waits_at_least_retry_after() {
        let fake = Arc::new(Fake::failing_first(
            Duration::ZERO,
            vec![ModelError::RateLimited {
                retry_after: Some(Duration::from_secs(7)),
            }],
        ));
        let retry = Retry::new(fake.clone(), 2)
            .with_backoff(Duration::from_millis(1), Duration::from_millis(2));
        let start = Instant::now();
        retry.generate(&request("x")).await.unwrap();
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_secs(7) && waited < Duration::from_millis(7010),
            "{waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_absurd_retry_after_is_reported_not_waited() {
        let fake = Arc::new(Fake::failing_first(
            Duration::ZERO,
            vec![ModelError::RateLimited {
                retry_after: Some(Duration::from_secs(86_400)),
            }],
        ));
        let retry = Retry::new(fake.clone(), 2);
        let start = Instant::now();
        assert_eq!(
            retry.generate(&request("x")).await.unwrap_err().kind(),
            "rate_limited"
        );
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[test]
    fn backoff_is_jittered_below_an_exponential_ceiling() {
        let fake = Arc::new(Fake::new(Duration::ZERO));
        let retry =
            Retry::new(fake, 10).with_backoff(Duration::from_millis(100), Duration::from_secs(1));
        for attempt in 1..=10u32 {
            let ceiling =
                Duration::from_millis(100 * 2u64.pow(attempt - 1)).min(Duration::from_secs(1));
            let samples: Vec<_> = (0..200).map(|_| retry.backoff(attempt)).collect();
            assert!(samples.iter().all(|d| *d <= ceiling), "attempt {attempt}");
            // Full jitter: spread over the whole range, not bunched at the ceiling.
            assert!(
                samples.iter().any(|d| *d < ceiling / 2),
                "attempt {attempt}"
            );
            assert!(
                samples.iter().any(|d| *d > ceiling / 2),
                "attempt {attempt}"
            );
        }
        assert!(retry.backoff(u32::MAX) <= Duration::from_secs(1));
    }
}
