//! Serve any [`SharedModel`] as an OpenAI-compatible HTTP endpoint, so that other tools
//! (lm-evaluation-harness's `local-chat-completions` and `local-completions`) can be checked
//! against exactly the model Touchstone evaluates in-process.
//!
//! Routes (the `/v1` prefix is optional):
//! - `GET /v1/models`: the one model, its id being the model's label (e.g. `local:smollm2`).
//! - `POST /v1/chat/completions`: [`touchstone_models::Model::generate`]; any `model` name is
//!   accepted, since one model is served.
//! - `POST /v1/completions`: raw prompts and per-token log-probabilities (prompt tokens too
//!   with `echo`), through [`touchstone_models::Model::complete_raw`] (see
//!   [`touchstone_core::raw`] for why chat and `loglikelihood` cannot stand in for it). A model
//!   that cannot do it (HTTP chat providers) gets a 400 `unsupported` naming what is missing.
//!
//! With [`ServeConfig::request_log`], every chat and completions request is appended to a JSONL
//! file as it is answered: the request body exactly as received and the text returned (or the
//! error), one line per request, written whole and flushed, so that the prompts two client tools
//! sent can be compared byte for byte (`bench/parity`).
//!
//! Not supported, each refused with a 400 naming the field: `stream: true`, `n` other than 1,
//! chat `logprobs`, non-text content parts, tools, token-id prompts, `suffix`. Unknown fields
//! (`user`, penalties, …) are ignored, as most OpenAI-compatible servers do.

pub mod api;
pub mod error;

use std::convert::Infallible;
use std::future::Future;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};
use touchstone_core::{GenerateRequest, RawCompletion, RawRequest};
use touchstone_models::{ModelError, SharedModel};

pub use error::{ApiError, ServeError};

/// Largest request body accepted: a long few-shot prompt is tens of kilobytes; this is far above.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// What to serve.
#[derive(Clone)]
pub struct ServeConfig {
    pub model: SharedModel,
    /// Append each chat/completions request and its answer to this JSONL file.
    pub request_log: Option<PathBuf>,
}

impl ServeConfig {
    pub fn new(model: SharedModel) -> Self {
        ServeConfig {
            model,
            request_log: None,
        }
    }
}

/// Serve `model` on `addr` until `shutdown` completes; requests in flight are finished first.
pub async fn serve(
    model: SharedModel,
    addr: SocketAddr,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    serve_config(ServeConfig::new(model), addr, shutdown).await
}

/// [`serve`] on 127.0.0.1:`port`: the loopback interface only, since the endpoint has no
/// authentication. The entry point for `touchstone serve-model --port P`.
pub async fn serve_port(
    model: SharedModel,
    port: u16,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    serve(
        model,
        SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        shutdown,
    )
    .await
}

/// [`serve_port`] with a full [`ServeConfig`] (e.g. a request log).
pub async fn serve_config_port(
    config: ServeConfig,
    port: u16,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    serve_config(
        config,
        SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        shutdown,
    )
    .await
}

pub async fn serve_config(
    config: ServeConfig,
    addr: SocketAddr,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let listener = bind(addr).await?;
    let state = State::new(config)?;
    tracing::info!(addr = %listener.local_addr().map_err(ServeError::LocalAddr)?, model = %state.config.model.identity().label, "serving");
    run(listener, Arc::new(state), shutdown).await;
    Ok(())
}

/// A server running in the background, for tests and embedding: bind port 0 and ask
/// [`Server::local_addr`].
pub struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Server {
    pub async fn start(config: ServeConfig, addr: SocketAddr) -> Result<Server, ServeError> {
        let listener = bind(addr).await?;
        let addr = listener.local_addr().map_err(ServeError::LocalAddr)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let state = Arc::new(State::new(config)?);
        let task = tokio::spawn(run(listener, state, async move {
            // A dropped handle stops the server too.
            let _ = stopped.await;
        }));
        Ok(Server {
            addr,
            stop: Some(stop),
            task,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL an OpenAI client takes, e.g. `http://127.0.0.1:41234/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Stop accepting, finish the requests in flight, and wait for that.
    pub async fn shutdown(mut self) -> Result<(), ServeError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task)
            .await
            .map_err(|e| ServeError::Task(e.to_string()))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })
}

struct State {
    config: ServeConfig,
    next_id: AtomicU64,
    log: Option<Mutex<std::fs::File>>,
}

impl State {
    fn new(config: ServeConfig) -> Result<Self, ServeError> {
        let log = match &config.request_log {
            None => None,
            Some(path) => Some(Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|source| ServeError::RequestLog {
                        path: path.clone(),
                        source,
                    })?,
            )),
        };
        Ok(State {
            config,
            next_id: AtomicU64::new(1),
            log,
        })
    }

    /// One JSONL line: the endpoint, the request body as received, and the answer's texts (one
    /// per choice) or the error. Written with one `write_all` on an unbuffered file.
    fn log(
        &self,
        endpoint: &str,
        body: &serde_json::Map<String, Value>,
        answer: &Result<Value, ApiError>,
    ) {
        let Some(log) = &self.log else { return };
        let (texts, error) = match answer {
            Ok(response) => {
                let texts: Vec<Value> = response
                    .get("choices")
                    .and_then(Value::as_array)
                    .map(|choices| {
                        choices
                            .iter()
                            .map(|c| {
                                c.pointer("/message/content")
                                    .or_else(|| c.get("text"))
                                    .cloned()
                                    .unwrap_or(Value::Null)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                (texts, Value::Null)
            }
            Err(e) => (Vec::new(), Value::String(e.message.clone())),
        };
        let mut line =
            json!({ "endpoint": endpoint, "request": body, "response": texts, "error": error })
                .to_string();
        line.push('\n');
        let mut file = log.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Err(e) = file.write_all(line.as_bytes()).and_then(|()| file.flush()) {
            tracing::warn!(error = %e, "cannot write the request log");
        }
    }

    fn label(&self) -> &str {
        &self.config.model.identity().label
    }

    fn id(&self, prefix: &str) -> String {
        format!(
            "{prefix}-{:x}",
            self.next_id.fetch_add(1, Ordering::Relaxed)
        )
    }
}

/// How long a client may take to send a request's headers (and, under TLS, its handshake).
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// Accept connections until `shutdown`, then let each connection finish its request in flight.
async fn run(listener: TcpListener, state: Arc<State>, shutdown: impl Future<Output = ()>) {
    let answer = move |req, _peer| {
        let state = state.clone();
        async move { handle(&state, req).await }
    };
    accept_until(listener, answer, shutdown).await;
}

/// The HTTP/1 accept loop this server and the center share: each request on each connection is
/// answered by `answer(request, peer)`; a client that sends its headers too slowly is cut off;
/// on `shutdown` no connection is accepted any more and those open finish their request in
/// flight before this returns.
pub async fn accept_until<F, Fut, B>(
    listener: TcpListener,
    answer: F,
    shutdown: impl Future<Output = ()>,
) where
    F: Fn(Request<Incoming>, SocketAddr) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<B>> + Send + 'static,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let plain = |stream: TcpStream| async move { Ok(stream) };
    accept_wrapped_until(listener, plain, answer, shutdown).await;
}

/// [`accept_until`] with each accepted connection first passed through `wrap` (a TLS
/// handshake): a connection whose `wrap` fails, or takes longer than the header timeout, is
/// dropped without disturbing the others.
pub async fn accept_wrapped_until<W, WFut, S, F, Fut, B>(
    listener: TcpListener,
    wrap: W,
    answer: F,
    shutdown: impl Future<Output = ()>,
) where
    W: Fn(TcpStream) -> WFut + Clone + Send + Sync + 'static,
    WFut: Future<Output = std::io::Result<S>> + Send + 'static,
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    F: Fn(Request<Incoming>, SocketAddr) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<B>> + Send + 'static,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        // Reap finished connections so the set does not grow with the server's lifetime.
        while connections.try_join_next().is_some() {}
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: transient; wait rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let answer = answer.clone();
        let wrap = wrap.clone();
        let mut stop = stop_rx.clone();
        connections.spawn(async move {
            let stream = match tokio::time::timeout(HEADER_TIMEOUT, wrap(stream)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, %peer, "connection refused before HTTP");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "connection too slow before HTTP");
                    return;
                }
            };
            let service = service_fn(move |req| {
                let answer = answer.clone();
                async move { Ok::<_, Infallible>(answer(req, peer).await) }
            });
            let conn = http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            let result = tokio::select! {
                r = conn.as_mut() => r,
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    let _ = stop_tx.send(true);
    while connections.join_next().await.is_some() {}
}

async fn handle(state: &State, req: Request<Incoming>) -> Response<Full<Bytes>> {
    match route(state, req).await {
        Ok(body) => json_response(StatusCode::OK, &body),
        Err(e) => {
            if e.status.is_server_error() {
                tracing::warn!(error = %e.message, "request failed");
            }
            json_response(e.status, &e.to_json())
        }
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

async fn route(state: &State, req: Request<Incoming>) -> Result<Value, ApiError> {
    let path = req.uri().path();
    let path = path
        .strip_prefix("/v1")
        .unwrap_or(path)
        .trim_end_matches('/')
        .to_owned();
    let method = req.method().clone();
    let expected = match path.as_str() {
        "/models" => Method::GET,
        "/chat/completions" | "/completions" => Method::POST,
        _ => {
            return Err(ApiError::with_status(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                format!("no route {method} {}", req.uri().path()),
            ));
        }
    };
    if method != expected {
        return Err(ApiError::with_status(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request_error",
            format!("{} takes {expected}, not {method}", req.uri().path()),
        ));
    }
    if path == "/models" {
        return Ok(api::models_response(state.label()));
    }
    let body = read_body(req).await?;
    let answer = match path.as_str() {
        "/chat/completions" => chat(state, &body).await,
        _ => completions(state, &body).await,
    };
    state.log(&path, &body, &answer);
    answer
}

async fn read_body(req: Request<Incoming>) -> Result<serde_json::Map<String, Value>, ApiError> {
    let bytes = Limited::new(req.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                ApiError::with_status(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "invalid_request_error",
                    format!("the request body is over {MAX_BODY_BYTES} bytes"),
                )
            } else {
                ApiError::invalid("body", format!("cannot read the request body: {e}"))
            }
        })?;
    api::parse_object(&bytes.to_bytes())
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

async fn chat(state: &State, body: &serde_json::Map<String, Value>) -> Result<Value, ApiError> {
    let parsed = api::parse_chat(body)?;
    let request = GenerateRequest {
        messages: parsed.messages,
        params: parsed.params,
    };
    let completion = state
        .config
        .model
        .generate(&request)
        .await
        .map_err(|e| ApiError::from_model(&e))?;
    Ok(api::chat_response(
        &state.id("chatcmpl"),
        now(),
        state.label(),
        &completion,
    ))
}

async fn completions(
    state: &State,
    body: &serde_json::Map<String, Value>,
) -> Result<Value, ApiError> {
    let parsed = api::parse_completions(body)?;
    // All prompts at once: a batching backend (the local model) decodes them together.
    let mut pending = JoinSet::new();
    for (index, prompt) in parsed.prompts.iter().enumerate() {
        let model = state.config.model.clone();
        let request = RawRequest {
            prompt: prompt.clone(),
            params: parsed.params.clone(),
            echo: parsed.echo,
            logprobs: parsed.logprobs,
        };
        pending.spawn(async move { (index, model.complete_raw(&request).await) });
    }
    let mut answers: Vec<Option<RawCompletion>> = vec![None; parsed.prompts.len()];
    while let Some(joined) = pending.join_next().await {
        let (index, answer) = joined.map_err(|e| {
            ApiError::with_status(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                format!("completion task failed: {e}"),
            )
        })?;
        answers[index] =
            Some(answer.map_err(|e| completions_error(state, parsed.logprobs.is_some(), &e))?);
    }
    let (mut prompt_tokens, mut completion_tokens) = (0u32, 0u32);
    let mut choices = Vec::with_capacity(answers.len());
    for (index, (prompt, answer)) in parsed.prompts.iter().zip(answers).enumerate() {
        let Some(answer) = answer else {
            return Err(ApiError::with_status(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "a prompt got no answer",
            ));
        };
        // A backend that drops the log-probabilities would make clients read nulls as scores.
        if parsed.logprobs.is_some() && answer.logprobs.is_none() {
            return Err(ApiError::with_status(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "the model returned no log-probabilities although they were requested",
            ));
        }
        prompt_tokens = prompt_tokens.saturating_add(answer.usage.prompt_tokens);
        completion_tokens = completion_tokens.saturating_add(answer.usage.completion_tokens);
        choices.push(api::completion_choice(
            index,
            prompt,
            parsed.echo,
            parsed.logprobs.is_some(),
            &answer,
        ));
    }
    Ok(api::completions_response(
        &state.id("cmpl"),
        now(),
        state.label(),
        choices,
        prompt_tokens,
        completion_tokens,
    ))
}

/// A model error on `/v1/completions`; an unsupported model is told apart by what the request
/// needed: per-token log-probabilities, or just a raw prompt.
fn completions_error(state: &State, logprobs: bool, e: &ModelError) -> ApiError {
    let ModelError::Unsupported(reason) = e.last_error() else {
        return ApiError::from_model(e);
    };
    if logprobs {
        ApiError::unsupported(
            "logprobs",
            format!(
                "{} cannot return per-token log-probabilities ({reason}): prompt log-probabilities \
                 must follow the model's own tokenisation, which only a local model exposes",
                state.label()
            ),
        )
    } else {
        ApiError::unsupported(
            "prompt",
            format!(
                "{} cannot complete a raw prompt ({reason}); it generates only through its chat \
                 template: use /v1/chat/completions",
                state.label()
            ),
        )
    }
}
