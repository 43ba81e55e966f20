//! A deadline for each call.

use std::time::Duration;

use async_trait::async_trait;
use touchstone_core::{Completion, GenerateRequest};

use crate::{
    Loglikelihood, LoglikelihoodRequest, Model, ModelError, ModelIdentity, RawCompletion,
    RawRequest, SharedModel,
};

/// Fails a call with [`ModelError::Timeout`] when the inner model has not answered within the
/// deadline; the inner call is dropped (for HTTP, its connection is closed).
pub struct Timeout {
    inner: SharedModel,
    deadline: Duration,
}

impl Timeout {
    pub fn new(inner: SharedModel, deadline: Duration) -> Self {
        Timeout { inner, deadline }
    }
}

#[async_trait]
impl Model for Timeout {
    fn identity(&self) -> &ModelIdentity {
        self.inner.identity()
    }

    async fn generate(&self, request: &GenerateRequest) -> Result<Completion, ModelError> {
        tokio::time::timeout(self.deadline, self.inner.generate(request))
            .await
            .unwrap_or(Err(ModelError::Timeout(self.deadline)))
    }

    async fn loglikelihood(
        &self,
        request: &LoglikelihoodRequest,
    ) -> Result<Vec<Loglikelihood>, ModelError> {
        tokio::time::timeout(self.deadline, self.inner.loglikelihood(request))
            .await
            .unwrap_or(Err(ModelError::Timeout(self.deadline)))
    }

    async fn complete_raw(&self, request: &RawRequest) -> Result<RawCompletion, ModelError> {
        tokio::time::timeout(self.deadline, self.inner.complete_raw(request))
            .await
            .unwrap_or(Err(ModelError::Timeout(self.deadline)))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::layers::fake::{Fake, request};

    #[tokio::test(start_paused = true)]
    async fn cuts_slow_calls_only() {
        let slow = Arc::new(Fake::new(Duration::from_secs(10)));
        let t = Timeout::new(slow, Duration::from_secs(2));
        let start = tokio::time::Instant::now();
        assert_eq!(
            t.generate(&request("x")).await,
            Err(ModelError::Timeout(Duration::from_secs(2)))
        );
        assert_eq!(start.elapsed(), Duration::from_secs(2));
        let r = LoglikelihoodRequest {
            context: "c".into(),
            continuations: vec!["a".into()],
        };
        assert_eq!(t.loglikelihood(&r).await.unwrap_err().kind(), "timeout");

        let fast = Arc::new(Fake::new(Duration::from_millis(100)));
        let t = Timeout::new(fast, Duration::from_secs(2));
        assert_eq!(t.generate(&request("x")).await.unwrap().text, "echo: x");
    }
}
