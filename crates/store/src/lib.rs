//! Durable runs, item results (responses and scores) and the response cache.
//!
//! Everything goes through the [`Store`] trait so that a PostgreSQL backend can be added beside
//! the embedded [`SqliteStore`]. This crate knows nothing about HTTP or rendering.
//!
//! The transparency log of issued certificates (schema 3) is kept here too: an append-only table
//! of entries and their leaf hashes; the Merkle tree over it is computed by `touchstone-trust`.
//!
//! Invariant 3 lives here: [`Store::record`] is idempotent by `(run_id, item_id)`, so a crash, a
//! retry or a second worker never duplicates a result.

pub mod conformance;
mod error;
mod sqlite;
mod time;

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use touchstone_core::{ItemStatus, Score, Usage, WorkItemId};

pub use error::{BackendError, StoreError};
pub use sqlite::{SCHEMA_VERSION, SqliteStore};
pub use time::{format_rfc3339, new_run_id, now_rfc3339};

/// Where a run stands. `Running` and `Interrupted` runs can be resumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Interrupted,
    Completed,
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "running" => Some(RunStatus::Running),
            "interrupted" => Some(RunStatus::Interrupted),
            "completed" => Some(RunStatus::Completed),
            "failed" => Some(RunStatus::Failed),
            _ => None,
        }
    }

    /// Completed and Failed runs are finished: they get a `finished_at`.
    pub fn is_finished(self) -> bool {
        matches!(self, RunStatus::Completed | RunStatus::Failed)
    }
}

/// One evaluation run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: String,
    /// RFC 3339 UTC, e.g. `2026-11-29T05:29:06Z`.
    pub created_at: String,
    pub finished_at: Option<String>,
    pub status: RunStatus,
    pub suite: String,
    pub models: Vec<String>,
    /// Number of planned work items, once known.
    pub planned: Option<u64>,
    pub config: serde_json::Value,
}

/// The terminal result of one work item: the model's answer and its scores, or the failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemResult {
    pub run_id: String,
    pub item_id: WorkItemId,
    pub model: String,
    pub task: String,
    pub sample_id: String,
    pub variant: String,
    pub epoch: u32,
    pub cluster: Option<String>,
    pub status: ItemStatus,
    pub scores: Vec<Score>,
    pub answer: Option<String>,
    pub error: Option<String>,
    pub usage: Usage,
    pub latency_ms: u64,
    pub attempts: u32,
    pub cached: bool,
    /// What the item is broken down by in summaries (`risk`, `attack`, …): label → value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// Which results [`Store::results_page`] returns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResultsQuery {
    /// Only items with an id greater than this (the last id of the previous page).
    pub after: Option<String>,
    pub limit: usize,
    pub status: Option<ItemStatus>,
    pub task: Option<String>,
    pub model: Option<String>,
    /// A label and its value (`risk` = `A.1`).
    pub label: Option<(String, String)>,
    /// The first score's value at least / at most this (scored items only).
    pub score_min: Option<f64>,
    pub score_max: Option<f64>,
    /// Text the answer, the error or the sample id contains (exactly, case and all).
    pub text: Option<String>,
    /// Only these items (by id), where given: a set computed elsewhere (the items that differ
    /// from a baseline run) that the other filters and the keyset still apply to.
    pub items: Option<std::sync::Arc<[String]>>,
}

/// How many items of a run ended in each terminal state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub scored: u64,
    pub failed: u64,
}

impl Counts {
    pub fn total(&self) -> u64 {
        self.scored + self.failed
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    pub run: RunRecord,
    pub counts: Counts,
}

/// Who executes a run, and until when they have promised to renew that (see
/// [`Store::claim_run`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunLease {
    /// The engine's name for the executing process (`host/boot id/pid/start time`).
    pub owner: String,
    /// Milliseconds since the Unix epoch.
    pub expires_at_ms: i64,
}

impl RunLease {
    /// Whether `now_ms` is at or past the lease's end: its owner stopped renewing it.
    pub fn expired(&self, now_ms: i64) -> bool {
        self.expires_at_ms <= now_ms
    }

    /// Whether this lease lets `claimant` take the run over (the rule of
    /// [`Store::claim_run`], shared by every backend).
    pub fn grants(&self, claimant: &str, now_ms: i64, replacing: Option<&str>) -> bool {
        self.owner == claimant || self.expired(now_ms) || replacing == Some(self.owner.as_str())
    }
}

/// The answer to [`Store::claim_run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseClaim {
    Granted,
    /// Someone else holds a lease that has not expired.
    HeldBy(RunLease),
}

/// Durable storage for runs, results and the response cache.
///
/// **The methods block** (disk or network IO). Async code calls them through the engine's
/// `blocking` (tokio's blocking pool) or from a thread of its own (the engine's writer), never
/// directly on a runtime worker: a networked backend may take milliseconds per call, and a
/// runtime thread held that long stalls every request in flight.
pub trait Store: Send + Sync {
    /// Errors with [`StoreError::RunExists`] if a run with this id is already stored.
    fn create_run(&self, run: &RunRecord) -> Result<(), StoreError>;
    fn run(&self, id: &str) -> Result<Option<RunRecord>, StoreError>;
    /// Full id or unique prefix (like git): NotFound / Ambiguous errors otherwise.
    fn resolve_run(&self, id_or_prefix: &str) -> Result<RunRecord, StoreError>;
    /// Every run with its counts, newest first.
    fn runs(&self) -> Result<Vec<RunSummary>, StoreError>;
    /// The newest run with status Running or Interrupted.
    fn latest_unfinished(&self) -> Result<Option<RunRecord>, StoreError>;
    /// Sets `finished_at` when Completed/Failed (clears it otherwise); `planned` is overwritten
    /// only if `Some`.
    fn set_run_status(
        &self,
        id: &str,
        status: RunStatus,
        planned: Option<u64>,
    ) -> Result<(), StoreError>;
    fn update_run_config(&self, id: &str, config: &serde_json::Value) -> Result<(), StoreError>;
    /// Idempotent by (run_id, item_id): a second write of the same item is ignored (INSERT OR
    /// IGNORE), never duplicated. One transaction per call (batched commit). Returns how many
    /// rows were new.
    fn record(&self, results: &[ItemResult]) -> Result<usize, StoreError>;
    fn recorded_ids(&self, run_id: &str) -> Result<HashSet<WorkItemId>, StoreError>;
    /// Stream a run's results in insertion order without loading them all.
    fn for_each_result(
        &self,
        run_id: &str,
        visit: &mut dyn FnMut(ItemResult) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    /// Stream a run's results ordered by item id: an order that depends only on what is stored,
    /// not on when it was written, so aggregates computed from it are reproducible to the bit.
    fn for_each_result_by_item(
        &self,
        run_id: &str,
        visit: &mut dyn FnMut(ItemResult) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    /// One page of a run's results in item-id order: those after `query.after` (an item id;
    /// None from the first) that match every filter given, at most `query.limit`. Keyset
    /// pagination: a page costs the same at any depth, and a page boundary never repeats or
    /// skips an item while the run is still being written.
    fn results_page(
        &self,
        run_id: &str,
        query: &ResultsQuery,
    ) -> Result<Vec<ItemResult>, StoreError>;
    /// One result of a run by its item id; None when the run has no such item.
    fn result(&self, run_id: &str, item_id: &str) -> Result<Option<ItemResult>, StoreError>;
    fn counts(&self, run_id: &str) -> Result<Counts, StoreError>;
    /// Recorded items per task (what live progress reports when a run is resumed).
    fn task_counts(&self, run_id: &str) -> Result<BTreeMap<String, Counts>, StoreError>;
    fn cache_get(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// Stores or replaces the cached value for `key`.
    fn cache_put(&self, key: &str, value: &str) -> Result<(), StoreError>;

    /// Claims the execution of `run_id` for `owner` until `expires_at_ms`, atomically: of two
    /// claimants at once, at most one is granted. Granted when no lease is held, when the held
    /// lease expired at or before `now_ms`, when `owner` holds it already (a renewal), or when
    /// its holder is `replacing` (one the caller knows to be dead); otherwise nothing changes
    /// and the holder is returned. Times are the caller's clock (milliseconds since the Unix
    /// epoch), so a lease must be long against the clock skew between workers.
    fn claim_run(
        &self,
        run_id: &str,
        owner: &str,
        now_ms: i64,
        expires_at_ms: i64,
        replacing: Option<&str>,
    ) -> Result<LeaseClaim, StoreError>;
    /// Ends `owner`'s lease on `run_id`; a lease that someone else holds is left alone.
    fn release_run(&self, run_id: &str, owner: &str) -> Result<(), StoreError>;
    /// The lease on executing `run_id`, if one is recorded (it may have expired).
    fn run_lease(&self, run_id: &str) -> Result<Option<RunLease>, StoreError>;

    /// Appends one entry to the transparency log and returns its leaf index: 0 for the first
    /// entry, then 1, 2, … with no gaps, also under concurrent appenders (one transaction).
    /// Entries are never updated or deleted. `leaf_hash` is stored as given (lowercase hex of
    /// the RFC 9162 leaf hash, computed by the caller).
    fn log_append(&self, entry: &str, leaf_hash: &str) -> Result<u64, StoreError>;
    /// Every leaf hash, in leaf-index order (index i at position i).
    fn log_leaf_hashes(&self) -> Result<Vec<String>, StoreError>;
    /// The entry at `index`, if the log has one.
    fn log_entry(&self, index: u64) -> Result<Option<String>, StoreError>;
    /// How many entries the log holds.
    fn log_size(&self) -> Result<u64, StoreError>;

    /// Appends one event to the audit trail and returns its sequence number: 1 for the first,
    /// then 2, 3, … with no gaps, also under concurrent appenders. `seal` is called once, inside
    /// the same transaction, with the new sequence number and the previous event's hash (`None`
    /// for the first) and returns the event's text and its hash, which are stored as given: the
    /// chain's format belongs to `touchstone-audit`, its atomicity to the store. Events are
    /// never updated or deleted.
    fn audit_append(&self, seal: &mut AuditSeal<'_>) -> Result<u64, StoreError> {
        self.audit_append_many(1, seal)
    }
    /// Appends `count` events in one transaction (a server's requests, committed together):
    /// `seal` is called `count` times in sequence order, each with the hash before it. Returns
    /// the first event's sequence number. Nothing is appended when any part fails.
    fn audit_append_many(&self, count: usize, seal: &mut AuditSeal<'_>) -> Result<u64, StoreError>;
    /// Up to `limit` events after sequence number `after` (0: from the start), in sequence
    /// order, as stored (a verifier must not trust them).
    fn audit_events(&self, after: u64, limit: usize) -> Result<Vec<AuditRow>, StoreError>;
}

/// Makes the next audit event from its sequence number and the previous event's hash: returns
/// the event's text and its hash (see [`Store::audit_append`]).
pub type AuditSeal<'a> = dyn FnMut(u64, Option<&str>) -> (String, String) + 'a;

/// One stored audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub seq: u64,
    /// The event as `touchstone-audit` wrote it (canonical JSON).
    pub event: String,
    pub hash: String,
}
