//! What a run was asked to do. Stored whole in the run record, so that a resume re-plans the same
//! work items and results.json can say exactly how the numbers were made.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use touchstone_core::{ModelSpec, SuiteSpec};
use touchstone_models::ModelIdentity;

/// Options that change what is planned (and so the work-item ids) or how items are executed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvalOptions {
    /// At most this many samples per task.
    pub limit: Option<usize>,
    /// Overrides every task's epochs.
    pub epochs: Option<u32>,
    /// Base seed: sent to providers (plus the epoch) and used by the bootstrap.
    pub seed: u64,
    /// The model that judges answers for `judge`-backed scorers (`--judge`); it changes the
    /// scores, so it is part of the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge: Option<ModelSpec>,
    /// The model that writes attack prompts for attacker-driven attacks (`--attacker`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attacker: Option<ModelSpec>,
    /// The items drawn for each task that samples (`sample:`, `--sample`), by task name: how
    /// they were drawn and their sample ids. Drawn when the run starts; a resume reuses them.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub draws: std::collections::BTreeMap<String, crate::sample::Draw>,
    /// Run generated code without the isolated sandbox where it cannot be built
    /// (`--allow-unisolated-code`); every such score says so.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_unisolated_code: bool,
    #[serde(flatten)]
    pub exec: ExecOptions,
}

/// Options that only change how items are executed, never which items exist. A resume may
/// change them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecOptions {
    /// Requests in flight per model; None = the provider's default (8 for HTTP, the batch size
    /// for local models).
    pub concurrency: Option<usize>,
    /// Per-attempt deadline; None = 120 s for HTTP models, none for local models.
    pub request_timeout_secs: Option<f64>,
    pub max_retries: u32,
    pub no_cache: bool,
    /// Threads for local inference; None = all cores.
    pub threads: Option<usize>,
}

impl Default for ExecOptions {
    fn default() -> Self {
        ExecOptions {
            concurrency: None,
            request_timeout_secs: None,
            max_retries: 5,
            no_cache: false,
            threads: None,
        }
    }
}

impl ExecOptions {
    pub fn request_timeout(&self) -> Option<Duration> {
        self.request_timeout_secs
            .filter(|s| *s > 0.0)
            .map(Duration::from_secs_f64)
    }
}

/// The SHA-256 of one task's dataset, so a report can say exactly which data it measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetDigest {
    pub task: String,
    /// `builtin:quick/arithmetic` or the file path.
    pub source: String,
    pub sha256: String,
}

/// A task's bank, checked against the profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskBank {
    pub task: String,
    pub qualification: touchstone_compliance::BankQualification,
}

/// Everything needed to re-plan a run and to explain its results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    pub suite: SuiteSpec,
    /// `builtin:quick`, a file path, or `adhoc`.
    pub suite_origin: String,
    pub models: Vec<ModelSpec>,
    #[serde(default)]
    pub model_identities: Vec<ModelIdentity>,
    pub options: EvalOptions,
    pub datasets: Vec<DatasetDigest>,
    /// The suite's compliance profile, stored whole so that verdicts are computed from the run
    /// record alone, even if the profile file changes later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<touchstone_compliance::Profile>,
    /// For each task that assesses profile checks: its bank measured against the profile's
    /// minimums when the run started.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub banks: Vec<TaskBank>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge_identity: Option<ModelIdentity>,
    pub touchstone_version: String,
    pub git_revision: String,
}

pub const TOUCHSTONE_VERSION: &str = env!("CARGO_PKG_VERSION");
pub const GIT_REVISION: &str = env!("TOUCHSTONE_GIT_REVISION");
