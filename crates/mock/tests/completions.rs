//! `POST /v1/completions` over real HTTP: answers, echo with log-probabilities, faults, errors.

use serde_json::{Value, json};
use touchstone_mock::{FaultKind, Faults, MockConfig, MockServer};

async fn server() -> MockServer {
    match MockServer::start(MockConfig::default()).await {
        Ok(server) => server,
        Err(e) => panic!("mock server did not start: {e}"),
    }
}

async fn post(server: &MockServer, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/completions", server.base_url()))
        .json(&body)
        .send()
        .await
        .expect("request failed");
    let status = response.status().as_u16();
    (status, response.json().await.expect("answer is not JSON"))
}

#[tokio::test]
async fn plain_completions_answer_by_the_chat_rules() {
    let server = server().await;
    let (status, body) = post(&server, json!({"model": "m", "prompt": "What is 3 + 4?"})).await;
    assert_eq!(status, 200);
    assert_eq!(body["object"], "text_completion");
    assert_eq!(body["choices"][0]["text"], "The answer is 7.");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["choices"][0]["logprobs"], Value::Null);
    // max_tokens cuts the answer in mock tokens ("The", " answer").
    let (_, body) = post(
        &server,
        json!({"prompt": "What is 3 + 4?", "max_tokens": 2}),
    )
    .await;
    assert_eq!(body["choices"][0]["text"], "The answer");
    assert_eq!(body["choices"][0]["finish_reason"], "length");
    assert_eq!(server.requests()[0].user_text, "What is 3 + 4?");
}

#[tokio::test]
async fn echo_returns_prompt_logprobs_by_the_copy_rule() {
    let server = server().await;
    let (status, body) = post(
        &server,
        json!({"prompt": "big cat 大猫 cat", "echo": true, "logprobs": 1, "max_tokens": 0, "temperature": 0}),
    )
    .await;
    assert_eq!(status, 200);
    let choice = &body["choices"][0];
    assert_eq!(choice["text"], "big cat 大猫 cat");
    let lp = &choice["logprobs"];
    assert_eq!(
        lp["tokens"],
        json!(["big", " cat", " ", "大", "猫", " cat"])
    );
    assert_eq!(lp["text_offset"], json!([0, 3, 7, 8, 9, 10]));
    // New tokens: −(1 + 0.5·chars); " cat" the second time is a copy: −0.5.
    assert_eq!(
        lp["token_logprobs"],
        json!([null, -2.5, -1.0, -1.5, -1.5, -0.5])
    );
    assert_eq!(lp["top_logprobs"][0], Value::Null);
    assert_eq!(
        lp["top_logprobs"][1],
        json!({"<|endoftext|>": -1.0, " cat": -2.5})
    );
    assert_eq!(lp["top_logprobs"][5], json!({" cat": -0.5}));
}

#[tokio::test]
async fn faults_apply_to_completions_and_bad_requests_are_explained() {
    let server = server().await;
    server.set_faults(Faults::only(FaultKind::RateLimit, 1.0));
    let (status, body) = post(&server, json!({"prompt": "x"})).await;
    assert_eq!(status, 429);
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("injected"))
    );
    server.set_faults(Faults::only(FaultKind::EmptyChoices, 1.0));
    let (status, body) = post(&server, json!({"prompt": "x", "echo": true, "logprobs": 1})).await;
    assert_eq!((status, body["choices"].clone()), (200, json!([])));
    server.set_faults(Faults::default());
    let (status, body) = post(&server, json!({"prompt": 3})).await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("'prompt'")),
        "{body}"
    );
    let log = server.requests();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0].fault, Some(FaultKind::RateLimit));
    assert_eq!(log[2].fault, None, "a malformed request draws no fault");
}
