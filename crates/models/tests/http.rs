//! The OpenAI-compatible provider against the mock server (and a raw socket where the mock does
//! not show what we need), alone and inside the layers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use touchstone_core::{FinishReason, GenerateParams, GenerateRequest, Message, ModelSpec};
use touchstone_mock::{FaultKind, Faults, MockConfig, MockServer};
use touchstone_models::layers::{Retry, Timeout, count_attempts};
use touchstone_models::{LayerConfig, Model, ModelError, OpenAiModel, SharedModel, layered};

fn ask(text: &str) -> GenerateRequest {
    GenerateRequest {
        messages: vec![Message::system("Be brief."), Message::user(text)],
        params: GenerateParams {
            max_tokens: Some(16),
            temperature: Some(0.0),
            seed: Some(3),
            ..Default::default()
        },
    }
}

async fn mock(faults: Faults) -> MockServer {
    MockServer::start(MockConfig {
        faults,
        hang: Duration::from_secs(30),
        ..MockConfig::default()
    })
    .await
    .expect("mock server starts")
}

#[tokio::test]
async fn parses_answers_and_lists_models() {
    let server = mock(Faults::default()).await;
    let model = OpenAiModel::new("touchstone-mock", &server.base_url(), None).unwrap();
    let c = model
        .generate(&ask("Say it: [[reply:The answer is \"B\" — 好]]"))
        .await
        .unwrap();
    assert_eq!(c.text, "The answer is \"B\" — 好");
    assert_eq!(c.finish_reason, FinishReason::Stop);
    assert!(
        c.usage.prompt_tokens > 0 && c.usage.completion_tokens > 0,
        "{:?}",
        c.usage
    );
    assert!(!c.cached);
    assert_eq!(
        model.generate(&ask("What is 3 + 4?")).await.unwrap().text,
        "The answer is 7."
    );
    assert_eq!(
        server.requests()[0].user_text,
        "Say it: [[reply:The answer is \"B\" — 好]]"
    );
    assert_eq!(
        model.list_models().await.unwrap(),
        vec!["touchstone-mock".to_string()]
    );
    assert_eq!(
        model.identity().label,
        format!("openai:touchstone-mock@{}", server.base_url())
    );
    // Keep-alive: three requests, one connection.
    assert_eq!(server.connections_accepted(), 1);
}

#[tokio::test]
async fn each_fault_maps_to_its_error() {
    let server = mock(Faults::default()).await;
    let model = OpenAiModel::new("m", &server.base_url(), None).unwrap();
    let cases: [(FaultKind, &str); 6] = [
        (FaultKind::RateLimit, "rate_limited"),
        (FaultKind::ServerError, "server_error"),
        (FaultKind::Unavailable, "server_error"),
        (FaultKind::Reset, "connection"),
        (FaultKind::Truncated, "malformed"),
        (FaultKind::EmptyChoices, "malformed"),
    ];
    for (fault, kind) in cases {
        server.set_faults(Faults::only(fault, 1.0));
        let err = model.generate(&ask("[[reply:x]]")).await.unwrap_err();
        assert_eq!(err.kind(), kind, "{fault:?}: {err}");
        assert!(err.is_retryable(), "{fault:?}");
        match (fault, &err) {
            (FaultKind::RateLimit, ModelError::RateLimited { retry_after }) => {
                assert_eq!(*retry_after, Some(Duration::from_secs(1)));
            }
            (FaultKind::ServerError, ModelError::Server { status, .. }) => assert_eq!(*status, 500),
            (FaultKind::Unavailable, ModelError::Server { status, .. }) => assert_eq!(*status, 503),
            _ => {}
        }
    }

    // A hang is cut by the timeout layer, or by the client's own deadline.
    server.set_faults(Faults::only(FaultKind::Hang, 1.0));
    let shared: SharedModel = Arc::new(OpenAiModel::new("m", &server.base_url(), None).unwrap());
    let timed = Timeout::new(shared, Duration::from_millis(300));
    let start = Instant::now();
    assert_eq!(
        timed.generate(&ask("x")).await,
        Err(ModelError::Timeout(Duration::from_millis(300)))
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    let client_deadline = OpenAiModel::new("m", &server.base_url(), None)
        .unwrap()
        .with_timeout(Duration::from_millis(300));
    assert_eq!(
        client_deadline
            .generate(&ask("x"))
            .await
            .unwrap_err()
            .kind(),
        "timeout"
    );

    // A wrong path is the caller's mistake: 404, not retryable.
    server.set_faults(Faults::default());
    let wrong = OpenAiModel::new("m", &format!("http://{}/v2", server.addr()), None).unwrap();
    let err = wrong.generate(&ask("x")).await.unwrap_err();
    assert!(
        matches!(err, ModelError::Client { status: 404, .. }),
        "{err}"
    );
    assert!(!err.is_retryable());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_turn_thirty_percent_faults_into_answers() {
    let server = mock(Faults::uniform(0.3)).await;
    let config = LayerConfig {
        concurrency: 32,
        max_retries: 6,
        backoff_base: Duration::from_millis(10),
        backoff_max: Duration::from_millis(200),
        request_timeout: Some(Duration::from_millis(300)),
        ..LayerConfig::default()
    };
    let model = layered(
        Arc::new(OpenAiModel::new("m", &server.base_url(), None).unwrap()),
        &config,
    );
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let model = model.clone();
            tokio::spawn(async move {
                let (out, attempts) =
                    count_attempts(model.generate(&ask(&format!("[[reply:item {i}]]")))).await;
                (i, out, attempts)
            })
        })
        .collect();
    let mut ok = 0;
    let mut total_attempts = 0;
    for t in tasks {
        let (i, out, attempts) = t.await.unwrap();
        total_attempts += attempts;
        assert!((1..=7).contains(&attempts), "item {i}: {attempts} attempts");
        match out {
            Ok(c) => {
                assert_eq!(c.text, format!("item {i}"));
                ok += 1;
            }
            Err(e) => {
                // Only a run of seven transient faults may fail an item, and it says so.
                assert!(e.is_retryable(), "item {i}: {e}");
                assert_eq!(e.attempts(), 7, "item {i}: {e}");
                assert!(e.to_string().contains("after 7 attempts"), "{e}");
            }
        }
    }
    assert!(ok >= 195, "only {ok} of 200 succeeded");
    // Faults really happened and were retried: the mock saw more requests than items.
    assert_eq!(server.request_count(), u64::from(total_attempts));
    assert!(total_attempts > 230, "{total_attempts} attempts");
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out() {
    // Pick a seed whose first request draws the 429 and whose second draws nothing.
    let faults = Faults::only(FaultKind::RateLimit, 0.5);
    let seed = (0..10_000u64)
        .find(|&s| {
            faults.decide(s, 0) == Some(FaultKind::RateLimit) && faults.decide(s, 1).is_none()
        })
        .unwrap();
    let server = MockServer::start(MockConfig {
        faults,
        seed,
        retry_after_secs: 1,
        ..MockConfig::default()
    })
    .await
    .unwrap();
    let inner: SharedModel = Arc::new(OpenAiModel::new("m", &server.base_url(), None).unwrap());
    let model =
        Retry::new(inner, 3).with_backoff(Duration::from_millis(1), Duration::from_millis(5));
    let start = Instant::now();
    let (out, attempts) = count_attempts(model.generate(&ask("[[reply:patience]]"))).await;
    assert_eq!(out.unwrap().text, "patience");
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(attempts, 2);
    let log = server.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].fault, Some(FaultKind::RateLimit));
    assert!(
        log[1].at_ms - log[0].at_ms >= 1000,
        "{} ms apart",
        log[1].at_ms - log[0].at_ms
    );
}

#[tokio::test]
async fn an_unreachable_endpoint_fails_fast_with_a_connection_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let model = OpenAiModel::new("m", &format!("http://{addr}/v1"), None).unwrap();
    let start = Instant::now();
    let err = model.generate(&ask("x")).await.unwrap_err();
    assert_eq!(err.kind(), "connection", "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(model.list_models().await.unwrap_err().kind(), "connection");
}

/// Serves `responses.len()` connections, one request each, answering with the given status and
/// body; returns the request heads it saw.
async fn raw_server(
    responses: Vec<(u16, String)>,
) -> (String, tokio::task::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    let handle = tokio::spawn(async move {
        let mut heads = Vec::new();
        for (status, body) in responses {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Read the head, then the body by Content-Length.
            let head_end = loop {
                let n = socket.read(&mut chunk).await.unwrap();
                assert!(n > 0, "client closed early");
                buf.extend_from_slice(&chunk[..n]);
                if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break p + 4;
                }
            };
            let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            while buf.len() < head_end + length {
                let n = socket.read(&mut chunk).await.unwrap();
                buf.extend_from_slice(&chunk[..n]);
            }
            let body = body.replace(
                "{AUTH}",
                head.lines()
                    .find(|l| l.to_ascii_lowercase().starts_with("authorization"))
                    .unwrap_or(""),
            );
            let response = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(response.as_bytes()).await.unwrap();
            socket.shutdown().await.unwrap();
            heads.push(head);
        }
        heads
    });
    (base, handle)
}

#[tokio::test]
async fn the_api_key_is_sent_but_never_shown() {
    let ok =
        r#"{"choices":[{"message":{"role":"assistant","content":null},"finish_reason":"stop"}]}"#
            .to_string();
    let echo = r#"{"error":{"message":"bad credentials in {AUTH}"}}"#.to_string();
    let (base, server) = raw_server(vec![(200, ok), (401, echo)]).await;
    let secret = "sk-test-very-secret-0123";
    let model = OpenAiModel::new("m", &base, Some(secret.into())).unwrap();
    assert!(!format!("{model:?}").contains(secret));
    assert!(format!("{model:?}").contains("***"));

    let c = model.generate(&ask("x")).await.unwrap();
    assert_eq!(c.text, "", "null content is an empty answer");
    let err = model.generate(&ask("x")).await.unwrap_err();
    assert!(
        matches!(err, ModelError::Client { status: 401, .. }),
        "{err}"
    );
    assert!(!err.to_string().contains(secret), "{err}");
    assert!(!format!("{err:?}").contains(secret), "{err:?}");
    assert!(err.to_string().contains("***"), "{err}");

    let heads = server.await.unwrap();
    assert!(
        heads[0].starts_with("POST /v1/chat/completions "),
        "{}",
        heads[0]
    );
    assert!(
        heads[0]
            .to_ascii_lowercase()
            .contains(&format!("authorization: bearer {secret}").to_ascii_lowercase())
    );
}

#[tokio::test]
async fn from_spec_reads_the_key_variable_and_sends_nothing_without_it() {
    let (base, server) = raw_server(vec![(
        200,
        r#"{"choices":[{"message":{"content":"hi"}}]}"#.into(),
    )])
    .await;
    // A variable name no one sets: no key, no Authorization header.
    let spec = ModelSpec::OpenAi {
        model: "m".into(),
        base_url: base,
        api_key_env: "TOUCHSTONE_MODELS_TEST_UNSET_KEY_VARIABLE".into(),
    };
    let model = OpenAiModel::from_spec(&spec).unwrap();
    let c = model.generate(&ask("x")).await.unwrap();
    assert_eq!(c.text, "hi");
    assert_eq!(c.finish_reason, FinishReason::Other);
    let heads = server.await.unwrap();
    assert!(
        !heads[0].to_ascii_lowercase().contains("authorization"),
        "{}",
        heads[0]
    );
}
