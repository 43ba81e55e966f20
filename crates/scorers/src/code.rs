//! `code`: runs the model's code against the benchmark's own tests (HumanEval style) in the
//! sandbox; 1 when every test passes.

use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;
use serde_json::Value;
use tokio::sync::Semaphore;
use touchstone_core::{Sample, Score};
use touchstone_sandbox::{
    Isolation, Limits, Mechanism, NOBODY, NetworkIsolation, Outcome, Resources, Sandbox, Status,
    UserIsolation,
};

use crate::normalize::strip_reasoning;
use crate::options::Options;
use crate::{Scorer, ScorerError};

pub(crate) const OPTIONS: &[&str] = &["timeout", "memory_mb"];

/// Wall-clock seconds one program may run.
pub const DEFAULT_TIMEOUT_SECS: f64 = 10.0;
/// Address space of the program, in MiB.
pub const DEFAULT_MEMORY_MB: f64 = 512.0;

const NAME: &str = "code";

/// Programs that run at once. On a root host each has a uid, a cgroup and namespaces of its own;
/// run by an ordinary user, they share that user's RLIMIT_NPROC, and many at once would make
/// each other's forks fail, turning correct answers into failures. Two at a time overlaps the
/// interpreter's start-up on the 2 cores the center's machines have.
static RUNS: Semaphore = Semaphore::const_new(2);

/// A fenced block: its info string (language) and its body; the closing fence may be missing
/// when the reply was cut off by the token limit.
static FENCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?ms)^[ \t]*```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:^[ \t]*```|\z)")
        .expect("static fence pattern")
});

/// Scores 1 when the program made of the sample's prompt, the model's code and the sample's
/// tests (`metadata.test`, `metadata.entry_point`) exits with 0 in the sandbox. Options:
/// `timeout` (wall-clock seconds, default 10) and `memory_mb` (default 512).
#[derive(Debug, Clone)]
pub struct CodeScorer {
    timeout: Duration,
    memory_mb: f64,
    allow_unisolated: bool,
}

impl Default for CodeScorer {
    fn default() -> Self {
        CodeScorer {
            timeout: Duration::from_secs_f64(DEFAULT_TIMEOUT_SECS),
            memory_mb: DEFAULT_MEMORY_MB,
            allow_unisolated: false,
        }
    }
}

impl CodeScorer {
    pub fn from_options(options: &BTreeMap<String, Value>) -> Result<Self, ScorerError> {
        let o = Options::new(NAME, options, OPTIONS)?;
        let timeout = o.non_negative("timeout", DEFAULT_TIMEOUT_SECS)?;
        // Above a day is a typo, and `Duration::from_secs_f64` must not see huge values.
        if !(timeout > 0.0 && timeout <= 86_400.0) {
            return Err(bad_option(
                "timeout",
                format!("expected seconds between 0 and 86400 (exclusive of 0), found {timeout}"),
            ));
        }
        let memory_mb = o.non_negative("memory_mb", DEFAULT_MEMORY_MB)?;
        // Python itself needs tens of MiB of address space to start.
        if !(64.0..=1_048_576.0).contains(&memory_mb) {
            return Err(bad_option(
                "memory_mb",
                format!("expected MiB between 64 and 1048576, found {memory_mb}"),
            ));
        }
        Ok(CodeScorer {
            timeout: Duration::from_secs_f64(timeout),
            memory_mb,
            allow_unisolated: false,
        })
    }

    /// Whether programs may run unisolated where the sandbox cannot be built (the user's
    /// explicit `--allow-unisolated-code`); otherwise such items fail with the reason.
    pub fn allow_unisolated(mut self, allow: bool) -> Self {
        self.allow_unisolated = allow;
        self
    }

    fn limits(&self) -> Limits {
        Limits {
            // One second more CPU than wall time, so that a busy loop is reported as timed out
            // by the wall clock rather than racing the CPU limit.
            cpu_secs: self.timeout.as_secs_f64().ceil() as u64 + 1,
            memory_bytes: (self.memory_mb * 1024.0 * 1024.0) as u64,
            wall: self.timeout,
            network: false,
            ..Limits::default()
        }
    }
}

fn bad_option(option: &str, message: String) -> ScorerError {
    ScorerError::BadOption {
        scorer: NAME.into(),
        option: option.into(),
        message,
    }
}

fn bad_sample(sample: &Sample, message: String) -> ScorerError {
    ScorerError::BadTarget {
        scorer: NAME.into(),
        sample_id: sample.id.clone(),
        message,
    }
}

/// A non-empty string field of the sample's metadata, or the error naming it.
fn meta<'a>(sample: &'a Sample, field: &str) -> Result<&'a str, ScorerError> {
    match sample.metadata.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(Value::String(_)) => Err(bad_sample(
            sample,
            format!("metadata field `{field}` is empty; {HINT}"),
        )),
        Some(other) => Err(bad_sample(
            sample,
            format!("metadata field `{field}` must be a string, found {other}; {HINT}"),
        )),
        None => Err(bad_sample(
            sample,
            format!("metadata field `{field}` is missing; {HINT}"),
        )),
    }
}

const HINT: &str = "the `code` scorer needs `test` and `entry_point` in the sample's metadata \
                    (load HumanEval with `format: humaneval`)";

#[async_trait::async_trait]
impl Scorer for CodeScorer {
    fn name(&self) -> &str {
        NAME
    }

    async fn score(&self, sample: &Sample, answer: &str) -> Result<Score, ScorerError> {
        let test = meta(sample, "test")?;
        let entry = meta(sample, "entry_point")?.trim();
        if !is_identifier(entry) {
            return Err(bad_sample(
                sample,
                format!("metadata field `entry_point` is not a Python identifier: {entry:?}"),
            ));
        }
        let program = build_program(sample.input.text(), answer, test, entry);
        let sandbox = Sandbox::new(self.limits()).allow_unisolated(self.allow_unisolated);
        let outcome = {
            let _permit = RUNS
                .acquire()
                .await
                .map_err(|e| bad_sample(sample, format!("could not run the program: {e}")))?;
            run(sandbox, program).await
        }
        .map_err(|e| bad_sample(sample, format!("could not run the program: {e}")))?;

        let mut score = Score::binary(
            NAME,
            outcome.status.passed(),
            Some(status_name(&outcome.status).into()),
        );
        score.explanation = Some(explain(&outcome, self.timeout));
        Ok(score)
    }
}

/// Runs the program on a blocking thread when there is a runtime (the sandbox waits on the
/// child synchronously), else right here, so a caller without a runtime gets no panic.
async fn run(sandbox: Sandbox, program: String) -> Result<Outcome, String> {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle
            .spawn_blocking(move || sandbox.run_python(&program))
            .await
            .map_err(|e| format!("the sandbox thread failed: {e}"))?
            .map_err(|e| e.to_string()),
        Err(_) => sandbox.run_python(&program).map_err(|e| e.to_string()),
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

/// The program that is run: the code, the benchmark's tests, and the call of `check`.
///
/// When the code defines the entry point itself it is a full solution and follows the whole
/// prompt: the prompt's stub (signature and docstring) is a valid function that the answer's
/// definition replaces, and the prompt keeps the imports and helper functions the tests and the
/// solution may use (HumanEval/10, /38, /50 define helpers). Otherwise the code continues the
/// prompt, HumanEval's convention: program = prompt + completion.
pub fn build_program(prompt: &str, answer: &str, test: &str, entry_point: &str) -> String {
    let code = extract_code(answer);
    let full = dedent(code);
    let body = if defines(&full, entry_point) {
        let prompt = prompt.trim_end();
        format!("{prompt}\n\n\n{full}")
    } else {
        format!("{prompt}{}", indent_body(code))
    };
    format!("{body}\n\n{test}\n\ncheck({entry_point})\n")
}

/// The code in a reply: the first fenced block marked Python (else the first fenced block of
/// no language), else the whole reply after any reasoning.
pub fn extract_code(answer: &str) -> &str {
    let answer = strip_reasoning(answer);
    let mut plain = None;
    for c in FENCE.captures_iter(answer) {
        let lang = c.get(1).map_or("", |m| m.as_str()).to_ascii_lowercase();
        let body = c.get(2).map_or("", |m| m.as_str());
        match lang.as_str() {
            "python" | "py" | "python3" => return body,
            "" if plain.is_none() => plain = Some(body),
            _ => {}
        }
    }
    plain.unwrap_or(answer)
}

/// Whether `code` defines `name` at the top level.
fn defines(code: &str, name: &str) -> bool {
    code.lines().any(|line| {
        let rest = line
            .strip_prefix("async def ")
            .or_else(|| line.strip_prefix("def "));
        rest.and_then(|r| r.trim_start().strip_prefix(name))
            .is_some_and(|r| r.trim_start().starts_with('('))
    })
}

/// Removes the indentation every non-blank line shares (a block indented in a list item).
fn dedent(code: &str) -> String {
    let common = code
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    code.lines()
        .map(|l| l.get(common..).unwrap_or("").trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A continuation whose first line is not indented is a function body that lost its
/// indentation (chat models often write it so); it is indented one level to fit the prompt.
fn indent_body(code: &str) -> String {
    let Some(first) = code.lines().find(|l| !l.trim().is_empty()) else {
        return code.to_string();
    };
    let top_level = [
        "def ",
        "async def ",
        "class ",
        "import ",
        "from ",
        "@",
        "if __name__",
    ];
    if first.starts_with([' ', '\t']) || top_level.iter().any(|p| first.starts_with(p)) {
        return code.to_string();
    }
    code.lines()
        .map(|l| {
            if l.trim().is_empty() {
                String::new()
            } else {
                format!("    {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// How a run ended, as written in `extracted`.
pub fn status_name(status: &Status) -> &'static str {
    match status {
        Status::Passed => "passed",
        Status::Failed { .. } => "failed",
        Status::TimedOut => "timed_out",
        Status::CpuLimit => "cpu_limit",
        Status::Killed { .. } => "killed",
    }
}

/// Why the run ended (the last line of the traceback) and the isolation it got.
fn explain(outcome: &Outcome, timeout: Duration) -> String {
    let why = match &outcome.status {
        Status::Passed => "all tests passed".to_string(),
        Status::Failed { code } => match last_error(&outcome.stderr) {
            Some(e) => e,
            None => format!("exit code {code}"),
        },
        Status::TimedOut => format!("timed out after {}s", timeout.as_secs_f64()),
        Status::CpuLimit => "CPU time limit reached".to_string(),
        Status::Killed { signal } => format!("killed by signal {signal}"),
    };
    format!("{why}; {}", describe(&outcome.isolation))
}

/// The last line of a Python traceback; a bare `AssertionError` gets the failing line too.
/// Python 3.11+ marks the failing expression with a line of `^` and `~` under the source line;
/// that marker is not the source, so it is skipped.
fn last_error(stderr: &str) -> Option<String> {
    let is_marker = |l: &str| l.trim().chars().all(|c| matches!(c, '^' | '~'));
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty() && !is_marker(l))
        .collect();
    let (last, before) = lines.split_last()?;
    let last = last.trim();
    let text = match before.last() {
        Some(src) if last == "AssertionError" && src.starts_with([' ', '\t']) => {
            format!("AssertionError at `{}`", src.trim())
        }
        _ => last.to_string(),
    };
    Some(shorten(&text, 200))
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

/// E.g. `sandbox: bubblewrap, seccomp, cgroup v1, network: user namespace, user: uid 1900000123`.
pub fn describe(isolation: &Isolation) -> String {
    let mechanism = match &isolation.mechanism {
        Mechanism::Bubblewrap => "sandbox: bubblewrap".to_string(),
        Mechanism::Unisolated { reason } => {
            format!("UNISOLATED / 未隔离 (allowed by --allow-unisolated-code; {reason})")
        }
    };
    let seccomp = if isolation.seccomp { ", seccomp" } else { "" };
    let resources = match &isolation.resources {
        Resources::Cgroup { version, .. } => format!("cgroup v{version}"),
        Resources::Rlimits { .. } => "per-process rlimits".to_string(),
    };
    let network = match &isolation.network {
        NetworkIsolation::Namespace => "namespace".to_string(),
        NetworkIsolation::UserNamespace => "user namespace".to_string(),
        NetworkIsolation::Allowed => "allowed".to_string(),
        NetworkIsolation::None { reason } => format!("not isolated ({reason})"),
    };
    let user = match &isolation.user {
        UserIsolation::Dropped { uid, .. } if *uid == NOBODY.0 => "nobody".to_string(),
        UserIsolation::Dropped { uid, .. } => format!("uid {uid}"),
        UserIsolation::SameUser { uid } => format!("same user (uid {uid})"),
    };
    format!("{mechanism}{seccomp}, {resources}, network: {network}, user: {user}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROMPT: &str =
        "from typing import List\n\n\ndef add(a: int, b: int) -> int:\n    \"\"\"Adds.\"\"\"\n";

    #[test]
    fn extracts_python_fence_then_plain_fence_then_text() {
        assert_eq!(extract_code("x\n```python\nA\n```\n```\nB\n```"), "A\n");
        assert_eq!(extract_code("```text\nT\n```\n```\nB\n```"), "B\n");
        assert_eq!(extract_code("```py\ncut off"), "cut off");
        assert_eq!(
            extract_code("<think>```python\nno\n```</think>    return 1"),
            "    return 1"
        );
        assert_eq!(extract_code("    return a + b\n"), "    return a + b\n");
    }

    #[test]
    fn continuation_follows_the_prompt() {
        let p = build_program(PROMPT, "    return a + b\n", "def check(c): pass", "add");
        assert!(p.starts_with(PROMPT), "{p}");
        assert!(p.contains("\"\"\"Adds.\"\"\"\n    return a + b\n"), "{p}");
        assert!(p.ends_with("\n\ncheck(add)\n"), "{p}");
    }

    #[test]
    fn unindented_body_is_indented() {
        let p = build_program(PROMPT, "```python\nx = a\nreturn x + b\n```", "", "add");
        assert!(p.contains("\n    x = a\n    return x + b"), "{p}");
    }

    #[test]
    fn full_function_follows_the_whole_prompt() {
        let answer = "Here:\n```python\n  def add(a, b):\n      return a + b\n```";
        let p = build_program(PROMPT, answer, "", "add");
        assert!(p.starts_with("from typing import List"), "{p}");
        assert!(p.contains("\n\ndef add(a, b):\n    return a + b"), "{p}");
        assert!(!defines("def adder(a):", "add"));
        assert!(defines("async def add (a):", "add"));
    }

    #[test]
    fn traceback_line_and_isolation() {
        let err = "Traceback (most recent call last):\n  File \"main.py\", line 9\n    assert candidate(1) == 2\nAssertionError\n";
        assert_eq!(
            last_error(err).as_deref(),
            Some("AssertionError at `assert candidate(1) == 2`")
        );
        assert_eq!(
            last_error("x\nNameError: name 'y' is not defined\n").as_deref(),
            Some("NameError: name 'y' is not defined")
        );
        assert_eq!(last_error(""), None);
        // Python 3.11+: the caret line under the source is not the failing line.
        let err = "Traceback (most recent call last):\n  File \"main.py\", line 12, in <module>\n    assert candidate([1, 2]) == [2, 1]\n           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\nAssertionError\n";
        assert_eq!(
            last_error(err).as_deref(),
            Some("AssertionError at `assert candidate([1, 2]) == [2, 1]`")
        );
        let err = "  File \"main.py\", line 3, in f\n    return xs[0] + ys[1]\n           ~~~~~~^^^^^^~~~~\nIndexError: list index out of range\n";
        assert_eq!(
            last_error(err).as_deref(),
            Some("IndexError: list index out of range")
        );
        let iso = Isolation {
            mechanism: Mechanism::Bubblewrap,
            resources: Resources::Cgroup {
                version: 1,
                memory_bytes: 1 << 30,
                processes: 32,
                cpus: 1,
            },
            seccomp: true,
            network: NetworkIsolation::Namespace,
            user: UserIsolation::Dropped {
                uid: NOBODY.0,
                gid: NOBODY.1,
            },
            rlimits: true,
            reaper: true,
        };
        assert_eq!(
            describe(&iso),
            "sandbox: bubblewrap, seccomp, cgroup v1, network: namespace, user: nobody"
        );
    }

    #[test]
    fn options_are_checked() {
        let opts = |k: &str, v: Value| BTreeMap::from([(k.to_string(), v)]);
        assert!(CodeScorer::from_options(&opts("timeout", 0.into())).is_err());
        assert!(CodeScorer::from_options(&opts("memory_mb", 1.into())).is_err());
        assert!(
            CodeScorer::from_options(&opts("timout", 1.into()))
                .unwrap_err()
                .to_string()
                .contains("did you mean `timeout`")
        );
        let s = CodeScorer::from_options(&opts("timeout", 2.5.into())).unwrap();
        assert_eq!(s.limits().wall, Duration::from_millis(2500));
        assert_eq!(s.limits().cpu_secs, 4);
        assert_eq!(s.limits().memory_bytes, 512 << 20);
    }
}
