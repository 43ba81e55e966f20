//! The embedded SQLite backend.
//!
//! Durability: the database runs in WAL mode with `synchronous=NORMAL`. A committed transaction
//! survives the process crashing or being SIGKILLed (the WAL is in the OS page cache and is
//! replayed on next open); only a power loss or OS crash can lose the last few commits, never
//! corrupt the database. Several processes may open the same file: readers never block the writer,
//! and writers wait up to the busy timeout for each other.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use touchstone_core::{ItemStatus, Score, Usage, WorkItemId};

use crate::{
    AuditRow, AuditSeal, Counts, ItemResult, LeaseClaim, ResultsQuery, RunLease, RunRecord,
    RunStatus, RunSummary, Store, StoreError, now_rfc3339,
};

/// Schema migrations, applied in order; `PRAGMA user_version` counts how many have run.
/// Never edit an entry that has shipped: append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: runs, items, cache.
    "CREATE TABLE runs (
        seq INTEGER PRIMARY KEY,          -- creation order, the tie-break for equal created_at
        id TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL,
        suite TEXT NOT NULL,
        models_json TEXT NOT NULL,
        planned INTEGER,
        config_json TEXT NOT NULL
    );
    CREATE INDEX runs_by_created ON runs (created_at, seq);
    CREATE TABLE items (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        item_id TEXT NOT NULL,
        recorded_seq INTEGER NOT NULL,    -- insertion order within the run
        model TEXT NOT NULL,
        task TEXT NOT NULL,
        sample_id TEXT NOT NULL,
        variant TEXT NOT NULL,
        epoch INTEGER NOT NULL,
        cluster TEXT,
        status TEXT NOT NULL,
        answer TEXT,
        error TEXT,
        scores_json TEXT NOT NULL,
        prompt_tokens INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL,
        latency_ms INTEGER NOT NULL,
        attempts INTEGER NOT NULL,
        cached INTEGER NOT NULL,
        PRIMARY KEY (run_id, item_id)
    );
    CREATE INDEX items_by_seq ON items (run_id, recorded_seq);
    CREATE INDEX items_by_status ON items (run_id, status);
    CREATE TABLE cache (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        created_at TEXT NOT NULL
    );",
    // 2: labels an item is broken down by (risk, attack, …), as a JSON object of strings.
    "ALTER TABLE items ADD COLUMN labels_json TEXT NOT NULL DEFAULT '{}';",
    // 3: the transparency log of issued certificates: append-only, dense leaf indexes from 0.
    "CREATE TABLE transparency_log (
        leaf_index INTEGER PRIMARY KEY,   -- 0, 1, 2, … with no gaps
        leaf_hash TEXT NOT NULL,          -- lowercase hex SHA-256(0x00 || entry), RFC 9162
        entry TEXT NOT NULL,              -- the logged certificate, RFC 8785 JSON
        created_at TEXT NOT NULL
    );
    CREATE TRIGGER transparency_log_no_update BEFORE UPDATE ON transparency_log
    BEGIN SELECT RAISE(ABORT, 'the transparency log is append-only'); END;
    CREATE TRIGGER transparency_log_no_delete BEFORE DELETE ON transparency_log
    BEGIN SELECT RAISE(ABORT, 'the transparency log is append-only'); END;",
    // 4: the process executing a run, while it does: a `running` run whose process is gone
    // was stopped without finishing, and a live one is not resumed a second time.
    "CREATE TABLE run_owners (
        run_id TEXT PRIMARY KEY,
        owner TEXT NOT NULL
    );",
    // 5: the owner holds a lease that it renews while it lives, so that workers on other
    // machines can tell a live owner (lease in the future) from a dead one (lease expired).
    // Owners recorded before have no lease: 0, expired, which is what they are.
    "ALTER TABLE run_owners ADD COLUMN expires_at_ms INTEGER NOT NULL DEFAULT 0;",
    // 6: the audit trail: hash-chained events, dense sequence numbers from 1. The triggers
    // refuse edits through SQL; the chain shows edits made any other way.
    "CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY,          -- 1, 2, 3, … with no gaps
        event TEXT NOT NULL,              -- canonical JSON, written by touchstone-audit
        hash TEXT NOT NULL                -- lowercase hex SHA-256 of event
    );
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
];

/// The schema version this build creates and understands.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Rows fetched per lock acquisition in `for_each_result`: bounds memory and lets other users of
/// the store (including the visitor itself) in between pages.
const PAGE: i64 = 512;
/// How many candidates an Ambiguous error lists.
const MAX_CANDIDATES: i64 = 10;

const RUN_COLUMNS: &str =
    "id, created_at, finished_at, status, suite, models_json, planned, config_json";
const ITEM_COLUMNS: &str = "run_id, item_id, model, task, sample_id, variant, epoch, cluster, status, answer, \
     error, scores_json, prompt_tokens, completion_tokens, latency_ms, attempts, cached, recorded_seq, labels_json";

/// SQLite store. One connection behind a mutex; open one `SqliteStore` per process (or several:
/// each has its own connection and they coordinate through SQLite's locks).
pub struct SqliteStore {
    conn: Mutex<Connection>,
    path: Option<PathBuf>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Keyset pagination over a run's items in `order`. Each page is fetched under the lock and
    /// visited without it: the visitor may use the store, and writers are not held up by a slow
    /// consumer.
    fn walk(
        &self,
        run_id: &str,
        order: WalkOrder,
        visit: &mut dyn FnMut(ItemResult) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        Self::require_run(&self.conn(), run_id)?;
        let key = match order {
            WalkOrder::Recorded => "recorded_seq",
            // Follows the (run_id, item_id) primary key.
            WalkOrder::ItemId => "item_id",
        };
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM items WHERE run_id = ?1 AND {key} > ?2 ORDER BY {key} LIMIT ?3"
        );
        let mut after = match order {
            WalkOrder::Recorded => Value::Integer(0),
            WalkOrder::ItemId => Value::Text(String::new()),
        };
        loop {
            let page = {
                let conn = self.conn();
                let mut stmt = conn.prepare_cached(&sql)?;
                let mut rows = stmt.query(params![run_id, after, PAGE])?;
                let mut page = Vec::with_capacity(PAGE as usize);
                while let Some(row) = rows.next()? {
                    page.push(item_from_row(row)?);
                }
                page
            };
            let full = page.len() as i64 == PAGE;
            for (item, seq) in page {
                after = match order {
                    WalkOrder::Recorded => Value::Integer(seq),
                    WalkOrder::ItemId => Value::Text(item.item_id.0.clone()),
                };
                visit(item)?;
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// Opens (creating if needed, with parent directories) the database at `path` and brings its
    /// schema up to date.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if path.is_dir() {
            return Err(StoreError::IsADirectory {
                path: path.to_path_buf(),
            });
        }
        // A device or pipe is not a database, and SQLite would create `PATH-journal` beside it.
        touchstone_input::check_not_special(path).map_err(|source| StoreError::NotAFile {
            path: path.to_path_buf(),
            source,
        })?;
        let created = Leftovers::before_open(path);
        Self::open_file(path)
            // Nothing stays behind from an open that failed: not an empty database file, not
            // SQLite's side files, not the directories made for them.
            .inspect_err(|_| created.remove())
            .map_err(|e| match &e {
                StoreError::Open { source, .. } | StoreError::Migrate { source, .. }
                    if source
                        .downcast_ref::<rusqlite::Error>()
                        .is_some_and(is_read_only) =>
                {
                    StoreError::ReadOnly {
                        path: path.to_path_buf(),
                    }
                }
                _ => e,
            })
    }

    fn open_file(path: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let open_err = |source: rusqlite::Error| StoreError::Open {
            location: path.display().to_string(),
            source: source.into(),
        };
        let conn = Connection::open(path).map_err(open_err)?;
        configure(&conn, true).map_err(open_err)?;
        let mut conn = conn;
        migrate(&mut conn, path)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            path: Some(path.to_path_buf()),
        })
    }

    /// A private, throw-away database (tests, `--no-store` style uses).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        let path = Path::new(":memory:");
        let open_err = |source: rusqlite::Error| StoreError::Open {
            location: path.display().to_string(),
            source: source.into(),
        };
        let mut conn = Connection::open_in_memory().map_err(open_err)?;
        configure(&conn, false).map_err(open_err)?;
        migrate(&mut conn, path)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            path: None,
        })
    }

    /// The database file, or `None` for an in-memory store.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held cannot leave the connection half-written: rusqlite
        // rolls back an open transaction when it is dropped during unwinding.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn require_run(conn: &Connection, id: &str) -> Result<(), StoreError> {
        let found: Option<i64> = conn
            .prepare_cached("SELECT 1 FROM runs WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        match found {
            Some(_) => Ok(()),
            None => Err(StoreError::NotFound(id.to_string())),
        }
    }
}

/// What opening a database at a path may create (the file, SQLite's side files, missing parent
/// directories), noted before the open so that a failed open can take back exactly that.
struct Leftovers {
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
}

impl Leftovers {
    fn before_open(path: &Path) -> Leftovers {
        // Side files of a database that exists may belong to another process that has it open:
        // only a database this open creates has side files that are surely its own.
        let files = if std::fs::symlink_metadata(path).is_ok() {
            Vec::new()
        } else {
            ["", "-journal", "-wal", "-shm"]
                .iter()
                .map(|suffix| {
                    let mut name = path.as_os_str().to_os_string();
                    name.push(suffix);
                    PathBuf::from(name)
                })
                .collect()
        };
        // Missing ancestors, deepest first, so they are removed in that order.
        let dirs = path
            .ancestors()
            .skip(1)
            .filter(|p| !p.as_os_str().is_empty())
            .take_while(|p| std::fs::symlink_metadata(p).is_err())
            .map(Path::to_path_buf)
            .collect();
        Leftovers { files, dirs }
    }

    fn remove(&self) {
        for file in &self.files {
            let _ = std::fs::remove_file(file);
        }
        for dir in &self.dirs {
            // Only if empty: never anything that another process put there meanwhile.
            let _ = std::fs::remove_dir(dir);
        }
    }
}

fn configure(conn: &Connection, on_disk: bool) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    if on_disk {
        // The first statement that reads the file: a file that is not a database fails here.
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(rusqlite::Error::InvalidParameterName(format!(
                "journal_mode: the database refused WAL mode and stays in '{mode}' mode"
            )));
        }
    }
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")?;
    // Reading the schema reports a corrupt file here, as an open error that names the path.
    let _: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    Ok(())
}

fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let location = path.display().to_string();
    let open_err = |source: rusqlite::Error| StoreError::Open {
        location: location.clone(),
        source: source.into(),
    };
    let found = user_version(conn).map_err(open_err)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            location,
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate() {
        let version = index as i64 + 1;
        let migrate_err = |source: rusqlite::Error| StoreError::Migrate {
            location: location.clone(),
            version,
            source: source.into(),
        };
        // IMMEDIATE takes the write lock first, then the version is read again: of two processes
        // opening a fresh database at once, only one applies each migration.
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(migrate_err)?;
        let current = user_version(&tx).map_err(migrate_err)?;
        if current > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                location,
                found: current,
                supported: SCHEMA_VERSION,
            });
        }
        if current >= version {
            continue;
        }
        tx.execute_batch(sql).map_err(migrate_err)?;
        tx.pragma_update(None, "user_version", version)
            .map_err(migrate_err)?;
        tx.commit().map_err(migrate_err)?;
    }
    Ok(())
}

fn to_i64(field: &'static str, value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::OutOfRange { field, value })
}

fn corrupt(
    table: &'static str,
    key: impl Into<String>,
    field: &'static str,
    detail: impl ToString,
) -> StoreError {
    StoreError::Corrupt {
        table,
        key: key.into(),
        field,
        detail: detail.to_string(),
    }
}

fn run_from_row(row: &Row<'_>) -> Result<RunRecord, StoreError> {
    let id: String = row.get(0)?;
    let status_text: String = row.get(3)?;
    let status = RunStatus::parse(&status_text).ok_or_else(|| {
        corrupt(
            "runs",
            id.as_str(),
            "status",
            format!("unknown run status '{status_text}'"),
        )
    })?;
    let models_json: String = row.get(5)?;
    let models: Vec<String> = serde_json::from_str(&models_json)
        .map_err(|e| corrupt("runs", id.as_str(), "models_json", e))?;
    let planned: Option<i64> = row.get(6)?;
    let planned = planned
        .map(|p| {
            u64::try_from(p)
                .map_err(|_| corrupt("runs", id.as_str(), "planned", format!("negative: {p}")))
        })
        .transpose()?;
    let config_json: String = row.get(7)?;
    let config = serde_json::from_str(&config_json)
        .map_err(|e| corrupt("runs", id.as_str(), "config_json", e))?;
    Ok(RunRecord {
        created_at: row.get(1)?,
        finished_at: row.get(2)?,
        status,
        suite: row.get(4)?,
        models,
        planned,
        config,
        id,
    })
}

#[derive(Clone, Copy)]
enum WalkOrder {
    Recorded,
    ItemId,
}

fn item_from_row(row: &Row<'_>) -> Result<(ItemResult, i64), StoreError> {
    let run_id: String = row.get(0)?;
    let item_id: String = row.get(1)?;
    let key = || format!("run {run_id}, item {item_id}");
    let int = |idx: usize, field: &'static str| -> Result<i64, StoreError> {
        let v: i64 = row.get(idx)?;
        if v < 0 {
            Err(corrupt("items", key(), field, format!("negative: {v}")))
        } else {
            Ok(v)
        }
    };
    let small = |idx: usize, field: &'static str| -> Result<u32, StoreError> {
        let v = int(idx, field)?;
        u32::try_from(v).map_err(|_| corrupt("items", key(), field, format!("out of range: {v}")))
    };
    let status_text: String = row.get(8)?;
    let status = ItemStatus::parse(&status_text).ok_or_else(|| {
        corrupt(
            "items",
            key(),
            "status",
            format!("unknown item status '{status_text}'"),
        )
    })?;
    let scores_json: String = row.get(11)?;
    let scores: Vec<Score> = serde_json::from_str(&scores_json)
        .map_err(|e| corrupt("items", key(), "scores_json", e))?;
    let labels_json: String = row.get(18)?;
    let labels = serde_json::from_str(&labels_json)
        .map_err(|e| corrupt("items", key(), "labels_json", e))?;
    let result = ItemResult {
        labels,
        model: row.get(2)?,
        task: row.get(3)?,
        sample_id: row.get(4)?,
        variant: row.get(5)?,
        epoch: small(6, "epoch")?,
        cluster: row.get(7)?,
        status,
        answer: row.get(9)?,
        error: row.get(10)?,
        scores,
        usage: Usage {
            prompt_tokens: small(12, "prompt_tokens")?,
            completion_tokens: small(13, "completion_tokens")?,
        },
        latency_ms: int(14, "latency_ms")? as u64,
        attempts: small(15, "attempts")?,
        cached: row.get::<_, i64>(16)? != 0,
        run_id: run_id.clone(),
        item_id: WorkItemId(item_id.clone()),
    };
    let seq: i64 = row.get(17)?;
    Ok((result, seq))
}

fn query_runs(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<RunRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(run_from_row(row)?);
    }
    Ok(out)
}

/// The lease recorded on `run_id`, if any.
fn lease_of(conn: &Connection, run_id: &str) -> Result<Option<RunLease>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT owner, expires_at_ms FROM run_owners WHERE run_id = ?1")?
        .query_row([run_id], |row| {
            Ok(RunLease {
                owner: row.get(0)?,
                expires_at_ms: row.get(1)?,
            })
        })
        .optional()?)
}

/// Adds the `n` items of `status` (a stored status string) to `counts`; `whose` names the rows
/// for the error when the status is unknown.
fn count_status(
    counts: &mut Counts,
    status: &str,
    n: i64,
    whose: impl FnOnce() -> String,
) -> Result<(), StoreError> {
    match ItemStatus::parse(status) {
        Some(ItemStatus::Scored) => counts.scored = n as u64,
        Some(ItemStatus::Failed) => counts.failed = n as u64,
        None => {
            return Err(corrupt(
                "items",
                whose(),
                "status",
                format!("unknown item status '{status}'"),
            ));
        }
    }
    Ok(())
}

impl Store for SqliteStore {
    fn claim_run(
        &self,
        run_id: &str,
        owner: &str,
        now_ms: i64,
        expires_at_ms: i64,
        replacing: Option<&str>,
    ) -> Result<LeaseClaim, StoreError> {
        let mut conn = self.conn();
        // IMMEDIATE: the write lock is taken before the holder is read, so two claimants
        // cannot both see the lease free.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let held = lease_of(&tx, run_id)?;
        if let Some(lease) = held
            && !lease.grants(owner, now_ms, replacing)
        {
            return Ok(LeaseClaim::HeldBy(lease));
        }
        tx.execute(
            "INSERT INTO run_owners (run_id, owner, expires_at_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT(run_id) DO UPDATE SET owner = excluded.owner,
                                               expires_at_ms = excluded.expires_at_ms",
            params![run_id, owner, expires_at_ms],
        )?;
        tx.commit()?;
        Ok(LeaseClaim::Granted)
    }

    fn release_run(&self, run_id: &str, owner: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "DELETE FROM run_owners WHERE run_id = ?1 AND owner = ?2",
            params![run_id, owner],
        )?;
        Ok(())
    }

    fn run_lease(&self, run_id: &str) -> Result<Option<RunLease>, StoreError> {
        lease_of(&self.conn(), run_id)
    }

    fn create_run(&self, run: &RunRecord) -> Result<(), StoreError> {
        let models_json =
            serde_json::to_string(&run.models).map_err(|source| StoreError::Json {
                what: "run models",
                source,
            })?;
        let config_json =
            serde_json::to_string(&run.config).map_err(|source| StoreError::Json {
                what: "run config",
                source,
            })?;
        let planned = run.planned.map(|p| to_i64("planned", p)).transpose()?;
        let conn = self.conn();
        let inserted = conn
            .prepare_cached(
                "INSERT INTO runs (id, created_at, finished_at, status, suite, models_json, planned, config_json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id) DO NOTHING",
            )?
            .execute(params![
                run.id,
                run.created_at,
                run.finished_at,
                run.status.as_str(),
                run.suite,
                models_json,
                planned,
                config_json
            ])?;
        if inserted == 0 {
            return Err(StoreError::RunExists(run.id.clone()));
        }
        Ok(())
    }

    fn run(&self, id: &str) -> Result<Option<RunRecord>, StoreError> {
        let conn = self.conn();
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1");
        Ok(query_runs(&conn, &sql, [id])?.into_iter().next())
    }

    fn resolve_run(&self, id_or_prefix: &str) -> Result<RunRecord, StoreError> {
        if id_or_prefix.is_empty() {
            return Err(StoreError::NotFound(String::new()));
        }
        if let Some(run) = self.run(id_or_prefix)? {
            return Ok(run);
        }
        let conn = self.conn();
        // substr compares characters, so count characters, not bytes.
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE substr(id, 1, ?2) = ?1 ORDER BY id LIMIT ?3"
        );
        let prefix_len = id_or_prefix.chars().count() as i64;
        let mut matches = query_runs(
            &conn,
            &sql,
            params![id_or_prefix, prefix_len, MAX_CANDIDATES],
        )?;
        match matches.len() {
            0 => Err(StoreError::NotFound(id_or_prefix.to_string())),
            1 => Ok(matches.remove(0)),
            _ => Err(StoreError::Ambiguous(
                id_or_prefix.to_string(),
                matches.into_iter().map(|r| r.id).collect(),
            )),
        }
    }

    fn runs(&self) -> Result<Vec<RunSummary>, StoreError> {
        let conn = self.conn();
        let sql = format!(
            "SELECT {RUN_COLUMNS},
                (SELECT COUNT(*) FROM items i WHERE i.run_id = r.id AND i.status = 'scored'),
                (SELECT COUNT(*) FROM items i WHERE i.run_id = r.id AND i.status = 'failed')
             FROM runs r ORDER BY created_at DESC, seq DESC"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let run = run_from_row(row)?;
            let scored: i64 = row.get(8)?;
            let failed: i64 = row.get(9)?;
            out.push(RunSummary {
                run,
                counts: Counts {
                    scored: scored as u64,
                    failed: failed as u64,
                },
            });
        }
        Ok(out)
    }

    fn latest_unfinished(&self) -> Result<Option<RunRecord>, StoreError> {
        let conn = self.conn();
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE status IN ('running', 'interrupted')
             ORDER BY created_at DESC, seq DESC LIMIT 1"
        );
        Ok(query_runs(&conn, &sql, [])?.into_iter().next())
    }

    fn set_run_status(
        &self,
        id: &str,
        status: RunStatus,
        planned: Option<u64>,
    ) -> Result<(), StoreError> {
        let planned = planned.map(|p| to_i64("planned", p)).transpose()?;
        let finished_at = status.is_finished().then(now_rfc3339);
        let conn = self.conn();
        let changed = conn
            .prepare_cached(
                "UPDATE runs SET status = ?2, planned = COALESCE(?3, planned), finished_at = ?4 WHERE id = ?1",
            )?
            .execute(params![id, status.as_str(), planned, finished_at])?;
        if changed == 0 {
            return Err(StoreError::NotFound(id.to_string()));
        }
        Ok(())
    }

    fn update_run_config(&self, id: &str, config: &serde_json::Value) -> Result<(), StoreError> {
        let config_json = serde_json::to_string(config).map_err(|source| StoreError::Json {
            what: "run config",
            source,
        })?;
        let conn = self.conn();
        let changed = conn
            .prepare_cached("UPDATE runs SET config_json = ?2 WHERE id = ?1")?
            .execute(params![id, config_json])?;
        if changed == 0 {
            return Err(StoreError::NotFound(id.to_string()));
        }
        Ok(())
    }

    fn record(&self, results: &[ItemResult]) -> Result<usize, StoreError> {
        if results.is_empty() {
            return Ok(0);
        }
        let mut conn = self.conn();
        // IMMEDIATE: the transaction reads (next sequence number) before writing; taking the
        // write lock up front lets a concurrent writer wait on busy_timeout instead of failing.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut next_seq: HashMap<&str, i64> = HashMap::new();
        let mut new_rows = 0usize;
        {
            let mut head = tx.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM runs WHERE id = ?1),
                        (SELECT COALESCE(MAX(recorded_seq), 0) FROM items WHERE run_id = ?1)",
            )?;
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO items (run_id, item_id, recorded_seq, model, task, sample_id, variant,
                    epoch, cluster, status, answer, error, scores_json, prompt_tokens, completion_tokens,
                    latency_ms, attempts, cached, labels_json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
            )?;
            for r in results {
                let seq = match next_seq.entry(r.run_id.as_str()) {
                    Entry::Occupied(e) => e.into_mut(),
                    Entry::Vacant(v) => {
                        let (exists, max): (bool, i64) = head
                            .query_row([r.run_id.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))?;
                        if !exists {
                            return Err(StoreError::NotFound(r.run_id.clone()));
                        }
                        // A hand-edited row could hold the largest integer.
                        v.insert(max.checked_add(1).ok_or_else(|| StoreError::Corrupt {
                            table: "items",
                            key: format!("run {}", r.run_id),
                            field: "recorded_seq",
                            detail: format!("{max} leaves no room for another item"),
                        })?)
                    }
                };
                let scores_json =
                    serde_json::to_string(&r.scores).map_err(|source| StoreError::Json {
                        what: "item scores",
                        source,
                    })?;
                let labels_json =
                    serde_json::to_string(&r.labels).map_err(|source| StoreError::Json {
                        what: "item labels",
                        source,
                    })?;
                let inserted = insert.execute(params![
                    r.run_id,
                    r.item_id.0,
                    *seq,
                    r.model,
                    r.task,
                    r.sample_id,
                    r.variant,
                    r.epoch,
                    r.cluster,
                    r.status.as_str(),
                    r.answer,
                    r.error,
                    scores_json,
                    r.usage.prompt_tokens,
                    r.usage.completion_tokens,
                    to_i64("latency_ms", r.latency_ms)?,
                    r.attempts,
                    r.cached,
                    labels_json,
                ])?;
                if inserted > 0 {
                    *seq = seq.saturating_add(1);
                    new_rows += 1;
                }
            }
        }
        tx.commit()?;
        Ok(new_rows)
    }

    fn recorded_ids(&self, run_id: &str) -> Result<HashSet<WorkItemId>, StoreError> {
        let conn = self.conn();
        Self::require_run(&conn, run_id)?;
        let mut stmt = conn.prepare_cached("SELECT item_id FROM items WHERE run_id = ?1")?;
        let mut rows = stmt.query([run_id])?;
        let mut ids = HashSet::new();
        while let Some(row) = rows.next()? {
            ids.insert(WorkItemId(row.get(0)?));
        }
        Ok(ids)
    }

    fn for_each_result(
        &self,
        run_id: &str,
        visit: &mut dyn FnMut(ItemResult) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.walk(run_id, WalkOrder::Recorded, visit)
    }

    fn for_each_result_by_item(
        &self,
        run_id: &str,
        visit: &mut dyn FnMut(ItemResult) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.walk(run_id, WalkOrder::ItemId, visit)
    }

    fn results_page(
        &self,
        run_id: &str,
        query: &ResultsQuery,
    ) -> Result<Vec<ItemResult>, StoreError> {
        let conn = self.conn();
        Self::require_run(&conn, run_id)?;
        // The label's key is bound as a JSON path with the key quoted, so no key can change
        // the path's meaning.
        let label_path = query
            .label
            .as_ref()
            .map(|(k, _)| format!("$.{}", serde_json::Value::String(k.clone())));
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {ITEM_COLUMNS} FROM items WHERE run_id = ?1 AND item_id > ?2
               AND (?3 IS NULL OR status = ?3) AND (?4 IS NULL OR task = ?4)
               AND (?5 IS NULL OR model = ?5)
               AND (?6 IS NULL OR json_extract(labels_json, ?6) = ?7)
               AND (?8 IS NULL OR json_extract(scores_json, '$[0].value') >= ?8)
               AND (?9 IS NULL OR json_extract(scores_json, '$[0].value') <= ?9)
               AND (?11 IS NULL OR instr(answer, ?11) > 0 OR instr(error, ?11) > 0
                    OR instr(sample_id, ?11) > 0)
               AND (?12 IS NULL OR item_id IN (SELECT value FROM json_each(?12)))
             ORDER BY item_id LIMIT ?10"
        ))?;
        let mut rows = stmt.query(params![
            run_id,
            query.after.as_deref().unwrap_or(""),
            query.status.map(|s| s.as_str()),
            query.task,
            query.model,
            label_path,
            query.label.as_ref().map(|(_, v)| v),
            query.score_min,
            query.score_max,
            query.limit as i64,
            query.text,
            // One JSON array bound as one value, however many items.
            query
                .items
                .as_ref()
                .map(|ids| serde_json::Value::from(ids.to_vec()).to_string()),
        ])?;
        let mut page = Vec::new();
        while let Some(row) = rows.next()? {
            page.push(item_from_row(row)?.0);
        }
        Ok(page)
    }

    fn result(&self, run_id: &str, item_id: &str) -> Result<Option<ItemResult>, StoreError> {
        let conn = self.conn();
        Self::require_run(&conn, run_id)?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {ITEM_COLUMNS} FROM items WHERE run_id = ?1 AND item_id = ?2"
        ))?;
        let mut rows = stmt.query(params![run_id, item_id])?;
        match rows.next()? {
            Some(row) => Ok(Some(item_from_row(row)?.0)),
            None => Ok(None),
        }
    }

    fn counts(&self, run_id: &str) -> Result<Counts, StoreError> {
        let conn = self.conn();
        Self::require_run(&conn, run_id)?;
        let mut stmt = conn.prepare_cached(
            "SELECT status, COUNT(*) FROM items WHERE run_id = ?1 GROUP BY status",
        )?;
        let mut rows = stmt.query([run_id])?;
        let mut counts = Counts::default();
        while let Some(row) = rows.next()? {
            let (status, n): (String, i64) = (row.get(0)?, row.get(1)?);
            count_status(&mut counts, &status, n, || format!("run {run_id}"))?;
        }
        Ok(counts)
    }

    fn task_counts(&self, run_id: &str) -> Result<BTreeMap<String, Counts>, StoreError> {
        let conn = self.conn();
        Self::require_run(&conn, run_id)?;
        let mut stmt = conn.prepare_cached(
            "SELECT task, status, COUNT(*) FROM items WHERE run_id = ?1 GROUP BY task, status",
        )?;
        let mut rows = stmt.query([run_id])?;
        let mut by_task: BTreeMap<String, Counts> = BTreeMap::new();
        while let Some(row) = rows.next()? {
            let (task, status, n): (String, String, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
            let counts = by_task.entry(task.clone()).or_default();
            count_status(counts, &status, n, || format!("run {run_id}, task {task}"))?;
        }
        Ok(by_task)
    }

    fn cache_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let conn = self.conn();
        let value = conn
            .prepare_cached("SELECT value FROM cache WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?;
        Ok(value)
    }

    fn log_append(&self, entry: &str, leaf_hash: &str) -> Result<u64, StoreError> {
        let now = now_rfc3339();
        let mut conn = self.conn();
        // IMMEDIATE: the next index is read and written under the write lock, so concurrent
        // appenders (other processes included) get distinct, dense indexes.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let index: i64 = tx.query_row(
            "SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM transparency_log",
            [],
            |r| r.get(0),
        )?;
        tx.prepare_cached(
            "INSERT INTO transparency_log (leaf_index, leaf_hash, entry, created_at) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![index, leaf_hash, entry, now])?;
        tx.commit()?;
        Ok(index as u64)
    }

    fn log_leaf_hashes(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT leaf_index, leaf_hash FROM transparency_log ORDER BY leaf_index",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let index: i64 = row.get(0)?;
            if index != out.len() as i64 {
                return Err(corrupt(
                    "transparency_log",
                    format!("leaf {index}"),
                    "leaf_index",
                    format!("expected leaf {} next: the log has a gap", out.len()),
                ));
            }
            out.push(row.get(1)?);
        }
        Ok(out)
    }

    fn log_entry(&self, index: u64) -> Result<Option<String>, StoreError> {
        let index = to_i64("leaf_index", index)?;
        let conn = self.conn();
        let entry = conn
            .prepare_cached("SELECT entry FROM transparency_log WHERE leaf_index = ?1")?
            .query_row([index], |r| r.get(0))
            .optional()?;
        Ok(entry)
    }

    fn audit_append_many(&self, count: usize, seal: &mut AuditSeal<'_>) -> Result<u64, StoreError> {
        let mut conn = self.conn();
        // IMMEDIATE: the last event is read and the next written under the write lock, so
        // concurrent appenders (other processes included) extend one chain.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let last: Option<(i64, String)> = tx
            .query_row(
                "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let first = last.as_ref().map_or(1, |(seq, _)| seq + 1);
        let mut prev = last.map(|(_, h)| h);
        {
            let mut insert =
                tx.prepare_cached("INSERT INTO audit_log (seq, event, hash) VALUES (?1, ?2, ?3)")?;
            for seq in first..first + count as i64 {
                let (event, hash) = seal(seq as u64, prev.as_deref());
                insert.execute(params![seq, event, hash])?;
                prev = Some(hash);
            }
        }
        tx.commit()?;
        Ok(first as u64)
    }

    fn audit_events(&self, after: u64, limit: usize) -> Result<Vec<AuditRow>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT seq, event, hash FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(
            params![
                i64::try_from(after).unwrap_or(i64::MAX),
                i64::try_from(limit).unwrap_or(i64::MAX)
            ],
            |r| {
                Ok(AuditRow {
                    seq: r.get::<_, i64>(0)? as u64,
                    event: r.get(1)?,
                    hash: r.get(2)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn log_size(&self) -> Result<u64, StoreError> {
        let conn = self.conn();
        let n: i64 = conn.query_row("SELECT COUNT(*) FROM transparency_log", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    fn cache_put(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let now = now_rfc3339();
        let conn = self.conn();
        conn.prepare_cached(
            "INSERT INTO cache (key, value, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, created_at = excluded.created_at",
        )?
        .execute(params![key, value, now])?;
        Ok(())
    }
}

/// The driver's errors stay inside this module: the rest of the crate and its users see
/// [`StoreError::Backend`].
impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend(Box::new(e))
    }
}

/// SQLite's "attempt to write a readonly database" (and its sub-codes).
fn is_read_only(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ReadOnly)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_database_reaches_current_schema_version() {
        let store = SqliteStore::open_in_memory().unwrap();
        let v = user_version(&store.conn()).unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        const { assert!(SCHEMA_VERSION >= 1) };
    }

    #[test]
    fn migrating_twice_is_a_no_op() {
        let store = SqliteStore::open_in_memory().unwrap();
        let mut conn = store.conn();
        migrate(&mut conn, Path::new(":memory:")).unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn transparency_log_is_append_only() {
        let store = SqliteStore::open_in_memory().unwrap();
        store.log_append("a", "00").unwrap();
        store.log_append("b", "11").unwrap();
        let conn = store.conn();
        let update = conn.execute(
            "UPDATE transparency_log SET entry = 'x' WHERE leaf_index = 0",
            [],
        );
        assert!(update.unwrap_err().to_string().contains("append-only"));
        let delete = conn.execute("DELETE FROM transparency_log WHERE leaf_index = 1", []);
        assert!(delete.unwrap_err().to_string().contains("append-only"));
        drop(conn);
        assert_eq!(store.log_leaf_hashes().unwrap(), vec!["00", "11"]);
    }

    #[test]
    fn a_gap_in_the_log_is_reported_as_corruption() {
        let store = SqliteStore::open_in_memory().unwrap();
        store
            .conn()
            .execute(
                "INSERT INTO transparency_log VALUES (1, 'ff', 'e', '2026-01-01T00:00:00Z')",
                [],
            )
            .unwrap();
        let err = store.log_leaf_hashes().unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Corrupt {
                    table: "transparency_log",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn corrupt_scores_are_reported_with_their_row() {
        let store = SqliteStore::open_in_memory().unwrap();
        {
            let conn = store.conn();
            conn.execute_batch(
                "INSERT INTO runs (id, created_at, status, suite, models_json, config_json)
                 VALUES ('r1', '2026-01-01T00:00:00Z', 'running', 's', '[]', '{}');
                 INSERT INTO items VALUES ('r1', 'abc', 1, 'm', 't', 's', '', 0, NULL, 'scored', 'A', NULL,
                   'not json', 0, 0, 0, 1, 0, '{}');",
            )
            .unwrap();
        }
        let err = store.for_each_result("r1", &mut |_| Ok(())).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(
                err,
                StoreError::Corrupt {
                    field: "scores_json",
                    ..
                }
            ),
            "{msg}"
        );
        assert!(msg.contains("item abc"), "{msg}");
    }
}
