//! Black-box tests of the mock server over real HTTP.

use std::io::{Read as _, Write as _};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use touchstone_mock::{FaultKind, Faults, MockConfig, MockServer, spawn_background};

async fn server_with(faults: Faults) -> MockServer {
    let config = MockConfig {
        faults,
        seed: 11,
        ..MockConfig::default()
    };
    match MockServer::start(config).await {
        Ok(server) => server,
        Err(e) => panic!("mock server did not start: {e}"),
    }
}

fn chat_body(text: &str) -> Value {
    json!({
        "model": "whatever",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": text}
        ]
    })
}

async fn post_chat(
    client: &reqwest::Client,
    server: &MockServer,
    text: &str,
) -> reqwest::Result<reqwest::Response> {
    client
        .post(format!("{}/chat/completions", server.base_url()))
        .json(&chat_body(text))
        .send()
        .await
}

async fn answer_of(client: &reqwest::Client, server: &MockServer, text: &str) -> String {
    let response = post_chat(client, server, text)
        .await
        .expect("request failed");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("answer is not JSON");
    body["choices"][0]["message"]["content"]
        .as_str()
        .expect("no content")
        .to_owned()
}

/// Raw request bytes for a chat completion.
fn raw_chat(text: &str, extra_headers: &str) -> Vec<u8> {
    let body = chat_body(text).to_string();
    format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: mock\r\nContent-Type: application/json\r\n{extra_headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[tokio::test]
async fn answers_follow_the_rules() {
    let server = server_with(Faults::default()).await;
    let client = reqwest::Client::new();
    assert_eq!(
        answer_of(&client, &server, "Pick one. [[reply:B]] What is 1+1?").await,
        "B"
    );
    assert_eq!(
        answer_of(&client, &server, "repeat me [[echo]]").await,
        "repeat me [[echo]]"
    );
    assert_eq!(
        answer_of(&client, &server, "What is 17 + 25?").await,
        "The answer is 42."
    );
    assert_eq!(
        answer_of(&client, &server, "6*7").await,
        "The answer is 42."
    );
    assert_eq!(
        answer_of(&client, &server, "What is 3 - 10?").await,
        "The answer is -7."
    );
    assert_eq!(
        answer_of(&client, &server, "Who wrote Hamlet?").await,
        "I don't know."
    );
}

#[tokio::test]
async fn completion_has_the_openai_shape() {
    let server = server_with(Faults::default()).await;
    let response = post_chat(&reqwest::Client::new(), &server, "What is 2 + 2?")
        .await
        .expect("request failed");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("not JSON");
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "touchstone-mock");
    assert!(body["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(body["created"].as_u64().is_some_and(|t| t > 1_600_000_000));
    assert_eq!(body["choices"][0]["index"], 0);
    assert_eq!(body["choices"][0]["message"]["role"], "assistant");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    // "You are terse." (3) + "What is 2 + 2?" (5); "The answer is 4." (4).
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 8, "completion_tokens": 4, "total_tokens": 12})
    );
}

#[tokio::test]
async fn models_404_and_malformed_json() {
    let server = server_with(Faults::default()).await;
    let client = reqwest::Client::new();
    let models: Value = client
        .get(format!("{}/models", server.base_url()))
        .send()
        .await
        .expect("models request failed")
        .json()
        .await
        .expect("models not JSON");
    assert_eq!(models["data"][0]["id"], "touchstone-mock");

    let missing = client
        .get(format!("{}/nothing", server.base_url()))
        .send()
        .await
        .expect("request failed");
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.expect("404 body not JSON");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("/v1/nothing"))
    );

    let malformed = client
        .post(format!("{}/chat/completions", server.base_url()))
        .header("content-type", "application/json")
        .body("{\"messages\": [")
        .send()
        .await
        .expect("request failed");
    assert_eq!(malformed.status(), 400);
    let body: Value = malformed.json().await.expect("400 body not JSON");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not valid JSON"))
    );
    // Malformed requests are logged but never faulted.
    assert_eq!(server.request_count(), 1);
    assert_eq!(server.requests()[0].fault, None);
}

#[tokio::test]
async fn status_code_faults() {
    let client = reqwest::Client::new();
    for (kind, status) in [
        (FaultKind::RateLimit, 429),
        (FaultKind::ServerError, 500),
        (FaultKind::Unavailable, 503),
    ] {
        let server = server_with(Faults::only(kind, 1.0)).await;
        let response = post_chat(&client, &server, "What is 1 + 1?")
            .await
            .expect("request failed");
        assert_eq!(response.status(), status, "{kind:?}");
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap_or("").to_owned());
        if kind == FaultKind::RateLimit {
            assert_eq!(retry_after.as_deref(), Some("1"));
        } else {
            assert_eq!(retry_after, None, "{kind:?}");
        }
        let body: Value = response.json().await.expect("error body is not JSON");
        assert!(body["error"]["message"].is_string(), "{kind:?}: {body}");
        assert_eq!(server.requests()[0].fault, Some(kind));
    }
}

#[tokio::test]
async fn reset_is_a_connection_error() {
    let server = server_with(Faults::only(FaultKind::Reset, 1.0)).await;
    let error = post_chat(&reqwest::Client::new(), &server, "hi")
        .await
        .expect_err("reset must fail the request");
    assert!(!error.is_timeout() && !error.is_status(), "{error:?}");

    // On the wire it is an RST, not an orderly close.
    let mut stream = TcpStream::connect(server.addr()).await.expect("connect");
    stream.write_all(&raw_chat("hi", "")).await.expect("write");
    let mut buf = [0u8; 256];
    let read = stream.read(&mut buf).await;
    assert!(
        matches!(&read, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset),
        "expected ECONNRESET, got {read:?}"
    );
}

#[tokio::test]
async fn truncated_body_does_not_parse() {
    let server = server_with(Faults::only(FaultKind::Truncated, 1.0)).await;
    let response = post_chat(&reqwest::Client::new(), &server, "What is 1 + 1?")
        .await
        .expect("headers arrive");
    assert_eq!(response.status(), 200);
    assert!(response.json::<Value>().await.is_err());

    // Raw: the declared length is more than what arrives before the close.
    let mut stream = TcpStream::connect(server.addr()).await.expect("connect");
    stream
        .write_all(&raw_chat("What is 1 + 1?", ""))
        .await
        .expect("write");
    let mut received = Vec::new();
    stream
        .read_to_end(&mut received)
        .await
        .expect("orderly close after the partial body");
    let text = String::from_utf8_lossy(&received);
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete head");
    let declared: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .and_then(|v| v.parse().ok())
        .expect("Content-Length");
    assert_eq!(body.len(), declared / 2);
    assert!(serde_json::from_str::<Value>(body).is_err());
}

#[tokio::test]
async fn empty_choices_is_valid_json() {
    let server = server_with(Faults::only(FaultKind::EmptyChoices, 1.0)).await;
    let response = post_chat(&reqwest::Client::new(), &server, "What is 1 + 1?")
        .await
        .expect("request failed");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["choices"], json!([]));
    assert_eq!(body["object"], "chat.completion");
}

#[tokio::test]
async fn hang_times_out_without_blocking_others() {
    let config = MockConfig {
        faults: Faults::only(FaultKind::Hang, 1.0),
        hang: Duration::from_secs(30),
        ..MockConfig::default()
    };
    let server = MockServer::start(config).await.expect("start");
    let url = format!("{}/chat/completions", server.base_url());
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let started = Instant::now();
    let hung = tokio::spawn(async move {
        impatient
            .post(url)
            .json(&chat_body("hang please"))
            .send()
            .await
    });
    while server.request_count() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.set_faults(Faults::default());
    let answer = answer_of(&reqwest::Client::new(), &server, "What is 2 * 3?").await;
    assert_eq!(answer, "The answer is 6.");
    assert!(
        !hung.is_finished(),
        "the hung request ended before the other was answered"
    );
    let result = hung.await.expect("task");
    assert!(
        result.as_ref().is_err_and(reqwest::Error::is_timeout),
        "{result:?}"
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    let faults: Vec<_> = server.requests().iter().map(|r| r.fault).collect();
    assert_eq!(faults, [Some(FaultKind::Hang), None]);
}

#[tokio::test]
async fn latency_is_applied() {
    let config = MockConfig {
        latency: Duration::from_millis(150),
        ..MockConfig::default()
    };
    let server = MockServer::start(config).await.expect("start");
    let started = Instant::now();
    answer_of(&reqwest::Client::new(), &server, "hi").await;
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn request_log_records_text_fault_and_hash() {
    let server = server_with(Faults::default()).await;
    let client = reqwest::Client::new();
    answer_of(&client, &server, "first").await;
    server.set_faults(Faults::only(FaultKind::ServerError, 1.0));
    let response = post_chat(&client, &server, "second")
        .await
        .expect("request failed");
    assert_eq!(response.status(), 500);
    server.set_faults(Faults::default());
    answer_of(&client, &server, "first").await;

    let log = server.requests();
    assert_eq!(server.request_count(), 3);
    let summary: Vec<_> = log
        .iter()
        .map(|r| (r.seq, r.user_text.as_str(), r.fault))
        .collect();
    assert_eq!(
        summary,
        [
            (0, "first", None),
            (1, "second", Some(FaultKind::ServerError)),
            (2, "first", None)
        ]
    );
    assert_eq!(log[0].body_sha256.len(), 64);
    assert_eq!(log[0].body_sha256, log[2].body_sha256);
    assert_ne!(log[0].body_sha256, log[1].body_sha256);
    assert!(log[0].at_ms <= log[2].at_ms);
}

#[tokio::test]
async fn faults_follow_the_seeded_draw() {
    let faults = Faults {
        rate_limit: 0.2,
        server_error: 0.2,
        unavailable: 0.2,
        empty_choices: 0.2,
        ..Faults::default()
    };
    let server = server_with(faults.clone()).await;
    let client = reqwest::Client::new();
    for i in 0..40 {
        post_chat(&client, &server, &format!("q{i}"))
            .await
            .expect("request failed");
    }
    let log = server.requests();
    assert_eq!(log.len(), 40);
    for record in &log {
        assert_eq!(
            record.fault,
            faults.decide(11, record.seq),
            "seq {}",
            record.seq
        );
    }
    assert!(log.iter().any(|r| r.fault.is_none()) && log.iter().any(|r| r.fault.is_some()));
}

#[tokio::test]
async fn keep_alive_reuses_one_connection() {
    let server = server_with(Faults::only(FaultKind::RateLimit, 0.5)).await;
    let client = reqwest::Client::new();
    for i in 0..50 {
        let response = post_chat(&client, &server, &format!("What is {i} + 1?"))
            .await
            .expect("request failed");
        let _ = response.bytes().await.expect("body");
    }
    assert_eq!(server.request_count(), 50);
    assert_eq!(server.connections_accepted(), 1);
}

#[tokio::test]
async fn pipelining_and_connection_close() {
    let server = server_with(Faults::default()).await;
    let mut stream = TcpStream::connect(server.addr()).await.expect("connect");
    // Two requests in one write; the second asks to close.
    let mut both = raw_chat("[[reply:one]]", "");
    both.extend_from_slice(&raw_chat("[[reply:two]]", "Connection: close\r\n"));
    stream.write_all(&both).await.expect("write");
    let mut received = Vec::new();
    // read_to_end returning proves the server closed after the second answer.
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut received))
        .await
        .expect("server did not close after Connection: close")
        .expect("read");
    let text = String::from_utf8_lossy(&received);
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 2, "{text}");
    assert!(text.find("\"one\"") < text.find("\"two\""), "{text}");
    assert!(text.contains("Connection: close"));
    assert_eq!(server.connections_accepted(), 1);
}

#[tokio::test]
async fn shutdown_closes_the_listener() {
    let server = server_with(Faults::default()).await;
    let addr = server.addr();
    server.shutdown();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(TcpStream::connect(addr).await.is_err());
}

/// A blocking HTTP exchange on one fresh connection.
fn blocking_chat(addr: std::net::SocketAddr, text: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .write_all(&raw_chat(text, "Connection: close\r\n"))
        .expect("write");
    let mut received = String::new();
    stream.read_to_string(&mut received).expect("read");
    received
}

#[test]
fn background_mock_serves_sync_tests_and_stops_on_drop() {
    let mock = spawn_background(MockConfig::default()).expect("spawn");
    assert!(mock.base_url().starts_with("http://127.0.0.1:") && mock.base_url().ends_with("/v1"));
    let response = blocking_chat(mock.addr(), "What is 5 * 5?");
    assert!(response.contains("The answer is 25."), "{response}");
    mock.set_faults(Faults::only(FaultKind::Unavailable, 1.0));
    assert!(blocking_chat(mock.addr(), "x").starts_with("HTTP/1.1 503"));
    assert_eq!(mock.request_count(), 2);
    assert_eq!(mock.connections_accepted(), 2);
    assert_eq!(mock.requests()[1].fault, Some(FaultKind::Unavailable));
    let addr = mock.addr();
    drop(mock);
    assert!(std::net::TcpStream::connect(addr).is_err());
}
