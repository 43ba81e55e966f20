//! Sampled tasks against the mock server: a run executes exactly the items it drew, a resume
//! reuses the recorded draw, the same seed draws the same items (whatever the row order) and
//! another seed other items; the profile's minimum per stratum is kept or the draw refused.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use touchstone_core::{ItemStatus, ModelSpec};
use touchstone_engine::sample::Draw;
use touchstone_engine::{EvalOptions, Events, ExecOptions, NoEvents};
use touchstone_mock::{MockConfig, MockServer};
use touchstone_store::{RunStatus, SqliteStore, Store};
use touchstone_suite::LoadedSuite;

/// Strata of 60, 30, 20 and 10 items (risk R1…R4), ids `s000`…; `reversed` writes the same
/// rows in the opposite order.
fn write_bank(dir: &std::path::Path, reversed: bool) -> std::path::PathBuf {
    let path = dir.join(if reversed { "rev.jsonl" } else { "bank.jsonl" });
    let mut lines: Vec<String> = (0..120)
        .map(|i| {
            let risk = match i {
                0..60 => "R1",
                60..90 => "R2",
                90..110 => "R3",
                _ => "R4",
            };
            format!(
                "{{\"id\": \"s{i:03}\", \"input\": \"Q{i} [[reply:The answer is A]]\", \"choices\": [\"x\", \"y\"], \"target\": \"A\", \"metadata\": {{\"risk\": \"{risk}\"}}}}"
            )
        })
        .collect();
    if reversed {
        lines.reverse();
    }
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

fn suite_for(dir: &std::path::Path, data: &std::path::Path, sample: &str) -> LoadedSuite {
    let yaml = format!(
        "name: t\ntasks:\n  - name: mc\n    dataset: {{path: {}}}\n    scorers: [choice]\n    sample: {sample}\n",
        data.display()
    );
    let path = dir.join("suite.yaml");
    std::fs::write(&path, yaml).unwrap();
    touchstone_suite::load_file(&path).unwrap()
}

fn model(mock: &MockServer) -> ModelSpec {
    format!("openai:mock@{}", mock.base_url()).parse().unwrap()
}

fn options(seed: u64) -> EvalOptions {
    EvalOptions {
        seed,
        exec: ExecOptions {
            concurrency: Some(4),
            no_cache: true,
            ..ExecOptions::default()
        },
        ..EvalOptions::default()
    }
}

/// The recorded draw of task `mc` of a run.
fn recorded_draw(store: &dyn Store, run: &str) -> Draw {
    let config = store.resolve_run(run).unwrap().config;
    serde_json::from_value(config["options"]["draws"]["mc"].clone()).unwrap()
}

fn recorded_samples(store: &dyn Store, run: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    store
        .for_each_result(run, &mut |r| {
            assert!(ids.insert(r.sample_id.clone()), "one result per sample");
            Ok(())
        })
        .unwrap();
    ids
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
async fn an_interrupted_sampled_run_resumes_exactly_its_draw() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_bank(dir.path(), false);
    let mock = MockServer::start(MockConfig {
        latency: Duration::from_millis(5),
        ..MockConfig::default()
    })
    .await
    .unwrap();
    let db = dir.path().join("r.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&db).unwrap());
    let cancel = CancellationToken::new();
    let outcome = touchstone_engine::start(
        store.clone(),
        touchstone_providers::Standard::shared(),
        suite_for(dir.path(), &data, "{n: 24, stratify: risk, seed: 11}"),
        vec![model(&mock)],
        options(0),
        Arc::new(CancelAfter {
            after: 6,
            seen: AtomicU64::new(0),
            cancel: cancel.clone(),
        }),
        cancel,
    )
    .await
    .unwrap();
    assert_eq!(outcome.status, RunStatus::Interrupted);
    assert_eq!(outcome.results.counts.planned, 24);
    let draw = recorded_draw(store.as_ref(), &outcome.run_id);
    assert_eq!(draw.ids.len(), 24);
    assert_eq!(draw.sampling.seed, 11, "the suite's seed");
    let per_stratum: BTreeMap<&str, usize> = draw
        .sampling
        .strata
        .iter()
        .map(|s| (s.key.as_str(), s.drawn))
        .collect();
    assert_eq!(
        per_stratum,
        BTreeMap::from([("R1", 12), ("R2", 6), ("R3", 4), ("R4", 2)])
    );
    let before = recorded_samples(store.as_ref(), &outcome.run_id);
    assert!(before.len() < 24 && !before.is_empty(), "{}", before.len());
    assert!(before.iter().all(|id| draw.ids.contains(id)));

    // A resume runs the recorded draw, not a new one: even with the suite's seed changed in
    // the record, the same ids are planned and executed.
    let mut config = store.resolve_run(&outcome.run_id).unwrap().config;
    config["suite"]["tasks"][0]["sample"]["seed"] = 99.into();
    config["options"]["seed"] = 99.into();
    store.update_run_config(&outcome.run_id, &config).unwrap();
    let asked = mock.request_count();
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
    assert_eq!(resumed.status, RunStatus::Completed);
    assert_eq!(resumed.results.counts.planned, 24);
    assert_eq!(resumed.results.counts.scored, 24);
    let executed = recorded_samples(store.as_ref(), &outcome.run_id);
    assert_eq!(
        executed,
        draw.ids.iter().cloned().collect::<BTreeSet<_>>(),
        "exactly the drawn items"
    );
    let asked_again = mock.request_count() - asked;
    assert!(
        asked_again >= (24 - before.len()) as u64 && asked_again <= (24 - before.len() + 4) as u64,
        "asked again: {asked_again}"
    );
    // The summary says how they were drawn.
    let sampling = resumed.results.tasks[0].sampling.as_ref().unwrap();
    assert_eq!(
        (sampling.drawn, sampling.from, sampling.seed),
        (24, 120, 11)
    );
    let table = touchstone_engine::render_table(&resumed.results);
    assert!(
        table.contains("抽样 Sampling") && table.contains("stratified (risk)"),
        "{table}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_draws_the_same_items_and_another_seed_others() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_bank(dir.path(), false);
    let reversed = write_bank(dir.path(), true);
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("r.db")).unwrap());
    let run = async |data: &std::path::Path, seed: u64| {
        // No seed in the suite: the run's (`--seed`) decides.
        let outcome = touchstone_engine::start(
            store.clone(),
            touchstone_providers::Standard::shared(),
            suite_for(dir.path(), data, "{n: 15, stratify: risk}"),
            vec![model(&mock)],
            options(seed),
            Arc::new(NoEvents),
            CancellationToken::new(),
        )
        .await
        .unwrap();
        assert_eq!(outcome.status, RunStatus::Completed);
        let draw = recorded_draw(store.as_ref(), &outcome.run_id);
        assert_eq!(
            recorded_samples(store.as_ref(), &outcome.run_id),
            draw.ids.iter().cloned().collect::<BTreeSet<_>>()
        );
        draw
    };
    let first = run(&data, 5).await;
    let again = run(&data, 5).await;
    assert_eq!(first, again, "same seed, same plan");
    let other_order = run(&reversed, 5).await;
    assert_eq!(first.ids, other_order.ids, "the row order does not matter");
    let other_seed = run(&data, 6).await;
    assert_ne!(first.ids, other_seed.ids, "another seed, other items");
    assert_eq!(first.ids.len(), 15);
    assert_eq!(other_seed.sampling.seed, 6);
    // Unstratified: a simple random draw of the whole bank.
    let outcome = touchstone_engine::start(
        store.clone(),
        touchstone_providers::Standard::shared(),
        suite_for(dir.path(), &data, "{n: 7}"),
        vec![model(&mock)],
        options(5),
        Arc::new(NoEvents),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.results.counts.scored, 7);
    let s = outcome.results.tasks[0].sampling.as_ref().unwrap();
    assert_eq!(s.method, touchstone_engine::sample::Method::Random);
    assert!(s.strata.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bank_smaller_than_n_is_run_whole_and_the_limit_comes_first() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_bank(dir.path(), false);
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("r.db")).unwrap());
    // `--limit 10` narrows the bank to its first 10 rows; a draw of 50 then takes them all.
    let outcome = touchstone_engine::start(
        store.clone(),
        touchstone_providers::Standard::shared(),
        suite_for(dir.path(), &data, "{n: 50}"),
        vec![model(&mock)],
        EvalOptions {
            limit: Some(10),
            ..options(0)
        },
        Arc::new(NoEvents),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.results.counts.scored, 10);
    let s = outcome.results.tasks[0].sampling.as_ref().unwrap();
    assert!(s.took_all());
    assert_eq!((s.requested, s.drawn, s.from), (50, 10, 10));
    let ids = recorded_samples(store.as_ref(), &outcome.run_id);
    assert_eq!(ids.first().unwrap(), "s000");
    assert_eq!(ids.last().unwrap(), "s009");
}

/// The built-in content bank (372 questions, 12 on each of the 31 risks) assessed against the
/// GB/T 45654-2025 profile, drawn with `n`.
fn gbt_content(n: usize) -> touchstone_core::TaskSpec {
    let yaml = format!(
        "name: g\nprofile: gbt45654-2025\ntasks:\n  - name: content\n    dataset:\n      builtin: gbt45654/content\n      fields: {{input: text, metadata: [lang, risk, bank]}}\n    scorers: [{{name: keywords, metric: keyword_pass_rate}}]\n    assess: [content-keyword]\n    sample: {{n: {n}, stratify: risk}}\n"
    );
    touchstone_suite::parse_suite_str(&yaml, "g.yaml")
        .unwrap()
        .tasks
        .remove(0)
}

#[test]
fn the_profile_minimum_per_risk_is_kept_or_the_draw_refused() {
    let profile = touchstone_compliance::Profile::load("gbt45654-2025").unwrap();
    let draw = touchstone_engine::plan::draw_task(
        &gbt_content(62),
        &EvalOptions::default(),
        Some(&profile),
    )
    .unwrap()
    .unwrap();
    assert_eq!(draw.ids.len(), 62);
    assert_eq!(draw.sampling.from, 372);
    assert_eq!(draw.sampling.strata.len(), 31);
    assert!(draw.sampling.strata.iter().all(|s| s.drawn == 2));
    let min = draw.sampling.min_per_stratum.as_ref().unwrap();
    assert_eq!(min.value, 1);
    assert!(min.source.contains("content-keyword"), "{}", min.source);

    let e = touchstone_engine::plan::draw_task(
        &gbt_content(20),
        &EvalOptions::default(),
        Some(&profile),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("cannot draw 20") && e.contains("31 strata") && e.contains("need 31"),
        "{e}"
    );
    assert!(e.contains("content-keyword"), "{e}");
    // Without the profile there is no minimum: 20 are drawn over the largest remainders.
    let draw = touchstone_engine::plan::draw_task(&gbt_content(20), &EvalOptions::default(), None)
        .unwrap()
        .unwrap();
    assert_eq!(draw.ids.len(), 20);
    // And `suites validate` counts what a run would draw.
    assert_eq!(
        touchstone_engine::plan::check_task_data_with(&gbt_content(62), Some(&profile)).unwrap(),
        62
    );
}

#[test]
fn a_label_some_samples_lack_is_an_error_naming_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.jsonl");
    std::fs::write(
        &data,
        "{\"id\": \"a\", \"input\": \"x\", \"metadata\": {\"risk\": \"R1\"}}\n{\"id\": \"b\", \"input\": \"y\", \"metadata\": {\"lang\": \"en\"}}\n",
    )
    .unwrap();
    let mut task = touchstone_core::TaskSpec::new(
        "t",
        touchstone_core::DatasetSpec {
            source: touchstone_core::DatasetSource::Path(data),
            format: None,
            fields: Default::default(),
            limit: None,
            filter: Default::default(),
        },
        vec![touchstone_core::ScorerSpec::named("exact")],
    );
    task.sample = Some(touchstone_core::SampleSpec {
        n: 1,
        stratify: Some("risk".into()),
        seed: None,
    });
    let e = touchstone_engine::plan::draw_task(&task, &EvalOptions::default(), None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("task `t`") && e.contains("sample `b`") && e.contains("`risk`"),
        "{e}"
    );
}
