//! The server over real HTTP on 127.0.0.1, with a deterministic fake model behind it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};
use touchstone_core::{
    Completion, FinishReason, GenerateRequest, RawCompletion, RawRequest, TokenLogprob, Usage,
};
use touchstone_models::{
    LayerConfig, Model, ModelError, ModelIdentity, OpenAiModel, SharedModel, layered,
};
use touchstone_serve::{ServeConfig, ServeError, Server};

/// Answers with a text that spells out what it was asked, so tests can see every field arrive.
/// With `raw`, it also completes raw prompts (see [`FakeModel::complete_raw`]); without, it
/// refuses them as a chat-only provider does.
struct FakeModel {
    identity: ModelIdentity,
    seen: Mutex<Vec<GenerateRequest>>,
    raw: bool,
}

impl FakeModel {
    fn new() -> Arc<Self> {
        FakeModel::with_raw(false)
    }

    fn with_raw(raw: bool) -> Arc<Self> {
        Arc::new(FakeModel {
            identity: ModelIdentity {
                label: "fake:echo".into(),
                provider: "fake".into(),
                name: "echo".into(),
                digest: None,
            },
            seen: Mutex::new(Vec::new()),
            raw,
        })
    }
}

#[async_trait]
impl Model for FakeModel {
    fn identity(&self) -> &ModelIdentity {
        &self.identity
    }

    async fn generate(&self, request: &GenerateRequest) -> Result<Completion, ModelError> {
        self.seen.lock().unwrap().push(request.clone());
        let last = request
            .messages
            .last()
            .map(|m| m.content.as_str())
            .unwrap_or("");
        match last {
            "overload" => return Err(ModelError::RateLimited { retry_after: None }),
            "crash" => return Err(ModelError::Local("decode failed".into())),
            "slow" => tokio::time::sleep(Duration::from_millis(300)).await,
            _ => {}
        }
        Ok(Completion {
            text: format!("\"{last}\" ← {} turns, 答案 B", request.messages.len()),
            finish_reason: if request.params.max_tokens == Some(1) {
                FinishReason::Length
            } else {
                FinishReason::Stop
            },
            usage: Usage {
                prompt_tokens: 11,
                completion_tokens: 7,
            },
            cached: false,
        })
    }

    /// Tokens are words with their leading space; token i of the prompt has log-probability
    /// -(i/2), the first none; generation appends " Z" tokens at -0.25 each.
    async fn complete_raw(&self, request: &RawRequest) -> Result<RawCompletion, ModelError> {
        if !self.raw {
            return Err(ModelError::Unsupported("chat only".into()));
        }
        if request.prompt == "overload" {
            return Err(ModelError::RateLimited { retry_after: None });
        }
        let prompt_tokens = words(&request.prompt);
        // Long prompts answer later, so a batch's answers arrive out of order.
        if prompt_tokens.len() > 2 {
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        let n = request.params.max_tokens.unwrap_or(0) as usize;
        let text = " Z".repeat(n);
        let logprobs = request.logprobs.map(|_| {
            let mut tokens = Vec::new();
            if request.echo {
                for (i, t) in prompt_tokens.iter().enumerate() {
                    let lp = (i > 0).then(|| -(i as f64) / 2.0);
                    tokens.push(TokenLogprob {
                        text: t.clone(),
                        logprob: lp,
                        top: lp.map(|lp| vec![(t.clone(), lp)]).unwrap_or_default(),
                    });
                }
            }
            for _ in 0..n {
                tokens.push(TokenLogprob {
                    text: " Z".into(),
                    logprob: Some(-0.25),
                    top: vec![(" Z".into(), -0.25)],
                });
            }
            tokens
        });
        Ok(RawCompletion {
            text,
            finish_reason: FinishReason::Length,
            usage: Usage {
                prompt_tokens: prompt_tokens.len() as u32,
                completion_tokens: n as u32,
            },
            logprobs,
        })
    }
}

fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, piece) in text.split(' ').enumerate() {
        if i == 0 {
            out.push(piece.to_owned())
        } else {
            out.push(format!(" {piece}"))
        }
    }
    out
}

fn localhost() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

async fn start(raw: bool) -> (Server, Arc<FakeModel>) {
    let fake = FakeModel::with_raw(raw);
    let model: SharedModel = if raw {
        // As `serve-model` serves it: behind the layers, which must pass raw completions on.
        layered(
            fake.clone(),
            &LayerConfig {
                max_retries: 0,
                ..LayerConfig::default()
            },
        )
    } else {
        fake.clone()
    };
    (
        Server::start(ServeConfig::new(model), localhost())
            .await
            .unwrap(),
        fake,
    )
}

async fn post(server: &Server, path: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", server.base_url()))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn post_json(server: &Server, path: &str, body: Value) -> (u16, Value) {
    post(server, path, body.to_string()).await
}

#[tokio::test]
async fn lists_the_one_model() {
    let (server, _) = start(false).await;
    let response = reqwest::get(format!("{}/models", server.base_url()))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["object"], "list");
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert_eq!(body["data"][0]["id"], "fake:echo");
    assert_eq!(body["data"][0]["object"], "model");
    // Clients configured without the `/v1` prefix reach the same routes.
    let bare: Value = reqwest::get(format!("http://{}/models", server.local_addr()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bare, body);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn chat_completion_passes_every_parameter_and_reports_usage() {
    let (server, fake) = start(false).await;
    let (status, body) = post_json(
        &server,
        "/chat/completions",
        json!({
            "model": "anything",
            "messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "2+2?"}],
            "max_completion_tokens": 1, "temperature": 0.0, "top_p": 0.5, "seed": 1234, "stop": ["\n\n", "Q:"],
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "fake:echo");
    assert!(body["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(
        body["choices"][0]["message"],
        json!({"role": "assistant", "content": "\"2+2?\" ← 2 turns, 答案 B"})
    );
    assert_eq!(body["choices"][0]["finish_reason"], "length");
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18})
    );

    let seen = fake.seen.lock().unwrap().pop().unwrap();
    assert_eq!(seen.messages.len(), 2);
    assert_eq!(seen.params.max_tokens, Some(1));
    assert_eq!(seen.params.temperature, Some(0.0));
    assert_eq!(seen.params.top_p, Some(0.5));
    assert_eq!(seen.params.seed, Some(1234));
    assert_eq!(seen.params.stop, vec!["\n\n".to_string(), "Q:".to_string()]);
}

#[tokio::test]
async fn malformed_requests_are_400_naming_the_field() {
    let (server, fake) = start(false).await;
    let user = json!([{"role": "user", "content": "hi"}]);
    let cases: Vec<(&str, String, &str)> = vec![
        ("/chat/completions", "{not json".into(), "body"),
        ("/chat/completions", "[]".into(), "body"),
        (
            "/chat/completions",
            json!({"model": "m"}).to_string(),
            "messages",
        ),
        (
            "/chat/completions",
            json!({"messages": user, "stream": true}).to_string(),
            "stream",
        ),
        (
            "/chat/completions",
            json!({"messages": "hi"}).to_string(),
            "messages",
        ),
        (
            "/chat/completions",
            json!({"messages": [{"role": "user", "content": 3}]}).to_string(),
            "messages[0].content",
        ),
        (
            "/chat/completions",
            json!({"messages": [{"role": 7, "content": "x"}]}).to_string(),
            "messages[0].role",
        ),
        (
            "/chat/completions",
            json!({"messages": user, "max_tokens": "ten"}).to_string(),
            "max_tokens",
        ),
        (
            "/chat/completions",
            json!({"messages": user, "temperature": "hot"}).to_string(),
            "temperature",
        ),
        (
            "/chat/completions",
            json!({"messages": user, "stop": 5}).to_string(),
            "stop",
        ),
        (
            "/completions",
            json!({"prompt": "x", "stream": true}).to_string(),
            "stream",
        ),
        (
            "/completions",
            json!({"max_tokens": 3}).to_string(),
            "prompt",
        ),
        (
            "/completions",
            json!({"prompt": "x", "echo": 1}).to_string(),
            "echo",
        ),
    ];
    for (path, body, param) in cases {
        let (status, answer) = post(&server, path, body.clone()).await;
        assert_eq!(status, 400, "{path} {body}: {answer}");
        let error = &answer["error"];
        assert_eq!(error["param"], param, "{path} {body}: {answer}");
        assert_eq!(error["type"], "invalid_request_error");
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains(param.split('[').next().unwrap()),
            "{answer}"
        );
        assert!(error.get("code").is_some(), "{answer}");
    }
    let (_, answer) = post_json(
        &server,
        "/chat/completions",
        json!({"messages": user, "stream": true}),
    )
    .await;
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("streaming is not supported"),
        "{answer}"
    );
    // None of them reached the model.
    assert!(fake.seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn unknown_routes_wrong_methods_and_model_failures() {
    let (server, _) = start(false).await;
    let client = reqwest::Client::new();
    let r = client
        .get(format!("{}/nope", server.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert!(
        r.json::<Value>().await.unwrap()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/v1/nope")
    );
    let r = client
        .get(format!("{}/chat/completions", server.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);

    // The model's failure keeps its meaning for a client's retry logic.
    let (status, body) = post_json(
        &server,
        "/chat/completions",
        json!({"messages": [{"role": "user", "content": "overload"}]}),
    )
    .await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["type"], "rate_limit_error");
    let (status, body) = post_json(
        &server,
        "/chat/completions",
        json!({"messages": [{"role": "user", "content": "crash"}]}),
    )
    .await;
    assert_eq!(status, 500, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("decode failed")
    );
}

#[tokio::test]
async fn completions_on_a_chat_only_model_say_what_is_missing() {
    let (server, _) = start(false).await;
    let (status, body) = post_json(
        &server,
        "/completions",
        json!({"prompt": "Q: 2+2?\nA:", "echo": true, "logprobs": 1, "max_tokens": 0}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "logprobs");
    assert_eq!(body["error"]["code"], "unsupported");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("per-token log-probabilities"),
        "{body}"
    );

    let (status, body) = post_json(
        &server,
        "/completions",
        json!({"prompt": "Once upon", "max_tokens": 5}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "prompt");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("chat template"),
        "{body}"
    );
}

#[tokio::test]
async fn completions_give_lm_eval_its_prompt_logprobs() {
    let (server, _) = start(true).await;
    // What lm-eval's local-completions sends for log-likelihoods (tokenized_requests=False).
    let context = "Question: 2+2? Answer:";
    let continuation = " B";
    let (status, body) = post_json(
        &server,
        "/completions",
        json!({"model": "m", "prompt": [format!("{context}{continuation}"), "x y"], "temperature": 0, "max_tokens": 1, "logprobs": 1, "echo": true, "seed": 1234}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"], "text_completion");
    let choices = body["choices"].as_array().unwrap();
    assert_eq!(choices.len(), 2);
    assert_eq!(choices[0]["index"], 0);
    assert_eq!(choices[1]["index"], 1);
    assert_eq!(choices[0]["text"], "Question: 2+2? Answer: B Z");
    let lp = &choices[0]["logprobs"];
    assert_eq!(
        lp["tokens"],
        json!(["Question:", " 2+2?", " Answer:", " B", " Z"])
    );
    assert_eq!(lp["token_logprobs"], json!([null, -0.5, -1.0, -1.5, -0.25]));
    assert_eq!(lp["text_offset"], json!([0, 9, 14, 22, 24]));
    assert_eq!(lp["top_logprobs"][0], Value::Null);
    assert_eq!(lp["top_logprobs"][3], json!({" B": -1.5}));
    // lm-eval's parse_logprobs: sum(token_logprobs[ctxlen:-1]), greedy if each equals its top.
    let ctxlen = 3;
    let scored = &lp["token_logprobs"].as_array().unwrap()[ctxlen..4];
    assert_eq!(
        scored.iter().map(|v| v.as_f64().unwrap()).sum::<f64>(),
        -1.5
    );
    assert_eq!(choices[1]["text"], "x y Z");
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 6, "completion_tokens": 2, "total_tokens": 8})
    );

    // Plain generation, no echo, no logprobs.
    let (status, body) = post_json(
        &server,
        "/completions",
        json!({"prompt": "Once upon", "max_tokens": 2}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["choices"][0]["text"], " Z Z");
    assert_eq!(body["choices"][0]["logprobs"], Value::Null);
    assert_eq!(body["choices"][0]["finish_reason"], "length");

    // A model failure keeps its status, so clients retry a 429 as they would elsewhere.
    let (status, body) = post_json(
        &server,
        "/completions",
        json!({"prompt": "overload", "max_tokens": 1}),
    )
    .await;
    assert_eq!(status, 429, "{body}");
}

#[tokio::test]
async fn touchstone_openai_provider_gets_back_exactly_the_fake_answer() {
    let (server, fake) = start(false).await;
    let client = OpenAiModel::new("fake:echo", &server.base_url(), None).unwrap();
    assert_eq!(
        client.list_models().await.unwrap(),
        vec!["fake:echo".to_string()]
    );
    let request = GenerateRequest {
        messages: vec![
            touchstone_core::Message::system("Answer with a letter."),
            touchstone_core::Message::user("Which? \"quoted\"\n"),
        ],
        params: touchstone_core::GenerateParams {
            max_tokens: Some(64),
            temperature: Some(0.0),
            top_p: None,
            stop: vec!["\n".into()],
            seed: Some(7),
        },
    };
    let through_http = client.generate(&request).await.unwrap();
    let direct = fake.generate(&request).await.unwrap();
    assert_eq!(through_http, direct);
    // The server handed the model exactly the request the provider was given.
    let seen = fake.seen.lock().unwrap();
    assert_eq!(seen[0], request);
    assert_eq!(seen[1], request);
}

#[tokio::test]
async fn shutdown_stops_listening_and_a_busy_port_is_a_bind_error() {
    let (server, _) = start(false).await;
    let addr = server.local_addr();
    server.shutdown().await.unwrap();
    assert!(
        reqwest::get(format!("http://{addr}/v1/models"))
            .await
            .is_err()
    );

    let taken = tokio::net::TcpListener::bind(localhost()).await.unwrap();
    let busy = taken.local_addr().unwrap();
    let err = touchstone_serve::serve(
        FakeModel::new() as SharedModel,
        busy,
        std::future::pending(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, ServeError::Bind { addr, .. } if addr == busy),
        "{err}"
    );
}

#[tokio::test]
async fn shutdown_finishes_the_request_in_flight() {
    let (server, fake) = start(false).await;
    let url = format!("{}/chat/completions", server.base_url());
    let in_flight = tokio::spawn(async move {
        let body = json!({"messages": [{"role": "user", "content": "slow"}]});
        let r = reqwest::Client::new()
            .post(url)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    });
    // Wait until the model has the request, then stop the server under it.
    while fake.seen.lock().unwrap().is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.shutdown().await.unwrap();
    let (status, body) = in_flight.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "\"slow\" ← 1 turns, 答案 B"
    );
}

#[tokio::test]
async fn an_oversized_body_is_413_not_read_whole() {
    let (server, fake) = start(false).await;
    let huge = format!(
        r#"{{"messages":[{{"role":"user","content":"{}"}}]}}"#,
        "a".repeat(17 * 1024 * 1024)
    );
    let (status, body) = post(&server, "/chat/completions", huge).await;
    assert_eq!(status, 413, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("bytes"));
    assert!(fake.seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn the_request_log_keeps_each_request_body_and_answer_one_line_each() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.jsonl");
    let config = ServeConfig {
        request_log: Some(path.clone()),
        ..ServeConfig::new(FakeModel::with_raw(false))
    };
    let server = Server::start(config, localhost()).await.unwrap();
    let messages = json!([{"role": "system", "content": "sys\n\n"}, {"role": "user", "content": "Question: 2+2?\nAnswer:"}]);
    let (status, _) = post_json(
        &server,
        "/chat/completions",
        json!({"messages": messages, "max_tokens": 5}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = post_json(&server, "/chat/completions", json!({"messages": []})).await;
    assert_eq!(status, 400);
    server.shutdown().await.unwrap();

    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0]["endpoint"], "/chat/completions");
    assert_eq!(
        lines[0]["request"]["messages"], messages,
        "the prompt exactly as received"
    );
    assert_eq!(
        lines[0]["response"],
        json!(["\"Question: 2+2?\nAnswer:\" ← 2 turns, 答案 B"])
    );
    assert_eq!(lines[0]["error"], Value::Null);
    assert_eq!(lines[1]["response"], json!([]));
    assert!(
        lines[1]["error"]
            .as_str()
            .unwrap()
            .contains("at least one message")
    );
}

#[tokio::test]
async fn an_unwritable_request_log_is_an_error_naming_the_file() {
    let config = ServeConfig {
        request_log: Some("/nonexistent-dir/log.jsonl".into()),
        ..ServeConfig::new(FakeModel::with_raw(false))
    };
    let Err(e) = Server::start(config, localhost()).await else {
        panic!("started")
    };
    assert!(matches!(e, ServeError::RequestLog { .. }));
    assert!(e.to_string().contains("/nonexistent-dir/log.jsonl"), "{e}");
}
