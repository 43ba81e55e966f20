//! Shared helpers for the end-to-end tests: run the real binary against the mock server.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary cargo built, or `TOUCHSTONE_BIN` where a copy must be used (`scripts/test` runs
/// some tests as `nobody`, who may not reach the target directory).
pub fn bin_path() -> std::ffi::OsString {
    std::env::var_os("TOUCHSTONE_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_touchstone").into())
}

/// Without the variables that would change what a test asks for.
pub fn clean_env(c: &mut Command) -> &mut Command {
    c.env_remove("TOUCHSTONE_MODEL")
        .env_remove("TOUCHSTONE_DB")
        .env_remove("TOUCHSTONE_CONCURRENCY")
}

pub fn bin() -> Command {
    let mut c = Command::new(bin_path());
    clean_env(&mut c);
    c
}

/// Waits for `child`, killing it and failing the test if it has not ended within `limit`.
pub fn wait_within(
    child: &mut std::process::Child,
    limit: std::time::Duration,
    what: &str,
) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// One HumanEval line for `add(a, b)` whose completion the mock serves verbatim (`[[reply:…]]`
/// in the prompt's docstring, so the completion has no `"""`, `]]` or backslash).
pub fn humaneval_add(task_id: &str, completion: &str) -> String {
    assert!(
        !completion.contains("\"\"\"") && !completion.contains("]]") && !completion.contains('\\'),
        "{task_id}: the completion must fit in a docstring and a mock directive"
    );
    let prompt =
        format!("def add(a, b):\n    \"\"\"Add two numbers. [[reply:{completion}]]\"\"\"\n");
    serde_json::json!({
        "task_id": task_id,
        "prompt": prompt,
        "canonical_solution": "    return a + b\n",
        "test": "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n",
        "entry_point": "add",
    })
    .to_string()
}

pub fn run(args: &[&str]) -> Output {
    bin()
        .args(args)
        .output()
        .expect("the touchstone binary runs")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// A failure that is a clean error: non-zero exit, a message, no panic.
pub fn assert_clean_failure(o: &Output, must_mention: &[&str]) {
    let err = stderr(o);
    assert!(
        !o.status.success(),
        "expected failure, got success; stderr:\n{err}"
    );
    assert!(!err.contains("panicked"), "panicked:\n{err}");
    assert_ne!(
        o.status.code(),
        Some(101),
        "exit code 101 is a panic:\n{err}"
    );
    for m in must_mention {
        assert!(err.contains(m), "stderr should mention {m:?}:\n{err}");
    }
}

/// Multiple-choice items whose answers the mock gives through `[[reply:…]]` directives.
/// Item i is answered correctly when `correct(i)`.
pub fn write_choice_dataset(path: &Path, n: usize, correct: impl Fn(usize) -> bool) {
    let letters = ["A", "B", "C", "D"];
    let phrasings = [
        "The answer is {}.",
        "({})",
        "答案是{}",
        "{}",
        "Answer: **{}**",
        "选{}",
    ];
    let mut out = String::new();
    for i in 0..n {
        let target = letters[i % 4];
        let wrong = letters[(i + 1) % 4];
        let said = if correct(i) { target } else { wrong };
        let reply = phrasings[i % phrasings.len()].replace("{}", said);
        let line = serde_json::json!({
            "id": format!("q{i:05}"),
            "input": format!("Question {i}: which option? [[reply:{reply}]]"),
            "choices": ["alpha", "beta", "gamma", "delta"],
            "target": target,
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    std::fs::write(path, out).expect("write dataset");
}

pub fn read_jsonl(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .expect("read jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("valid json line"))
        .collect()
}

pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read json")).expect("valid json")
}

/// `touchstone eval` of a `choice`-scored dataset against `model`, recording into `db(dir)`,
/// with `extra` flags after.
pub fn eval_choice(dir: &Path, data: &Path, model: &str, extra: &[&str]) -> Output {
    let db = db(dir);
    let mut args = vec![
        "eval",
        "--dataset",
        data.to_str().unwrap(),
        "--scorer",
        "choice",
        "--model",
        model,
        "--db",
        db.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run(&args)
}

pub fn db(dir: &Path) -> PathBuf {
    dir.join("t.db")
}
