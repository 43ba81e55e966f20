use std::path::Path;

use touchstone_store::conformance::{collect, items, run_record};
use touchstone_store::{RunStatus, SCHEMA_VERSION, SqliteStore, Store, StoreError};

#[test]
fn reopening_a_file_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/deeper/touchstone.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.path(), Some(path.as_path()));
        assert!(SqliteStore::open_in_memory().unwrap().path().is_none());
        store
            .create_run(&run_record(
                "r1",
                "2026-11-29T05:29:06Z",
                RunStatus::Running,
            ))
            .unwrap();
        store.record(&items("r1", 0..30)).unwrap();
        store.cache_put("key", "value").unwrap();
        store
            .set_run_status("r1", RunStatus::Interrupted, Some(30))
            .unwrap();
    }
    assert!(path.is_file());
    let store = SqliteStore::open(&path).unwrap();
    let run = store.run("r1").unwrap().unwrap();
    assert_eq!(
        (run.status, run.planned),
        (RunStatus::Interrupted, Some(30))
    );
    assert_eq!(collect(&store, "r1"), items("r1", 0..30));
    assert_eq!(store.cache_get("key").unwrap().as_deref(), Some("value"));
    assert_eq!(store.record(&items("r1", 0..30)).unwrap(), 0);
}

#[test]
fn the_file_is_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let _store = SqliteStore::open(&path).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_file_that_is_not_a_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.db");
    std::fs::write(&path, "this is a text file, not SQLite\n".repeat(200)).unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, StoreError::Open { .. }), "{msg}");
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("not a database"), "{msg}");
}

#[test]
fn a_directory_in_place_of_the_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = SqliteStore::open(dir.path()).unwrap_err();
    assert!(
        err.to_string().contains(&dir.path().display().to_string()),
        "{err}"
    );
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.db");
    drop(SqliteStore::open(&path).unwrap());
    let future = SCHEMA_VERSION + 3;
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", future)
        .unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    let msg = err.to_string();
    match err {
        StoreError::SchemaTooNew {
            found, supported, ..
        } => {
            assert_eq!((found, supported), (future, SCHEMA_VERSION));
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    assert!(
        msg.contains(&path.display().to_string()) && msg.contains("upgrade Touchstone"),
        "{msg}"
    );
}

#[test]
fn open_error_names_an_unwritable_parent() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "x").unwrap();
    let path = blocker.join("sub/touchstone.db");
    let err = SqliteStore::open(Path::new(&path)).unwrap_err();
    assert!(matches!(err, StoreError::CreateDir { .. }), "{err}");
    assert!(
        err.to_string().contains(&blocker.display().to_string()),
        "{err}"
    );
}

#[test]
fn error_messages_read_well() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.db");
    std::fs::write(&path, "plain text\n".repeat(500)).unwrap();
    let open = SqliteStore::open(&path).unwrap_err();
    let ambiguous = StoreError::Ambiguous(
        "2026".into(),
        vec!["20261129-a".into(), "20261130-b".into()],
    );
    println!(
        "{open}\n{ambiguous}\n{}",
        StoreError::NotFound("abc".into())
    );
    assert_eq!(
        ambiguous.to_string(),
        "run id prefix '2026' is ambiguous: it matches 20261129-a, 20261130-b; give more characters"
    );
}
