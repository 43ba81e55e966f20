//! The center's own records beside the engine's store: organisations, accounts, sessions, API
//! tokens, registered models (with sealed keys) and the job queue. SQLite, in the same database
//! file as the runs, in tables of its own (`center_*`) with their own schema version, so that the
//! engine's store stays ignorant of accounts.
//!
//! The queue's invariants live in [`Directory::claim_job`]: one statement picks and takes a job,
//! so two workers never take the same one; a job is taken only while its organisation runs fewer
//! jobs than its limit; a running job whose lease expired is taken again (and its run resumed).
//!
//! The methods block: async callers use [`crate::blocking`].

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::policy::{Role, Scope};

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("center database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("center database holds a bad value: {0}")]
    Corrupt(String),
}

type Result<T> = std::result::Result<T, DirectoryError>;

/// Schema versions of the `center_*` tables, applied in order.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE center_orgs (
    name TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    max_running INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE center_users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    org TEXT REFERENCES center_orgs(name),
    password TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE center_sessions (
    digest TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES center_users(id),
    expires_at_ms INTEGER NOT NULL
);
CREATE TABLE center_tokens (
    id TEXT PRIMARY KEY,
    digest TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES center_users(id),
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at_ms INTEGER,
    revoked_at TEXT,
    last_used_at TEXT
);
CREATE TABLE center_models (
    id TEXT PRIMARY KEY,
    org TEXT NOT NULL REFERENCES center_orgs(name),
    name TEXT NOT NULL,
    base_url TEXT NOT NULL,
    key_sealed BLOB,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE center_jobs (
    run_id TEXT PRIMARY KEY,
    org TEXT NOT NULL REFERENCES center_orgs(name),
    submitted_by TEXT NOT NULL,
    request TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    finished_at TEXT,
    error TEXT,
    worker TEXT,
    lease_expires_ms INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX center_jobs_queue ON center_jobs(status, created_at);
"#,
    r#"
CREATE TABLE center_events (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    PRIMARY KEY (run_id, seq)
);
"#,
    // The certificates issued through the API, as their files; each is also a leaf of the
    // store's transparency log, at `leaf_index`.
    r#"
CREATE TABLE center_certificates (
    leaf_index INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    issued_by TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    certificate BLOB NOT NULL
);
CREATE INDEX center_certificates_run ON center_certificates(run_id, leaf_index);
"#,
    // Suites uploaded with their datasets (the files are in `uploads/`, by content hash).
    r#"
CREATE TABLE center_suites (
    id TEXT PRIMARY KEY,
    org TEXT NOT NULL REFERENCES center_orgs(name),
    name TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    manifest TEXT NOT NULL
);
"#,
    // A password someone else set (the first administrator's, one an administrator gave) is
    // changed by its owner before anything else.
    r#"
ALTER TABLE center_users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
"#,
    // Human reviews of scores. Append-only: a later review of the same score supersedes the
    // earlier one, which stays; the triggers refuse any edit or removal.
    r#"
CREATE TABLE center_reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    scorer TEXT NOT NULL,
    automatic REAL NOT NULL,
    value REAL NOT NULL,
    reason TEXT NOT NULL,
    reviewer_id TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    created_at TEXT NOT NULL,
    supersedes INTEGER REFERENCES center_reviews(id)
);
CREATE INDEX center_reviews_score ON center_reviews(run_id, item_id, scorer, id);
CREATE TRIGGER center_reviews_no_update BEFORE UPDATE ON center_reviews
BEGIN SELECT RAISE(ABORT, 'reviews are append-only: add a review that supersedes it'); END;
CREATE TRIGGER center_reviews_no_delete BEFORE DELETE ON center_reviews
BEGIN SELECT RAISE(ABORT, 'reviews are append-only: add a review that supersedes it'); END;
"#,
    // Runs an assessor made public: the leaderboard shows them to everyone.
    r#"
CREATE TABLE center_published (
    run_id TEXT PRIMARY KEY,
    published_by TEXT NOT NULL,
    published_at TEXT NOT NULL
);
"#,
    // Items someone asked the reviewers to look at. Append-only, like reviews.
    r#"
CREATE TABLE center_flags (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    flagged_by_id TEXT NOT NULL,
    flagged_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX center_flags_run ON center_flags(run_id, id);
CREATE TRIGGER center_flags_no_update BEFORE UPDATE ON center_flags
BEGIN SELECT RAISE(ABORT, 'flags are append-only'); END;
CREATE TRIGGER center_flags_no_delete BEFORE DELETE ON center_flags
BEGIN SELECT RAISE(ABORT, 'flags are append-only'); END;
"#,
];

/// A reviewer's score for one score of one item, with the automatic value it replaces.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Review {
    pub id: u64,
    pub run_id: String,
    pub item_id: String,
    /// Which of the item's scores (the scorer's name).
    pub scorer: String,
    /// What the scorer gave.
    pub automatic: f64,
    /// What the reviewer gives, in [0, 1].
    pub value: f64,
    pub reason: String,
    pub reviewer_id: String,
    pub reviewer: String,
    pub created_at: String,
    /// The earlier review of the same score this one replaces (kept, not overwritten).
    pub supersedes: Option<u64>,
}

/// Someone's request that reviewers look at an item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flag {
    pub id: u64,
    pub run_id: String,
    pub item_id: String,
    pub reason: String,
    pub flagged_by_id: String,
    pub flagged_by: String,
    pub created_at: String,
}

/// A suite uploaded with its datasets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuiteUpload {
    pub id: String,
    pub organisation: String,
    pub name: String,
    pub created_by: String,
    pub created_at: String,
    /// The suite file's SHA-256 and each file's path, SHA-256 and size.
    pub manifest: serde_json::Value,
}

/// A certificate issued through the API.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuedCertificate {
    pub leaf_index: u64,
    pub run_id: String,
    pub issued_by: String,
    pub issued_at: String,
    /// The certificate file's bytes.
    pub certificate: Vec<u8>,
}

/// One event of a run's live progress (see `feed`).
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEvent {
    /// 1, 2, 3, … per run.
    pub seq: u64,
    pub kind: String,
    /// A JSON object.
    pub data: String,
}

/// Appends an event numbered one above the run's last, in one statement (so concurrent
/// writers in other processes cannot take the same number).
fn append_event_on(conn: &Connection, run_id: &str, kind: &str, data: &str) -> Result<u64> {
    let seq: i64 = conn.query_row(
        "INSERT INTO center_events (run_id, seq, kind, data, at_ms)
         SELECT ?1, COALESCE(MAX(seq), 0) + 1, ?2, ?3, ?4 FROM center_events WHERE run_id = ?1
         RETURNING seq",
        params![run_id, kind, data, touchstone_engine::owner::now_ms()],
        |r| r.get(0),
    )?;
    Ok(seq as u64)
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Organisation {
    pub name: String,
    pub display_name: String,
    /// Runs of this organisation executing at once, at most.
    pub max_running: u32,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub organisation: Option<String>,
    pub created_at: String,
    /// Signed in, the user may only change this password (see `policy::decide`).
    pub must_change_password: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Token {
    pub id: String,
    #[serde(skip)]
    pub user_id: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub created_at: String,
    pub expires_at_ms: Option<i64>,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

/// A registered endpoint. Its API key is never part of this value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Model {
    pub id: String,
    pub organisation: String,
    pub name: String,
    pub base_url: String,
    pub has_key: bool,
    pub created_by: String,
    pub created_at: String,
}

impl Model {
    /// The engine's spec for it (`openai:NAME@URL`).
    pub fn spec(&self) -> String {
        format!("openai:{}@{}", self.name, self.base_url)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> Result<JobStatus> {
        Ok(match s {
            "queued" => JobStatus::Queued,
            "running" => JobStatus::Running,
            "completed" => JobStatus::Completed,
            "failed" => JobStatus::Failed,
            "cancelled" => JobStatus::Cancelled,
            other => return Err(DirectoryError::Corrupt(format!("job status `{other}`"))),
        })
    }

    pub fn is_finished(self) -> bool {
        matches!(
            self,
            JobStatus::Completed | JobStatus::Failed | JobStatus::Cancelled
        )
    }
}

/// A run requested through the center, named by the id its run has (or will have) in the store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    pub run_id: String,
    pub organisation: String,
    pub submitted_by: String,
    /// The request as accepted (suite, model ids, options): what a worker executes.
    pub request: serde_json::Value,
    pub status: JobStatus,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub error: Option<String>,
    #[serde(skip)]
    pub worker: Option<String>,
    #[serde(skip)]
    pub lease_expires_ms: i64,
    pub cancel_requested: bool,
}

/// The center's records in one SQLite connection.
pub struct Directory {
    conn: Mutex<Connection>,
}

impl Directory {
    pub fn open(path: &Path) -> Result<Directory> {
        let conn = Connection::open(path)?;
        Directory::setup(conn)
    }

    pub fn open_in_memory() -> Result<Directory> {
        Directory::setup(Connection::open_in_memory()?)
    }

    fn setup(mut conn: Connection) -> Result<Directory> {
        conn.busy_timeout(Duration::from_secs(30))?;
        conn.pragma_update(None, "foreign_keys", true)?;
        let _: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.execute_batch("CREATE TABLE IF NOT EXISTS center_schema (version INTEGER NOT NULL);")?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let version: Option<i64> = tx
            .query_row("SELECT version FROM center_schema", [], |r| r.get(0))
            .optional()?;
        let version = version.unwrap_or(0);
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(sql)?;
            tx.execute("DELETE FROM center_schema", [])?;
            tx.execute(
                "INSERT INTO center_schema (version) VALUES (?1)",
                [i as i64 + 1],
            )?;
        }
        tx.commit()?;
        Ok(Directory {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (every change is a
        // transaction): carry on with the connection.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    // Organisations.

    pub fn create_org(&self, org: &Organisation) -> Result<bool> {
        let n = self.conn().execute(
            "INSERT OR IGNORE INTO center_orgs (name, display_name, max_running, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![org.name, org.display_name, org.max_running, org.created_at],
        )?;
        Ok(n == 1)
    }

    pub fn orgs(&self) -> Result<Vec<Organisation>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT name, display_name, max_running, created_at FROM center_orgs ORDER BY name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Organisation {
                name: r.get(0)?,
                display_name: r.get(1)?,
                max_running: r.get(2)?,
                created_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn org_exists(&self, name: &str) -> Result<bool> {
        Ok(self
            .conn()
            .query_row("SELECT 1 FROM center_orgs WHERE name = ?1", [name], |_| {
                Ok(())
            })
            .optional()?
            .is_some())
    }

    // Accounts.

    pub fn count_users(&self) -> Result<u64> {
        Ok(self
            .conn()
            .query_row("SELECT COUNT(*) FROM center_users", [], |r| {
                r.get::<_, i64>(0)
            })? as u64)
    }

    /// False when the name is taken.
    pub fn create_user(&self, user: &User, password_hash: &str) -> Result<bool> {
        let n = self.conn().execute(
            "INSERT OR IGNORE INTO center_users (id, name, role, org, password, created_at, must_change_password) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![user.id, user.name, user.role.as_str(), user.organisation, password_hash, user.created_at, user.must_change_password],
        )?;
        Ok(n == 1)
    }

    /// The owner's own new password: it no longer needs changing, and every session of the
    /// old one ends (in one transaction).
    pub fn set_password(&self, user_id: &str, password_hash: &str) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE center_users SET password = ?2, must_change_password = 0 WHERE id = ?1",
            params![user_id, password_hash],
        )?;
        tx.execute("DELETE FROM center_sessions WHERE user_id = ?1", [user_id])?;
        tx.commit()?;
        Ok(())
    }

    const USER_COLUMNS: &'static str =
        "u.id, u.name, u.role, u.org, u.created_at, u.must_change_password";
    /// How many columns [`Self::USER_COLUMNS`] names: what a query selects after them starts here.
    const USER_COLUMN_COUNT: usize = 6;

    fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
        let role: String = r.get(2)?;
        Ok(User {
            id: r.get(0)?,
            name: r.get(1)?,
            // An unknown role cannot be written (the API parses it): the most limited one.
            role: Role::parse(&role).unwrap_or(Role::Auditor),
            organisation: r.get(3)?,
            created_at: r.get(4)?,
            must_change_password: r.get(5)?,
        })
    }

    /// The user and their password hash.
    pub fn user_by_name(&self, name: &str) -> Result<Option<(User, String)>> {
        let conn = self.conn();
        let sql = format!(
            "SELECT {}, u.password FROM center_users u WHERE u.name = ?1",
            Self::USER_COLUMNS
        );
        Ok(conn
            .query_row(&sql, [name], |r| {
                Ok((
                    Self::user_row(r)?,
                    r.get::<_, String>(Self::USER_COLUMN_COUNT)?,
                ))
            })
            .optional()?)
    }

    pub fn users(&self) -> Result<Vec<User>> {
        let conn = self.conn();
        let sql = format!(
            "SELECT {} FROM center_users u ORDER BY u.name",
            Self::USER_COLUMNS
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map([], Self::user_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    // Sessions.

    pub fn create_session(&self, digest: &str, user_id: &str, expires_at_ms: i64) -> Result<()> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO center_sessions (digest, user_id, expires_at_ms) VALUES (?1, ?2, ?3)",
            params![digest, user_id, expires_at_ms],
        )?;
        Ok(())
    }

    /// The user of a live session.
    pub fn session_user(&self, digest: &str, now_ms: i64) -> Result<Option<User>> {
        let conn = self.conn();
        let sql = format!(
            "SELECT {} FROM center_sessions s JOIN center_users u ON u.id = s.user_id WHERE s.digest = ?1 AND s.expires_at_ms > ?2",
            Self::USER_COLUMNS
        );
        Ok(conn
            .query_row(&sql, params![digest, now_ms], Self::user_row)
            .optional()?)
    }

    pub fn delete_session(&self, digest: &str) -> Result<()> {
        self.conn()
            .execute("DELETE FROM center_sessions WHERE digest = ?1", [digest])?;
        Ok(())
    }

    // Tokens.

    pub fn create_token(&self, token: &Token, digest: &str) -> Result<()> {
        let scopes: Vec<&str> = token.scopes.iter().map(|s| s.as_str()).collect();
        self.conn().execute(
            "INSERT INTO center_tokens (id, digest, user_id, name, scopes, created_at, expires_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![token.id, digest, token.user_id, token.name, scopes.join(" "), token.created_at, token.expires_at_ms],
        )?;
        Ok(())
    }

    fn token_row(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Token> {
        let scopes: String = r.get(at + 3)?;
        Ok(Token {
            id: r.get(at)?,
            user_id: r.get(at + 1)?,
            name: r.get(at + 2)?,
            scopes: scopes.split_whitespace().filter_map(Scope::parse).collect(),
            created_at: r.get(at + 4)?,
            expires_at_ms: r.get(at + 5)?,
            revoked_at: r.get(at + 6)?,
            last_used_at: r.get(at + 7)?,
        })
    }

    const TOKEN_COLUMNS: &'static str = "t.id, t.user_id, t.name, t.scopes, t.created_at, t.expires_at_ms, t.revoked_at, t.last_used_at";

    /// The token with this digest and its user, whatever its state (the caller tells expired
    /// and revoked apart, to say which).
    pub fn token_by_digest(&self, digest: &str) -> Result<Option<(Token, User)>> {
        let conn = self.conn();
        let sql = format!(
            "SELECT {}, {} FROM center_tokens t JOIN center_users u ON u.id = t.user_id WHERE t.digest = ?1",
            Self::USER_COLUMNS,
            Self::TOKEN_COLUMNS
        );
        Ok(conn
            .query_row(&sql, [digest], |r| {
                Ok((
                    Self::token_row(r, Self::USER_COLUMN_COUNT)?,
                    Self::user_row(r)?,
                ))
            })
            .optional()?)
    }

    pub fn touch_token(&self, id: &str, now: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE center_tokens SET last_used_at = ?2 WHERE id = ?1",
            params![id, now],
        )?;
        Ok(())
    }

    pub fn tokens_of(&self, user_id: &str) -> Result<Vec<Token>> {
        let conn = self.conn();
        let sql = format!(
            "SELECT {} FROM center_tokens t WHERE t.user_id = ?1 ORDER BY t.created_at, t.id",
            Self::TOKEN_COLUMNS
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map([user_id], |r| Self::token_row(r, 0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Revokes `user_id`'s token `id`; false if they have no such token.
    pub fn revoke_token(&self, id: &str, user_id: &str, now: &str) -> Result<bool> {
        let n = self.conn().execute(
            "UPDATE center_tokens SET revoked_at = COALESCE(revoked_at, ?3) WHERE id = ?1 AND user_id = ?2",
            params![id, user_id, now],
        )?;
        Ok(n == 1)
    }

    // Models.

    pub fn create_model(&self, model: &Model, key_sealed: Option<&[u8]>) -> Result<()> {
        self.conn().execute(
            "INSERT INTO center_models (id, org, name, base_url, key_sealed, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![model.id, model.organisation, model.name, model.base_url, key_sealed, model.created_by, model.created_at],
        )?;
        Ok(())
    }

    fn model_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Model> {
        Ok(Model {
            id: r.get(0)?,
            organisation: r.get(1)?,
            name: r.get(2)?,
            base_url: r.get(3)?,
            has_key: r.get::<_, bool>(4)?,
            created_by: r.get(5)?,
            created_at: r.get(6)?,
        })
    }

    const MODEL_COLUMNS: &'static str =
        "id, org, name, base_url, key_sealed IS NOT NULL, created_by, created_at";

    /// Models of `org`, or of every organisation.
    pub fn models(&self, org: Option<&str>) -> Result<Vec<Model>> {
        let conn = self.conn();
        let sql = format!(
            "SELECT {} FROM center_models WHERE ?1 IS NULL OR org = ?1 ORDER BY org, name, id",
            Self::MODEL_COLUMNS
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map([org], Self::model_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn model(&self, id: &str) -> Result<Option<Model>> {
        let sql = format!(
            "SELECT {} FROM center_models WHERE id = ?1",
            Self::MODEL_COLUMNS
        );
        Ok(self
            .conn()
            .query_row(&sql, [id], Self::model_row)
            .optional()?)
    }

    pub fn model_key(&self, id: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT key_sealed FROM center_models WHERE id = ?1",
                [id],
                |r| r.get::<_, Option<Vec<u8>>>(0),
            )
            .optional()?
            .flatten())
    }

    pub fn delete_model(&self, id: &str) -> Result<bool> {
        Ok(self
            .conn()
            .execute("DELETE FROM center_models WHERE id = ?1", [id])?
            == 1)
    }

    // Jobs.

    pub fn create_job(&self, job: &Job) -> Result<()> {
        self.conn().execute(
            "INSERT INTO center_jobs (run_id, org, submitted_by, request, status, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![job.run_id, job.organisation, job.submitted_by, job.request.to_string(), job.status.as_str(), job.created_at],
        )?;
        Ok(())
    }

    const JOB_COLUMNS: &'static str = "run_id, org, submitted_by, request, status, created_at, finished_at, error, worker, lease_expires_ms, cancel_requested";

    fn job_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Job, String, String)> {
        Ok((
            Job {
                run_id: r.get(0)?,
                organisation: r.get(1)?,
                submitted_by: r.get(2)?,
                request: serde_json::Value::Null,
                status: JobStatus::Queued,
                created_at: r.get(5)?,
                finished_at: r.get(6)?,
                error: r.get(7)?,
                worker: r.get(8)?,
                lease_expires_ms: r.get(9)?,
                cancel_requested: r.get(10)?,
            },
            r.get(3)?,
            r.get(4)?,
        ))
    }

    fn finish_job_row((mut job, request, status): (Job, String, String)) -> Result<Job> {
        job.request = serde_json::from_str(&request)
            .map_err(|e| DirectoryError::Corrupt(format!("job {}: {e}", job.run_id)))?;
        job.status = JobStatus::parse(&status)?;
        Ok(job)
    }

    pub fn job(&self, run_id: &str) -> Result<Option<Job>> {
        let sql = format!(
            "SELECT {} FROM center_jobs WHERE run_id = ?1",
            Self::JOB_COLUMNS
        );
        let row = self
            .conn()
            .query_row(&sql, [run_id], Self::job_row)
            .optional()?;
        row.map(Self::finish_job_row).transpose()
    }

    /// Jobs of `org` (or all), newest first.
    pub fn jobs(&self, org: Option<&str>) -> Result<Vec<Job>> {
        let rows = {
            let conn = self.conn();
            let sql = format!(
                "SELECT {} FROM center_jobs WHERE ?1 IS NULL OR org = ?1 ORDER BY rowid DESC",
                Self::JOB_COLUMNS
            );
            let mut stmt = conn.prepare(&sql)?;
            stmt.query_map([org], Self::job_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?
        };
        rows.into_iter().map(Self::finish_job_row).collect()
    }

    /// Takes the job submitted first (insertion order, not the clock's second) that may run now
    /// for `worker` until `lease_until_ms`: a queued job, or a running one whose lease expired
    /// (its worker died), of an organisation below its limit of running jobs. One statement: of
    /// two workers, one gets each job.
    pub fn claim_job(&self, worker: &str, now_ms: i64, lease_until_ms: i64) -> Result<Option<Job>> {
        let run_id: Option<String> = self
            .conn()
            .query_row(
                "UPDATE center_jobs SET status = 'running', worker = ?1, lease_expires_ms = ?3
                 WHERE run_id = (
                   SELECT j.run_id FROM center_jobs j JOIN center_orgs o ON o.name = j.org
                   WHERE (j.status = 'queued' OR (j.status = 'running' AND j.lease_expires_ms <= ?2))
                     AND (SELECT COUNT(*) FROM center_jobs r
                          WHERE r.org = j.org AND r.status = 'running' AND r.lease_expires_ms > ?2) < o.max_running
                   ORDER BY j.rowid LIMIT 1)
                 RETURNING run_id",
                params![worker, now_ms, lease_until_ms],
                |r| r.get(0),
            )
            .optional()?;
        match run_id {
            Some(id) => self.job(&id),
            None => Ok(None),
        }
    }

    /// Extends `worker`'s lease; false if the job is no longer its own (taken over, finished).
    /// The second value: whether a cancel was requested.
    pub fn renew_job(
        &self,
        run_id: &str,
        worker: &str,
        lease_until_ms: i64,
    ) -> Result<(bool, bool)> {
        let cancel: Option<bool> = self
            .conn()
            .query_row(
                "UPDATE center_jobs SET lease_expires_ms = ?3
                 WHERE run_id = ?1 AND worker = ?2 AND status = 'running' RETURNING cancel_requested",
                params![run_id, worker, lease_until_ms],
                |r| r.get(0),
            )
            .optional()?;
        Ok((cancel.is_some(), cancel.unwrap_or(false)))
    }

    /// Ends `worker`'s job with `status`; false if it was not (or no longer) theirs.
    pub fn finish_job(
        &self,
        run_id: &str,
        worker: &str,
        status: JobStatus,
        error: Option<&str>,
        now: &str,
    ) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let n = tx.execute(
            "UPDATE center_jobs SET status = ?3, error = ?4, finished_at = ?5, lease_expires_ms = 0
             WHERE run_id = ?1 AND worker = ?2 AND status = 'running'",
            params![run_id, worker, status.as_str(), error, now],
        )?;
        if n == 1 {
            let data = serde_json::json!({"status": status.as_str(), "error": error});
            append_event_on(&tx, run_id, "done", &data.to_string())?;
        }
        tx.commit()?;
        Ok(n == 1)
    }

    /// Appends a progress event to `run_id`'s feed; its number.
    pub fn append_event(&self, run_id: &str, kind: &str, data: &str) -> Result<u64> {
        append_event_on(&self.conn(), run_id, kind, data)
    }

    /// Records an upload; the same upload again (same id) is kept as first recorded.
    pub fn save_suite(&self, s: &SuiteUpload) -> Result<()> {
        self.conn().execute(
            "INSERT OR IGNORE INTO center_suites (id, org, name, created_by, created_at, manifest)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                s.id,
                s.organisation,
                s.name,
                s.created_by,
                s.created_at,
                s.manifest.to_string()
            ],
        )?;
        Ok(())
    }

    fn suite_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SuiteUpload> {
        let manifest: String = r.get(5)?;
        Ok(SuiteUpload {
            id: r.get(0)?,
            organisation: r.get(1)?,
            name: r.get(2)?,
            created_by: r.get(3)?,
            created_at: r.get(4)?,
            manifest: serde_json::from_str(&manifest).unwrap_or(serde_json::Value::Null),
        })
    }

    pub fn suite(&self, id: &str) -> Result<Option<SuiteUpload>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, org, name, created_by, created_at, manifest FROM center_suites WHERE id = ?1",
                [id],
                Self::suite_row,
            )
            .optional()?)
    }

    /// Uploads of `org`, or of every organisation.
    pub fn suites(&self, org: Option<&str>) -> Result<Vec<SuiteUpload>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, org, name, created_by, created_at, manifest FROM center_suites
             WHERE ?1 IS NULL OR org = ?1 ORDER BY org, created_at, id",
        )?;
        let rows = stmt.query_map([org], Self::suite_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn save_certificate(&self, c: &IssuedCertificate) -> Result<()> {
        self.conn().execute(
            "INSERT INTO center_certificates (leaf_index, run_id, issued_by, issued_at, certificate)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                c.leaf_index as i64,
                c.run_id,
                c.issued_by,
                c.issued_at,
                c.certificate
            ],
        )?;
        Ok(())
    }

    /// Appends a review; `supersedes` is set here, in the same statement, to the latest earlier
    /// review of the same score. Returns the review as stored.
    pub fn add_review(&self, r: &Review) -> Result<Review> {
        let conn = self.conn();
        let (id, supersedes): (i64, Option<i64>) = conn.query_row(
            "INSERT INTO center_reviews (run_id, item_id, scorer, automatic, value, reason,
                 reviewer_id, reviewer, created_at, supersedes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,
                 (SELECT MAX(id) FROM center_reviews
                   WHERE run_id = ?1 AND item_id = ?2 AND scorer = ?3))
             RETURNING id, supersedes",
            params![
                r.run_id,
                r.item_id,
                r.scorer,
                r.automatic,
                r.value,
                r.reason,
                r.reviewer_id,
                r.reviewer,
                r.created_at
            ],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        Ok(Review {
            id: id as u64,
            supersedes: supersedes.map(|s| s as u64),
            ..r.clone()
        })
    }

    /// Every review of a run, oldest first (superseded ones included).
    pub fn reviews(&self, run_id: &str) -> Result<Vec<Review>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, run_id, item_id, scorer, automatic, value, reason, reviewer_id, reviewer,
                    created_at, supersedes
               FROM center_reviews WHERE run_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([run_id], |r| {
            Ok(Review {
                id: r.get::<_, i64>(0)? as u64,
                run_id: r.get(1)?,
                item_id: r.get(2)?,
                scorer: r.get(3)?,
                automatic: r.get(4)?,
                value: r.get(5)?,
                reason: r.get(6)?,
                reviewer_id: r.get(7)?,
                reviewer: r.get(8)?,
                created_at: r.get(9)?,
                supersedes: r.get::<_, Option<i64>>(10)?.map(|s| s as u64),
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Appends a flag; returns it as stored.
    pub fn add_flag(&self, f: &Flag) -> Result<Flag> {
        let id: i64 = self.conn().query_row(
            "INSERT INTO center_flags (run_id, item_id, reason, flagged_by_id, flagged_by,
                 created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
            params![
                f.run_id,
                f.item_id,
                f.reason,
                f.flagged_by_id,
                f.flagged_by,
                f.created_at
            ],
            |row| row.get(0),
        )?;
        Ok(Flag {
            id: id as u64,
            ..f.clone()
        })
    }

    /// Every flag of a run, oldest first.
    pub fn flags(&self, run_id: &str) -> Result<Vec<Flag>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, run_id, item_id, reason, flagged_by_id, flagged_by, created_at
               FROM center_flags WHERE run_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([run_id], |r| {
            Ok(Flag {
                id: r.get::<_, i64>(0)? as u64,
                run_id: r.get(1)?,
                item_id: r.get(2)?,
                reason: r.get(3)?,
                flagged_by_id: r.get(4)?,
                flagged_by: r.get(5)?,
                created_at: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Makes a run public; publishing it again keeps the first date. Returns when it was
    /// published.
    pub fn publish(&self, run_id: &str, by: &str, at: &str) -> Result<String> {
        Ok(self.conn().query_row(
            "INSERT INTO center_published (run_id, published_by, published_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (run_id) DO UPDATE SET published_at = published_at
             RETURNING published_at",
            params![run_id, by, at],
            |r| r.get(0),
        )?)
    }

    /// When the run was published, if it was.
    pub fn published_at(&self, run_id: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT published_at FROM center_published WHERE run_id = ?1",
                [run_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Every published run with its job and publication date, oldest publication first.
    pub fn published(&self) -> Result<Vec<(Job, String)>> {
        let ids: Vec<(String, String)> = {
            let conn = self.conn();
            let mut stmt = conn.prepare_cached(
                "SELECT run_id, published_at FROM center_published ORDER BY published_at, run_id",
            )?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<std::result::Result<_, _>>()?
        };
        let mut out = Vec::new();
        for (id, at) in ids {
            if let Some(job) = self.job(&id)? {
                out.push((job, at));
            }
        }
        Ok(out)
    }

    /// The run's most recent certificate.
    pub fn latest_certificate(&self, run_id: &str) -> Result<Option<IssuedCertificate>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT leaf_index, run_id, issued_by, issued_at, certificate FROM center_certificates
                 WHERE run_id = ?1 ORDER BY leaf_index DESC LIMIT 1",
                [run_id],
                |r| {
                    Ok(IssuedCertificate {
                        leaf_index: r.get::<_, i64>(0)? as u64,
                        run_id: r.get(1)?,
                        issued_by: r.get(2)?,
                        issued_at: r.get(3)?,
                        certificate: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    /// The run's events numbered above `after`, in order, `limit` at most.
    pub fn events_after(&self, run_id: &str, after: u64, limit: usize) -> Result<Vec<FeedEvent>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT seq, kind, data FROM center_events WHERE run_id = ?1 AND seq > ?2
             ORDER BY seq LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![run_id, after as i64, limit as i64], |r| {
            Ok(FeedEvent {
                seq: r.get::<_, i64>(0)? as u64,
                kind: r.get(1)?,
                data: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Asks for `run_id` to stop: a queued job is cancelled at once, a running one is flagged
    /// for its worker. Returns the job's status afterwards.
    pub fn request_cancel(&self, run_id: &str, now: &str) -> Result<Option<JobStatus>> {
        {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let queued = tx.execute(
                "UPDATE center_jobs SET status = 'cancelled', finished_at = ?2, cancel_requested = 1 WHERE run_id = ?1 AND status = 'queued'",
                params![run_id, now],
            )?;
            if queued == 1 {
                append_event_on(
                    &tx,
                    run_id,
                    "done",
                    r#"{"status":"cancelled","error":null}"#,
                )?;
            }
            tx.execute(
                "UPDATE center_jobs SET cancel_requested = 1 WHERE run_id = ?1 AND status = 'running'",
                [run_id],
            )?;
            tx.commit()?;
        }
        Ok(self.job(run_id)?.map(|j| j.status))
    }

    /// Running jobs' workers, to find those whose process is gone.
    pub fn running_workers(&self) -> Result<Vec<(String, String)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT run_id, worker FROM center_jobs WHERE status = 'running' AND worker IS NOT NULL",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Ends the lease of `worker` on `run_id` now (its process is known to be gone), so that
    /// the job is taken again at once rather than when the lease would have run out.
    pub fn expire_lease(&self, run_id: &str, worker: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE center_jobs SET lease_expires_ms = 0 WHERE run_id = ?1 AND worker = ?2 AND status = 'running'",
            params![run_id, worker],
        )?;
        Ok(())
    }
}
