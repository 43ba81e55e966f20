//! Errors: [`ServeError`] for the server itself, [`ApiError`] for one HTTP request.

use std::net::SocketAddr;

use hyper::StatusCode;
use serde_json::json;
use touchstone_models::ModelError;

/// Why the server could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot read the listening address: {0}")]
    LocalAddr(std::io::Error),
    #[error("the server task failed: {0}")]
    Task(String),
    #[error("cannot open the request log {}: {source}", path.display())]
    RequestLog {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// One failed request, rendered as OpenAI's error object:
/// `{"error": {"message", "type", "param", "code"}}`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// OpenAI's `type`: `invalid_request_error`, `server_error`, …
    pub kind: &'static str,
    /// The request field at fault, e.g. `messages[1].content`.
    pub param: Option<String>,
    pub code: Option<&'static str>,
}

impl ApiError {
    /// A 400 about one field of the request.
    pub fn invalid(param: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            kind: "invalid_request_error",
            param: Some(param.into()),
            code: None,
        }
    }

    /// A 400 for something valid that this server (or the model behind it) cannot do.
    pub fn unsupported(param: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            code: Some("unsupported"),
            ..ApiError::invalid(param, message)
        }
    }

    pub fn with_status(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            kind,
            param: None,
            code: None,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        json!({"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}})
    }

    /// The model's failure as the status a client would get from a real provider, so that a
    /// client's retry logic behaves as it would there (429 and 5xx retried, 4xx not).
    pub fn from_model(e: &ModelError) -> Self {
        let message = e.to_string();
        match e.last_error() {
            ModelError::Unsupported(_) => ApiError {
                code: Some("unsupported"),
                ..ApiError::with_status(StatusCode::BAD_REQUEST, "invalid_request_error", message)
            },
            ModelError::Client { status, .. } => ApiError::with_status(
                StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST),
                "invalid_request_error",
                message,
            ),
            ModelError::RateLimited { .. } => {
                ApiError::with_status(StatusCode::TOO_MANY_REQUESTS, "rate_limit_error", message)
            }
            ModelError::Timeout(_) => {
                ApiError::with_status(StatusCode::GATEWAY_TIMEOUT, "timeout", message)
            }
            ModelError::Cancelled => {
                ApiError::with_status(StatusCode::SERVICE_UNAVAILABLE, "server_error", message)
            }
            _ => ApiError::with_status(StatusCode::INTERNAL_SERVER_ERROR, "server_error", message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_errors_keep_their_retry_meaning() {
        assert_eq!(
            ApiError::from_model(&ModelError::Unsupported("x".into())).status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            ApiError::from_model(&ModelError::RateLimited { retry_after: None }).status,
            StatusCode::TOO_MANY_REQUESTS
        );
        assert_eq!(
            ApiError::from_model(&ModelError::Local("boom".into())).status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let after = ModelError::AfterAttempts {
            attempts: 3,
            last: Box::new(ModelError::Timeout(std::time::Duration::from_secs(1))),
        };
        assert_eq!(
            ApiError::from_model(&after).status,
            StatusCode::GATEWAY_TIMEOUT
        );
        assert_eq!(
            ApiError::from_model(&ModelError::Client {
                status: 404,
                body: String::new()
            })
            .status,
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn renders_openai_error_object() {
        let e = ApiError::invalid("messages", "`messages` is required");
        assert_eq!(
            e.to_json(),
            json!({"error": {"message": "`messages` is required", "type": "invalid_request_error", "param": "messages", "code": null}})
        );
    }
}
