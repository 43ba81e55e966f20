use std::path::PathBuf;

/// What a backend's driver reported, boxed so that this type names no driver (SQLite today,
/// PostgreSQL next): callers match on the variants, never on a driver's error.
pub type BackendError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the directory {path} for the store: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "cannot open the store at {location}: {source} (is it a Touchstone database? \
         use another database path or move this file away)"
    )]
    Open {
        /// The file, or the database URL without its password.
        location: String,
        #[source]
        source: BackendError,
    },

    #[error(
        "cannot write to the store at {path}: the file or its folder is read-only, and Touchstone \
         opens its database for writing (write-ahead log, schema upgrades); copy it to a writable \
         folder to read it"
    )]
    ReadOnly { path: PathBuf },

    #[error(
        "the store at {path} is a folder; --db names the database file (e.g. {path}/touchstone.db)"
    )]
    IsADirectory { path: PathBuf },

    #[error("the store at {}: {source}; --db names a database file / --db 应指向数据库文件", path.display())]
    NotAFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "the store at {location} has schema version {found}, newer than the {supported} this build \
         of Touchstone understands; upgrade Touchstone or use another database path"
    )]
    SchemaTooNew {
        location: String,
        found: i64,
        supported: i64,
    },

    #[error("cannot migrate the store at {location} to schema version {version}: {source}")]
    Migrate {
        location: String,
        version: i64,
        #[source]
        source: BackendError,
    },

    #[error("no run '{0}' in the store; `touchstone runs list` shows the recorded runs")]
    NotFound(String),

    #[error("run id prefix '{0}' is ambiguous: it matches {list}; give more characters", list = .1.join(", "))]
    Ambiguous(String, Vec<String>),

    #[error("a run with id '{0}' already exists in the store")]
    RunExists(String),

    /// A stored row that this code cannot read back (hand-edited or corrupted database).
    #[error("corrupt row in table {table} ({key}), field {field}: {detail}")]
    Corrupt {
        table: &'static str,
        key: String,
        field: &'static str,
        detail: String,
    },

    /// A value too large for the database's 64-bit signed integers.
    #[error("{field} = {value} is too large to store (at most {max})", max = i64::MAX)]
    OutOfRange { field: &'static str, value: u64 },

    #[error("cannot encode {what} as JSON: {source}")]
    Json {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },

    /// Any other failure of the database itself (locked, full, connection lost).
    #[error("database error: {0}")]
    Backend(#[source] BackendError),
}
