//! Why a model call failed, classified so that the retry layer knows what to try again.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// 429: the provider asks us to slow down, maybe saying for how long.
    #[error("rate limited (HTTP 429){}", retry_after_text(.retry_after))]
    RateLimited { retry_after: Option<Duration> },
    /// 5xx: the provider failed; worth another try.
    #[error("server error HTTP {status}: {body}")]
    Server {
        status: u16,
        body: String,
        retry_after: Option<Duration>,
    },
    /// 4xx other than 429: our request is wrong; trying again will not help.
    #[error("request rejected HTTP {status}: {body}")]
    Client { status: u16, body: String },
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// Connection refused, reset, closed early.
    #[error("connection failed: {0}")]
    Connection(String),
    /// The body was not the JSON we expected (truncated, empty choices…).
    #[error("malformed response: {0}")]
    Malformed(String),
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Local inference failed (model file, context, decoding).
    #[error("local model: {0}")]
    Local(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("cancelled")]
    Cancelled,
    /// The retry layer gave up after more than one attempt; `last` is the final attempt's error.
    /// `kind`, `is_retryable` and `retry_after` answer for `last`, so counts by kind stay
    /// meaningful, and the message reads e.g. "timeout after 4 attempts: no answer within 5s".
    #[error("{} after {attempts} attempts: {last}", .last.kind())]
    AfterAttempts {
        attempts: u32,
        last: Box<ModelError>,
    },
}

fn retry_after_text(d: &Option<Duration>) -> String {
    match d {
        Some(d) => format!(", retry after {:.1}s", d.as_secs_f64()),
        None => String::new(),
    }
}

impl ModelError {
    /// Transient failures that the retry layer tries again.
    pub fn is_retryable(&self) -> bool {
        if let ModelError::AfterAttempts { last, .. } = self {
            return last.is_retryable();
        }
        matches!(
            self,
            ModelError::RateLimited { .. }
                | ModelError::Server { .. }
                | ModelError::Timeout(_)
                | ModelError::Connection(_)
                | ModelError::Malformed(_)
        )
    }

    /// How long the provider asked us to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ModelError::RateLimited { retry_after } | ModelError::Server { retry_after, .. } => {
                *retry_after
            }
            ModelError::AfterAttempts { last, .. } => last.retry_after(),
            _ => None,
        }
    }

    /// A short, stable kind name for reports and counts.
    pub fn kind(&self) -> &'static str {
        match self {
            ModelError::RateLimited { .. } => "rate_limited",
            ModelError::Server { .. } => "server_error",
            ModelError::Client { .. } => "client_error",
            ModelError::Timeout(_) => "timeout",
            ModelError::Connection(_) => "connection",
            ModelError::Malformed(_) => "malformed",
            ModelError::Unsupported(_) => "unsupported",
            ModelError::Local(_) => "local",
            ModelError::Config(_) => "config",
            ModelError::Cancelled => "cancelled",
            ModelError::AfterAttempts { last, .. } => last.kind(),
        }
    }

    /// How many attempts produced this error: the count the retry layer recorded, else 1.
    pub fn attempts(&self) -> u32 {
        match self {
            ModelError::AfterAttempts { attempts, .. } => *attempts,
            _ => 1,
        }
    }

    /// The error of the last attempt, without the retry layer's attempt count.
    pub fn last_error(&self) -> &ModelError {
        match self {
            ModelError::AfterAttempts { last, .. } => last.last_error(),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_attempts_reads_like_its_cause() {
        let e = ModelError::AfterAttempts {
            attempts: 4,
            last: Box::new(ModelError::Timeout(Duration::from_secs(5))),
        };
        assert_eq!(
            e.to_string(),
            "timeout after 4 attempts: no answer within 5s"
        );
        assert_eq!(e.kind(), "timeout");
        assert!(e.is_retryable());
        assert_eq!(e.attempts(), 4);
        assert_eq!(e.last_error(), &ModelError::Timeout(Duration::from_secs(5)));

        let r = ModelError::AfterAttempts {
            attempts: 2,
            last: Box::new(ModelError::RateLimited {
                retry_after: Some(Duration::from_secs(1)),
            }),
        };
        assert_eq!(r.retry_after(), Some(Duration::from_secs(1)));
        assert_eq!(ModelError::Cancelled.attempts(), 1);
        assert!(
            !ModelError::AfterAttempts {
                attempts: 2,
                last: Box::new(ModelError::Cancelled)
            }
            .is_retryable()
        );
    }
}
