//! The engine against the mock server, in-process: several models in one run, clean
//! cancellation and resume, the response cache, epochs, and summaries that depend only on the
//! store.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use touchstone_core::{ItemStatus, ModelSpec};
use touchstone_engine::{EvalOptions, Events, ExecOptions, NoEvents, render_table, summarize};
use touchstone_mock::{MockConfig, MockServer};
use touchstone_store::{RunStatus, SqliteStore, Store};
use touchstone_suite::LoadedSuite;

fn write_items(dir: &std::path::Path, n: usize) -> std::path::PathBuf {
    let path = dir.join("items.jsonl");
    let mut text = String::new();
    for i in 0..n {
        // Every third answer is wrong.
        let reply = if i % 3 == 0 { "B" } else { "A" };
        text.push_str(&format!(
            "{{\"id\": \"s{i}\", \"input\": \"Q{i} [[reply:The answer is {reply}]]\", \"choices\": [\"x\", \"y\"], \"target\": \"A\"}}\n"
        ));
    }
    std::fs::write(&path, text).unwrap();
    path
}

fn suite_for(dir: &std::path::Path, data: &std::path::Path, epochs: u32) -> LoadedSuite {
    let yaml = format!(
        "name: t\ntasks:\n  - name: mc\n    dataset: {{path: {}}}\n    scorers: [choice]\n    epochs: {epochs}\n    expect: [{{metric: accuracy, min: 0.5}}]\n",
        data.display()
    );
    let path = dir.join("suite.yaml");
    std::fs::write(&path, yaml).unwrap();
    touchstone_suite::load_file(&path).unwrap()
}

fn model(mock: &MockServer) -> ModelSpec {
    format!("openai:mock@{}", mock.base_url()).parse().unwrap()
}

fn options(no_cache: bool) -> EvalOptions {
    EvalOptions {
        exec: ExecOptions {
            concurrency: Some(4),
            no_cache,
            ..ExecOptions::default()
        },
        ..EvalOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_models_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_items(dir.path(), 30);
    let (a, b) = (
        MockServer::start(MockConfig::default()).await.unwrap(),
        MockServer::start(MockConfig::default()).await.unwrap(),
    );
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("r.db")).unwrap());
    let outcome = touchstone_engine::start(
        store.clone(),
        touchstone_providers::Standard::shared(),
        suite_for(dir.path(), &data, 1),
        vec![model(&a), model(&b)],
        options(true),
        Arc::new(NoEvents),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.status, RunStatus::Completed);
    let r = &outcome.results;
    assert_eq!(
        (
            r.counts.planned,
            r.counts.scored,
            r.counts.failed,
            r.counts.pending
        ),
        (60, 60, 0, 0)
    );
    assert_eq!(r.tasks.len(), 2);
    for t in &r.tasks {
        assert_eq!(t.metrics[0].n, 30);
        assert!((t.metrics[0].value - 20.0 / 30.0).abs() < 1e-12);
        assert!(t.expectations[0].passed);
    }
    assert_eq!((a.request_count(), b.request_count()), (30, 30));
    assert_eq!(r.models.len(), 2);
    assert_eq!(r.datasets[0].sha256.len(), 64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summaries_are_a_pure_function_of_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_items(dir.path(), 40);
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    let db = dir.path().join("r.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&db).unwrap());
    let outcome = touchstone_engine::start(
        store.clone(),
        touchstone_providers::Standard::shared(),
        suite_for(dir.path(), &data, 2),
        vec![model(&mock)],
        options(true),
        Arc::new(NoEvents),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    let first = serde_json::to_vec(&summarize(store.as_ref(), &outcome.run_id).unwrap()).unwrap();
    drop(store);
    let reopened = SqliteStore::open(&db).unwrap();
    let again = summarize(&reopened, &outcome.run_id).unwrap();
    assert_eq!(first, serde_json::to_vec(&again).unwrap());
    // Epochs of a sample are clustered: n counts every epoch, the interval is clustered.
    let m = &again.tasks[0].metrics[0];
    assert_eq!(m.n, 80);
    assert_eq!(m.ci_method, touchstone_stats::CiMethod::Clustered);
    assert!(render_table(&again).contains("mc"));
}

/// Cancels the run after `after` recorded items.
struct CancelAfter {
    after: u64,
    seen: AtomicU64,
    cancel: CancellationToken,
}

impl Events for CancelAfter {
    fn item_finished(&self, _: ItemStatus) {
        if self.seen.fetch_add(1, Ordering::SeqCst) + 1 >= self.after {
            self.cancel.cancel();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_leaves_a_resumable_run() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_items(dir.path(), 100);
    let mock = MockServer::start(MockConfig {
        latency: Duration::from_millis(5),
        ..MockConfig::default()
    })
    .await
    .unwrap();
    let db = dir.path().join("r.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&db).unwrap());
    let cancel = CancellationToken::new();
    let events = Arc::new(CancelAfter {
        after: 20,
        seen: AtomicU64::new(0),
        cancel: cancel.clone(),
    });
    let outcome = touchstone_engine::start(
        store.clone(),
        touchstone_providers::Standard::shared(),
        suite_for(dir.path(), &data, 1),
        vec![model(&mock)],
        options(true),
        events,
        cancel,
    )
    .await
    .unwrap();
    assert_eq!(outcome.status, RunStatus::Interrupted);
    let recorded = outcome.results.counts.scored + outcome.results.counts.failed;
    assert!((20..100).contains(&recorded), "{recorded}");
    assert_eq!(outcome.results.counts.pending, 100 - recorded);
    assert_eq!(
        store.latest_unfinished().unwrap().unwrap().id,
        outcome.run_id
    );

    let before = mock.request_count();
    let resumed = touchstone_engine::resume(
        store.clone(),
        touchstone_providers::Standard::shared(),
        db,
        None,
        None,
        Arc::new(NoEvents),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(resumed.run_id, outcome.run_id);
    assert_eq!(resumed.status, RunStatus::Completed);
    assert_eq!(resumed.results.counts.scored, 100);
    // Only unrecorded items were asked again (in-flight ones at the cancel may be repeated).
    let asked_again = mock.request_count() - before;
    assert!(
        asked_again >= 100 - recorded && asked_again <= 100 - recorded + 4,
        "asked again: {asked_again}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_answers_a_repeated_run() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_items(dir.path(), 25);
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("r.db")).unwrap());
    let run = |store: Arc<dyn Store>| {
        let suite = suite_for(dir.path(), &data, 1);
        let spec = model(&mock);
        async move {
            touchstone_engine::start(
                store,
                touchstone_providers::Standard::shared(),
                suite,
                vec![spec],
                options(false),
                Arc::new(NoEvents),
                CancellationToken::new(),
            )
            .await
            .unwrap()
        }
    };
    let first = run(store.clone()).await;
    assert_eq!(mock.request_count(), 25);
    let second = run(store.clone()).await;
    assert_ne!(first.run_id, second.run_id);
    assert_eq!(
        mock.request_count(),
        25,
        "the second run was answered from the cache"
    );
    assert_eq!(
        first.results.tasks[0].metrics,
        second.results.tasks[0].metrics
    );
    let mut cached = 0;
    store
        .for_each_result(&second.run_id, &mut |r| {
            cached += u32::from(r.cached);
            Ok(())
        })
        .unwrap();
    assert_eq!(cached, 25);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_dataset_refuses_to_resume() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_items(dir.path(), 50);
    let mock = MockServer::start(MockConfig {
        latency: Duration::from_millis(5),
        ..MockConfig::default()
    })
    .await
    .unwrap();
    let db = dir.path().join("r.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&db).unwrap());
    let cancel = CancellationToken::new();
    let events = Arc::new(CancelAfter {
        after: 5,
        seen: AtomicU64::new(0),
        cancel: cancel.clone(),
    });
    let outcome = touchstone_engine::start(
        store.clone(),
        touchstone_providers::Standard::shared(),
        suite_for(dir.path(), &data, 1),
        vec![model(&mock)],
        options(true),
        events,
        cancel,
    )
    .await
    .unwrap();
    assert_eq!(outcome.status, RunStatus::Interrupted);
    write_items(dir.path(), 51);
    let err = touchstone_engine::resume(
        store,
        touchstone_providers::Standard::shared(),
        db,
        Some(&outcome.run_id),
        None,
        Arc::new(NoEvents),
        CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("changed"), "{err}");
}
