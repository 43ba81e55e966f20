use std::path::Path;

use serde_json::json;
use touchstone_core::{ItemStatus, Score, Usage, WorkItem};
use touchstone_store::{
    ItemResult, RunRecord, RunStatus, SCHEMA_VERSION, SqliteStore, Store, StoreError,
};

fn run_record(id: &str, created_at: &str, status: RunStatus) -> RunRecord {
    RunRecord {
        id: id.to_string(),
        created_at: created_at.to_string(),
        finished_at: None,
        status,
        suite: "quick".to_string(),
        models: vec!["mock:a".to_string(), "mock:b".to_string()],
        planned: None,
        config: json!({"limit": 10, "seed": 7}),
    }
}

fn item(run_id: &str, sample: usize, status: ItemStatus) -> ItemResult {
    let sample_id = format!("s{sample}");
    let w = WorkItem::new("mock:a", "arith", &sample_id, "", 0);
    let scored = status == ItemStatus::Scored;
    ItemResult {
        run_id: run_id.to_string(),
        item_id: w.id,
        model: w.model,
        task: w.task,
        sample_id,
        variant: String::new(),
        epoch: 0,
        cluster: sample.is_multiple_of(3).then(|| format!("c{}", sample % 5)),
        status,
        scores: if scored {
            vec![Score::binary(
                "choice",
                sample.is_multiple_of(2),
                Some("B".to_string()),
            )]
        } else {
            Vec::new()
        },
        answer: scored.then(|| format!("答案是B ({sample})")),
        error: (!scored).then(|| "request timed out after 30 s".to_string()),
        usage: Usage {
            prompt_tokens: 12 + sample as u32,
            completion_tokens: 3,
        },
        latency_ms: 1000 + sample as u64,
        attempts: 1 + (sample % 3) as u32,
        cached: sample.is_multiple_of(4),
        labels: [("risk".to_string(), format!("A.{}", sample % 5))]
            .into_iter()
            .collect(),
    }
}

fn items(run_id: &str, range: std::ops::Range<usize>) -> Vec<ItemResult> {
    range
        .map(|i| {
            item(
                run_id,
                i,
                if i % 7 == 3 {
                    ItemStatus::Failed
                } else {
                    ItemStatus::Scored
                },
            )
        })
        .collect()
}

fn collect(store: &dyn Store, run_id: &str) -> Vec<ItemResult> {
    let mut out = Vec::new();
    store
        .for_each_result(run_id, &mut |r| {
            out.push(r);
            Ok(())
        })
        .unwrap();
    out
}

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
