//! `OpenAiModel::loglikelihood` against the mock's `/v1/completions` (echo + logprobs) and,
//! where the mock cannot show it, a raw socket.
//!
//! Expected values follow the mock's documented copy model: the first token has no
//! log-probability; a token equal (leading whitespace aside) to an earlier one scores −0.5 and
//! is the top-1; any other token scores −(1 + 0.5·k), k its characters without leading
//! whitespace, with `<|endoftext|>` (−1.0) as the top-1.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use touchstone_mock::{FaultKind, Faults, MockConfig, MockServer};
use touchstone_models::layers::{Retry, count_attempts};
use touchstone_models::{
    LayerConfig, Loglikelihood, LoglikelihoodRequest, Model, ModelError, OpenAiModel, SharedModel,
    layered,
};

async fn mock(faults: Faults, seed: u64) -> MockServer {
    MockServer::start(MockConfig {
        faults,
        seed,
        hang: Duration::from_secs(30),
        ..MockConfig::default()
    })
    .await
    .expect("mock server starts")
}

fn request(context: &str, continuations: &[&str]) -> LoglikelihoodRequest {
    LoglikelihoodRequest {
        context: context.into(),
        continuations: continuations.iter().map(|c| (*c).to_owned()).collect(),
    }
}

fn ll(logprob: f64, is_greedy: bool, tokens: u32) -> Loglikelihood {
    Loglikelihood {
        logprob,
        is_greedy,
        tokens,
    }
}

#[tokio::test]
async fn sums_continuation_tokens_by_the_mock_rule() {
    let server = mock(Faults::default(), 0).await;
    let model = OpenAiModel::new("touchstone-mock", &server.base_url(), None).unwrap();
    let context = "Paris is big and Paris is old. Q: which city? A:";
    let got = model
        .loglikelihood(&request(
            context,
            &[" Paris", " London", " Paris is", " Paris is new"],
        ))
        .await
        .unwrap();
    assert_eq!(
        got,
        vec![
            // " Paris" copies the context: −0.5, greedy.
            ll(-0.5, true, 1),
            // " London" is new: −(1 + 0.5·6) = −4.0, and <|endoftext|> beats it.
            ll(-4.0, false, 1),
            ll(-1.0, true, 2),
            // " new": −(1 + 0.5·3) = −2.5.
            ll(-3.5, false, 3),
        ]
    );
    // One request per continuation, the prompt being context + continuation.
    let log = server.requests();
    assert_eq!(log.len(), 4);
    assert_eq!(log[1].user_text, format!("{context} London"));
}

#[tokio::test]
async fn chinese_continuations_are_cut_by_characters_not_bytes() {
    let server = mock(Faults::default(), 0).await;
    let model = OpenAiModel::new("m", &server.base_url(), None).unwrap();
    // 13 characters, 39 bytes: a byte-based cut would land past the end of the prompt.
    let context = "问：中国的首都是哪里？答：";
    let got = model
        .loglikelihood(&request(context, &["北京", "中国", "中国北京"]))
        .await
        .unwrap();
    assert_eq!(
        got,
        vec![
            // "北", "京": new one-character tokens, −1.5 each.
            ll(-3.0, false, 2),
            // "中", "国" copy the context.
            ll(-1.0, true, 2),
            ll(-4.0, false, 4),
        ]
    );
}

#[tokio::test]
async fn a_token_straddling_the_boundary_counts_with_the_continuation() {
    let server = mock(Faults::default(), 0).await;
    let model = OpenAiModel::new("m", &server.base_url(), None).unwrap();
    // The context's trailing space and "Paris" form the one mock token " Paris": scored like
    // lm-evaluation-harness, which moves that space into the continuation.
    let spaced = model
        .loglikelihood(&request("Paris is big. Answer: ", &["Paris", "Rome"]))
        .await
        .unwrap();
    let plain = model
        .loglikelihood(&request("Paris is big. Answer:", &[" Paris", " Rome"]))
        .await
        .unwrap();
    assert_eq!(spaced, plain);
    assert_eq!(spaced, vec![ll(-0.5, true, 1), ll(-3.0, false, 1)]);
}

#[tokio::test]
async fn empty_inputs_need_no_request_or_are_refused() {
    let server = mock(Faults::default(), 0).await;
    let model = OpenAiModel::new("m", &server.base_url(), None).unwrap();
    assert_eq!(
        model.loglikelihood(&request("ctx", &[""])).await.unwrap(),
        vec![ll(0.0, true, 0)]
    );
    assert_eq!(server.request_count(), 0);
    let err = model.loglikelihood(&request("", &["x"])).await.unwrap_err();
    assert_eq!(err.kind(), "unsupported", "{err}");
    assert!(err.to_string().contains("non-empty context"), "{err}");
}

/// Answers each of `responses.len()` connections with status 200 and the given body; returns
/// the request bodies it saw.
async fn raw_server(responses: Vec<String>) -> (String, tokio::task::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    let handle = tokio::spawn(async move {
        let mut seen = Vec::new();
        for body in responses {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let head_end = loop {
                let n = socket.read(&mut chunk).await.unwrap();
                assert!(n > 0, "client closed early");
                buf.extend_from_slice(&chunk[..n]);
                if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break p + 4;
                }
            };
            let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            while buf.len() < head_end + length {
                let n = socket.read(&mut chunk).await.unwrap();
                buf.extend_from_slice(&chunk[..n]);
            }
            let first_line = head.lines().next().unwrap_or_default().to_owned();
            seen.push(format!(
                "{first_line}\n{}",
                String::from_utf8_lossy(&buf[head_end..])
            ));
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(response.as_bytes()).await.unwrap();
            socket.shutdown().await.unwrap();
        }
        seen
    });
    (base, handle)
}

#[tokio::test]
async fn a_server_without_prompt_logprobs_is_unsupported_with_a_clear_message() {
    // What a server that ignores echo/logprobs answers: a plain text completion.
    let plain = r#"{"object":"text_completion","choices":[{"index":0,"text":" Paris","logprobs":null,"finish_reason":"length"}]}"#;
    let (base, server) = raw_server(vec![plain.to_owned()]).await;
    let model = OpenAiModel::new("m", &base, None).unwrap();
    let err = model
        .loglikelihood(&request("The capital of France is", &[" Paris"]))
        .await
        .unwrap_err();
    assert!(matches!(err, ModelError::Unsupported(_)), "{err:?}");
    assert!(!err.is_retryable());
    let text = err.to_string();
    assert!(
        text.contains("/v1/completions") && text.contains("`echo` with `logprobs`"),
        "{text}"
    );
    assert!(text.contains("vLLM"), "{text}");

    // The request is lm-evaluation-harness's: echo, one logprob, greedy, one ignored token.
    let seen = server.await.unwrap();
    let (line, body) = seen[0].split_once('\n').unwrap();
    assert!(line.starts_with("post /v1/completions "), "{line}");
    let body: Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"model": "m", "prompt": "The capital of France is Paris", "max_tokens": 1,
            "echo": true, "logprobs": 1, "temperature": 0.0})
    );
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried_like_generate() {
    // Request 0 draws a 429 (Retry-After: 1 s), request 1 a 503, then nothing.
    let faults = Faults {
        rate_limit: 0.3,
        unavailable: 0.3,
        ..Faults::default()
    };
    let seed = (0..100_000u64)
        .find(|&s| {
            faults.decide(s, 0) == Some(FaultKind::RateLimit)
                && faults.decide(s, 1) == Some(FaultKind::Unavailable)
                && (2..4).all(|q| faults.decide(s, q).is_none())
        })
        .unwrap();
    let server = mock(faults, seed).await;
    let inner: SharedModel = Arc::new(OpenAiModel::new("m", &server.base_url(), None).unwrap());
    let model =
        Retry::new(inner, 3).with_backoff(Duration::from_millis(1), Duration::from_millis(5));
    let start = Instant::now();
    let (out, attempts) = count_attempts(model.loglikelihood(&request("a b", &[" a", " c"]))).await;
    assert_eq!(out.unwrap(), vec![ll(-0.5, true, 1), ll(-1.5, false, 1)]);
    assert_eq!(attempts, 3);
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "Retry-After ignored: {:?}",
        start.elapsed()
    );
    let faults_seen: Vec<_> = server.requests().iter().map(|r| r.fault).collect();
    assert_eq!(
        faults_seen,
        vec![
            Some(FaultKind::RateLimit),
            Some(FaultKind::Unavailable),
            None,
            None
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_kind_is_survived_through_the_layers() {
    let server = mock(Faults::uniform(0.3), 7).await;
    let config = LayerConfig {
        concurrency: 16,
        max_retries: 8,
        backoff_base: Duration::from_millis(5),
        backoff_max: Duration::from_millis(50),
        request_timeout: Some(Duration::from_millis(300)),
        ..LayerConfig::default()
    };
    let model = layered(
        Arc::new(OpenAiModel::new("m", &server.base_url(), None).unwrap()),
        &config,
    );
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let model = model.clone();
            tokio::spawn(async move {
                model
                    .loglikelihood(&request(&format!("item {i} says yes"), &[" yes", " no"]))
                    .await
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(got) => {
                assert_eq!(got, vec![ll(-0.5, true, 1), ll(-2.0, false, 1)]);
                ok += 1;
            }
            Err(e) => assert!(e.is_retryable(), "{e}"),
        }
    }
    assert!(ok >= 38, "only {ok} of 40 succeeded");
    let faulted = server
        .requests()
        .iter()
        .filter(|r| r.fault.is_some())
        .count();
    assert!(faulted > 5, "{faulted} faults injected");
}
