//! The audit trail through the binary: what the command line changes is recorded, `audit
//! verify` prints the head, and names the first event someone edited in the database file.

mod common;

use common::*;
use touchstone_mock::{MockConfig, spawn_background};

#[test]
fn runs_are_recorded_and_a_tampered_trail_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("mc.jsonl");
    write_choice_dataset(&data, 4, |_| true);
    let mock = spawn_background(MockConfig::default()).unwrap();
    let model = format!("openai:mock@{}", mock.base_url());
    for _ in 0..3 {
        let o = eval_choice(dir.path(), &data, &model, &["--quiet"]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let database = db(dir.path());
    let database = database.to_str().unwrap();

    let o = run(&["audit", "verify", "--db", database]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("3 audit event(s)"), "{out}");
    let head = out
        .split("head ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_string();
    let o = run(&["audit", "verify", "--db", database, "--head", &head]);
    assert!(o.status.success(), "{}", stderr(&o));

    let o = run(&["audit", "export", "--db", database]);
    assert!(o.status.success(), "{}", stderr(&o));
    let events: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 3);
    assert_eq!(events[0]["action"], "run.execute");
    assert_eq!(events[0]["source"], "cli");
    assert!(events[0]["object"].as_str().unwrap().starts_with("run:"));
    assert_eq!(events[0]["outcome"], "completed");

    // Someone with the file edits the second event (after dropping the guard triggers).
    let conn = rusqlite::Connection::open(database).unwrap();
    conn.execute_batch(
        "DROP TRIGGER audit_log_no_update;
         UPDATE audit_log SET event = replace(event, 'completed', 'cancelled') WHERE seq = 2;",
    )
    .unwrap();
    drop(conn);
    let o = run(&["audit", "verify", "--db", database]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("audit event 2: edited"),
        "{}",
        stdout(&o)
    );
    // A malformed head is a usage error, not a verification.
    let o = run(&["audit", "verify", "--db", database, "--head", "2:xyz"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
