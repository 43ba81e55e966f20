//! What a run can evaluate at the center beyond the built-in suites: a suite uploaded with its
//! datasets (stored by content hash, readable only by its organisation, refused when it reads
//! anything it did not bring), and the benchmarks of the center's data folder.

mod common;

use common::{Auth, Harness, shared_data};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const SUITE: &str = "name: uploaded\ntasks:\n  - name: sums\n    dataset:\n      path: data/items.jsonl\n    scorers: [exact]\n";
const ITEMS: &str = "{\"input\": \"1+1\", \"target\": \"2\"}\n{\"input\": \"2+2\", \"target\": \"4\"}\n{\"input\": \"3+3\", \"target\": \"6\"}\n";

fn upload(suite: &str, files: Value) -> Value {
    json!({ "name": "mine", "suite": suite, "files": files })
}

async fn submit(h: &Harness, who: &Auth, body: Value) -> common::Reply {
    h.call("POST", "/api/v1/runs", who, Some(body)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_uploaded_suite_runs_from_files_stored_by_content_hash() {
    let h = Harness::start(1).await;
    h.create_org("acme").await;
    h.create_org("other").await;
    let alice = h.user("alice", "applicant", Some("acme")).await;
    let oscar = h.user("oscar", "applicant", Some("other")).await;
    let model = h.model(&alice, "acme").await;
    let oscar_model = h.model(&oscar, "other").await;
    let files = json!([{ "path": "data/items.jsonl", "text": ITEMS }]);

    let r = h
        .call(
            "POST",
            "/api/v1/suites",
            &alice,
            Some(upload(SUITE, files.clone())),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("s_"), "{id}");
    assert_eq!(r.body["tasks"], json!(["sums"]));
    // The file is stored once, under its SHA-256; the same upload again is the same suite.
    let digest = hex::encode(Sha256::digest(ITEMS.as_bytes()));
    assert!(h.dir.path().join("uploads/blobs").join(&digest).is_file());
    let again = h
        .call(
            "POST",
            "/api/v1/suites",
            &alice,
            Some(upload(SUITE, files.clone())),
        )
        .await;
    assert_eq!(again.body["id"], json!(id), "{}", again.text);
    let listed = h.call("GET", "/api/v1/suites", &alice, None).await;
    let uploads = listed.body["uploads"].as_array().unwrap();
    assert_eq!(uploads.len(), 1, "{}", listed.text);
    assert_eq!(uploads[0]["manifest"]["files"][0]["sha256"], json!(digest));
    assert!(
        listed.body["builtin"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "quick")
    );

    // Run it: every item of the uploaded file is asked and scored.
    let r = submit(&h, &alice, json!({ "upload": id, "models": [model] })).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let run = r.body["run_id"].as_str().unwrap().to_string();
    let done = h.wait_finished(&alice, &run, 120).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["scored"], 3, "{done}");

    // Another organisation neither sees nor uses it.
    let theirs = h.call("GET", "/api/v1/suites", &oscar, None).await;
    assert_eq!(theirs.body["uploads"], json!([]), "{}", theirs.text);
    let r = submit(&h, &oscar, json!({ "upload": id, "models": [oscar_model] })).await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(r.body["error"]["location"], "upload");

    // Bad uploads are refused where they are wrong, and nothing of them is kept.
    let bad: Vec<(Value, &str)> = vec![
        (
            upload(SUITE, json!([{ "path": "../items.jsonl", "text": ITEMS }])),
            "files[0].path",
        ),
        (
            upload(SUITE, json!([{ "path": "/etc/passwd", "text": ITEMS }])),
            "files[0].path",
        ),
        (
            upload(SUITE, json!([{ "path": "data/.hidden", "text": ITEMS }])),
            "files[0].path",
        ),
        (
            upload(
                SUITE,
                json!([{ "path": "data/items.jsonl", "text": ITEMS, "base64": "AAAA" }]),
            ),
            "files[0]",
        ),
        (
            upload(
                SUITE,
                json!([{ "path": "data/items.jsonl", "base64": "not base64!" }]),
            ),
            "files[0].base64",
        ),
        (
            upload(
                SUITE,
                json!([{ "path": "a.jsonl", "text": ITEMS }, { "path": "a.jsonl", "text": ITEMS }]),
            ),
            "files[1].path",
        ),
        // The suite reads what it did not bring: the center's own files, the system's.
        (
            upload(
                &SUITE.replace("data/items.jsonl", "../../master.key"),
                files.clone(),
            ),
            "suite",
        ),
        (
            upload(
                &SUITE.replace("data/items.jsonl", "/etc/hostname"),
                files.clone(),
            ),
            "suite",
        ),
        (upload("tasks: [", files.clone()), "suite"),
        (
            json!({ "name": "x y", "suite": SUITE, "files": files.clone() }),
            "name",
        ),
        (
            json!({ "name": "x", "suite": SUITE, "files": files.clone(), "extra": 1 }),
            "extra",
        ),
    ];
    for (body, location) in bad {
        let r = h
            .call("POST", "/api/v1/suites", &alice, Some(body.clone()))
            .await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert_eq!(r.body["error"]["location"], location, "{body}: {}", r.text);
        // No path of the server in what the uploader reads.
        let root = h.dir.path().display().to_string();
        assert!(!r.text.contains(&root), "{}", r.text);
    }
    let listed = h.call("GET", "/api/v1/suites", &alice, None).await;
    assert_eq!(listed.body["uploads"].as_array().unwrap().len(), 1);

    // Exactly one of suite, benchmark, upload; and no benchmarks without a data folder.
    for body in [
        json!({ "models": [model] }),
        json!({ "suite": "quick", "upload": id, "models": [model] }),
        json!({ "benchmark": "gsm8k", "models": [model] }),
    ] {
        let r = submit(&h, &alice, body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_center_offers_the_benchmarks_of_its_data_folder() {
    let h = Harness::start_with_data(1, shared_data("")).await;
    h.create_org("acme").await;
    let alice = h.user("alice", "applicant", Some("acme")).await;
    let model = h.model(&alice, "acme").await;
    let listed = h.call("GET", "/api/v1/suites", &alice, None).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let benchmarks = listed.body["benchmarks"].as_array().unwrap();
    for name in ["gsm8k", "mmlu", "humaneval"] {
        let b = benchmarks
            .iter()
            .find(|b| b["name"] == name)
            .unwrap_or_else(|| panic!("{name} is not offered: {}", listed.text));
        assert_eq!(b["available"], true, "{b}");
    }

    // gsm8k is a folder holding one data file beside its licence: that file is the benchmark.
    let r = submit(
        &h,
        &alice,
        json!({ "benchmark": "gsm8k", "models": [model], "limit": 3 }),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let run = r.body["run_id"].as_str().unwrap().to_string();
    let done = h.wait_finished(&alice, &run, 120).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["scored"], 3, "{done}");

    // An unknown benchmark is named back with what exists, and no server path.
    let r = submit(
        &h,
        &alice,
        json!({ "benchmark": "gsm9k", "models": [model] }),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error"]["location"], "benchmark");
    assert!(r.text.contains("gsm8k"), "{}", r.text);
    assert!(!r.text.contains("shared/data"), "{}", r.text);
    // mmlu without its dev split folder for worked examples would be refused at submission;
    // the shared copy has it, so a few shots run.
    let r = submit(
        &h,
        &alice,
        json!({ "benchmark": "mmlu", "models": [model], "limit": 2, "shots": 1 }),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text);
}
