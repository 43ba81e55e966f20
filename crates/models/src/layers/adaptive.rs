//! Adaptive concurrency: additive increase, multiplicative decrease (AIMD) on 429s.

use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use tokio::sync::{Semaphore, SemaphorePermit};
use touchstone_core::{Completion, GenerateRequest};

use crate::{
    Loglikelihood, LoglikelihoodRequest, Model, ModelError, ModelIdentity, RawCompletion,
    RawRequest, SharedModel,
};

/// Successes in a row that earn one more slot, unless set with
/// [`AdaptiveConcurrency::with_grow_after`].
pub const DEFAULT_GROW_AFTER: u32 = 16;

/// Starts at `max` requests in flight. A 429 halves the limit (never below 1); each run of
/// `grow_after` successes in a row adds one slot back, never above `max`.
///
/// The limit is a semaphore whose permits are taken away on a cut and added back on growth.
/// Permits that are in use when the limit is cut cannot be taken at once, so they are owed
/// (`debt`) and forgotten as their holders finish. All permit bookkeeping except `acquire`
/// happens under one lock, which keeps `available + held - debt == limit` at all times.
///
/// Only one cut per "generation": a 429 from a request that started before the last cut does
/// not cut again, or a burst of 429s from one overloaded moment would drive the limit to 1.
pub struct AdaptiveConcurrency {
    inner: SharedModel,
    permits: Semaphore,
    max: usize,
    grow_after: u32,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    limit: usize,
    /// Permits to forget when their holders release them.
    debt: usize,
    successes: u32,
    /// Bumped on each cut.
    generation: u64,
}

impl AdaptiveConcurrency {
    /// `max` is raised to 1 if given as 0.
    pub fn new(inner: SharedModel, max: usize) -> Self {
        let max = max.clamp(1, Semaphore::MAX_PERMITS);
        AdaptiveConcurrency {
            inner,
            permits: Semaphore::new(max),
            max,
            grow_after: DEFAULT_GROW_AFTER,
            state: Mutex::new(State {
                limit: max,
                debt: 0,
                successes: 0,
                generation: 0,
            }),
        }
    }

    /// Successes in a row needed to add one slot (at least 1).
    pub fn with_grow_after(mut self, successes: u32) -> Self {
        self.grow_after = successes.max(1);
        self
    }

    /// The current limit on requests in flight.
    pub fn current_limit(&self) -> usize {
        self.lock().limit
    }

    pub fn max_limit(&self) -> usize {
        self.max
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent even if a holder panicked: every update is a few integers.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn acquire(&self) -> Result<Slot<'_>, ModelError> {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| ModelError::Cancelled)?;
        let generation = self.lock().generation;
        Ok(Slot {
            owner: self,
            permit: Some(permit),
            generation,
        })
    }

    fn record<T>(&self, slot: &Slot<'_>, outcome: &Result<T, ModelError>) {
        let mut s = self.lock();
        match outcome {
            Ok(_) => {
                s.successes += 1;
                if s.successes >= self.grow_after {
                    s.successes = 0;
                    if s.limit < self.max {
                        s.limit += 1;
                        if s.debt > 0 {
                            s.debt -= 1;
                        } else {
                            self.permits.add_permits(1);
                        }
                    }
                }
            }
            Err(e) if e.kind() == "rate_limited" => {
                s.successes = 0;
                if slot.generation == s.generation {
                    let new_limit = (s.limit / 2).max(1);
                    let cut = s.limit - new_limit;
                    if cut > 0 {
                        s.limit = new_limit;
                        s.generation += 1;
                        let forgotten = self.permits.forget_permits(cut);
                        s.debt += cut - forgotten;
                        tracing::debug!(limit = new_limit, "rate limited: concurrency cut");
                    }
                }
            }
            // Other failures say nothing about the provider's capacity.
            Err(_) => {}
        }
    }

    fn release(&self, permit: SemaphorePermit<'_>) {
        let mut s = self.lock();
        if s.debt > 0 {
            s.debt -= 1;
            permit.forget();
        } else {
            drop(permit);
        }
    }

    #[cfg(test)]
    fn check_invariant(&self) -> (usize, usize) {
        let s = self.lock();
        (self.permits.available_permits(), s.debt)
    }
}

/// A held slot; returned (or forgotten, if owed) when dropped, also when the call is cancelled.
struct Slot<'a> {
    owner: &'a AdaptiveConcurrency,
    permit: Option<SemaphorePermit<'a>>,
    generation: u64,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if let Some(p) = self.permit.take() {
            self.owner.release(p);
        }
    }
}

#[async_trait]
impl Model for AdaptiveConcurrency {
    fn identity(&self) -> &ModelIdentity {
        self.inner.identity()
    }

    async fn generate(&self, request: &GenerateRequest) -> Result<Completion, ModelError> {
        let slot = self.acquire().await?;
        let outcome = self.inner.generate(request).await;
        self.record(&slot, &outcome);
        outcome
    }

    async fn loglikelihood(
        &self,
        request: &LoglikelihoodRequest,
    ) -> Result<Vec<Loglikelihood>, ModelError> {
        let slot = self.acquire().await?;
        let outcome = self.inner.loglikelihood(request).await;
        self.record(&slot, &outcome);
        outcome
    }

    async fn complete_raw(&self, request: &RawRequest) -> Result<RawCompletion, ModelError> {
        let slot = self.acquire().await?;
        let outcome = self.inner.complete_raw(request).await;
        self.record(&slot, &outcome);
        outcome
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::layers::fake::{Fake, request};

    fn rate_limited() -> ModelError {
        ModelError::RateLimited { retry_after: None }
    }

    #[tokio::test]
    async fn halves_on_429_and_grows_back_one_at_a_time() {
        let fake = Arc::new(Fake::new(Duration::ZERO));
        let model = AdaptiveConcurrency::new(fake.clone(), 8).with_grow_after(3);
        for expected in [4, 2, 1, 1] {
            *fake.always.lock().unwrap() = Some(rate_limited());
            assert!(model.generate(&request("x")).await.is_err());
            assert_eq!(model.current_limit(), expected);
        }
        *fake.always.lock().unwrap() = None;
        // Two successes are not yet a run of three.
        for _ in 0..2 {
            model.generate(&request("x")).await.unwrap();
        }
        assert_eq!(model.current_limit(), 1);
        model.generate(&request("x")).await.unwrap();
        assert_eq!(model.current_limit(), 2);
        // Other errors neither cut nor count as successes.
        *fake.always.lock().unwrap() = Some(ModelError::Server {
            status: 500,
            body: String::new(),
            retry_after: None,
        });
        assert!(model.generate(&request("x")).await.is_err());
        assert_eq!(model.current_limit(), 2);
        *fake.always.lock().unwrap() = None;
        for _ in 0..100 {
            model.generate(&request("x")).await.unwrap();
        }
        assert_eq!(model.current_limit(), 8, "never above the max");
        assert_eq!(model.check_invariant(), (8, 0));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cuts_hold_under_concurrency() {
        let fake = Arc::new(Fake::new(Duration::from_millis(3)));
        let model = Arc::new(AdaptiveConcurrency::new(fake.clone(), 16).with_grow_after(1_000_000));
        let run = |n: usize| {
            let model = model.clone();
            async move {
                let tasks: Vec<_> = (0..n)
                    .map(|_| {
                        let model = model.clone();
                        tokio::spawn(async move { model.generate(&request("x")).await })
                    })
                    .collect();
                let mut errors = 0;
                for t in tasks {
                    if t.await.unwrap().is_err() {
                        errors += 1;
                    }
                }
                errors
            }
        };

        // Phase 1: everything is rate limited. 64 callers in flight together produce many 429s
        // but each generation cuts once.
        *fake.always.lock().unwrap() = Some(rate_limited());
        assert_eq!(run(64).await, 64);
        assert!(fake.max_in_flight() <= 16);
        let limit = model.current_limit();
        assert!(limit < 16, "cut from 16 to {limit}");
        // Drive it to the floor with sequential 429s.
        for _ in 0..5 {
            assert!(model.generate(&request("x")).await.is_err());
        }
        assert_eq!(model.current_limit(), 1);
        // Every owed permit has been paid back: one permit left, no debt.
        assert_eq!(model.check_invariant(), (1, 0));

        // Phase 2: succeed, and with growth disabled only one call runs at a time.
        *fake.always.lock().unwrap() = None;
        fake.reset_max();
        assert_eq!(run(40).await, 0);
        assert_eq!(fake.max_in_flight(), 1);
        assert_eq!(model.check_invariant(), (1, 0));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn grows_back_under_concurrency_without_losing_permits() {
        let fake = Arc::new(Fake::new(Duration::from_millis(1)));
        let model = Arc::new(AdaptiveConcurrency::new(fake.clone(), 6).with_grow_after(2));
        *fake.always.lock().unwrap() = Some(rate_limited());
        for _ in 0..4 {
            let _ = model.generate(&request("x")).await;
        }
        assert_eq!(model.current_limit(), 1);
        *fake.always.lock().unwrap() = None;
        let tasks: Vec<_> = (0..200)
            .map(|_| {
                let model = model.clone();
                tokio::spawn(async move { model.generate(&request("x")).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(model.current_limit(), 6);
        assert!(fake.max_in_flight() <= 6);
        assert_eq!(model.check_invariant(), (6, 0));
    }
}
