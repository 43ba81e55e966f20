//! Acceptance (issue 5, point 4): `touchstone compare` on two mock models with a known
//! 10-point difference over 1,000 items reports it as significant; on identical models, not.
//! The mock's `[[unknown-to:weak]]` rule makes the model named `weak` miss exactly the items
//! that carry it.

mod common;

use common::*;
use touchstone_mock::{MockConfig, spawn_background};

/// 1,000 arithmetic items; every tenth is unknown to the model named `weak`.
fn write_items(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("items.jsonl");
    let lines: Vec<String> = (0..1000)
        .map(|i| {
            let (a, b) = (i % 97, i / 7);
            let marker = if i % 10 == 0 { " [[unknown-to:weak]]" } else { "" };
            serde_json::json!({"id": format!("q{i}"), "input": format!("What is {a} + {b}?{marker}"), "target": (a + b).to_string()})
                .to_string()
        })
        .collect();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

/// Evaluates one model (named `name` on the mock) and returns the run id.
fn eval(dir: &std::path::Path, items: &std::path::Path, url: &str, name: &str) -> String {
    let mut args: Vec<String> = [
        "eval",
        "--dataset",
        items.to_str().unwrap(),
        "--scorer",
        "numeric",
        "--quiet",
        "--concurrency",
        "16",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(["--model".to_string(), format!("openai:{name}@{url}")]);
    let out = dir.join(format!("out-{name}"));
    args.extend([
        "--db".to_string(),
        db(dir).to_str().unwrap().to_string(),
        "--out".to_string(),
        out.to_str().unwrap().to_string(),
    ]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = run(&refs);
    assert!(o.status.success(), "{}", stderr(&o));
    read_json(&out.join("results.json"))["run_id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn compare(dir: &std::path::Path, runs: &[&str]) -> serde_json::Value {
    let mut args = vec!["compare"];
    args.extend(runs);
    let db = db(dir);
    args.extend(["--json", "--db", db.to_str().unwrap()]);
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

#[test]
fn a_ten_point_difference_is_significant_and_identical_models_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let items = write_items(dir.path());
    let mock = spawn_background(MockConfig::default()).unwrap();
    let url = mock.base_url();
    let strong = eval(dir.path(), &items, &url, "strong");
    let weak = eval(dir.path(), &items, &url, "weak");
    let twin = eval(dir.path(), &items, &url, "twin");

    let c = compare(dir.path(), &[&strong, &weak]);
    let pair = &c["tasks"][0]["pairs"][0];
    assert_eq!(pair["n"], 1000);
    assert_eq!(pair["test"], "mcnemar-exact");
    assert!(
        (pair["difference"].as_f64().unwrap() - 0.1).abs() < 1e-9,
        "{pair}"
    );
    assert_eq!(pair["discordant"], serde_json::json!([100, 0]));
    assert!(
        pair["ci_low"].as_f64().unwrap() > 0.0,
        "the interval excludes 0: {pair}"
    );
    assert!(pair["p_value"].as_f64().unwrap() < 1e-20, "{pair}");
    assert_eq!(pair["significant"], true);

    let c = compare(dir.path(), &[&strong, &twin]);
    let pair = &c["tasks"][0]["pairs"][0];
    assert_eq!(pair["difference"].as_f64().unwrap(), 0.0, "{pair}");
    assert_eq!(pair["p_value"].as_f64().unwrap(), 1.0);
    assert_eq!(pair["significant"], false);

    // Three models: the two indistinguishable ones share the top tier, `weak` is below.
    let c = compare(dir.path(), &[&weak, &strong, &twin]);
    let scores = c["tasks"][0]["scores"].as_array().unwrap();
    let tier = |i: usize| scores[i]["tier"].as_u64().unwrap();
    assert_eq!((tier(0), tier(1), tier(2)), (1, 0, 0), "{scores:?}");

    // The table says the same to people.
    let o = run(&[
        "compare",
        &strong,
        &weak,
        "--db",
        db(dir.path()).to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = stdout(&o);
    assert!(
        table.contains("显著 significant") && table.contains("McNemar exact (100/0)"),
        "{table}"
    );

    // And as a leaderboard document to publish.
    let page = dir.path().join("leaderboard.html");
    let o = run(&[
        "compare",
        &weak,
        &strong,
        &twin,
        "--format",
        "html",
        "--lang",
        "en",
        "--out",
        page.to_str().unwrap(),
        "--db",
        db(dir.path()).to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("Leaderboard") && html.contains("openai:weak@"),
        "{html}"
    );
}

#[test]
fn compare_needs_two_models() {
    let dir = tempfile::tempdir().unwrap();
    let items = write_items(dir.path());
    let mock = spawn_background(MockConfig::default()).unwrap();
    let only = eval(dir.path(), &items, &mock.base_url(), "strong");
    let o = run(&["compare", &only, "--db", db(dir.path()).to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("at least two models"), "{}", stderr(&o));
    // The same run twice, once by a prefix: not two models.
    let o = run(&[
        "compare",
        &only,
        &only[..12],
        "--db",
        db(dir.path()).to_str().unwrap(),
    ]);
    assert_clean_failure(&o, &["are the same run", "name each run once"]);
}

#[test]
fn plan_sizes_a_three_point_difference() {
    let o = run(&["plan", "--baseline", "0.8", "--effect", "0.03", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let plan: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let two = plan["two_models_independent"].as_u64().unwrap();
    // 0.80 vs 0.83, α = 0.05, power 0.8: 2,629 per model (pooled z-test, no continuity correction).
    assert_eq!(two, 2_629, "{plan}");
    assert!(plan["one_model"].as_u64().unwrap() < two);
    // A drop is a negative effect.
    let o = run(&["plan", "--baseline", "0.95", "--effect", "-0.05", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let drop: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(
        drop["two_models_independent"].as_u64().unwrap() > 0,
        "{drop}"
    );
    let o = run(&["plan", "--baseline", "0.99", "--effect", "0.03"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("outside (0, 1)"), "{}", stderr(&o));
}

#[test]
fn plan_names_the_flag_it_rejects() {
    for (args, says, code) in [
        (
            vec!["--baseline", "1.5", "--effect", "0.1"],
            "--baseline",
            2,
        ),
        (vec!["--baseline=-0.5", "--effect", "0.6"], "--baseline", 2),
        (vec!["--baseline", "0.5", "--effect", "0"], "--effect", 2),
        (vec!["--baseline", "0.5", "--effect", "NaN"], "--effect", 2),
        (
            vec!["--baseline", "0.5", "--effect", "0.1", "--discordant", "2"],
            "--discordant",
            2,
        ),
        (
            vec!["--baseline", "0.5", "--effect", "0.1", "--power", "0.01"],
            "--alpha",
            1,
        ),
        (vec!["--baseline", "0.95", "--effect", "0.1"], "--effect", 1),
    ] {
        let mut all = vec!["plan"];
        all.extend(args.iter().copied());
        let o = run(&all);
        assert_clean_failure(&o, &[says]);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stderr(&o));
    }
}
