//! OpenAI-compatible Chat Completions over HTTP: vLLM, Ollama, llama.cpp server, DeepSeek,
//! Qwen, GLM and OpenAI itself.
//!
//! One pooled keep-alive client serves every request of a model. The hot path serialises the
//! request straight from borrowed data and parses the answer into small structs that skip every
//! field Touchstone does not use, so a request costs a few microseconds of CPU here.
//!
//! This provider maps HTTP outcomes onto [`ModelError`] and does nothing else: retries, limits,
//! timeouts and caching are layers (see [`crate::layers`]).

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use serde::{Deserialize, Deserializer, Serialize};
use touchstone_core::{Completion, FinishReason, GenerateRequest, Message, ModelSpec, Usage};

use crate::{Model, ModelError, ModelIdentity};

/// Idle connections kept per host: above the largest concurrency we run (64), so that a
/// steady stream of requests never has to open a new connection.
const POOL_IDLE_PER_HOST: usize = 128;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of an error body goes into an error message.
const ERROR_BODY_CHARS: usize = 300;

/// An API key. Its `Debug` and `Display` print `***`, so the key cannot leak through logs,
/// error messages or reports (invariant 8).
#[derive(Clone)]
pub struct ApiKey {
    /// The whole `Authorization` header value, built once, marked sensitive for hyper.
    header: HeaderValue,
    /// Kept to scrub the key out of error bodies that echo it back.
    secret: String,
}

impl ApiKey {
    pub fn new(key: String) -> Result<Self, ModelError> {
        let mut header = HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| {
            ModelError::Config("the API key contains characters that cannot be sent in an HTTP header".into())
        })?;
        header.set_sensitive(true);
        Ok(ApiKey { header, secret: key })
    }

    /// Replace every occurrence of the key in `text` with `***`.
    fn scrub(&self, text: String) -> String {
        if self.secret.is_empty() || !text.contains(&self.secret) { text } else { text.replace(&self.secret, "***") }
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A model behind an OpenAI-compatible `/chat/completions` endpoint.
pub struct OpenAiModel {
    identity: ModelIdentity,
    model: String,
    base_url: String,
    chat_url: Url,
    models_url: Url,
    api_key: Option<ApiKey>,
    client: reqwest::Client,
    /// Client-side deadline per HTTP request, if set with [`OpenAiModel::with_timeout`]. The
    /// `Timeout` layer is the usual way to bound a request; this one also bounds `list_models`.
    timeout: Option<Duration>,
}

impl fmt::Debug for OpenAiModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiModel")
            .field("model", &self.model)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl OpenAiModel {
    /// A model named `model` at `base_url` (e.g. `http://127.0.0.1:8000/v1`). Without an API key
    /// no `Authorization` header is sent, which local servers accept.
    pub fn new(model: &str, base_url: &str, api_key: Option<String>) -> Result<Self, ModelError> {
        let base = base_url.trim().trim_end_matches('/');
        if model.trim().is_empty() {
            return Err(ModelError::Config(format!("no model name given for the endpoint {base}")));
        }
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ModelError::Config(format!(
                "base URL `{base}` must start with http:// or https://, e.g. http://127.0.0.1:8000/v1"
            )));
        }
        let join = |path: &str| {
            Url::parse(&format!("{base}/{path}"))
                .map_err(|e| ModelError::Config(format!("base URL `{base}` is not a valid URL: {e}")))
        };
        let chat_url = join("chat/completions")?;
        let models_url = join("models")?;
        let api_key = api_key.map(ApiKey::new).transpose()?;
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(POOL_IDLE_PER_HOST)
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .tcp_keepalive(Duration::from_secs(60))
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("touchstone/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ModelError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(OpenAiModel {
            identity: ModelIdentity {
                label: format!("openai:{model}@{base}"),
                provider: "openai".into(),
                name: model.into(),
                digest: None,
            },
            model: model.into(),
            base_url: base.into(),
            chat_url,
            models_url,
            api_key,
            client,
            timeout: None,
        })
    }

    /// Build from an `openai:` spec, reading the API key from the environment variable the spec
    /// names. An unset or empty variable means no key (fine for local servers).
    pub fn from_spec(spec: &ModelSpec) -> Result<Self, ModelError> {
        match spec {
            ModelSpec::OpenAi { model, base_url, api_key_env } => {
                let key = match std::env::var(api_key_env) {
                    Ok(v) if !v.trim().is_empty() => Some(v.trim().to_owned()),
                    Ok(_) | Err(std::env::VarError::NotPresent) => None,
                    Err(std::env::VarError::NotUnicode(_)) => {
                        return Err(ModelError::Config(format!(
                            "environment variable {api_key_env} (the API key) is not valid UTF-8"
                        )));
                    }
                };
                OpenAiModel::new(model, base_url, key)
            }
            other => Err(ModelError::Config(format!("`{other}` is not an openai: model spec"))),
        }
    }

    /// A client-side deadline for each HTTP request.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The model ids the endpoint serves (`GET /models`): a reachability and credentials check.
    pub async fn list_models(&self) -> Result<Vec<String>, ModelError> {
        let mut req = self.client.get(self.models_url.clone());
        if let Some(key) = &self.api_key {
            req = req.header(AUTHORIZATION, key.header.clone());
        }
        if let Some(t) = self.timeout {
            req = req.timeout(t);
        }
        let response = req.send().await.map_err(|e| self.transport_error(e))?;
        let body = self.read_success(response).await?;
        let body = body.as_ref();
        let list: ModelList<'_> = serde_json::from_slice(body)
            .map_err(|e| ModelError::Malformed(format!("GET /models: {e}: {}", snippet(body))))?;
        Ok(list.data.into_iter().map(|m| m.id.into_owned()).collect())
    }

    /// Map a reqwest error from sending a request or reading its headers.
    fn transport_error(&self, e: reqwest::Error) -> ModelError {
        if e.is_timeout() {
            return ModelError::Timeout(self.timeout.unwrap_or(CONNECT_TIMEOUT));
        }
        ModelError::Connection(self.scrub(error_chain(&e)))
    }

    /// Map a reqwest error from reading a success body: a reset is a connection failure; a body
    /// that ends before its declared length is a truncated, hence malformed, response.
    fn body_error(&self, e: reqwest::Error) -> ModelError {
        if e.is_timeout() {
            return ModelError::Timeout(self.timeout.unwrap_or(CONNECT_TIMEOUT));
        }
        let text = self.scrub(error_chain(&e));
        if was_reset(&e) {
            ModelError::Connection(text)
        } else {
            ModelError::Malformed(format!("truncated body: {text}"))
        }
    }

    fn scrub(&self, text: String) -> String {
        match &self.api_key {
            Some(k) => k.scrub(text),
            None => text,
        }
    }

    /// Read the body of a response; non-success statuses become the matching error.
    async fn read_success(&self, response: reqwest::Response) -> Result<impl AsRef<[u8]>, ModelError> {
        let status = response.status();
        if status.is_success() {
            return response.bytes().await.map_err(|e| self.body_error(e));
        }
        let retry_after = response.headers().get(RETRY_AFTER).and_then(parse_retry_after);
        // The body of an error is only for the message; a failure to read it is not the story.
        let body = response.bytes().await.map(|b| self.scrub(snippet(&b))).unwrap_or_default();
        Err(status_error(status, body, retry_after))
    }
}

/// The message of an error and its sources ("connection refused", "connection reset"), each
/// once. URLs carry no secret; callers scrub the key anyway.
fn error_chain(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

fn was_reset(e: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            if matches!(io.kind(), ConnectionReset | ConnectionAborted | BrokenPipe) {
                return true;
            }
        }
        source = s.source();
    }
    false
}

fn status_error(status: StatusCode, body: String, retry_after: Option<Duration>) -> ModelError {
    let code = status.as_u16();
    if status == StatusCode::TOO_MANY_REQUESTS {
        ModelError::RateLimited { retry_after }
    } else if status.is_server_error() {
        ModelError::Server { status: code, body, retry_after }
    } else {
        ModelError::Client { status: code, body }
    }
}

/// `Retry-After` is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
pub fn parse_retry_after(value: &HeaderValue) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    // Some servers send fractional seconds; accept them, within reason.
    if let Ok(secs) = text.parse::<f64>() {
        return (secs.is_finite() && (0.0..1e9).contains(&secs)).then(|| Duration::from_secs_f64(secs));
    }
    let when = httpdate::parse_http_date(text).ok()?;
    Some(when.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

/// The start of a body, for error messages, cut at a character boundary.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    match text.char_indices().nth(ERROR_BODY_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    }
}

#[derive(Serialize)]
struct ChatBody<'a> {
    model: &'a str,
    messages: &'a [Message],
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f32>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    stop: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
}

/// Only the fields we read; serde skips the rest without allocating.
#[derive(Deserialize)]
struct ChatResponse<'a> {
    #[serde(default, borrow)]
    choices: Option<Vec<Choice<'a>>>,
    #[serde(default)]
    usage: Option<UsageBody>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(default)]
    message: Option<ChoiceMessage>,
    #[serde(default, borrow)]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ChoiceMessage {
    /// Outer `None`: the field is missing (malformed). `Some(None)`: `"content": null`, which
    /// servers send for an empty answer or a pure tool call.
    #[serde(default, deserialize_with = "present")]
    content: Option<Option<String>>,
}

#[derive(Deserialize)]
struct UsageBody {
    #[serde(default)]
    prompt_tokens: Option<u32>,
    #[serde(default)]
    completion_tokens: Option<u32>,
}

#[derive(Deserialize)]
struct ModelList<'a> {
    #[serde(borrow)]
    data: Vec<ModelEntry<'a>>,
}

#[derive(Deserialize)]
struct ModelEntry<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
}

fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

fn finish_reason(reason: Option<&str>) -> FinishReason {
    match reason {
        Some("stop" | "eos" | "end_turn" | "stop_sequence") => FinishReason::Stop,
        Some("length" | "max_tokens") => FinishReason::Length,
        Some("content_filter") => FinishReason::ContentFilter,
        _ => FinishReason::Other,
    }
}

/// Parse a successful Chat Completions body.
fn parse_completion(body: &[u8]) -> Result<Completion, ModelError> {
    let parsed: ChatResponse<'_> = serde_json::from_slice(body)
        .map_err(|e| ModelError::Malformed(format!("{e}; body starts: {}", snippet(body))))?;
    let choice = parsed
        .choices
        .and_then(|c| c.into_iter().next())
        .ok_or_else(|| ModelError::Malformed("the response has no choices".into()))?;
    let content = choice
        .message
        .ok_or_else(|| ModelError::Malformed("choices[0] has no message".into()))?
        .content
        .ok_or_else(|| ModelError::Malformed("choices[0].message has no content field".into()))?;
    let usage = parsed
        .usage
        .map(|u| Usage {
            prompt_tokens: u.prompt_tokens.unwrap_or(0),
            completion_tokens: u.completion_tokens.unwrap_or(0),
        })
        .unwrap_or_default();
    Ok(Completion {
        text: content.unwrap_or_default(),
        finish_reason: finish_reason(choice.finish_reason.as_deref()),
        usage,
        cached: false,
    })
}

#[async_trait]
impl Model for OpenAiModel {
    fn identity(&self) -> &ModelIdentity {
        &self.identity
    }

    async fn generate(&self, request: &GenerateRequest) -> Result<Completion, ModelError> {
        let p = &request.params;
        let body = serde_json::to_vec(&ChatBody {
            model: &self.model,
            messages: &request.messages,
            max_tokens: p.max_tokens,
            temperature: p.temperature,
            top_p: p.top_p,
            stop: &p.stop,
            seed: p.seed,
        })
        .map_err(|e| ModelError::Config(format!("cannot encode the request: {e}")))?;
        let mut headers = HeaderMap::with_capacity(2);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(key) = &self.api_key {
            headers.insert(AUTHORIZATION, key.header.clone());
        }
        let mut req = self.client.post(self.chat_url.clone()).headers(headers).body(body);
        if let Some(t) = self.timeout {
            req = req.timeout(t);
        }
        let response = req.send().await.map_err(|e| self.transport_error(e))?;
        let body = self.read_success(response).await?;
        parse_completion(body.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_normal_answer() {
        let c = parse_completion(
            br#"{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hi \"there\""},"finish_reason":"length"}],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}"#,
        )
        .unwrap();
        assert_eq!(c.text, "Hi \"there\"");
        assert_eq!(c.finish_reason, FinishReason::Length);
        assert_eq!(c.usage, Usage { prompt_tokens: 7, completion_tokens: 3 });
        assert!(!c.cached);
    }

    #[test]
    fn null_content_is_empty_and_missing_content_is_malformed() {
        let c = parse_completion(br#"{"choices":[{"message":{"content":null},"finish_reason":"stop"}]}"#).unwrap();
        assert_eq!(c.text, "");
        assert_eq!(c.usage, Usage::default());
        for bad in [
            &br#"{"choices":[{"message":{"role":"assistant"}}]}"#[..],
            br#"{"choices":[]}"#,
            br#"{"object":"chat.completion"}"#,
            br#"{"choices":[{"finish_reason":"stop"}]}"#,
            br#"{"choices":[{"message":{"content":"trunc"#,
            b"<html>bad gateway</html>",
            b"",
        ] {
            let e = parse_completion(bad).unwrap_err();
            assert_eq!(e.kind(), "malformed", "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn request_body_omits_unset_params() {
        let req = GenerateRequest {
            messages: vec![Message::system("s"), Message::user("u")],
            params: touchstone_core::GenerateParams { max_tokens: Some(5), seed: Some(1), ..Default::default() },
        };
        let p = &req.params;
        let body = serde_json::to_string(&ChatBody {
            model: "m",
            messages: &req.messages,
            max_tokens: p.max_tokens,
            temperature: p.temperature,
            top_p: p.top_p,
            stop: &p.stop,
            seed: p.seed,
        })
        .unwrap();
        assert_eq!(
            body,
            r#"{"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":"u"}],"max_tokens":5,"seed":1}"#
        );
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(parse_retry_after(&HeaderValue::from_static("3")), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(&HeaderValue::from_static("0.5")), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after(&HeaderValue::from_static("soon")), None);
        assert_eq!(parse_retry_after(&HeaderValue::from_static("-1")), None);
        let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(60));
        assert_eq!(parse_retry_after(&HeaderValue::from_str(&past).unwrap()), Some(Duration::ZERO));
        let future = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        let d = parse_retry_after(&HeaderValue::from_str(&future).unwrap()).unwrap();
        assert!(d > Duration::from_secs(27) && d <= Duration::from_secs(30), "{d:?}");
    }

    #[test]
    fn status_mapping() {
        assert_eq!(
            status_error(StatusCode::TOO_MANY_REQUESTS, String::new(), Some(Duration::from_secs(1))),
            ModelError::RateLimited { retry_after: Some(Duration::from_secs(1)) }
        );
        assert_eq!(status_error(StatusCode::SERVICE_UNAVAILABLE, "x".into(), None).kind(), "server_error");
        assert_eq!(status_error(StatusCode::NOT_FOUND, "x".into(), None).kind(), "client_error");
        assert!(!status_error(StatusCode::BAD_REQUEST, "x".into(), None).is_retryable());
    }

    #[test]
    fn key_is_hidden_and_scrubbed() {
        let m = OpenAiModel::new("m", "http://127.0.0.1:1/v1/", Some("sk-secret-123".into())).unwrap();
        let dbg = format!("{m:?}");
        assert!(!dbg.contains("sk-secret-123"), "{dbg}");
        assert!(dbg.contains("***"));
        assert_eq!(m.identity().label, "openai:m@http://127.0.0.1:1/v1");
        assert_eq!(m.scrub("echo sk-secret-123!".into()), "echo ***!");
        assert_eq!(format!("{:?}", ApiKey::new("k".into()).unwrap()), "***");
    }

    #[test]
    fn rejects_bad_config() {
        assert_eq!(OpenAiModel::new("m", "ftp://x", None).unwrap_err().kind(), "config");
        assert_eq!(OpenAiModel::new("", "http://x", None).unwrap_err().kind(), "config");
        assert_eq!(OpenAiModel::new("m", "http://x", Some("bad\nkey".into())).unwrap_err().kind(), "config");
        let local = ModelSpec::Local { source: "smollm2".into() };
        assert_eq!(OpenAiModel::from_spec(&local).unwrap_err().kind(), "config");
    }
}
