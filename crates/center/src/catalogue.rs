//! What a run can evaluate at the center, and how a request becomes a suite: a built-in suite,
//! a benchmark from the center's data folder (`--data-dir`, each benchmark as its authors
//! publish it, as `touchstone eval --benchmark` reads it), or a suite an organisation uploaded
//! with its datasets (`uploads`). Requests are checked against this at submission, and the
//! worker loads the suite from it when the run starts.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Value, json};
use touchstone_suite::LoadedSuite;
use touchstone_suite::benchmarks::{BENCHMARKS, BenchmarkRequest};

use crate::Center;
use crate::error::ApiError;

/// The body of `POST /api/v1/runs`, as the handler reads it and the client writes it.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    /// A built-in suite (`quick`, `gbt45654`, …) …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite: Option<String>,
    /// … or a benchmark of the center's data folder (`mmlu`, `gsm8k`, …) …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub benchmark: Option<String>,
    /// … or a suite the organisation uploaded (its id, `s_…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<String>,
    /// A benchmark's worked examples (its default when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shots: Option<usize>,
    /// Ids of registered models of the organisation.
    pub models: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs: Option<u32>,
    #[serde(default)]
    pub seed: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<usize>,
    /// Ask the model again rather than reuse a cached answer.
    #[serde(default)]
    pub no_cache: bool,
}

impl RunRequest {
    /// The engine's options for this request: what the job runs with, and what the console's
    /// preview counts.
    pub fn options(&self) -> touchstone_engine::EvalOptions {
        touchstone_engine::EvalOptions {
            limit: self.limit,
            epochs: self.epochs,
            seed: self.seed,
            exec: touchstone_engine::ExecOptions {
                concurrency: self.concurrency,
                no_cache: self.no_cache,
                ..touchstone_engine::ExecOptions::default()
            },
            ..touchstone_engine::EvalOptions::default()
        }
    }
}

/// Files in a benchmark's folder that are not its data.
fn is_data_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    path.is_file()
        && !name.starts_with('.')
        && !name.starts_with("license")
        && !name.starts_with("readme")
        && !name.starts_with("source")
        && !name.ends_with(".md")
        && !name.ends_with(".txt")
}

/// The benchmark `name` in `data_dir`, loaded; a reason without the server's paths when it
/// cannot be.
pub fn benchmark(data_dir: &Path, name: &str, shots: Option<usize>) -> Result<LoadedSuite, String> {
    load_benchmark(data_dir, name, shots).map_err(|message| {
        let mut message = message;
        let canonical = std::fs::canonicalize(data_dir).unwrap_or_default();
        for prefix in [canonical.as_path(), data_dir] {
            let shown = prefix.display().to_string();
            if !shown.is_empty() {
                message = message.replace(&shown, "<data-dir>");
            }
        }
        message
    })
}

/// `DIR/NAME` as `--data-dir` takes it (the authors' folder, or a file), or else the one data
/// file inside `DIR/NAME`.
fn load_benchmark(
    data_dir: &Path,
    name: &str,
    shots: Option<usize>,
) -> Result<LoadedSuite, String> {
    if !BENCHMARKS.contains(&name) {
        return Err(format!(
            "no benchmark `{name}`; Touchstone reads: {}",
            BENCHMARKS.join(", ")
        ));
    }
    let root = data_dir.join(name);
    if !root.exists() {
        return Err(format!(
            "the center does not offer `{name}`: it is not in its data folder"
        ));
    }
    let request = |data| BenchmarkRequest {
        shots,
        ..BenchmarkRequest::new(name, data)
    };
    let first = touchstone_suite::benchmarks::benchmark(&request(&root));
    if first.is_ok() || !root.is_dir() {
        return first.map_err(|e| e.to_string());
    }
    let files: Vec<PathBuf> = std::fs::read_dir(&root)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| is_data_file(p))
        .collect();
    match files.as_slice() {
        [one] => touchstone_suite::benchmarks::benchmark(&request(one)).map_err(|e| e.to_string()),
        _ => first.map_err(|e| e.to_string()),
    }
}

/// The suite a request names, loaded (with the request's organisation's uploads).
pub fn load(center: &Center, request: &RunRequest) -> Result<LoadedSuite, ApiError> {
    match (&request.suite, &request.benchmark, &request.upload) {
        (Some(name), None, None) => {
            if touchstone_suite::builtin_text(name).is_none() {
                return Err(ApiError::bad_request(
                    format!(
                        "no built-in suite `{name}`; the center offers: {} (GET /api/v1/suites lists everything)",
                        builtin_names().join(", ")
                    ),
                    format!("没有内置套件 `{name}`"),
                )
                .at("suite"));
            }
            touchstone_suite::load(name).map_err(ApiError::internal)
        }
        (None, Some(name), None) => {
            let Some(dir) = &center.data_dir else {
                return Err(ApiError::bad_request(
                    "this center offers no benchmarks: it was started without --data-dir",
                    "本中心未提供基准数据（启动时未指定 --data-dir）",
                )
                .at("benchmark"));
            };
            benchmark(dir, name, request.shots).map_err(|message| {
                ApiError::bad_request(message, format!("无法使用基准 `{name}`")).at("benchmark")
            })
        }
        (None, None, Some(id)) => {
            let organisation = request.organisation.as_deref().unwrap_or_default();
            crate::uploads::load(center, id, organisation)
        }
        _ => Err(ApiError::bad_request(
            "name exactly one of `suite` (built-in), `benchmark` (from the center's data folder) and `upload` (a suite you uploaded)",
            "`suite`、`benchmark`、`upload` 三者须且只能指定一个",
        )
        .at("suite")),
    }
}

fn builtin_names() -> Vec<&'static str> {
    touchstone_suite::builtin_suites()
        .into_iter()
        .map(|(n, _)| n)
        .collect()
}

/// `GET /api/v1/suites`: the built-in suites and the benchmarks of the data folder (those
/// that load), with their tasks; uploaded suites are listed by `uploads`.
pub fn offered(center: &Center) -> Value {
    // The built-in suites are part of the binary: described once per process.
    static BUILTIN: std::sync::OnceLock<Vec<Value>> = std::sync::OnceLock::new();
    let builtin = BUILTIN.get_or_init(|| {
        builtin_names()
            .into_iter()
            .filter_map(|name| touchstone_suite::load(name).ok().map(|s| (name, s)))
            .map(|(name, suite)| {
                json!({
                    "name": name,
                    "description": suite.spec.description,
                    "tasks": suite.spec.tasks.iter().map(|t| &t.name).collect::<Vec<_>>(),
                })
            })
            .collect()
    });
    let benchmarks: Vec<Value> = match &center.data_dir {
        Some(dir) => BENCHMARKS
            .iter()
            .filter(|name| dir.join(name).exists())
            .map(|name| match benchmark(dir, name, None) {
                Ok(suite) => json!({
                    "name": name,
                    "available": true,
                    "tasks": suite.spec.tasks.iter().map(|t| &t.name).collect::<Vec<_>>(),
                }),
                Err(reason) => json!({ "name": name, "available": false, "reason": reason }),
            })
            .collect(),
        None => Vec::new(),
    };
    json!({ "builtin": builtin, "benchmarks": benchmarks })
}
