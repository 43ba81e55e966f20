//! Token-bucket rate limits: requests per minute and, optionally, tokens per minute.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;
use touchstone_core::{Completion, GenerateRequest};

use crate::{
    Loglikelihood, LoglikelihoodRequest, Model, ModelError, ModelIdentity, RawCompletion,
    RawRequest, SharedModel,
};

/// Token estimate for a request when the provider's tokenizer is unknown: about four bytes of
/// text per token plus a few tokens of chat framing per message, plus the completion budget
/// (`max_tokens`, or 256 when unset). Byte length over-counts for CJK text only mildly (three
/// bytes per character, about one token each), which errs on the safe side.
pub fn estimate_tokens(request: &GenerateRequest) -> u32 {
    let prompt: usize = request
        .messages
        .iter()
        .map(|m| m.content.len() / 4 + 4)
        .sum();
    let completion = request.params.max_tokens.unwrap_or(256) as usize;
    u32::try_from(prompt + completion).unwrap_or(u32::MAX)
}

/// A bucket refilled continuously at `rate` per second, holding at most `burst`.
///
/// Callers reserve what they need even when the bucket runs short, driving it negative, and
/// then sleep for their deficit. So waiting callers are served in arrival order, never starve,
/// and nothing needs waking up: each knows its own time.
#[derive(Debug)]
struct Bucket {
    rate: f64,
    burst: f64,
    level: f64,
    last: Instant,
}

impl Bucket {
    fn per_minute(per_minute: u32) -> Self {
        let rate = f64::from(per_minute.max(1)) / 60.0;
        // One second's worth of burst, at least one whole unit.
        let burst = rate.max(1.0);
        Bucket {
            rate,
            burst,
            level: burst,
            last: Instant::now(),
        }
    }

    fn refill(&mut self) {
        let now = Instant::now();
        let refill = now.saturating_duration_since(self.last).as_secs_f64() * self.rate;
        self.level = (self.level + refill).min(self.burst);
        self.last = now;
    }

    /// Take `amount`; returns how long to wait before going ahead.
    fn reserve(&mut self, amount: f64) -> Duration {
        self.refill();
        self.level -= amount;
        if self.level >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.level / self.rate)
        }
    }

    /// Put back (or take more of) what an estimate got wrong.
    fn adjust(&mut self, delta: f64) {
        self.refill();
        self.level = (self.level + delta).min(self.burst);
    }
}

/// Spaces requests so that they stay within requests/minute and tokens/minute. It waits and
/// never fails.
///
/// Tokens per minute is approximate: before a request we reserve [`estimate_tokens`]; after it
/// we correct the bucket by the difference to the `usage` the provider reported (returning
/// tokens when the estimate was high, taking more when it was low). When the provider reports no
/// usage, or the call failed, the estimate stands. Log-likelihood requests count one request and
/// the length of their texts.
pub struct RateLimit {
    inner: SharedModel,
    requests: Option<Mutex<Bucket>>,
    tokens: Option<Mutex<Bucket>>,
}

impl RateLimit {
    pub fn new(
        inner: SharedModel,
        requests_per_minute: Option<u32>,
        tokens_per_minute: Option<u32>,
    ) -> Self {
        RateLimit {
            inner,
            requests: requests_per_minute.map(|r| Mutex::new(Bucket::per_minute(r))),
            tokens: tokens_per_minute.map(|t| Mutex::new(Bucket::per_minute(t))),
        }
    }

    async fn admit(&self, tokens: u32) {
        let mut wait = Duration::ZERO;
        if let Some(b) = &self.requests {
            wait = wait.max(lock(b).reserve(1.0));
        }
        if let Some(b) = &self.tokens {
            wait = wait.max(lock(b).reserve(f64::from(tokens)));
        }
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

fn lock(b: &Mutex<Bucket>) -> std::sync::MutexGuard<'_, Bucket> {
    b.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[async_trait]
impl Model for RateLimit {
    fn identity(&self) -> &ModelIdentity {
        self.inner.identity()
    }

    async fn generate(&self, request: &GenerateRequest) -> Result<Completion, ModelError> {
        let estimate = if self.tokens.is_some() {
            estimate_tokens(request)
        } else {
            0
        };
        self.admit(estimate).await;
        let outcome = self.inner.generate(request).await;
        if let (Some(b), Ok(c)) = (&self.tokens, &outcome) {
            let actual = c
                .usage
                .prompt_tokens
                .saturating_add(c.usage.completion_tokens);
            if actual > 0 {
                lock(b).adjust(f64::from(estimate) - f64::from(actual));
            }
        }
        outcome
    }

    async fn loglikelihood(
        &self,
        request: &LoglikelihoodRequest,
    ) -> Result<Vec<Loglikelihood>, ModelError> {
        let bytes =
            request.context.len() + request.continuations.iter().map(String::len).sum::<usize>();
        self.admit(u32::try_from(bytes / 4 + 1).unwrap_or(u32::MAX))
            .await;
        self.inner.loglikelihood(request).await
    }

    async fn complete_raw(&self, request: &RawRequest) -> Result<RawCompletion, ModelError> {
        // Same estimate as a chat request: prompt bytes / 4 plus the completion budget.
        let budget = request.params.max_tokens.unwrap_or(256);
        let estimate = u32::try_from(request.prompt.len() / 4 + 1)
            .unwrap_or(u32::MAX)
            .saturating_add(budget);
        self.admit(if self.tokens.is_some() { estimate } else { 0 })
            .await;
        let outcome = self.inner.complete_raw(request).await;
        if let (Some(b), Ok(c)) = (&self.tokens, &outcome) {
            let actual = c
                .usage
                .prompt_tokens
                .saturating_add(c.usage.completion_tokens);
            if actual > 0 {
                lock(b).adjust(f64::from(estimate) - f64::from(actual));
            }
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::layers::fake::{Fake, request};

    #[tokio::test(start_paused = true)]
    async fn spaces_requests_per_minute() {
        let fake = Arc::new(Fake::new(Duration::ZERO));
        // 600/min = 10/s with a burst of 10.
        let model = Arc::new(RateLimit::new(fake.clone(), Some(600), None));
        let start = Instant::now();
        let tasks: Vec<_> = (0..30)
            .map(|_| {
                let model = model.clone();
                tokio::spawn(
                    async move { model.generate(&request("x")).await.map(|_| Instant::now()) },
                )
            })
            .collect();
        let mut times = Vec::new();
        for t in tasks {
            times.push(t.await.unwrap().unwrap() - start);
        }
        times.sort();
        // 10 go at once, then one every 100 ms: the 30th at 2 s.
        assert_eq!(times[9], Duration::ZERO);
        assert!(times[10] >= Duration::from_millis(99), "{:?}", times[10]);
        let last = times[29];
        assert!(
            last >= Duration::from_millis(1999) && last <= Duration::from_millis(2050),
            "{last:?}"
        );
        for pair in times[10..].windows(2) {
            assert!(pair[1] - pair[0] >= Duration::from_millis(99), "{pair:?}");
        }
        assert_eq!(fake.calls(), 30);
    }

    #[tokio::test(start_paused = true)]
    async fn tokens_per_minute_uses_estimates_then_usage() {
        let fake = Arc::new(Fake::new(Duration::ZERO));
        // 6000 tokens/min = 100/s, burst 100. Each request estimates 4 + 256 = 260 tokens and
        // the fake reports a usage of 15, so after each call 245 tokens come back.
        let model = RateLimit::new(fake.clone(), None, Some(6000));
        let start = Instant::now();
        model.generate(&request("x")).await.unwrap();
        // 260 reserved from 100: 1.6 s of deficit.
        let first = start.elapsed();
        assert!(
            first >= Duration::from_millis(1599) && first <= Duration::from_millis(1610),
            "{first:?}"
        );
        // The refund leaves the bucket full again (capped at the burst); the next one waits
        // for the same deficit, not for an ever-growing debt.
        let t = Instant::now();
        model.generate(&request("x")).await.unwrap();
        let second = t.elapsed();
        assert!(second <= Duration::from_millis(1610), "{second:?}");
        assert_eq!(estimate_tokens(&request("x")), 260);
    }

    #[tokio::test(start_paused = true)]
    async fn never_errors_even_when_far_behind() {
        let fake = Arc::new(Fake::new(Duration::ZERO));
        let model = RateLimit::new(fake.clone(), Some(60), None);
        for _ in 0..3 {
            model.generate(&request("x")).await.unwrap();
        }
        let r = LoglikelihoodRequest {
            context: "c".into(),
            continuations: vec!["a".into()],
        };
        model.loglikelihood(&r).await.unwrap();
        assert_eq!(fake.calls(), 4);
    }
}
