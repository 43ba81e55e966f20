//! A run whose tasks were sampled says how in results.json (validated by the schema) and in both
//! documents, in both languages; a run that sampled nothing shows no sampling section.

mod common;

use touchstone_engine::sample::Method;
use touchstone_report::{Format, Lang, ReportData, render};
use touchstone_store::{SqliteStore, Store};

/// The demo run, as if `content` had been drawn stratified by risk and `attacks` had asked for
/// more than its bank holds.
fn sampled_run(store: &SqliteStore) -> String {
    let run = common::write_gbt_run(store, false);
    let mut config = store.resolve_run(&run).unwrap().config;
    config["options"]["draws"] = serde_json::json!({
        "content": {
            "method": "stratified", "by": "risk", "seed": 7, "requested": 62, "drawn": 62,
            "from": 372,
            "min_per_stratum": {"value": 1, "source": "profile gbt45654-2025, check content-keyword"},
            "strata": [{"key": "A.1a", "from": 12, "drawn": 2}, {"key": "A.1b", "from": 12, "drawn": 2}],
            "ids": ["content-A.1a-zh-01", "content-A.1b-zh-02"]
        },
        "attacks": {
            "method": "random", "seed": 7, "requested": 50, "drawn": 34, "from": 34,
            "ids": ["refuse-A.1a-zh-01"]
        }
    });
    store.update_run_config(&run, &config).unwrap();
    run
}

#[test]
fn results_json_says_how_each_task_was_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("r.db")).unwrap();
    let run = sampled_run(&store);
    let results = touchstone_engine::summarize(&store, &run).unwrap();
    for t in &results.tasks {
        match t.name.as_str() {
            "content" => {
                let s = t.sampling.as_ref().expect("content was sampled");
                assert_eq!(s.method, Method::Stratified);
                assert_eq!(s.by.as_deref(), Some("risk"));
                assert_eq!((s.seed, s.drawn, s.from), (7, 62, 372));
                assert!(!s.took_all());
            }
            "attacks" => assert!(t.sampling.as_ref().unwrap().took_all()),
            _ => assert!(t.sampling.is_none(), "{}", t.name),
        }
    }
    // results.json as written validates, the sampling section included.
    let out = dir.path().join("out");
    touchstone_engine::write_outputs(&store, &results, &out).unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap();
    let content = json["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "content")
        .unwrap();
    assert_eq!(content["sampling"]["method"], "stratified");
    assert_eq!(content["sampling"]["from"], 372);
    assert!(
        content["sampling"].get("ids").is_none(),
        "ids stay in the config"
    );
    assert_eq!(
        json["config"]["options"]["draws"]["content"]["ids"][0],
        "content-A.1a-zh-01"
    );
    let schema: serde_json::Value =
        serde_json::from_str(touchstone_report::RESULTS_SCHEMA).unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .take(10)
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let mut bad = json.clone();
    bad["tasks"][0]["sampling"] =
        serde_json::json!({"method": "lottery", "seed": 1, "requested": 1, "drawn": 1, "from": 1});
    assert!(!validator.is_valid(&bad), "unknown sampling method");
}

#[test]
fn both_documents_say_how_items_were_drawn_in_both_languages() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("r.db")).unwrap();
    let run = sampled_run(&store);
    let data = ReportData::from_store(&store, &run).unwrap();
    for format in [Format::Html, Format::Markdown] {
        let zh = render(&data, format, Lang::Zh);
        assert!(zh.contains("抽取 / 题库"), "{format}");
        assert!(zh.contains("分层随机抽样（按 risk）"), "{format}");
        assert!(zh.contains("62 / 372"), "{format}");
        assert!(zh.contains("全部 34 / 34（要求 50，题库不足）"), "{format}");
        assert!(zh.contains("每层至少 1"), "{format}");
        assert!(zh.contains("A.1a 2/12"), "{format}");
        assert!(zh.contains("简单随机抽样"), "{format}");
        let en = render(&data, format, Lang::En);
        assert!(en.contains("Drawn / bank"), "{format}");
        assert!(en.contains("stratified random (by risk)"), "{format}");
        assert!(
            en.contains("all 34 of 34 (asked for 50, the bank is smaller)"),
            "{format}"
        );
        assert!(en.contains("at least 1 per stratum"), "{format}");
        assert!(en.contains("simple random"), "{format}");
        // Deterministic, like the rest of the report.
        assert_eq!(en, render(&data, format, Lang::En));
    }

    let unsampled = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&unsampled.path().join("r.db")).unwrap();
    let run = common::write_gbt_run(&store, false);
    let data = ReportData::from_store(&store, &run).unwrap();
    for format in [Format::Html, Format::Markdown] {
        assert!(!render(&data, format, Lang::En).contains("Drawn / bank"));
        assert!(!render(&data, format, Lang::Zh).contains("抽取 / 题库"));
    }
}
