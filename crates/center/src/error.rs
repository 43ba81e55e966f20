//! The API's errors: an HTTP status, a stable machine code, and a message in English and 简体中文.
//! Clients branch on `code`; people read `message`/`message_zh`. Nothing internal (paths, SQL,
//! keys) reaches a message: server faults are logged and answered with `internal`.

use serde_json::{Value, json};

use crate::policy::Refusal;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    /// Stable: `not_found`, `sign_in`, `forbidden`, … (listed in the OpenAPI document).
    pub code: &'static str,
    pub message: String,
    pub message_zh: String,
    /// Where in the request the problem is (a JSON path such as `models[0]`, a header).
    pub location: Option<String>,
    /// Seconds before trying again (429).
    pub retry_after: Option<u64>,
}

/// Every code the API answers with, and its status: the OpenAPI document lists them.
pub const CODES: &[(&str, u16)] = &[
    ("bad_request", 400),
    ("bad_json", 400),
    ("sign_in", 401),
    ("bad_credentials", 401),
    ("token_expired", 401),
    ("token_revoked", 401),
    ("forbidden", 403),
    ("scope_missing", 403),
    ("cross_origin", 403),
    ("password_change_required", 403),
    ("wrong_password", 400),
    ("not_found", 404),
    ("method_not_allowed", 405),
    ("bad_passphrase", 400),
    ("conflict", 409),
    ("keys_missing", 409),
    ("nothing_to_review", 409),
    ("too_large", 413),
    ("unsupported_media_type", 415),
    ("throttled", 429),
    ("internal", 500),
    ("unavailable", 503),
];

impl ApiError {
    pub fn new(
        status: u16,
        code: &'static str,
        en: impl Into<String>,
        zh: impl Into<String>,
    ) -> Self {
        debug_assert!(CODES.iter().any(|(c, s)| *c == code && *s == status));
        ApiError {
            status,
            code,
            message: en.into(),
            message_zh: zh.into(),
            location: None,
            retry_after: None,
        }
    }

    pub fn at(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }

    pub fn bad_request(en: impl Into<String>, zh: impl Into<String>) -> Self {
        ApiError::new(400, "bad_request", en, zh)
    }

    pub fn not_found() -> Self {
        ApiError::new(404, "not_found", "no such object", "对象不存在")
    }

    pub fn conflict(en: impl Into<String>, zh: impl Into<String>) -> Self {
        ApiError::new(409, "conflict", en, zh)
    }

    /// A fault of the server: logged in full, answered without detail.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "request failed");
        ApiError::new(
            500,
            "internal",
            "internal error; the server log has the detail",
            "服务器内部错误",
        )
    }

    pub fn to_json(&self) -> Value {
        let mut error = json!({
            "code": self.code,
            "message": self.message,
            "message_zh": self.message_zh,
        });
        if let Some(at) = &self.location {
            error["location"] = json!(at);
        }
        json!({ "error": error })
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::SignIn => ApiError::new(
                401,
                "sign_in",
                "sign in first: a session cookie or an `Authorization: Bearer` token",
                "请先登录（会话或 API 令牌）",
            ),
            Refusal::Forbidden => ApiError::new(
                403,
                "forbidden",
                "your role may not do this",
                "您的角色无权执行此操作",
            ),
            Refusal::Scope(scope) => ApiError::new(
                403,
                "scope_missing",
                format!("this token lacks the `{}` scope", scope.as_str()),
                format!("该令牌缺少 `{}` 权限范围", scope.as_str()),
            ),
            Refusal::Hidden => ApiError::not_found(),
            Refusal::PasswordChange => ApiError::new(
                403,
                "password_change_required",
                "this password was set by someone else: change it first (POST /api/v1/me/password)",
                "该密码由他人设置，请先修改密码（POST /api/v1/me/password）",
            ),
        }
    }
}

impl From<crate::directory::DirectoryError> for ApiError {
    fn from(e: crate::directory::DirectoryError) -> Self {
        ApiError::internal(e)
    }
}

impl From<touchstone_store::StoreError> for ApiError {
    fn from(e: touchstone_store::StoreError) -> Self {
        ApiError::internal(e)
    }
}
