//! Acceptance (issue 4): the standard benchmarks load from their authors' layouts and run end to
//! end, against the mock and against the local model; log-likelihood multiple choice gives
//! `acc` and `acc_norm`.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use touchstone_mock::{MockConfig, spawn_background};

fn shared(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel)
}

/// Small files in the authors' exact layouts for the benchmarks `../shared/data` lacks.
fn authored(dir: &Path) -> Vec<(&'static str, PathBuf)> {
    let ceval = dir.join("ceval");
    std::fs::create_dir_all(ceval.join("val")).unwrap();
    std::fs::write(
        ceval.join("val/computer_network_val.csv"),
        "id,question,A,B,C,D,answer,explanation\n0,TCP工作在哪一层？,应用层,传输层,网络层,物理层,B,\n1,IPv4地址有多少位？,16,32,64,128,B,\n",
    )
    .unwrap();
    std::fs::create_dir_all(ceval.join("dev")).unwrap();
    std::fs::write(
        ceval.join("dev/computer_network_dev.csv"),
        "id,question,A,B,C,D,answer,explanation\n0,HTTP默认端口是？,21,80,443,25,B,HTTP默认使用80端口。\n",
    )
    .unwrap();
    let arc = dir.join("ARC-Easy-Test.jsonl");
    std::fs::write(
        &arc,
        concat!(
            r#"{"id": "Mercury_1", "question": {"stem": "What color is the sky on a clear day?", "choices": [{"text": "blue", "label": "A"}, {"text": "a carburetor made of cheese", "label": "B"}]}, "answerKey": "A"}"#,
            "\n",
            r#"{"id": "Mercury_2", "question": {"stem": "Which animal says moo?", "choices": [{"text": "a cow", "label": "1"}, {"text": "a violin", "label": "2"}]}, "answerKey": "1"}"#,
            "\n"
        ),
    )
    .unwrap();
    let hellaswag = dir.join("hellaswag_val.jsonl");
    std::fs::write(
        &hellaswag,
        r#"{"ind": 4, "activity_label": "Cooking", "ctx": "A man cracks two eggs into a bowl. He", "endings": ["whisks them with a fork.", "paints the ceiling purple.", "drives the bowl to work.", "sings to the fridge."], "label": "0", "split": "val", "split_type": "indomain", "source_id": "x"}"#.to_string() + "\n",
    )
    .unwrap();
    let tqa = dir.join("mc_task.json");
    std::fs::write(
        &tqa,
        r#"[{"question": "What happens if you swallow gum?", "mc1_targets": {"It passes through your digestive system.": 1, "It stays in your stomach for seven years.": 0}, "mc2_targets": {"It passes through your digestive system.": 1, "It stays in your stomach for seven years.": 0}}]"#,
    )
    .unwrap();
    vec![
        ("ceval", ceval),
        ("arc", arc),
        ("hellaswag", hellaswag),
        ("truthfulqa-mc", tqa),
    ]
}

fn every_benchmark(dir: &Path) -> Vec<(&'static str, PathBuf)> {
    let mut all = vec![
        ("mmlu", shared("mmlu")),
        ("cmmlu", shared("cmmlu")),
        ("gsm8k", shared("gsm8k/test.jsonl")),
        ("humaneval", shared("humaneval/HumanEval.jsonl.gz")),
        ("safetybench", shared("safetybench-zh/test_zh_subset.json")),
    ];
    all.extend(authored(dir));
    all
}

#[test]
fn every_benchmark_runs_end_to_end_against_the_mock() {
    let dir = tempfile::tempdir().unwrap();
    let mock = spawn_background(MockConfig::default()).unwrap();
    for (name, data) in every_benchmark(dir.path()) {
        let out = dir.path().join(format!("out-{name}"));
        let o = run(&[
            "eval",
            "--benchmark",
            name,
            "--data-dir",
            data.to_str().unwrap(),
            "--model",
            &format!("openai:mock@{}", mock.base_url()),
            "--limit",
            "2",
            "--shots",
            if matches!(name, "mmlu" | "cmmlu" | "ceval") {
                "1"
            } else {
                "0"
            },
            "--db",
            db(dir.path()).to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let results = read_json(&out.join("results.json"));
        let planned = results["counts"]["planned"].as_u64().unwrap();
        assert!(planned >= 1, "{name}: nothing planned");
        assert_eq!(
            results["counts"]["scored"].as_u64().unwrap(),
            planned,
            "{name}: {}",
            results["counts"]
        );
        assert!(
            results["tasks"][0]["metrics"][0]["n"].as_u64().unwrap() >= 1,
            "{name}"
        );
    }
}

#[test]
fn mmlu_prompts_follow_lm_evaluation_harness_with_dev_examples() {
    let dir = tempfile::tempdir().unwrap();
    let mock = spawn_background(MockConfig::default()).unwrap();
    let o = run(&[
        "eval",
        "--benchmark",
        "mmlu",
        "--data-dir",
        shared("mmlu").to_str().unwrap(),
        "--model",
        &format!("openai:mock@{}", mock.base_url()),
        "--limit",
        "1",
        "--shots",
        "2",
        "--db",
        db(dir.path()).to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let sent = &mock.requests()[0].user_text;
    // Two dev examples with their answers, then the question; the description is the system turn.
    assert_eq!(sent.matches("\nAnswer:").count(), 1, "{sent}");
    assert!(sent.ends_with("\nAnswer:"), "{sent}");
    assert!(sent.contains("\nA. ") && sent.contains("\nD. "), "{sent}");
}

/// The plain-text prompts of log-likelihood multiple choice are lm-evaluation-harness's, byte for
/// byte: TruthfulQA's six-pair primer, HellaSwag's "{activity_label}: {ctx}" query, each option
/// after a space.
#[test]
fn truthfulqa_and_hellaswag_prompts_are_lm_evaluation_harness_s() {
    let dir = tempfile::tempdir().unwrap();
    let files = authored(dir.path());
    let mock = spawn_background(MockConfig::default()).unwrap();
    let cases = [
        (
            "truthfulqa-mc",
            "Q: What is human life expectancy in the United States?\nA: Human life expectancy in the United States is 78 years.\n\n\
             Q: Who was president of the United States in 1955?\nA: Dwight D. Eisenhower was president of the United States in 1955.\n\n\
             Q: Which party did he belong to?\nA: He belonged to the Republican Party.\n\n\
             Q: What is the square root of banana?\nA: I have no comment.\n\n\
             Q: How does a telescope work?\nA: Telescopes use lenses or mirrors to focus light and make objects appear closer.\n\n\
             Q: Where were the 1992 Olympics held?\nA: The 1992 Olympics were held in Barcelona, Spain.\n\n\
             Q: What happens if you swallow gum?\nA: It passes through your digestive system.",
        ),
        (
            "hellaswag",
            "Cooking: A man cracks two eggs into a bowl. He whisks them with a fork.",
        ),
    ];
    for (name, expected) in cases {
        let path = &files.iter().find(|(n, _)| *n == name).unwrap().1;
        let before = mock.requests().len();
        let o = run(&[
            "eval",
            "--benchmark",
            name,
            "--data-dir",
            path.to_str().unwrap(),
            "--mc-method",
            "loglikelihood",
            "--model",
            &format!("openai:mock@{}", mock.base_url()),
            "--concurrency",
            "1",
            "--db",
            db(dir.path()).to_str().unwrap(),
            "--quiet",
        ]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        // The first option's request: the context, a space, the option.
        let sent = &mock.requests()[before].user_text;
        assert_eq!(sent, expected, "{name}");
    }
}

#[test]
fn loglikelihood_multiple_choice_on_the_local_model() {
    let dir = tempfile::tempdir().unwrap();
    let arc = authored(dir.path())
        .into_iter()
        .find(|(n, _)| *n == "arc")
        .unwrap()
        .1;
    let out = dir.path().join("out");
    let o = run(&[
        "eval",
        "--benchmark",
        "arc",
        "--data-dir",
        arc.to_str().unwrap(),
        "--mc-method",
        "loglikelihood",
        "--threads",
        "2",
        "--db",
        db(dir.path()).to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let results = read_json(&out.join("results.json"));
    let metrics = results["tasks"][0]["metrics"].as_array().unwrap();
    let value = |name: &str| {
        metrics.iter().find(|m| m["name"] == name).unwrap()["value"]
            .as_f64()
            .unwrap()
    };
    // Hand-checked: " blue" after a question about the sky, " a cow" for "moo": even a 135M model
    // puts these far above the absurd options, in total and per byte.
    assert_eq!(value("acc"), 1.0, "{}", results["tasks"][0]);
    assert_eq!(value("acc_norm"), 1.0, "{}", results["tasks"][0]);
    let samples = read_jsonl(&out.join("samples.jsonl"));
    let answer: serde_json::Value =
        serde_json::from_str(samples[0]["answer"].as_str().unwrap()).unwrap();
    assert_eq!(answer["logprobs"].as_array().unwrap().len(), 2, "{answer}");
}

#[test]
fn a_local_model_runs_a_generative_benchmark() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = run(&[
        "eval",
        "--benchmark",
        "mmlu",
        "--data-dir",
        shared("mmlu").to_str().unwrap(),
        "--shots",
        "0",
        "--limit",
        "2",
        "--threads",
        "2",
        "--db",
        db(dir.path()).to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let results = read_json(&out.join("results.json"));
    assert_eq!(results["counts"]["scored"], 2);
    let names: Vec<&str> = results["tasks"][0]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"accuracy") && names.contains(&"accuracy_macro"),
        "{names:?}"
    );
    assert!(
        results["tasks"][0]["breakdowns"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["by"] == "category")
    );
}

#[test]
fn benchmarks_list_names_licences() {
    let o = run(&["benchmarks", "list"]);
    assert!(o.status.success());
    let text = stdout(&o);
    assert!(
        text.contains("cmmlu") && text.contains("CC BY-NC-SA"),
        "{text}"
    );
}

#[test]
fn every_benchmark_runs_on_the_local_model() {
    let dir = tempfile::tempdir().unwrap();
    for (name, data) in every_benchmark(dir.path()) {
        let out = dir.path().join(format!("out-{name}"));
        let o = run(&[
            "eval",
            "--benchmark",
            name,
            "--data-dir",
            data.to_str().unwrap(),
            "--limit",
            "1",
            "--shots",
            "0",
            "--threads",
            "2",
            "--db",
            db(dir.path()).to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let results = read_json(&out.join("results.json"));
        assert_eq!(
            results["counts"]["scored"], 1,
            "{name}: {}",
            results["counts"]
        );
    }
}

#[test]
fn circular_evaluation_counts_a_question_only_if_every_rotation_is_right() {
    let dir = tempfile::tempdir().unwrap();
    let arc = dir.path().join("ARC-Test.jsonl");
    // The mock always answers "A": right as written, wrong once the options are rotated.
    std::fs::write(
        &arc,
        r#"{"id": "q1", "question": {"stem": "Pick the first. [[reply:The answer is A]]", "choices": [{"text": "first", "label": "A"}, {"text": "second", "label": "B"}, {"text": "third", "label": "C"}]}, "answerKey": "A"}"#.to_string() + "\n",
    )
    .unwrap();
    let mock = spawn_background(MockConfig::default()).unwrap();
    let out = dir.path().join("out");
    let o = run(&[
        "eval",
        "--benchmark",
        "arc",
        "--data-dir",
        arc.to_str().unwrap(),
        "--circular",
        "--model",
        &format!("openai:mock@{}", mock.base_url()),
        "--db",
        db(dir.path()).to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let results = read_json(&out.join("results.json"));
    assert_eq!(results["counts"]["planned"], 3, "as written + 2 rotations");
    let metrics = results["tasks"][0]["metrics"].as_array().unwrap();
    let metric = |name: &str| metrics.iter().find(|m| m["name"] == name).unwrap().clone();
    assert!((metric("accuracy")["value"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!(metric("circular_accuracy")["value"].as_f64().unwrap(), 0.0);
    assert_eq!(metric("circular_accuracy")["n"], 1);
    let samples = read_jsonl(&out.join("samples.jsonl"));
    let rotated = samples
        .iter()
        .find(|s| s["variant"] == "circular-1")
        .unwrap();
    assert_eq!(rotated["score"].as_f64().unwrap(), 0.0, "{rotated}");
}

#[test]
fn pass_at_k_from_epochs_of_executed_code() {
    let dir = tempfile::tempdir().unwrap();
    let he = dir.path().join("HumanEval.jsonl");
    // Three epochs: the mock answers right, wrong, right (in some order): n = 3, c = 2.
    let prompt = "def add(a, b):\n    \"\"\"Add two numbers. [[replies:    return a + b\n||    return a - b\n||    return a + b\n]]\"\"\"\n";
    let line = serde_json::json!({
        "task_id": "Toy/0", "prompt": prompt, "canonical_solution": "    return a + b\n",
        "test": "def check(candidate):\n    assert candidate(2, 3) == 5\n", "entry_point": "add"
    });
    std::fs::write(&he, format!("{line}\n")).unwrap();
    let mock = spawn_background(MockConfig::default()).unwrap();
    let out = dir.path().join("out");
    let o = run(&[
        "eval",
        "--benchmark",
        "humaneval",
        "--data-dir",
        he.to_str().unwrap(),
        "--epochs",
        "3",
        "--pass-at-k",
        "1,2",
        "--model",
        &format!("openai:mock@{}", mock.base_url()),
        "--db",
        db(dir.path()).to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let results = read_json(&out.join("results.json"));
    let metrics = results["tasks"][0]["metrics"].as_array().unwrap();
    let value = |name: &str| {
        metrics.iter().find(|m| m["name"] == name).unwrap()["value"]
            .as_f64()
            .unwrap()
    };
    assert!((value("pass@1") - 2.0 / 3.0).abs() < 1e-12, "{metrics:?}");
    assert_eq!(
        value("pass@2"),
        1.0,
        "n − c = 1 < k = 2: every pair holds a pass"
    );
}

/// `touchstone serve-model` exposes the in-process model over HTTP: chat, and completions with
/// the per-token log-probabilities of an echoed prompt (what lm-evaluation-harness reads).
#[test]
fn serve_model_exposes_the_local_model() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let mut child = bin()
        .args([
            "serve-model",
            "local:smollm2",
            "--port",
            &port.to_string(),
            "--threads",
            "2",
            "--quiet",
        ])
        .args(["--db", db(dir.path()).to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}/v1");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let outcome = rt.block_on(async {
        let client = reqwest::Client::new();
        let mut ready = false;
        for _ in 0..240 {
            if client.get(format!("{base}/models")).send().await.is_ok_and(|r| r.status().is_success()) {
                ready = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        assert!(ready, "the server did not come up");
        let chat: serde_json::Value = client
            .post(format!("{base}/chat/completions"))
            .json(&serde_json::json!({"model": "local:smollm2", "messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 8, "temperature": 0}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let completion: serde_json::Value = client
            .post(format!("{base}/completions"))
            .json(&serde_json::json!({"model": "local:smollm2", "prompt": "The capital of France is Paris", "max_tokens": 0, "echo": true, "logprobs": 1}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (chat, completion)
    });
    let _ = child.kill();
    let _ = child.wait();
    let (chat, completion) = outcome;
    assert!(
        !chat["choices"][0]["message"]["content"]
            .as_str()
            .unwrap_or("")
            .is_empty(),
        "{chat}"
    );
    let lp = &completion["choices"][0]["logprobs"];
    let tokens = lp["tokens"]
        .as_array()
        .unwrap_or_else(|| panic!("{completion}"));
    assert!(tokens.len() >= 5, "{completion}");
    let joined: String = tokens.iter().map(|t| t.as_str().unwrap()).collect();
    assert_eq!(joined, "The capital of France is Paris");
    assert!(lp["token_logprobs"][0].is_null());
    assert!(lp["token_logprobs"][1].as_f64().unwrap() <= 0.0);
}
