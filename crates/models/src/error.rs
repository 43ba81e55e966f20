//! Why a model call failed, classified so that the retry layer knows what to try again.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// 429: the provider asks us to slow down, maybe saying for how long.
    #[error("rate limited (HTTP 429){}", retry_after_text(.retry_after))]
    RateLimited { retry_after: Option<Duration> },
    /// 5xx: the provider failed; worth another try.
    #[error("server error HTTP {status}: {body}")]
    Server { status: u16, body: String, retry_after: Option<Duration> },
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
            ModelError::RateLimited { retry_after } | ModelError::Server { retry_after, .. } => *retry_after,
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
        }
    }
}
