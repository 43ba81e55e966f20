//! A fixed limit on requests in flight.

use async_trait::async_trait;
use tokio::sync::Semaphore;
use touchstone_core::{Completion, GenerateRequest};

use crate::{
    Loglikelihood, LoglikelihoodRequest, Model, ModelError, ModelIdentity, RawCompletion,
    RawRequest, SharedModel,
};

/// At most `limit` calls to the inner model at once; the rest wait in FIFO order.
pub struct ConcurrencyLimit {
    inner: SharedModel,
    permits: Semaphore,
    limit: usize,
}

impl ConcurrencyLimit {
    /// `limit` is raised to 1 if given as 0.
    pub fn new(inner: SharedModel, limit: usize) -> Self {
        let limit = limit.clamp(1, Semaphore::MAX_PERMITS);
        ConcurrencyLimit {
            inner,
            permits: Semaphore::new(limit),
            limit,
        }
    }

    pub fn limit(&self) -> usize {
        self.limit
    }
}

#[async_trait]
impl Model for ConcurrencyLimit {
    fn identity(&self) -> &ModelIdentity {
        self.inner.identity()
    }

    async fn generate(&self, request: &GenerateRequest) -> Result<Completion, ModelError> {
        // The semaphore is never closed, so acquire fails only if it were; report that as a cancel.
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| ModelError::Cancelled)?;
        self.inner.generate(request).await
    }

    async fn loglikelihood(
        &self,
        request: &LoglikelihoodRequest,
    ) -> Result<Vec<Loglikelihood>, ModelError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| ModelError::Cancelled)?;
        self.inner.loglikelihood(request).await
    }

    async fn complete_raw(&self, request: &RawRequest) -> Result<RawCompletion, ModelError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| ModelError::Cancelled)?;
        self.inner.complete_raw(request).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::LoglikelihoodRequest;
    use crate::layers::fake::{Fake, request};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn never_exceeds_the_limit() {
        let fake = Arc::new(Fake::new(Duration::from_millis(2)));
        let model = Arc::new(ConcurrencyLimit::new(fake.clone(), 5));
        let mut tasks = Vec::new();
        for i in 0..100 {
            let model = model.clone();
            tasks.push(tokio::spawn(async move {
                if i % 4 == 0 {
                    let r = LoglikelihoodRequest {
                        context: "c".into(),
                        continuations: vec!["a".into()],
                    };
                    model.loglikelihood(&r).await.map(|_| ())
                } else {
                    model.generate(&request("x")).await.map(|_| ())
                }
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(fake.calls(), 100);
        assert!(
            fake.max_in_flight() <= 5,
            "max in flight {}",
            fake.max_in_flight()
        );
        // With 100 callers and 2 ms calls the limit is reached, so it is really 5, not less.
        assert_eq!(fake.max_in_flight(), 5);
    }

    #[test]
    fn zero_means_one() {
        let fake = Arc::new(Fake::new(Duration::ZERO));
        assert_eq!(ConcurrencyLimit::new(fake, 0).limit(), 1);
    }
}
