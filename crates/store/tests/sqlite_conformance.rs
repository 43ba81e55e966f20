//! The SQLite backend against the store's conformance suite (`touchstone_store::conformance`).

use std::sync::Arc;

use touchstone_store::conformance::Database;
use touchstone_store::{SqliteStore, Store};

/// A database file in a folder of its own, removed when the test ends.
struct SqliteFile(tempfile::TempDir);

impl SqliteFile {
    fn fresh() -> Self {
        SqliteFile(tempfile::tempdir().unwrap())
    }
}

impl Database for SqliteFile {
    fn handle(&self) -> Arc<dyn Store> {
        Arc::new(SqliteStore::open(&self.0.path().join("touchstone.db")).unwrap())
    }
}

touchstone_store::conformance_tests!(SqliteFile::fresh());
