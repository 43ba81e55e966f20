//! The conformance suite every [`Store`] backend passes: the contract of the trait, written
//! against the trait alone. A backend's test file runs all of it with one line:
//!
//! ```ignore
//! touchstone_store::conformance_tests!(MyBackend::fresh_database());
//! ```
//!
//! where the expression gives a [`Database`]: a new, empty database of that backend, from
//! which each test opens as many handles (connections, as separate workers would) as it needs.
//! The SQLite backend runs it in `tests/sqlite_conformance.rs`.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::json;
use touchstone_core::{ItemStatus, Score, Usage, WorkItem, WorkItemId};

use crate::{
    Counts, ItemResult, LeaseClaim, ResultsQuery, RunLease, RunRecord, RunStatus, Store,
    StoreError, new_run_id, now_rfc3339,
};

/// A new, empty database of the backend under test.
pub trait Database {
    /// A new handle on this database: its own connection, as another worker would open.
    fn handle(&self) -> Arc<dyn Store>;
}

/// Runs the whole suite against a backend: one `#[test]` per contract test, each on a fresh
/// database made by `$fresh` (an expression giving a [`Database`]).
#[macro_export]
macro_rules! conformance_tests {
    ($fresh:expr) => {
        $crate::conformance_tests!(@each $fresh; create_and_read_back_a_run, creating_the_same_run_twice_is_an_error, resolve_by_full_id_prefix_ambiguous_and_missing, record_is_idempotent_by_run_and_item, the_same_item_id_in_two_runs_is_two_rows, recording_into_an_unknown_run_is_not_found_and_writes_nothing, recorded_ids_are_exactly_the_written_items, for_each_result_streams_in_insertion_order_across_pages, for_each_result_by_item_streams_in_id_order_across_pages, results_pages_follow_item_order_and_filter, one_result_is_read_by_its_item_id, the_visitor_may_use_the_store_and_its_error_stops_the_walk, counts_split_scored_and_failed, task_counts_split_by_task, runs_are_listed_newest_first_with_counts, latest_unfinished_skips_finished_runs, set_run_status_manages_finished_at_and_planned, update_run_config_replaces_the_config, cache_roundtrip_and_overwrite, ten_thousand_items_in_batches, reopening_keeps_everything, two_handles_write_concurrently, a_lease_is_exclusive_until_it_expires, a_lease_is_renewed_and_released_only_by_its_owner, a_dead_owner_can_be_replaced, of_concurrent_claimants_one_wins, the_log_appends_with_dense_indexes, concurrent_log_appends_stay_dense, audit_events_chain_with_dense_sequence_numbers, audit_events_appended_together_extend_the_chain, concurrent_audit_appends_extend_one_chain);
    };
    (@each $fresh:expr; $($name:ident),*) => {
        $(
            #[test]
            fn $name() {
                let db = $fresh;
                $crate::conformance::$name(&db);
            }
        )*
    };
}

/// A run record as the tests write it (fixture shared with backend-specific tests).
pub fn run_record(id: &str, created_at: &str, status: RunStatus) -> RunRecord {
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

/// One item result; scored items carry a score and an answer, failed ones an error.
pub fn item(run_id: &str, sample: usize, status: ItemStatus) -> ItemResult {
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

/// Items `range` of a run, every seventh (from 3) failed.
pub fn items(run_id: &str, range: std::ops::Range<usize>) -> Vec<ItemResult> {
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

/// A run's results in insertion order.
pub fn collect(store: &dyn Store, run_id: &str) -> Vec<ItemResult> {
    let mut out = Vec::new();
    store
        .for_each_result(run_id, &mut |r| {
            out.push(r);
            Ok(())
        })
        .unwrap();
    out
}

fn with_run(db: &dyn Database, id: &str) -> Arc<dyn Store> {
    let store = db.handle();
    store
        .create_run(&run_record(id, "2026-11-29T05:29:06Z", RunStatus::Running))
        .unwrap();
    store
}

pub fn create_and_read_back_a_run(db: &dyn Database) {
    let store = with_run(db, "20261129-052906-3f9a1c");
    let got = store.run("20261129-052906-3f9a1c").unwrap().unwrap();
    assert_eq!(
        got,
        run_record(
            "20261129-052906-3f9a1c",
            "2026-11-29T05:29:06Z",
            RunStatus::Running
        )
    );
    assert_eq!(store.run("nope").unwrap(), None);
}

pub fn creating_the_same_run_twice_is_an_error(db: &dyn Database) {
    let store = with_run(db, "r1");
    let err = store
        .create_run(&run_record(
            "r1",
            "2026-11-29T05:29:07Z",
            RunStatus::Running,
        ))
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::RunExists(id) if id == "r1"),
        "{err}"
    );
}

pub fn resolve_by_full_id_prefix_ambiguous_and_missing(db: &dyn Database) {
    let store = db.handle();
    for id in [
        "20261129-052906-3f9a1c",
        "20261129-052906-3f00aa",
        "20261130-101010-abcdef",
    ] {
        store
            .create_run(&run_record(
                id,
                "2026-11-29T05:29:06Z",
                RunStatus::Completed,
            ))
            .unwrap();
    }
    assert_eq!(
        store.resolve_run("20261129-052906-3f9a1c").unwrap().id,
        "20261129-052906-3f9a1c"
    );
    assert_eq!(
        store.resolve_run("20261130").unwrap().id,
        "20261130-101010-abcdef"
    );
    assert_eq!(
        store.resolve_run("20261129-052906-3f9").unwrap().id,
        "20261129-052906-3f9a1c"
    );

    match store.resolve_run("20261129-052906-3f") {
        Err(StoreError::Ambiguous(prefix, candidates)) => {
            assert_eq!(prefix, "20261129-052906-3f");
            assert_eq!(
                candidates,
                vec!["20261129-052906-3f00aa", "20261129-052906-3f9a1c"]
            );
        }
        other => panic!("expected Ambiguous, got {other:?}"),
    }
    let msg = store.resolve_run("2026").unwrap_err().to_string();
    assert!(
        msg.contains("ambiguous") && msg.contains("20261130-101010-abcdef"),
        "{msg}"
    );

    for missing in ["2027", "x", "20261129-052906-3f9a1c0", ""] {
        match store.resolve_run(missing) {
            Err(StoreError::NotFound(p)) => assert_eq!(p, missing),
            other => panic!("expected NotFound for {missing:?}, got {other:?}"),
        }
    }
    // LIKE wildcards in a prefix are taken literally.
    assert!(matches!(
        store.resolve_run("2026%"),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.resolve_run("2026_"),
        Err(StoreError::NotFound(_))
    ));
}

pub fn record_is_idempotent_by_run_and_item(db: &dyn Database) {
    let store = with_run(db, "r1");
    let batch = items("r1", 0..50);
    assert_eq!(store.record(&batch).unwrap(), 50);
    assert_eq!(store.record(&batch).unwrap(), 0);
    // An overlapping batch adds only the new items; a changed copy of a stored item is ignored.
    let mut overlap = items("r1", 40..60);
    overlap[0].answer = Some("different".to_string());
    assert_eq!(store.record(&overlap).unwrap(), 10);
    // Duplicates within one batch count once.
    let dup = vec![
        item("r1", 100, ItemStatus::Scored),
        item("r1", 100, ItemStatus::Scored),
    ];
    assert_eq!(store.record(&dup).unwrap(), 1);
    assert_eq!(store.record(&[]).unwrap(), 0);

    let all = collect(&*store, "r1");
    assert_eq!(all.len(), 61);
    assert_eq!(all[40], batch[40], "the first write wins");
    let c = store.counts("r1").unwrap();
    assert_eq!(c.total(), 61);
}

pub fn the_same_item_id_in_two_runs_is_two_rows(db: &dyn Database) {
    let store = with_run(db, "r1");
    store
        .create_run(&run_record(
            "r2",
            "2026-11-29T05:29:07Z",
            RunStatus::Running,
        ))
        .unwrap();
    let mut batch = items("r1", 0..5);
    batch.extend(items("r2", 0..5));
    assert_eq!(store.record(&batch).unwrap(), 10);
    assert_eq!(store.counts("r1").unwrap().total(), 5);
    assert_eq!(store.counts("r2").unwrap().total(), 5);
    assert_eq!(collect(&*store, "r2"), items("r2", 0..5));
}

pub fn recording_into_an_unknown_run_is_not_found_and_writes_nothing(db: &dyn Database) {
    let store = with_run(db, "r1");
    let mut batch = items("r1", 0..3);
    batch.push(item("ghost", 9, ItemStatus::Scored));
    let err = store.record(&batch).unwrap_err();
    assert!(
        matches!(&err, StoreError::NotFound(id) if id == "ghost"),
        "{err}"
    );
    // The whole batch is one transaction: nothing from it was kept.
    assert_eq!(store.counts("r1").unwrap(), Counts::default());
}

pub fn recorded_ids_are_exactly_the_written_items(db: &dyn Database) {
    let store = with_run(db, "r1");
    assert!(store.recorded_ids("r1").unwrap().is_empty());
    let batch = items("r1", 0..20);
    store.record(&batch).unwrap();
    let expected: HashSet<WorkItemId> = batch.iter().map(|r| r.item_id.clone()).collect();
    assert_eq!(store.recorded_ids("r1").unwrap(), expected);
    assert!(!expected.contains(&WorkItem::id_of("mock:a", "arith", "s20", "", 0)));
    assert!(matches!(
        store.recorded_ids("nope"),
        Err(StoreError::NotFound(_))
    ));
}

pub fn for_each_result_streams_in_insertion_order_across_pages(db: &dyn Database) {
    let store = with_run(db, "r1");
    // Item ids are hashes, so insertion order differs from id order; 1,300 rows span several pages.
    let mut written = Vec::new();
    for chunk in [900..1300, 0..450, 450..900] {
        let batch = items("r1", chunk);
        store.record(&batch).unwrap();
        written.extend(batch);
    }
    // Rewriting old items must not move them.
    store.record(&items("r1", 0..10)).unwrap();
    let got = collect(&*store, "r1");
    assert_eq!(got.len(), 1300);
    assert_eq!(got, written);
    let mut sorted_ids: Vec<_> = written.iter().map(|r| r.item_id.clone()).collect();
    sorted_ids.sort();
    assert_ne!(
        got.iter().map(|r| r.item_id.clone()).collect::<Vec<_>>(),
        sorted_ids
    );
}

pub fn for_each_result_by_item_streams_in_id_order_across_pages(db: &dyn Database) {
    let store = with_run(db, "r1");
    for chunk in [900..1300, 0..450, 450..900] {
        store.record(&items("r1", chunk)).unwrap();
    }
    let mut got = Vec::new();
    store
        .for_each_result_by_item("r1", &mut |r| {
            got.push(r.item_id);
            Ok(())
        })
        .unwrap();
    assert_eq!(got.len(), 1300);
    let mut sorted = got.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        got, sorted,
        "strictly increasing ids, none repeated across page boundaries"
    );
    assert!(matches!(
        store.for_each_result_by_item("nope", &mut |_| Ok(())),
        Err(StoreError::NotFound(_))
    ));
}

pub fn results_pages_follow_item_order_and_filter(db: &dyn Database) {
    let store = with_run(db, "r1");
    store.record(&items("r1", 0..500)).unwrap();
    let pages = |query: ResultsQuery| -> Vec<ItemResult> {
        let mut all = Vec::new();
        let mut q = query;
        loop {
            let page = store.results_page("r1", &q).unwrap();
            assert!(page.len() <= q.limit);
            let Some(last) = page.last() else { break };
            q.after = Some(last.item_id.0.clone());
            all.extend(page);
        }
        all
    };
    // Unfiltered pages of 37 give every item once, in id order.
    let all = pages(ResultsQuery {
        limit: 37,
        ..Default::default()
    });
    let mut ids: Vec<_> = all.iter().map(|r| r.item_id.clone()).collect();
    assert_eq!(ids.len(), 500);
    let before = ids.clone();
    ids.sort();
    ids.dedup();
    assert_eq!(ids, before);
    assert_eq!(
        all[0],
        items("r1", 0..500)
            .into_iter()
            .find(|r| r.item_id == all[0].item_id)
            .unwrap()
    );
    // Filters, each against what the items are.
    let failed = pages(ResultsQuery {
        limit: 50,
        status: Some(ItemStatus::Failed),
        ..Default::default()
    });
    assert_eq!(failed.len(), (0..500).filter(|i| i % 7 == 3).count());
    assert!(failed.iter().all(|r| r.status == ItemStatus::Failed));
    let risk = pages(ResultsQuery {
        limit: 50,
        label: Some(("risk".into(), "A.2".into())),
        ..Default::default()
    });
    assert_eq!(risk.len(), 100);
    assert!(risk.iter().all(|r| r.labels["risk"] == "A.2"));
    let wrong = pages(ResultsQuery {
        limit: 50,
        score_max: Some(0.0),
        ..Default::default()
    });
    assert!(!wrong.is_empty() && wrong.iter().all(|r| r.scores[0].value == 0.0));
    let none = pages(ResultsQuery {
        limit: 50,
        task: Some("other".into()),
        ..Default::default()
    });
    assert!(none.is_empty());
    // A given set of items, with the other filters and the keyset still applying.
    let chosen: std::sync::Arc<[String]> =
        all.iter().step_by(9).map(|r| r.item_id.0.clone()).collect();
    let within = pages(ResultsQuery {
        limit: 4,
        items: Some(chosen.clone()),
        ..Default::default()
    });
    assert_eq!(
        within
            .iter()
            .map(|r| r.item_id.0.clone())
            .collect::<Vec<_>>(),
        chosen.to_vec()
    );
    let within_failed = pages(ResultsQuery {
        limit: 4,
        items: Some(chosen.clone()),
        status: Some(ItemStatus::Failed),
        ..Default::default()
    });
    assert!(!within_failed.is_empty() && within_failed.len() < chosen.len());
    assert!(
        within_failed
            .iter()
            .all(|r| r.status == ItemStatus::Failed && chosen.contains(&r.item_id.0))
    );
    let nothing = pages(ResultsQuery {
        limit: 4,
        items: Some(Vec::new().into()),
        ..Default::default()
    });
    assert!(nothing.is_empty());
    // Text in answers, errors and sample ids; `%` and `_` are text, not patterns.
    let found = pages(ResultsQuery {
        limit: 50,
        text: Some("(12)".into()),
        ..Default::default()
    });
    assert_eq!(
        found
            .iter()
            .map(|r| r.sample_id.as_str())
            .collect::<Vec<_>>(),
        ["s12"]
    );
    let timeouts = pages(ResultsQuery {
        limit: 50,
        text: Some("timed out".into()),
        ..Default::default()
    });
    assert_eq!(timeouts.len(), failed.len());
    let by_id = pages(ResultsQuery {
        limit: 50,
        text: Some("s49".into()),
        ..Default::default()
    });
    assert_eq!(by_id.len(), 11, "s49 and s490–s499");
    for pattern in ["%", "_"] {
        let q = ResultsQuery {
            limit: 50,
            text: Some(pattern.into()),
            ..Default::default()
        };
        assert!(pages(q).is_empty(), "{pattern}");
    }
    // A hostile label key is a key, not a path.
    let odd = pages(ResultsQuery {
        limit: 50,
        label: Some(("risk') OR 1=1 --\"".into(), "A.2".into())),
        ..Default::default()
    });
    assert!(odd.is_empty());
    assert!(matches!(
        store.results_page(
            "nope",
            &ResultsQuery {
                limit: 1,
                ..Default::default()
            }
        ),
        Err(StoreError::NotFound(_))
    ));
}

pub fn one_result_is_read_by_its_item_id(db: &dyn Database) {
    let store = with_run(db, "r1");
    let written = items("r1", 0..20);
    store.record(&written).unwrap();
    for want in [&written[0], &written[3], &written[19]] {
        let got = store.result("r1", &want.item_id.0).unwrap();
        assert_eq!(got.as_ref(), Some(want));
    }
    assert_eq!(store.result("r1", "no-such-item").unwrap(), None);
    // An item of another run is not this run's.
    let other = with_run(db, "r2");
    assert_eq!(other.result("r2", &written[0].item_id.0).unwrap(), None);
    assert!(matches!(
        store.result("r404", &written[0].item_id.0),
        Err(StoreError::NotFound(_))
    ));
}

pub fn the_visitor_may_use_the_store_and_its_error_stops_the_walk(db: &dyn Database) {
    let store = with_run(db, "r1");
    store.record(&items("r1", 0..600)).unwrap();
    let mut seen = 0;
    let err = store
        .for_each_result("r1", &mut |r| {
            seen += 1;
            // Re-entering the store from the visitor must not deadlock.
            store.cache_put(&r.item_id.0, "v")?;
            if seen == 550 {
                Err(StoreError::NotFound(format!("stop at {}", r.sample_id)))
            } else {
                Ok(())
            }
        })
        .unwrap_err();
    assert_eq!(seen, 550);
    assert!(
        matches!(&err, StoreError::NotFound(m) if m == "stop at s549"),
        "{err}"
    );
    assert!(matches!(
        store.for_each_result("nope", &mut |_| Ok(())),
        Err(StoreError::NotFound(_))
    ));
}

pub fn counts_split_scored_and_failed(db: &dyn Database) {
    let store = with_run(db, "r1");
    assert_eq!(
        store.counts("r1").unwrap(),
        Counts {
            scored: 0,
            failed: 0
        }
    );
    let batch = items("r1", 0..70);
    store.record(&batch).unwrap();
    let failed = batch
        .iter()
        .filter(|r| r.status == ItemStatus::Failed)
        .count() as u64;
    assert_eq!(failed, 10);
    assert_eq!(
        store.counts("r1").unwrap(),
        Counts {
            scored: 60,
            failed: 10
        }
    );
    assert!(matches!(store.counts("nope"), Err(StoreError::NotFound(_))));
}

pub fn task_counts_split_by_task(db: &dyn Database) {
    let store = with_run(db, "r1");
    assert!(store.task_counts("r1").unwrap().is_empty());
    let mut batch = items("r1", 0..70);
    for r in batch.iter_mut().take(20) {
        r.task = "other".into();
        r.item_id = WorkItem::new("mock:a", "other", &r.sample_id, "", 0).id;
    }
    store.record(&batch).unwrap();
    let by_task = store.task_counts("r1").unwrap();
    let sum = |task: &str| by_task[task].total();
    assert_eq!((by_task.len(), sum("arith"), sum("other")), (2, 50, 20));
    assert_eq!(
        by_task.values().map(|c| c.failed).sum::<u64>(),
        store.counts("r1").unwrap().failed
    );
    assert!(matches!(
        store.task_counts("nope"),
        Err(StoreError::NotFound(_))
    ));
}

pub fn runs_are_listed_newest_first_with_counts(db: &dyn Database) {
    let store = db.handle();
    store
        .create_run(&run_record(
            "b",
            "2026-11-29T05:00:00Z",
            RunStatus::Completed,
        ))
        .unwrap();
    store
        .create_run(&run_record("a", "2026-11-30T05:00:00Z", RunStatus::Running))
        .unwrap();
    // Same second as "a": the later-created run is newer.
    store
        .create_run(&run_record(
            "c",
            "2026-11-30T05:00:00Z",
            RunStatus::Interrupted,
        ))
        .unwrap();
    store.record(&items("b", 0..14)).unwrap();
    let runs = store.runs().unwrap();
    let ids: Vec<&str> = runs.iter().map(|s| s.run.id.as_str()).collect();
    assert_eq!(ids, ["c", "a", "b"]);
    assert_eq!(
        runs[2].counts,
        Counts {
            scored: 12,
            failed: 2
        }
    );
    assert_eq!(runs[0].counts, Counts::default());
}

pub fn latest_unfinished_skips_finished_runs(db: &dyn Database) {
    let store = db.handle();
    assert_eq!(store.latest_unfinished().unwrap(), None);
    store
        .create_run(&run_record(
            "old",
            "2026-11-01T00:00:00Z",
            RunStatus::Interrupted,
        ))
        .unwrap();
    store
        .create_run(&run_record(
            "mid",
            "2026-11-02T00:00:00Z",
            RunStatus::Running,
        ))
        .unwrap();
    store
        .create_run(&run_record(
            "new",
            "2026-11-03T00:00:00Z",
            RunStatus::Completed,
        ))
        .unwrap();
    assert_eq!(store.latest_unfinished().unwrap().unwrap().id, "mid");
    store
        .set_run_status("mid", RunStatus::Failed, None)
        .unwrap();
    assert_eq!(store.latest_unfinished().unwrap().unwrap().id, "old");
    store
        .set_run_status("old", RunStatus::Completed, None)
        .unwrap();
    assert_eq!(store.latest_unfinished().unwrap(), None);
}

pub fn set_run_status_manages_finished_at_and_planned(db: &dyn Database) {
    let store = with_run(db, "r1");
    store
        .set_run_status("r1", RunStatus::Running, Some(120))
        .unwrap();
    let r = store.run("r1").unwrap().unwrap();
    assert_eq!(
        (r.status, r.planned, r.finished_at.as_deref()),
        (RunStatus::Running, Some(120), None)
    );

    store
        .set_run_status("r1", RunStatus::Interrupted, None)
        .unwrap();
    let r = store.run("r1").unwrap().unwrap();
    assert_eq!(
        (r.status, r.planned, r.finished_at.as_deref()),
        (RunStatus::Interrupted, Some(120), None)
    );

    let before = now_rfc3339();
    store
        .set_run_status("r1", RunStatus::Completed, Some(121))
        .unwrap();
    let r = store.run("r1").unwrap().unwrap();
    assert_eq!((r.status, r.planned), (RunStatus::Completed, Some(121)));
    let finished = r.finished_at.unwrap();
    assert!(
        finished >= before && finished <= now_rfc3339(),
        "{finished}"
    );

    // Resuming a finished run makes it unfinished again.
    store
        .set_run_status("r1", RunStatus::Running, None)
        .unwrap();
    assert_eq!(store.run("r1").unwrap().unwrap().finished_at, None);

    assert!(matches!(
        store.set_run_status("nope", RunStatus::Failed, None),
        Err(StoreError::NotFound(_))
    ));
    let err = store
        .set_run_status("r1", RunStatus::Running, Some(u64::MAX))
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::OutOfRange {
                field: "planned",
                ..
            }
        ),
        "{err}"
    );
}

pub fn update_run_config_replaces_the_config(db: &dyn Database) {
    let store = with_run(db, "r1");
    let config =
        json!({"models": [{"spec": "mock:a", "sha256": "ab"}], "datasets": {"x.jsonl": "cd"}});
    store.update_run_config("r1", &config).unwrap();
    assert_eq!(store.run("r1").unwrap().unwrap().config, config);
    assert!(matches!(
        store.update_run_config("nope", &config),
        Err(StoreError::NotFound(_))
    ));
}

pub fn cache_roundtrip_and_overwrite(db: &dyn Database) {
    let store = db.handle();
    assert_eq!(store.cache_get("k").unwrap(), None);
    store.cache_put("k", r#"{"text":"答案是B"}"#).unwrap();
    assert_eq!(
        store.cache_get("k").unwrap().as_deref(),
        Some(r#"{"text":"答案是B"}"#)
    );
    store.cache_put("k", "second").unwrap();
    assert_eq!(store.cache_get("k").unwrap().as_deref(), Some("second"));
    assert_eq!(store.cache_get("K").unwrap(), None);
}

pub fn ten_thousand_items_in_batches(db: &dyn Database) {
    let store = db.handle();
    let run = run_record(&new_run_id(), &now_rfc3339(), RunStatus::Running);
    store.create_run(&run).unwrap();
    let mut new = 0;
    let mut start = 0;
    while start < 10_000 {
        let end = (start + 256).min(10_000);
        new += store.record(&items(&run.id, start..end)).unwrap();
        start = end;
    }
    assert_eq!(new, 10_000);
    let c = store.counts(&run.id).unwrap();
    let failed = (0..10_000).filter(|i| i % 7 == 3).count() as u64;
    assert_eq!(
        c,
        Counts {
            scored: 10_000 - failed,
            failed
        }
    );
    assert_eq!(store.recorded_ids(&run.id).unwrap().len(), 10_000);
    let mut n = 0;
    let mut last_sample = None;
    store
        .for_each_result(&run.id, &mut |r| {
            n += 1;
            last_sample = Some(r.sample_id);
            Ok(())
        })
        .unwrap();
    assert_eq!((n, last_sample.as_deref()), (10_000, Some("s9999")));
}

pub fn reopening_keeps_everything(db: &dyn Database) {
    {
        let store = db.handle();
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
        store.log_append("entry", "00").unwrap();
    }
    let store = db.handle();
    let run = store.run("r1").unwrap().unwrap();
    assert_eq!(
        (run.status, run.planned),
        (RunStatus::Interrupted, Some(30))
    );
    assert_eq!(collect(&*store, "r1"), items("r1", 0..30));
    assert_eq!(store.cache_get("key").unwrap().as_deref(), Some("value"));
    assert_eq!(store.record(&items("r1", 0..30)).unwrap(), 0);
    assert_eq!(store.log_leaf_hashes().unwrap(), vec!["00"]);
}

/// Two handles (two workers) write overlapping batches at once: nothing is lost or doubled.
pub fn two_handles_write_concurrently(db: &dyn Database) {
    let a = db.handle();
    let b = db.handle();
    a.create_run(&run_record(
        "r1",
        "2026-11-29T05:29:06Z",
        RunStatus::Running,
    ))
    .unwrap();
    b.create_run(&run_record(
        "r2",
        "2026-11-29T05:29:07Z",
        RunStatus::Running,
    ))
    .unwrap();

    // Two writers, each interleaving its own run with a shared range of the other's, plus reads.
    let spawn = |store: Arc<dyn Store>, offset: usize| {
        std::thread::spawn(move || {
            let mut new = 0;
            for chunk in 0..20 {
                let start = offset + chunk * 50;
                let mut batch = items("r1", start..start + 50);
                batch.extend(items("r2", chunk * 50..chunk * 50 + 50));
                new += store.record(&batch).unwrap();
                store.counts("r1").unwrap();
                store.cache_put(&format!("{offset}-{chunk}"), "v").unwrap();
            }
            new
        })
    };
    let ta = spawn(a.clone(), 0);
    let tb = spawn(b.clone(), 500);
    let new = ta.join().unwrap() + tb.join().unwrap();

    // r1: 0..1000 and 500..1500 -> 1500 distinct; r2: 0..1000 written by both -> 1000.
    assert_eq!(new, 2500);
    assert_eq!(a.counts("r1").unwrap().total(), 1500);
    assert_eq!(b.counts("r2").unwrap().total(), 1000);
    let seqs: Vec<String> = collect(&*b, "r1")
        .into_iter()
        .map(|r| r.sample_id)
        .collect();
    assert_eq!(seqs.len(), 1500);
    assert_eq!(seqs.iter().collect::<HashSet<_>>().len(), 1500);
    assert_eq!(a.cache_get("500-19").unwrap().as_deref(), Some("v"));
}

pub fn a_lease_is_exclusive_until_it_expires(db: &dyn Database) {
    let store = with_run(db, "r1");
    assert_eq!(store.run_lease("r1").unwrap(), None);
    assert_eq!(
        store
            .claim_run("r1", "host-a/1", 1_000, 61_000, None)
            .unwrap(),
        LeaseClaim::Granted
    );
    let held = RunLease {
        owner: "host-a/1".into(),
        expires_at_ms: 61_000,
    };
    assert_eq!(store.run_lease("r1").unwrap(), Some(held.clone()));
    // Another worker, before the lease ends: refused, and nothing changes.
    assert_eq!(
        store
            .claim_run("r1", "host-b/2", 60_999, 120_000, None)
            .unwrap(),
        LeaseClaim::HeldBy(held.clone())
    );
    assert_eq!(store.run_lease("r1").unwrap(), Some(held));
    // At the end of the lease the owner has stopped renewing it: the run is free.
    assert_eq!(
        store
            .claim_run("r1", "host-b/2", 61_000, 121_000, None)
            .unwrap(),
        LeaseClaim::Granted
    );
    assert_eq!(
        store.run_lease("r1").unwrap().map(|l| l.owner).as_deref(),
        Some("host-b/2")
    );
    // Leases are per run.
    store
        .create_run(&run_record(
            "r2",
            "2026-11-29T05:29:07Z",
            RunStatus::Running,
        ))
        .unwrap();
    assert_eq!(
        store
            .claim_run("r2", "host-a/1", 61_000, 99_000, None)
            .unwrap(),
        LeaseClaim::Granted
    );
}

pub fn a_lease_is_renewed_and_released_only_by_its_owner(db: &dyn Database) {
    let store = with_run(db, "r1");
    store.claim_run("r1", "a", 0, 10_000, None).unwrap();
    // Renewal: the owner claims again, later, before the end.
    assert_eq!(
        store.claim_run("r1", "a", 9_000, 19_000, None).unwrap(),
        LeaseClaim::Granted
    );
    assert_eq!(
        store.run_lease("r1").unwrap().unwrap().expires_at_ms,
        19_000
    );
    assert!(matches!(
        store.claim_run("r1", "b", 15_000, 30_000, None).unwrap(),
        LeaseClaim::HeldBy(_)
    ));
    // Someone else's release leaves the lease alone.
    store.release_run("r1", "b").unwrap();
    assert_eq!(store.run_lease("r1").unwrap().unwrap().owner, "a");
    store.release_run("r1", "a").unwrap();
    assert_eq!(store.run_lease("r1").unwrap(), None);
    assert_eq!(
        store.claim_run("r1", "b", 15_000, 30_000, None).unwrap(),
        LeaseClaim::Granted
    );
}

pub fn a_dead_owner_can_be_replaced(db: &dyn Database) {
    let store = with_run(db, "r1");
    store.claim_run("r1", "a", 0, 60_000, None).unwrap();
    // Naming another owner as dead takes nothing from the real one.
    assert!(matches!(
        store
            .claim_run("r1", "b", 1_000, 61_000, Some("c"))
            .unwrap(),
        LeaseClaim::HeldBy(_)
    ));
    assert_eq!(
        store
            .claim_run("r1", "b", 1_000, 61_000, Some("a"))
            .unwrap(),
        LeaseClaim::Granted
    );
    assert_eq!(store.run_lease("r1").unwrap().unwrap().owner, "b");
}

pub fn of_concurrent_claimants_one_wins(db: &dyn Database) {
    let store = with_run(db, "r1");
    drop(store);
    for round in 0..10i64 {
        let now = round * 100_000;
        let winners: usize = std::thread::scope(|s| {
            let claims: Vec<_> = (0..4)
                .map(|w| {
                    let store = db.handle();
                    s.spawn(move || {
                        store
                            .claim_run(
                                "r1",
                                &format!("worker-{round}-{w}"),
                                now,
                                now + 50_000,
                                None,
                            )
                            .unwrap()
                            == LeaseClaim::Granted
                    })
                })
                .collect();
            claims.into_iter().map(|c| c.join().unwrap() as usize).sum()
        });
        assert_eq!(winners, 1, "round {round}: exactly one claimant wins");
    }
}

pub fn the_log_appends_with_dense_indexes(db: &dyn Database) {
    let store = db.handle();
    assert_eq!(store.log_size().unwrap(), 0);
    assert!(store.log_leaf_hashes().unwrap().is_empty());
    assert_eq!(store.log_entry(0).unwrap(), None);
    for i in 0..5u64 {
        let index = store
            .log_append(&format!("{{\"n\":{i}}}"), &format!("{i:064x}"))
            .unwrap();
        assert_eq!(index, i);
    }
    assert_eq!(store.log_size().unwrap(), 5);
    assert_eq!(
        store.log_leaf_hashes().unwrap(),
        (0..5u64).map(|i| format!("{i:064x}")).collect::<Vec<_>>()
    );
    assert_eq!(store.log_entry(3).unwrap().as_deref(), Some("{\"n\":3}"));
    assert_eq!(store.log_entry(5).unwrap(), None);
}

pub fn concurrent_log_appends_stay_dense(db: &dyn Database) {
    let (a, b) = (db.handle(), db.handle());
    let indexes: Vec<u64> = std::thread::scope(|s| {
        let runs: Vec<_> = [a, b]
            .into_iter()
            .map(|store| {
                s.spawn(move || {
                    (0..20)
                        .map(|i| store.log_append(&format!("e{i}"), "ab").unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        runs.into_iter().flat_map(|r| r.join().unwrap()).collect()
    });
    let mut sorted = indexes;
    sorted.sort_unstable();
    assert_eq!(sorted, (0..40).collect::<Vec<u64>>());
    assert_eq!(db.handle().log_leaf_hashes().unwrap().len(), 40);
}

pub fn audit_events_appended_together_extend_the_chain(db: &dyn Database) {
    let store = db.handle();
    let mut seen = Vec::new();
    let mut seal = |seq: u64, prev: Option<&str>| {
        seen.push((seq, prev.map(str::to_owned)));
        (format!("{{\"n\":{seq}}}"), format!("h{seq}"))
    };
    assert_eq!(store.audit_append(&mut seal).unwrap(), 1);
    assert_eq!(store.audit_append_many(3, &mut seal).unwrap(), 2);
    assert_eq!(store.audit_append(&mut seal).unwrap(), 5);
    let expected: Vec<(u64, Option<String>)> = (1..=5)
        .map(|n| (n, (n > 1).then(|| format!("h{}", n - 1))))
        .collect();
    assert_eq!(seen, expected);
    let seqs: Vec<u64> = store
        .audit_events(0, 10)
        .unwrap()
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
}

pub fn audit_events_chain_with_dense_sequence_numbers(db: &dyn Database) {
    let store = db.handle();
    assert!(store.audit_events(0, 10).unwrap().is_empty());
    let mut seen = Vec::new();
    for i in 1..=5u64 {
        let seq = store
            .audit_append(&mut |seq, prev| {
                seen.push((seq, prev.map(str::to_owned)));
                (format!("{{\"n\":{seq}}}"), format!("h{seq}"))
            })
            .unwrap();
        assert_eq!(seq, i);
    }
    // The seal saw each number and the hash before it.
    assert_eq!(seen[0], (1, None));
    assert_eq!(seen[3], (4, Some("h3".to_owned())));
    let page = store.audit_events(2, 2).unwrap();
    assert_eq!(
        page,
        [
            crate::AuditRow {
                seq: 3,
                event: "{\"n\":3}".into(),
                hash: "h3".into()
            },
            crate::AuditRow {
                seq: 4,
                event: "{\"n\":4}".into(),
                hash: "h4".into()
            },
        ]
    );
    assert_eq!(store.audit_events(5, 10).unwrap(), []);
}

pub fn concurrent_audit_appends_extend_one_chain(db: &dyn Database) {
    let (a, b) = (db.handle(), db.handle());
    std::thread::scope(|s| {
        for store in [a, b] {
            s.spawn(move || {
                for _ in 0..20 {
                    store
                        .audit_append(&mut |seq, prev| {
                            (format!("{seq}:{}", prev.unwrap_or("-")), format!("h{seq}"))
                        })
                        .unwrap();
                }
            });
        }
    });
    let rows = db.handle().audit_events(0, 100).unwrap();
    assert_eq!(rows.len(), 40);
    for (i, row) in rows.iter().enumerate() {
        let seq = i as u64 + 1;
        assert_eq!(row.seq, seq);
        // Each seal saw its predecessor's hash: no two appenders read the same tail.
        let prev = if seq == 1 {
            "-".to_owned()
        } else {
            format!("h{}", seq - 1)
        };
        assert_eq!(row.event, format!("{seq}:{prev}"));
    }
}
