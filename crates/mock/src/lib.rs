//! A mock OpenAI-compatible model server for tests and benchmarks.
//!
//! It speaks a minimal HTTP/1.1 (keep-alive, pipelining, `Connection: close`) directly on
//! tokio TCP sockets, so that injected faults – a TCP reset, a truncated body – are real on
//! the wire. It listens on 127.0.0.1 only.
//!
//! # Endpoints
//! - `POST /v1/chat/completions`: OpenAI Chat Completions. Malformed JSON, or `messages`
//!   that is not an array, gives 400 with an OpenAI-style `{"error": {...}}` body.
//!   `"stream": true` is refused with 400.
//! - `POST /v1/completions`: legacy OpenAI Completions with `echo` and `logprobs`, as vLLM and
//!   llama.cpp server offer them (see *Completions and log-probabilities*). Malformed JSON, or a
//!   `prompt` that is not a string (or an array of one string), gives 400.
//! - `GET /v1/models`: lists the one configured model.
//! - anything else: 404 with an OpenAI-style error body.
//!
//! # Answer rules
//! The answer is computed from the text of the **last** message whose role is `user`
//! (string content, or the `text` parts of array content joined by newlines):
//! 0. If any user message contains `[[replies:A||B||C]]`, the n-th request (over the server's life) whose
//!    text holds that same directive is answered with the n-th alternative, the last one
//!    repeating: a conversation partner that changes its answer, e.g. a model under test that
//!    answers `A` and then, as a judge shown the same question, first a malformed `B`, then `C`.
//! 1. If it contains `[[unknown-to:a,b]]` and the request's `model` is one of the names, the
//!    answer is `I don't know.` (two models on one mock that differ on known items).
//! 2. Else, if it contains `[[reply:TEXT]]`, the answer is exactly `TEXT` (up to the next `]]`).
//! 3. Else, if it contains `[[echo]]`, the answer is the whole user text, verbatim.
//! 4. Else, if it contains a two-operand integer sum, difference or product such as
//!    `What is 3 + 4?`, `12*11` or `10 - 25` (operators `+ - * ×`), the answer is
//!    `The answer is N.` (the first such expression counts; overflow counts as unknown).
//! 5. Else the answer is `I don't know.`
//!
//! Token counts in `usage` are whitespace-separated word counts (prompt: all messages).
//!
//! # Completions and log-probabilities
//! `POST /v1/completions` answers the `prompt` by rules 2–5 above (the prompt plays the user
//! text; `[[replies:…]]` is a chat-only rule), cut to `max_tokens` tokens (`finish_reason: "length"` when cut; `0` generates
//! nothing). With `"echo": true` the text and the log-probabilities start with the prompt.
//! - **Tokenizer** ([`tokenize`]): a token starts at the first character, at every CJK
//!   character (ideographs, kana, hangul, CJK and full-width punctuation), after every CJK
//!   character, and at whitespace that follows non-whitespace: `"Answer: A"` → `"Answer:"`,
//!   `" A"`; `"北京"` → `"北"`, `"京"`. Prompt and answer are tokenized separately.
//! - **A copy model** ([`token_logprob`]): the first token has no log-probability (`null`, as
//!   on real servers). A token whose text, leading whitespace removed, equals an earlier
//!   token's (same rule) is a *copy*: log-probability [`COPY_LOGPROB`] (−0.5) and the top-1
//!   alternative. Any other token has log-probability `−(1 + 0.5·k)`, k its character count
//!   without leading whitespace, and the top-1 alternative is [`END_OF_TEXT`] at
//!   [`END_OF_TEXT_LOGPROB`] (−1.0). So a continuation that repeats words of its context is
//!   likelier, and greedy exactly when all its tokens are copies.
//! - With `logprobs` set (any N ≥ 0), `choices[0].logprobs` has `tokens`, `token_logprobs`,
//!   `top_logprobs` (the top-1 alternative plus the token itself, as vLLM lists them; `null`
//!   for the first token) and `text_offset` (characters, not bytes, from the prompt's start).
//!   Without `logprobs` it is `null`.
//!
//! # Faults
//! Each chat or completions request draws at most one fault from [`Faults`], using a hash of
//! the seed and the request's sequence number (0, 1, 2, … in arrival order), so a run is
//! reproducible given the same arrival order. The configured latency is slept before every
//! answer except a hang. See [`FaultKind`] for what each fault does on the wire.
//!
//! # Lifetime
//! A [`MockServer`] runs on the tokio runtime that started it and stops when it is dropped
//! or [`MockServer::shutdown`] is called: keep it alive while you use it. For synchronous
//! tests, [`spawn_background`] runs one on its own thread.

mod completions;
mod fault;
mod http;
mod rules;

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub use completions::{COPY_LOGPROB, END_OF_TEXT, END_OF_TEXT_LOGPROB, token_logprob, tokenize};
pub use fault::{FaultKind, Faults};
pub use rules::answer;

/// How the mock behaves.
#[derive(Clone, Debug)]
pub struct MockConfig {
    /// Slept before answering every chat or completions request that does not hang.
    pub latency: Duration,
    /// Initial fault rates; change them later with `set_faults`.
    pub faults: Faults,
    /// Seed of the per-request fault draw.
    pub seed: u64,
    /// Value of the `Retry-After` header on 429 answers.
    pub retry_after_secs: u64,
    /// How long a hung request stays silent before the connection is closed.
    pub hang: Duration,
    /// The model name in answers and in `/v1/models`.
    pub model_name: String,
    /// When set, chat and completions requests without `Authorization: Bearer <key>` are
    /// answered 401, as OpenAI answers a missing or wrong key.
    pub api_key: Option<String>,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            latency: Duration::ZERO,
            faults: Faults::default(),
            seed: 0,
            retry_after_secs: 1,
            hang: Duration::from_secs(3600),
            model_name: "touchstone-mock".to_owned(),
            api_key: None,
        }
    }
}

/// One chat or completions request as the mock received it.
#[derive(Clone, Debug, Serialize)]
pub struct RequestRecord {
    /// Arrival order, from 0.
    pub seq: u64,
    /// The last user message's text, or a completions request's prompt ("" when the request
    /// was malformed or had none).
    pub user_text: String,
    /// The fault injected into this request, if any.
    pub fault: Option<FaultKind>,
    /// Milliseconds since the server started.
    pub at_ms: u64,
    /// Hex SHA-256 of the raw request body.
    pub body_sha256: String,
}

struct Log {
    records: Vec<RequestRecord>,
    file: Option<BufWriter<File>>,
}

/// State shared by the server's tasks and its handles.
struct Shared {
    config: MockConfig,
    faults: Mutex<Faults>,
    log: Mutex<Log>,
    connections: AtomicU64,
    started: Instant,
    /// How often each `[[replies:…]]` directive has been answered.
    sequences: Mutex<std::collections::HashMap<String, usize>>,
}

/// A poisoned lock only means another task panicked mid-update; the data is still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.log).records.clone()
    }

    fn request_count(&self) -> u64 {
        lock(&self.log).records.len() as u64
    }

    fn set_faults(&self, faults: Faults) {
        *lock(&self.faults) = faults;
    }

    fn log_to_file(&self, path: &Path) -> io::Result<()> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot open request log {}: {e}", path.display()),
                )
            })?;
        lock(&self.log).file = Some(BufWriter::new(file));
        Ok(())
    }

    /// Assigns the next sequence number, draws the fault and logs the request, atomically,
    /// so that the log order is the sequence order.
    fn admit(&self, user_text: String, body: &[u8], can_fault: bool) -> (u64, Option<FaultKind>) {
        let faults = lock(&self.faults).clone();
        let body_sha256 = hex::encode(Sha256::digest(body));
        let at_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mut log = lock(&self.log);
        let seq = log.records.len() as u64;
        let fault = if can_fault {
            faults.decide(self.config.seed, seq)
        } else {
            None
        };
        let record = RequestRecord {
            seq,
            user_text,
            fault,
            at_ms,
            body_sha256,
        };
        if let Some(file) = log.file.as_mut() {
            // Flush per line so a killed process leaves only whole lines behind.
            let written = serde_json::to_writer(&mut *file, &record)
                .map_err(io::Error::from)
                .and_then(|()| file.write_all(b"\n"))
                .and_then(|()| file.flush());
            if let Err(e) = written {
                eprintln!(
                    "touchstone-mock: writing the request log failed ({e}); file logging stopped"
                );
                log.file = None;
            }
        }
        log.records.push(record);
        (seq, fault)
    }
}

/// A running mock server on the current tokio runtime. Stops when dropped.
pub struct MockServer {
    handle: MockHandle,
    stop: watch::Sender<bool>,
}

/// What a running mock tells its test: its address and what it has received. Both
/// [`MockServer`] and [`BackgroundMock`] dereference to it.
#[derive(Clone)]
pub struct MockHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl std::ops::Deref for MockServer {
    type Target = MockHandle;
    fn deref(&self) -> &MockHandle {
        &self.handle
    }
}

impl MockServer {
    /// Binds 127.0.0.1 on an ephemeral port and starts serving on the current runtime.
    pub async fn start(config: MockConfig) -> io::Result<MockServer> {
        MockServer::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await
    }

    /// Binds `addr` and starts serving on the current runtime.
    pub async fn start_on(addr: SocketAddr, config: MockConfig) -> io::Result<MockServer> {
        let listener = TcpListener::bind(addr).await.map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("mock server cannot listen on {addr}: {e}"),
            )
        })?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            faults: Mutex::new(config.faults.clone()),
            config,
            log: Mutex::new(Log {
                records: Vec::new(),
                file: None,
            }),
            connections: AtomicU64::new(0),
            started: Instant::now(),
            sequences: Mutex::new(std::collections::HashMap::new()),
        });
        let (stop, stop_rx) = watch::channel(false);
        tokio::spawn(accept_loop(listener, Arc::clone(&shared), stop_rx));
        Ok(MockServer {
            handle: MockHandle { addr, shared },
            stop,
        })
    }

    /// Stops accepting and closes every open connection (hung ones included).
    pub fn shutdown(self) {
        drop(self);
    }
}

impl MockHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/v1`
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Every chat and completions request received so far, faulted ones included, in arrival order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.requests()
    }

    pub fn request_count(&self) -> u64 {
        self.shared.request_count()
    }

    /// TCP connections accepted so far (keep-alive clients reuse them).
    pub fn connections_accepted(&self) -> u64 {
        self.shared.connections.load(Ordering::Relaxed)
    }

    /// Replaces the fault rates for requests that arrive from now on.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.set_faults(faults);
    }

    /// Also appends every request record from now on to `path` as a JSON line.
    pub fn log_to_file(&self, path: &Path) -> io::Result<()> {
        self.shared.log_to_file(path)
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

/// Resolves once the server is told to stop (or its handle is gone).
async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, stop: watch::Receiver<bool>) {
    let stop_signal = stopped(stop.clone());
    tokio::pin!(stop_signal);
    loop {
        tokio::select! {
            () = &mut stop_signal => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    shared.connections.fetch_add(1, Ordering::Relaxed);
                    let shared = Arc::clone(&shared);
                    let stop = stop.clone();
                    tokio::spawn(async move {
                        tokio::select! {
                            () = stopped(stop) => {}
                            () = serve_connection(shared, stream) => {}
                        }
                    });
                }
                // E.g. out of file descriptors: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
    }
}

/// What to do with the connection after a request.
enum Action {
    Respond {
        bytes: Vec<u8>,
    },
    Hang,
    Reset,
    /// Send the head and half of the body, then close.
    Truncate {
        bytes: Vec<u8>,
        head_len: usize,
    },
}

async fn serve_connection(shared: Arc<Shared>, mut stream: TcpStream) {
    // Small answers: don't let Nagle hold them back.
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(8 * 1024);
    loop {
        let request = match http::read_request(&mut stream, &mut buf).await {
            Ok(http::ReadOutcome::Request(request)) => request,
            Ok(http::ReadOutcome::Closed) | Err(_) => return,
            Ok(http::ReadOutcome::Bad { status, message }) => {
                let (bytes, _) = http::response(
                    status,
                    &[],
                    &error_body(&message, "invalid_request_error"),
                    false,
                );
                let _ = stream.write_all(&bytes).await;
                let _ = stream.shutdown().await;
                return;
            }
        };
        let keep_alive = request.keep_alive;
        match route(&shared, request).await {
            Action::Respond { bytes } => {
                if stream.write_all(&bytes).await.is_err() {
                    return;
                }
                if !keep_alive {
                    let _ = stream.shutdown().await;
                    return;
                }
            }
            Action::Hang => {
                hang(&mut stream, shared.config.hang).await;
                return;
            }
            Action::Reset => {
                // SO_LINGER 0 makes close() send RST instead of FIN.
                let _ = stream.set_zero_linger();
                drop(stream);
                return;
            }
            Action::Truncate { bytes, head_len } => {
                let cut = head_len + (bytes.len() - head_len) / 2;
                let _ = stream.write_all(&bytes[..cut]).await;
                let _ = stream.shutdown().await;
                return;
            }
        }
    }
}

/// Sends nothing for `duration`, but gives up early when the client closes the connection.
async fn hang(stream: &mut TcpStream, duration: Duration) {
    let sleep = tokio::time::sleep(duration);
    tokio::pin!(sleep);
    let mut scratch = [0u8; 1024];
    loop {
        tokio::select! {
            () = &mut sleep => return,
            read = stream.read(&mut scratch) => match read {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            },
        }
    }
}

async fn route(shared: &Shared, request: http::Request) -> Action {
    let keep_alive = request.keep_alive;
    if let Some(key) = &shared.config.api_key
        && request.method == "POST"
        && request.authorization.as_deref() != Some(format!("Bearer {key}").as_str())
    {
        let (bytes, _) = http::response(
            401,
            &[],
            &error_body(
                "Incorrect API key provided. You can find your API key in your account settings.",
                "invalid_request_error",
            ),
            keep_alive,
        );
        return Action::Respond { bytes };
    }
    match (request.method.as_str(), request.path.as_str()) {
        ("POST", "/v1/chat/completions") => chat(shared, &request.body, keep_alive).await,
        ("POST", "/v1/completions") => completion(shared, &request.body, keep_alive).await,
        ("GET", "/v1/models") => {
            let body = serde_json::json!({
                "object": "list",
                "data": [{
                    "id": shared.config.model_name,
                    "object": "model",
                    "created": 0,
                    "owned_by": "touchstone-mock",
                }],
            });
            let (bytes, _) = http::response(200, &[], body.to_string().as_bytes(), keep_alive);
            Action::Respond { bytes }
        }
        (method, path) => {
            let message = format!(
                "no route for {method} {path}; the mock serves POST /v1/chat/completions, POST /v1/completions and GET /v1/models"
            );
            let (bytes, _) = http::response(
                404,
                &[],
                &error_body(&message, "invalid_request_error"),
                keep_alive,
            );
            Action::Respond { bytes }
        }
    }
}

/// `{"error": {...}}` as OpenAI sends it.
fn error_body(message: &str, kind: &str) -> Vec<u8> {
    let body = serde_json::json!({
        "error": { "message": message, "type": kind, "param": null, "code": null }
    });
    body.to_string().into_bytes()
}

/// The parts of a chat request the mock uses.
struct ChatRequest {
    /// The request's `model` field (empty when absent).
    model: String,
    user_text: String,
    /// The first user message holding a `[[replies:…]]` directive, if any: a judge asked again
    /// in the same conversation still follows the directive of the question it was shown.
    replies_text: Option<String>,
    prompt_tokens: u64,
}

/// A request body as a JSON object, refusing streaming (which the mock does not do).
pub(crate) fn request_object(body: &[u8]) -> Result<serde_json::Map<String, Value>, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("request body is not valid JSON: {e}"))?;
    let Value::Object(object) = value else {
        return Err("request body must be a JSON object".to_owned());
    };
    if object.get("stream").and_then(Value::as_bool) == Some(true) {
        return Err("\"stream\": true is not supported by the mock server".to_owned());
    }
    Ok(object)
}

fn parse_chat(body: &[u8]) -> Result<ChatRequest, String> {
    let object = request_object(body)?;
    let Some(messages) = object.get("messages").and_then(Value::as_array) else {
        return Err("'messages' must be an array of {role, content} objects".to_owned());
    };
    let mut prompt_tokens = 0u64;
    let mut user_text = String::new();
    let mut replies_text = None;
    for (index, message) in messages.iter().enumerate() {
        let Some(role) = message.get("role").and_then(Value::as_str) else {
            return Err(format!("messages[{index}].role must be a string"));
        };
        let text = content_text(message.get("content")).ok_or_else(|| {
            format!("messages[{index}].content must be a string, an array of parts, or null")
        })?;
        prompt_tokens += word_count(&text);
        if role == "user" {
            if replies_text.is_none() && rules::replies_directive(&text).is_some() {
                replies_text = Some(text.clone());
            }
            user_text = text;
        }
    }
    Ok(ChatRequest {
        model: object
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        user_text,
        replies_text,
        prompt_tokens,
    })
}

/// String content, or the `text` of each text part of array content, joined by newlines.
fn content_text(content: Option<&Value>) -> Option<String> {
    match content {
        None | Some(Value::Null) => Some(String::new()),
        Some(Value::String(text)) => Some(text.clone()),
        Some(Value::Array(parts)) => {
            let texts: Vec<&str> = parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect();
            Some(texts.join("\n"))
        }
        Some(_) => None,
    }
}

fn word_count(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

#[derive(Serialize)]
struct Completion<'a> {
    id: String,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: Vec<Choice>,
    usage: UsageBody,
}

#[derive(Serialize)]
struct Choice {
    index: u32,
    message: AssistantMessage,
    finish_reason: &'static str,
}

#[derive(Serialize)]
struct AssistantMessage {
    role: &'static str,
    content: String,
}

#[derive(Serialize)]
struct UsageBody {
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
}

/// What every answering route does first: log the request and draw its fault (a request that
/// does not parse is logged but never faulted), answer 400 to a bad request, then hang, wait
/// the configured latency or inject an error as the fault says. `Ok` carries on with the
/// parsed request, its sequence number and its fault.
async fn admit_request<T>(
    shared: &Shared,
    body: &[u8],
    keep_alive: bool,
    parsed: Result<T, String>,
    logged_text: impl Fn(&T) -> String,
) -> Result<(T, u64, Option<FaultKind>), Action> {
    let (text, can_fault) = match &parsed {
        Ok(request) => (logged_text(request), true),
        Err(_) => (String::new(), false),
    };
    let (seq, fault) = shared.admit(text, body, can_fault);
    let request = match parsed {
        Ok(request) => request,
        Err(message) => {
            let (bytes, _) = http::response(
                400,
                &[],
                &error_body(&message, "invalid_request_error"),
                keep_alive,
            );
            return Err(Action::Respond { bytes });
        }
    };
    if fault == Some(FaultKind::Hang) {
        return Err(Action::Hang);
    }
    if !shared.config.latency.is_zero() {
        tokio::time::sleep(shared.config.latency).await;
    }
    if let Some(action) = injected_error(shared, fault, keep_alive) {
        return Err(action);
    }
    Ok((request, seq, fault))
}

async fn chat(shared: &Shared, body: &[u8], keep_alive: bool) -> Action {
    let (chat, seq, fault) = match admit_request(
        shared,
        body,
        keep_alive,
        parse_chat(body),
        |c: &ChatRequest| c.user_text.clone(),
    )
    .await
    {
        Ok(admitted) => admitted,
        Err(action) => return action,
    };
    let error = |status: u16, message: &str, kind: &str, headers: &[(&str, &str)]| {
        let (bytes, _) = http::response(status, headers, &error_body(message, kind), keep_alive);
        Action::Respond { bytes }
    };
    let content = match chat
        .replies_text
        .as_deref()
        .and_then(rules::replies_directive)
    {
        Some((directive, alternatives)) => {
            let mut seen = lock(&shared.sequences);
            let n = seen.entry(directive.to_string()).or_insert(0);
            let text = alternatives[(*n).min(alternatives.len() - 1)].to_string();
            *n += 1;
            text
        }
        None => rules::answer_as(&chat.model, &chat.user_text),
    };
    let completion_tokens = word_count(&content);
    let choices = if fault == Some(FaultKind::EmptyChoices) {
        Vec::new()
    } else {
        vec![Choice {
            index: 0,
            message: AssistantMessage {
                role: "assistant",
                content,
            },
            finish_reason: "stop",
        }]
    };
    let completion = Completion {
        id: format!("chatcmpl-mock-{seq}"),
        object: "chat.completion",
        created: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        model: &shared.config.model_name,
        choices,
        usage: UsageBody {
            prompt_tokens: chat.prompt_tokens,
            completion_tokens,
            total_tokens: chat.prompt_tokens + completion_tokens,
        },
    };
    let body = match serde_json::to_vec(&completion) {
        Ok(body) => body,
        Err(e) => {
            return error(
                500,
                &format!("mock could not encode its answer: {e}"),
                "server_error",
                &[],
            );
        }
    };
    let (bytes, head_len) = http::response(200, &[], &body, keep_alive);
    if fault == Some(FaultKind::Truncated) {
        Action::Truncate { bytes, head_len }
    } else {
        Action::Respond { bytes }
    }
}

/// The answer for an injected 429, 5xx or reset; `None` for no fault or a fault that shapes
/// the 200 answer (truncated, empty choices) or hangs (handled before).
fn injected_error(shared: &Shared, fault: Option<FaultKind>, keep_alive: bool) -> Option<Action> {
    let error = |status: u16, message: &str, kind: &str, headers: &[(&str, &str)]| {
        let (bytes, _) = http::response(status, headers, &error_body(message, kind), keep_alive);
        Action::Respond { bytes }
    };
    match fault? {
        FaultKind::RateLimit => {
            let retry_after = shared.config.retry_after_secs.to_string();
            Some(error(
                429,
                "Rate limit reached (injected by touchstone-mock).",
                "rate_limit_error",
                &[("Retry-After", &retry_after)],
            ))
        }
        FaultKind::ServerError => Some(error(
            500,
            "Internal server error (injected by touchstone-mock).",
            "server_error",
            &[],
        )),
        FaultKind::Unavailable => Some(error(
            503,
            "Service unavailable (injected by touchstone-mock).",
            "server_error",
            &[],
        )),
        FaultKind::Reset => Some(Action::Reset),
        FaultKind::Hang | FaultKind::Truncated | FaultKind::EmptyChoices => None,
    }
}

/// `POST /v1/completions` (rules in the crate docs); faults apply as for chat.
async fn completion(shared: &Shared, body: &[u8], keep_alive: bool) -> Action {
    let parsed = completions::parse_completion_request(body);
    let (request, seq, fault) =
        match admit_request(shared, body, keep_alive, parsed, |r| r.prompt.clone()).await {
            Ok(admitted) => admitted,
            Err(action) => return action,
        };
    let (text, finish_reason, logprobs, completion_tokens) =
        completions::complete(&request, &rules::answer(&request.prompt));
    let prompt_tokens = completions::tokenize(&request.prompt).len() as u64;
    let choices = if fault == Some(FaultKind::EmptyChoices) {
        Vec::new()
    } else {
        vec![serde_json::json!({
            "index": 0,
            "text": text,
            "logprobs": logprobs,
            "finish_reason": finish_reason,
        })]
    };
    let body = serde_json::json!({
        "id": format!("cmpl-mock-{seq}"),
        "object": "text_completion",
        "created": SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        "model": shared.config.model_name,
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    });
    let (bytes, head_len) = http::response(200, &[], body.to_string().as_bytes(), keep_alive);
    if fault == Some(FaultKind::Truncated) {
        Action::Truncate { bytes, head_len }
    } else {
        Action::Respond { bytes }
    }
}

/// A mock server running on its own thread and runtime, for synchronous tests.
/// Stops (closing every connection) when dropped.
pub struct BackgroundMock {
    handle: MockHandle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Starts a [`MockServer`] on 127.0.0.1 (ephemeral port) on a new thread with its own
/// single-threaded runtime, and returns once it is listening.
pub fn spawn_background(config: MockConfig) -> io::Result<BackgroundMock> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<io::Result<MockHandle>>();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("touchstone-mock".to_owned())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            runtime.block_on(async move {
                match MockServer::start(config).await {
                    Ok(server) => {
                        let _ = ready_tx.send(Ok(server.handle.clone()));
                        // Also ends when the BackgroundMock is dropped without sending.
                        let _ = stop_rx.await;
                        server.shutdown();
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            });
        })?;
    let handle = ready_rx.recv().map_err(|_| {
        io::Error::other("the mock server thread exited before it started listening")
    })??;
    Ok(BackgroundMock {
        handle,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}

impl std::ops::Deref for BackgroundMock {
    type Target = MockHandle;
    fn deref(&self) -> &MockHandle {
        &self.handle
    }
}

impl Drop for BackgroundMock {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_is_the_last_user_message() {
        let body = br#"{"model":"m","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"first"},{"role":"assistant","content":"ok"},{"role":"user","content":[{"type":"text","text":"second"},{"type":"text","text":"part"}]}]}"#;
        let chat = match parse_chat(body) {
            Ok(chat) => chat,
            Err(e) => panic!("valid request rejected: {e}"),
        };
        assert_eq!(chat.user_text, "second\npart");
        assert_eq!(chat.prompt_tokens, 6);
    }

    #[test]
    fn malformed_chat_requests_are_explained() {
        assert!(parse_chat(b"{not json").is_err_and(|e| e.contains("not valid JSON")));
        assert!(parse_chat(b"[1]").is_err_and(|e| e.contains("JSON object")));
        assert!(parse_chat(br#"{"messages":3}"#).is_err_and(|e| e.contains("'messages'")));
        assert!(
            parse_chat(br#"{"messages":[{"content":"x"}]}"#)
                .is_err_and(|e| e.contains("messages[0].role"))
        );
        assert!(
            parse_chat(br#"{"messages":[{"role":"user","content":5}]}"#)
                .is_err_and(|e| e.contains("messages[0].content"))
        );
        assert!(
            parse_chat(br#"{"stream":true,"messages":[]}"#).is_err_and(|e| e.contains("stream"))
        );
    }
}
