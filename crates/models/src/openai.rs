//! OpenAI-compatible Chat Completions over HTTP: vLLM, Ollama, llama.cpp server, DeepSeek,
//! Qwen, GLM and OpenAI itself.
//!
//! One pooled keep-alive client serves every request of a model. The hot path serialises the
//! request straight from borrowed data and parses the answer into small structs that skip every
//! field Touchstone does not use, so a request costs a few microseconds of CPU here.
//!
//! Log-likelihoods come from the legacy `/completions` endpoint with `echo` and `logprobs`, the
//! way lm-evaluation-harness's `local-completions` computes them (see
//! [`OpenAiModel::loglikelihood`]); vLLM serves it, most hosted chat APIs do not.
//!
//! This provider maps HTTP outcomes onto [`ModelError`] and does nothing else: retries, limits,
//! timeouts and caching are layers (see [`crate::layers`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use serde::{Deserialize, Deserializer, Serialize};
use touchstone_core::{Completion, FinishReason, GenerateRequest, Message, ModelSpec, Usage};

use crate::{Loglikelihood, LoglikelihoodRequest, Model, ModelError, ModelIdentity};

/// Idle connections kept per host: above the largest concurrency we run (64), so that a
/// steady stream of requests never has to open a new connection.
const POOL_IDLE_PER_HOST: usize = 128;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of an error body goes into an error message.
const ERROR_BODY_CHARS: usize = 300;

/// An API key. Its `Debug` and `Display` print `***`, so the key cannot leak through logs,
/// error messages or reports (invariant 9).
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
            ModelError::Config(
                "the API key contains characters that cannot be sent in an HTTP header".into(),
            )
        })?;
        header.set_sensitive(true);
        Ok(ApiKey {
            header,
            secret: key,
        })
    }

    /// Replace every occurrence of the key in `text` with `***`.
    fn scrub(&self, text: String) -> String {
        if self.secret.is_empty() || !text.contains(&self.secret) {
            text
        } else {
            text.replace(&self.secret, "***")
        }
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
    completions_url: Url,
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
            return Err(ModelError::Config(format!(
                "no model name given for the endpoint {base}"
            )));
        }
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ModelError::Config(format!(
                "base URL `{base}` must start with http:// or https://, e.g. http://127.0.0.1:8000/v1"
            )));
        }
        let join = |path: &str| {
            Url::parse(&format!("{base}/{path}")).map_err(|e| {
                ModelError::Config(format!("base URL `{base}` is not a valid URL: {e}"))
            })
        };
        let chat_url = join("chat/completions")?;
        let completions_url = join("completions")?;
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
            completions_url,
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
            ModelSpec::OpenAi {
                model,
                base_url,
                api_key_env,
            } => {
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
            other => Err(ModelError::Config(format!(
                "`{other}` is not an openai: model spec"
            ))),
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

    /// POST a JSON body to `url` and read the answer's body; statuses map as in [`status_error`].
    async fn post_json(
        &self,
        url: &Url,
        body: Vec<u8>,
    ) -> Result<impl AsRef<[u8]> + use<>, ModelError> {
        let mut headers = HeaderMap::with_capacity(2);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(key) = &self.api_key {
            headers.insert(AUTHORIZATION, key.header.clone());
        }
        let mut req = self.client.post(url.clone()).headers(headers).body(body);
        if let Some(t) = self.timeout {
            req = req.timeout(t);
        }
        let response = req.send().await.map_err(|e| self.transport_error(e))?;
        self.read_success(response).await
    }

    /// Log-likelihood of one continuation: one echo request (see [`Model::loglikelihood`]).
    async fn continuation_loglikelihood(
        &self,
        context: &str,
        continuation: &str,
    ) -> Result<Loglikelihood, ModelError> {
        let prompt = format!("{context}{continuation}");
        let body = serde_json::to_vec(&EchoBody {
            model: &self.model,
            prompt: &prompt,
            max_tokens: ECHO_MAX_TOKENS,
            echo: true,
            logprobs: 1,
            temperature: 0.0,
        })
        .map_err(|e| ModelError::Config(format!("cannot encode the request: {e}")))?;
        let body = self.post_json(&self.completions_url, body).await?;
        let logprobs = parse_echo_logprobs(body.as_ref())?;
        let context_chars = context.chars().count();
        continuation_score(
            &logprobs,
            context_chars,
            context_chars + continuation.chars().count(),
        )
    }

    /// Read the body of a response; non-success statuses become the matching error.
    async fn read_success(
        &self,
        response: reqwest::Response,
    ) -> Result<impl AsRef<[u8]> + use<>, ModelError> {
        let status = response.status();
        if status.is_success() {
            return response.bytes().await.map_err(|e| self.body_error(e));
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(parse_retry_after);
        // The body of an error is only for the message; a failure to read it is not the story.
        let body = response
            .bytes()
            .await
            .map(|b| self.scrub(snippet(&b)))
            .unwrap_or_default();
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
        ModelError::Server {
            status: code,
            body,
            retry_after,
        }
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
        return (secs.is_finite() && (0.0..1e9).contains(&secs))
            .then(|| Duration::from_secs_f64(secs));
    }
    let when = httpdate::parse_http_date(text).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
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

/// Tokens generated after the echoed prompt. vLLM rejects `max_tokens: 0`, so, like
/// lm-evaluation-harness, ask for one and ignore it.
const ECHO_MAX_TOKENS: u32 = 1;
/// Slack when comparing a token's log-probability with its top alternatives: the values went
/// through JSON, and a tie counts as greedy.
const GREEDY_TOLERANCE: f64 = 1e-6;

const NEEDS_ECHO: &str = "log-likelihoods need an endpoint whose /v1/completions supports `echo` with `logprobs` \
     (vLLM and llama.cpp server do; most hosted chat APIs do not)";

#[derive(Serialize)]
struct EchoBody<'a> {
    model: &'a str,
    prompt: &'a str,
    max_tokens: u32,
    echo: bool,
    logprobs: u32,
    temperature: f32,
}

#[derive(Deserialize)]
struct TextCompletionResponse {
    #[serde(default)]
    choices: Option<Vec<TextChoice>>,
}

#[derive(Deserialize)]
struct TextChoice {
    #[serde(default)]
    logprobs: Option<EchoLogprobs>,
}

/// `choices[0].logprobs` of a legacy Completions answer; one entry per token in each list.
#[derive(Debug, Deserialize)]
struct EchoLogprobs {
    #[serde(default)]
    token_logprobs: Option<Vec<Option<f64>>>,
    #[serde(default)]
    top_logprobs: Option<Vec<Option<HashMap<String, f64>>>>,
    #[serde(default)]
    text_offset: Option<Vec<u64>>,
}

/// The per-token lists of an echo answer, checked to be parallel.
struct TokenLogprobs {
    logprobs: Vec<Option<f64>>,
    top: Vec<Option<HashMap<String, f64>>>,
    offsets: Vec<u64>,
}

/// Parse a successful `/completions` body; missing log-probabilities mean the endpoint cannot
/// do this at all (Unsupported), inconsistent ones are a malformed answer.
fn parse_echo_logprobs(body: &[u8]) -> Result<TokenLogprobs, ModelError> {
    let parsed: TextCompletionResponse = serde_json::from_slice(body).map_err(|e| {
        ModelError::Malformed(format!("/completions: {e}; body starts: {}", snippet(body)))
    })?;
    let choice = parsed
        .choices
        .and_then(|c| c.into_iter().next())
        .ok_or_else(|| ModelError::Malformed("the /completions response has no choices".into()))?;
    let Some(lp) = choice.logprobs else {
        return Err(ModelError::Unsupported(format!(
            "{NEEDS_ECHO}; the answer had no `logprobs`"
        )));
    };
    let (Some(logprobs), Some(offsets)) = (lp.token_logprobs, lp.text_offset) else {
        return Err(ModelError::Unsupported(format!(
            "{NEEDS_ECHO}; the answer's `logprobs` lacks `token_logprobs` or `text_offset`"
        )));
    };
    let top = lp.top_logprobs.ok_or_else(|| {
        ModelError::Unsupported(format!(
            "{NEEDS_ECHO}; the answer's `logprobs` lacks `top_logprobs`"
        ))
    })?;
    if offsets.len() != logprobs.len() || top.len() != logprobs.len() {
        return Err(ModelError::Malformed(format!(
            "logprobs lists differ in length: {} token_logprobs, {} top_logprobs, {} text_offset",
            logprobs.len(),
            top.len(),
            offsets.len()
        )));
    }
    if let Some(i) = offsets.windows(2).position(|w| w[1] < w[0]) {
        return Err(ModelError::Malformed(format!(
            "text_offset decreases at token {}: {} after {}",
            i + 1,
            offsets[i + 1],
            offsets[i]
        )));
    }
    Ok(TokenLogprobs {
        logprobs,
        top,
        offsets,
    })
}

/// Score the continuation, the characters `context_chars..prompt_chars` of the echoed prompt.
///
/// A token belongs to the continuation when it ends after the context: a token straddling the
/// boundary (context `"Answer: "`, continuation `"A"`, token `" A"`) counts with the
/// continuation, as lm-evaluation-harness does by moving the context's trailing space into the
/// continuation. Tokens at or past the prompt's end were generated and are ignored.
fn continuation_score(
    lp: &TokenLogprobs,
    context_chars: usize,
    prompt_chars: usize,
) -> Result<Loglikelihood, ModelError> {
    let (context_chars, prompt_chars) = (context_chars as u64, prompt_chars as u64);
    if lp.offsets.first() != Some(&0) {
        return Err(ModelError::Unsupported(format!(
            "{NEEDS_ECHO}; the answer's tokens do not start at the prompt's first character, so the prompt was not echoed"
        )));
    }
    let mut sum = 0.0;
    let mut greedy = true;
    let mut tokens = 0u32;
    for (i, &offset) in lp.offsets.iter().enumerate() {
        if offset >= prompt_chars {
            break;
        }
        let end = lp
            .offsets
            .get(i + 1)
            .map_or(prompt_chars, |&next| next.min(prompt_chars));
        if offset < context_chars && end <= context_chars {
            continue;
        }
        let logprob = match lp.logprobs[i] {
            Some(v) if v.is_finite() => v,
            Some(v) => return Err(ModelError::Malformed(format!("token_logprobs[{i}] is {v}"))),
            None if i == 0 => {
                return Err(ModelError::Unsupported(
                    "the continuation begins in the prompt's first token, which has no log-probability; \
                     give a longer context"
                        .into(),
                ));
            }
            None => {
                return Err(ModelError::Malformed(format!(
                    "token_logprobs[{i}] is null inside the prompt"
                )));
            }
        };
        let alternatives = match &lp.top[i] {
            Some(top) if !top.is_empty() => top,
            _ => {
                return Err(ModelError::Malformed(format!(
                    "top_logprobs[{i}] is empty or null inside the prompt"
                )));
            }
        };
        // Compare values, not token strings: servers spell the same token differently in
        // `tokens` and in `top_logprobs` keys (byte tokens, replacement characters).
        if alternatives
            .values()
            .any(|&alt| alt > logprob + GREEDY_TOLERANCE)
        {
            greedy = false;
        }
        sum += logprob;
        tokens += 1;
    }
    if tokens == 0 {
        return Err(ModelError::Malformed(format!(
            "no echoed token lies in the continuation (characters {context_chars}..{prompt_chars}); {} tokens, the \
             last at character {}",
            lp.offsets.len(),
            lp.offsets.last().copied().unwrap_or(0)
        )));
    }
    Ok(Loglikelihood {
        logprob: sum,
        is_greedy: greedy,
        tokens,
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
        let body = self.post_json(&self.chat_url, body).await?;
        parse_completion(body.as_ref())
    }

    /// lm-evaluation-harness's `local-completions` method: for each continuation, one
    /// `POST {base_url}/completions` of `context + continuation` with `echo: true, logprobs: 1,
    /// temperature: 0, max_tokens: 1` (vLLM refuses 0; the one generated token lies past the
    /// prompt and is ignored). The continuation's tokens are those whose `text_offset` (in
    /// characters) reaches past the context; their log-probabilities are summed, and the
    /// continuation is greedy when each of them is the top-1 alternative.
    ///
    /// The continuations of one call are sent one after another, not concurrently: the
    /// concurrency and rate layers count one call as one request in flight, and the engine
    /// already runs many items at once.
    async fn loglikelihood(
        &self,
        request: &LoglikelihoodRequest,
    ) -> Result<Vec<Loglikelihood>, ModelError> {
        let mut out = Vec::with_capacity(request.continuations.len());
        for continuation in &request.continuations {
            if continuation.is_empty() {
                // Nothing to score: probability 1, no request needed.
                out.push(Loglikelihood {
                    logprob: 0.0,
                    is_greedy: true,
                    tokens: 0,
                });
                continue;
            }
            if request.context.is_empty() {
                return Err(ModelError::Unsupported(
                    "log-likelihood over /completions needs a non-empty context: the prompt's first token has no \
                     log-probability"
                        .into(),
                ));
            }
            out.push(
                self.continuation_loglikelihood(&request.context, continuation)
                    .await?,
            );
        }
        Ok(out)
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
        assert_eq!(
            c.usage,
            Usage {
                prompt_tokens: 7,
                completion_tokens: 3
            }
        );
        assert!(!c.cached);
    }

    #[test]
    fn null_content_is_empty_and_missing_content_is_malformed() {
        let c = parse_completion(
            br#"{"choices":[{"message":{"content":null},"finish_reason":"stop"}]}"#,
        )
        .unwrap();
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
            params: touchstone_core::GenerateParams {
                max_tokens: Some(5),
                seed: Some(1),
                ..Default::default()
            },
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

    fn echo(body: &str) -> Result<TokenLogprobs, ModelError> {
        parse_echo_logprobs(body.as_bytes())
    }

    #[test]
    fn straddling_tokens_count_with_the_continuation_and_generated_ones_are_ignored() {
        // Prompt "Answer: A" + one generated token; tokens "Answer", ":", " A", " B".
        let lp = echo(
            r#"{"choices":[{"text":"Answer: A B","logprobs":{"tokens":["Answer",":"," A"," B"],
            "token_logprobs":[null,-1.0,-2.0,-0.1],
            "top_logprobs":[null,{":":-1.0},{" B":-1.5," A":-2.0},{" B":-0.1}],
            "text_offset":[0,6,7,9]}}]}"#,
        )
        .unwrap();
        // Context "Answer: " (8 chars) ends inside " A" (7..9): the token is the continuation's.
        let s = continuation_score(&lp, 8, 9).unwrap();
        assert_eq!(
            s,
            Loglikelihood {
                logprob: -2.0,
                is_greedy: false,
                tokens: 1
            }
        );
        // Context "Answer" (6 chars), continuation ": A": two tokens, ":" greedy, " A" not.
        let s = continuation_score(&lp, 6, 9).unwrap();
        assert_eq!(
            s,
            Loglikelihood {
                logprob: -3.0,
                is_greedy: false,
                tokens: 2
            }
        );
        let s = continuation_score(&lp, 6, 7).unwrap();
        assert_eq!(
            s,
            Loglikelihood {
                logprob: -1.0,
                is_greedy: true,
                tokens: 1
            }
        );
        // A continuation starting in the first token has no log-probability to give.
        assert_eq!(
            continuation_score(&lp, 3, 9).unwrap_err().kind(),
            "unsupported"
        );
    }

    #[test]
    fn missing_logprobs_are_unsupported_and_inconsistent_ones_malformed() {
        for body in [
            r#"{"choices":[{"text":"x"}]}"#,
            r#"{"choices":[{"text":"x","logprobs":null}]}"#,
            r#"{"choices":[{"logprobs":{"content":[{"token":"x","logprob":-1.0}]}}]}"#,
        ] {
            let e = echo(body).err().unwrap();
            assert_eq!(e.kind(), "unsupported", "{body}");
            assert!(e.to_string().contains("`echo` with `logprobs`"), "{e}");
        }
        for body in [
            r#"{"choices":[]}"#,
            r#"{"choices":[{"logprobs":{"token_logprobs":[null],"top_logprobs":[null],"text_offset":[0,1]}}]}"#,
            r#"{"choices":[{"logprobs":{"token_logprobs":[null,-1],"top_logprobs":[null,{}],"text_offset":[3,1]}}]}"#,
            r#"{"choices":[{"logprobs":{"token_logprobs":"x"}}]}"#,
            "<html>",
        ] {
            assert_eq!(echo(body).err().unwrap().kind(), "malformed", "{body}");
        }
        // Echo ignored: only the generated token, offset at the prompt's end.
        let lp = echo(r#"{"choices":[{"logprobs":{"token_logprobs":[-1],"top_logprobs":[{"x":-1}],"text_offset":[5]}}]}"#).unwrap();
        assert_eq!(
            continuation_score(&lp, 2, 5).unwrap_err().kind(),
            "unsupported"
        );
        // A null or empty alternative list inside the continuation is malformed.
        let lp = echo(r#"{"choices":[{"logprobs":{"token_logprobs":[null,-1,null],"top_logprobs":[null,{},null],"text_offset":[0,1,2]}}]}"#).unwrap();
        assert_eq!(
            continuation_score(&lp, 1, 2).unwrap_err().kind(),
            "malformed"
        );
        assert_eq!(
            continuation_score(&lp, 2, 3).unwrap_err().kind(),
            "malformed"
        );
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(
            parse_retry_after(&HeaderValue::from_static("3")),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            parse_retry_after(&HeaderValue::from_static("0.5")),
            Some(Duration::from_millis(500))
        );
        assert_eq!(parse_retry_after(&HeaderValue::from_static("soon")), None);
        assert_eq!(parse_retry_after(&HeaderValue::from_static("-1")), None);
        let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(60));
        assert_eq!(
            parse_retry_after(&HeaderValue::from_str(&past).unwrap()),
            Some(Duration::ZERO)
        );
        let future = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        let d = parse_retry_after(&HeaderValue::from_str(&future).unwrap()).unwrap();
        assert!(
            d > Duration::from_secs(27) && d <= Duration::from_secs(30),
            "{d:?}"
        );
    }

    #[test]
    fn status_mapping() {
        assert_eq!(
            status_error(
                StatusCode::TOO_MANY_REQUESTS,
                String::new(),
                Some(Duration::from_secs(1))
            ),
            ModelError::RateLimited {
                retry_after: Some(Duration::from_secs(1))
            }
        );
        assert_eq!(
            status_error(StatusCode::SERVICE_UNAVAILABLE, "x".into(), None).kind(),
            "server_error"
        );
        assert_eq!(
            status_error(StatusCode::NOT_FOUND, "x".into(), None).kind(),
            "client_error"
        );
        assert!(!status_error(StatusCode::BAD_REQUEST, "x".into(), None).is_retryable());
    }

    #[test]
    fn key_is_hidden_and_scrubbed() {
        let m =
            OpenAiModel::new("m", "http://127.0.0.1:1/v1/", Some("sk-secret-123".into())).unwrap();
        let dbg = format!("{m:?}");
        assert!(!dbg.contains("sk-secret-123"), "{dbg}");
        assert!(dbg.contains("***"));
        assert_eq!(m.identity().label, "openai:m@http://127.0.0.1:1/v1");
        assert_eq!(m.scrub("echo sk-secret-123!".into()), "echo ***!");
        assert_eq!(format!("{:?}", ApiKey::new("k".into()).unwrap()), "***");
    }

    #[test]
    fn rejects_bad_config() {
        assert_eq!(
            OpenAiModel::new("m", "ftp://x", None).unwrap_err().kind(),
            "config"
        );
        assert_eq!(
            OpenAiModel::new("", "http://x", None).unwrap_err().kind(),
            "config"
        );
        assert_eq!(
            OpenAiModel::new("m", "http://x", Some("bad\nkey".into()))
                .unwrap_err()
                .kind(),
            "config"
        );
        let local = ModelSpec::Local {
            source: "smollm2".into(),
        };
        assert_eq!(OpenAiModel::from_spec(&local).unwrap_err().kind(), "config");
    }
}
