//! Acceptance (issue 14, point 4): editing, deleting or reordering any audit row in the
//! database makes verification fail and name the first bad event.

use touchstone_audit::{AuditError, Event, Head};
use touchstone_store::SqliteStore;

fn event(n: u64) -> Event {
    Event {
        actor: format!("user{n}"),
        role: "assessor".into(),
        organisation: Some("厦门评测中心".into()),
        action: "run.create".into(),
        object: format!("run:r{n}"),
        source: "127.0.0.1".into(),
        outcome: "ok".into(),
    }
}

/// A trail of ten events, the database path, and its verified head.
fn trail() -> (tempfile::TempDir, std::path::PathBuf, Head) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = SqliteStore::open(&path).unwrap();
    for n in 1..=10 {
        assert_eq!(touchstone_audit::append(&store, &event(n)).unwrap(), n);
    }
    let head = touchstone_audit::verify(&store, None).unwrap().unwrap();
    assert_eq!(head.seq, 10);
    (dir, path, head)
}

/// The database as someone with the file in hand sees it: the triggers that refuse edits
/// through SQL dropped first.
fn tamper(path: &std::path::Path, sql: &str) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
        .unwrap();
    conn.execute_batch(sql).unwrap();
}

fn first_bad(path: &std::path::Path, head: Option<&Head>) -> (u64, String) {
    let store = SqliteStore::open(path).unwrap();
    match touchstone_audit::verify(&store, head) {
        Err(AuditError::Broken { seq, reason }) => (seq, reason),
        other => panic!("expected a broken trail, got {other:?}"),
    }
}

fn sha256(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

#[test]
fn an_intact_trail_verifies_and_sql_cannot_change_it() {
    let (_dir, path, head) = trail();
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        touchstone_audit::verify(&store, Some(&head)).unwrap(),
        Some(head.clone())
    );
    assert_eq!(head.to_string().parse::<Head>().unwrap(), head);
    let conn = rusqlite::Connection::open(&path).unwrap();
    assert!(
        conn.execute("UPDATE audit_log SET event = 'x' WHERE seq = 1", [])
            .is_err()
    );
    assert!(
        conn.execute("DELETE FROM audit_log WHERE seq = 1", [])
            .is_err()
    );
}

#[test]
fn an_edited_event_is_named() {
    let (_dir, path, _) = trail();
    tamper(
        &path,
        "UPDATE audit_log SET event = replace(event, 'user4', 'admin') WHERE seq = 4",
    );
    let (seq, reason) = first_bad(&path, None);
    assert_eq!(seq, 4, "{reason}");
    assert!(reason.contains("edited"), "{reason}");
}

#[test]
fn an_edited_and_rehashed_event_is_named() {
    let (_dir, path, _) = trail();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let text: String = conn
        .query_row("SELECT event FROM audit_log WHERE seq = 4", [], |r| {
            r.get(0)
        })
        .unwrap();
    let edited = text.replace("\"ok\"", "\"denied\"");
    let sql = format!(
        "UPDATE audit_log SET event = '{}', hash = '{}' WHERE seq = 4",
        edited.replace('\'', "''"),
        sha256(&edited)
    );
    tamper(&path, &sql);
    let (seq, reason) = first_bad(&path, None);
    assert_eq!(seq, 4, "{reason}");
}

#[test]
fn a_deleted_event_is_named() {
    let (_dir, path, _) = trail();
    tamper(&path, "DELETE FROM audit_log WHERE seq = 6");
    let (seq, reason) = first_bad(&path, None);
    assert_eq!(seq, 6, "{reason}");
    assert!(reason.contains("missing"), "{reason}");
}

#[test]
fn reordered_events_are_named() {
    let (_dir, path, _) = trail();
    tamper(
        &path,
        "UPDATE audit_log SET seq = -3 WHERE seq = 3;
         UPDATE audit_log SET seq = 3 WHERE seq = 7;
         UPDATE audit_log SET seq = 7 WHERE seq = -3;",
    );
    let (seq, reason) = first_bad(&path, None);
    assert_eq!(seq, 3, "{reason}");
    assert!(reason.contains("moved"), "{reason}");
}

#[test]
fn a_removed_tail_or_rewritten_chain_is_caught_against_a_recorded_head() {
    let (_dir, path, head) = trail();
    tamper(&path, "DELETE FROM audit_log WHERE seq >= 9");
    // The chain alone still holds …
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        touchstone_audit::verify(&store, None).unwrap().unwrap().seq,
        8
    );
    // … the head recorded before does not.
    let (seq, reason) = first_bad(&path, Some(&head));
    assert_eq!(seq, 10, "{reason}");
    assert!(reason.contains("missing"), "{reason}");

    // Rewritten from event 9 on, every hash recomputed: only the head shows it.
    let (_dir, path, head) = trail();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq >= 9;")
        .unwrap();
    drop(conn);
    let store = SqliteStore::open(&path).unwrap();
    let mut forged = event(9);
    forged.outcome = "denied".into();
    touchstone_audit::append(&store, &forged).unwrap();
    touchstone_audit::append(&store, &event(10)).unwrap();
    assert!(touchstone_audit::verify(&store, None).is_ok());
    let (seq, reason) = first_bad(&path, Some(&head));
    assert_eq!(seq, 10, "{reason}");
}

#[test]
fn export_writes_every_event_with_its_hash() {
    let (_dir, path, head) = trail();
    let store = SqliteStore::open(&path).unwrap();
    let mut out = Vec::new();
    assert_eq!(touchstone_audit::export(&store, &mut out).unwrap(), 10);
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 10);
    assert_eq!(lines[9]["hash"], head.hash.as_str());
    assert_eq!(lines[3]["actor"], "user4");
    assert_eq!(lines[0]["prev"], touchstone_audit::GENESIS);
    assert_eq!(lines[1]["prev"], lines[0]["hash"]);
}
