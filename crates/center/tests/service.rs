//! The center end to end in one process: an applicant registers a model and requests a run, a
//! worker executes it, results come back with their intervals; keys stay sealed; every change
//! and every read of a non-public object is in the audit trail; cancel and per-organisation
//! limits hold.

mod common;

use std::time::Duration;

use common::Harness;
use serde_json::json;
use touchstone_mock::MockConfig;

const KEY: &str = "sk-very-secret-key-4f1e";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_applicant_runs_an_assessment_and_the_auditor_sees_every_step() {
    let h = Harness::start(1).await;
    h.create_org("acme").await;
    let alice = h.user("alice", "applicant", Some("acme")).await;
    let auditor = h.user("aud", "auditor", None).await;
    let r = h
        .call(
            "POST",
            "/api/v1/models",
            &alice,
            Some(json!({ "name": "mock", "base_url": h.mock.base_url(), "api_key": KEY })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["organisation"], "acme");
    assert_eq!(r.body["has_key"], true);
    let model = r.body["id"].as_str().unwrap().to_string();
    let r = h
        .call(
            "POST",
            &format!("/api/v1/models/{model}/test"),
            &alice,
            None,
        )
        .await;
    assert_eq!(r.body["ok"], true, "{}", r.text);

    // A token for CI, used like a vendor's pipeline would.
    let (_, token) = h.token(&alice, &["read", "runs"]).await;
    let ci = common::Auth::Bearer(token.clone());
    let r = h
        .call(
            "POST",
            "/api/v1/runs",
            &ci,
            Some(json!({ "suite": "quick", "models": [model], "limit": 3 })),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let run = r.body["run_id"].as_str().unwrap().to_string();
    let done = h.wait_finished(&ci, &run, 120).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        done["planned"],
        done["scored"].as_u64().unwrap() + done["failed"].as_u64().unwrap()
    );
    let results = h
        .call("GET", &format!("/api/v1/runs/{run}/results"), &ci, None)
        .await;
    assert_eq!(results.status, 200, "{}", results.text);
    assert_eq!(results.body["run_id"], run.as_str());
    assert!(
        results.body["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["metrics"].is_array() || t["metrics"].is_object()),
        "{}",
        results.text
    );
    // Samples, a page at a time: every item once, in order; filters; bad parameters located.
    let planned = done["planned"].as_u64().unwrap() as usize;
    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let page = h
            .call(
                "GET",
                &format!("/api/v1/runs/{run}/samples?limit=4&after={after}"),
                &ci,
                None,
            )
            .await;
        assert_eq!(page.status, 200, "{}", page.text);
        for s in page.body["samples"].as_array().unwrap() {
            seen.push(s["item_id"].as_str().unwrap().to_string());
        }
        match page.body["next"].as_str() {
            Some(next) => after = next.to_string(),
            None => break,
        }
    }
    assert_eq!(seen.len(), planned);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen);
    let task = h
        .call(
            "GET",
            &format!("/api/v1/runs/{run}/samples?task=arithmetic&status=scored"),
            &ci,
            None,
        )
        .await;
    let tasks = task.body["samples"].as_array().unwrap();
    assert!(
        !tasks.is_empty()
            && tasks
                .iter()
                .all(|s| s["task"] == "arithmetic" && s["status"] == "scored"),
        "{}",
        task.text
    );
    for bad in [
        "limit=0",
        "limit=x",
        "status=lost",
        "label=nocolon",
        "score_min=NaN",
    ] {
        let r = h
            .call(
                "GET",
                &format!("/api/v1/runs/{run}/samples?{bad}"),
                &ci,
                None,
            )
            .await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
        assert!(
            r.body["error"]["location"]
                .as_str()
                .unwrap()
                .starts_with("query:")
        );
    }
    let listed = h.call("GET", "/api/v1/runs", &alice, None).await;
    assert_eq!(listed.body["runs"][0]["run_id"], run.as_str());

    // The key: never in an answer, never in the database file, never in the trail.
    for path in [
        "/api/v1/models".to_string(),
        format!("/api/v1/models/{model}"),
        format!("/api/v1/runs/{run}"),
    ] {
        let r = h.call("GET", &path, &alice, None).await;
        assert!(!r.text.contains(KEY), "{path} shows the key");
    }
    let mut bytes = std::fs::read(h.db()).unwrap();
    for wal in ["-wal", "-shm"] {
        let mut p = h.db().into_os_string();
        p.push(wal);
        bytes.extend(std::fs::read(p).unwrap_or_default());
    }
    assert!(
        !bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes()),
        "the key is stored in clear"
    );
    assert!(
        !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
        "the token is stored in clear"
    );

    let audit = h.call("GET", "/api/v1/audit", &auditor, None).await;
    assert_eq!(audit.status, 200);
    assert!(!audit.text.contains(KEY) && !audit.text.contains(&token));
    let events: Vec<serde_json::Value> = audit
        .text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let has = |action: &str, object: &str, actor: &str| {
        events.iter().any(|e| {
            e["action"] == action
                && e["object"] == object
                && e["actor"] == actor
                && e["outcome"] == "ok"
        })
    };
    assert!(
        has("ModelsCreate", &format!("model:{model}"), "alice"),
        "{}",
        audit.text
    );
    assert!(has("ModelsTest", &format!("model:{model}"), "alice"));
    assert!(has("RunsCreate", &format!("run:{run}"), "alice"));
    assert!(has("RunsResults", &format!("run:{run}"), "alice"));
    assert!(
        has("RunFinished", &format!("run:{run}"), "worker")
            || events
                .iter()
                .any(|e| e["action"] == "RunFinished" && e["outcome"] == "completed")
    );
    let e = events.iter().find(|e| e["action"] == "RunsCreate").unwrap();
    assert_eq!(e["role"], "applicant");
    assert_eq!(e["organisation"], "acme");
    assert_eq!(e["source"], "127.0.0.1");
    // Reading the trail is itself an event (after this read).
    let again = h.call("GET", "/api/v1/audit", &auditor, None).await;
    assert!(again.text.contains("\"AuditList\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_run_is_cancelled_and_an_organisation_runs_no_more_than_its_limit() {
    let h = Harness::start_with(
        2,
        MockConfig {
            latency: Duration::from_millis(100),
            ..MockConfig::default()
        },
    )
    .await;
    let r = h
        .call(
            "POST",
            "/api/v1/organisations",
            &h.admin,
            Some(json!({ "name": "acme", "max_running": 1 })),
        )
        .await;
    assert_eq!(r.status, 201);
    let assessor = h.user("asa", "assessor", None).await;
    let model = h.model(&h.admin, "acme").await;
    let submit = || {
        h.call(
            "POST",
            "/api/v1/runs",
            &assessor,
            Some(json!({ "organisation": "acme", "suite": "quick", "models": [model], "concurrency": 1 })),
        )
    };
    let first = submit().await.body["run_id"].as_str().unwrap().to_string();
    let second = submit().await.body["run_id"].as_str().unwrap().to_string();
    // Two workers, but acme may run one job at a time.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let a = h
            .call("GET", &format!("/api/v1/runs/{first}"), &assessor, None)
            .await;
        if a.body["scored"].as_u64().unwrap_or(0) >= 2 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", a.text);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let b = h
        .call("GET", &format!("/api/v1/runs/{second}"), &assessor, None)
        .await;
    assert_eq!(b.body["status"], "queued", "{}", b.text);
    // Cancelling the queued one ends it at once; the running one stops within moments.
    let r = h
        .call(
            "POST",
            &format!("/api/v1/runs/{second}/cancel"),
            &assessor,
            None,
        )
        .await;
    assert_eq!(r.status, 202);
    assert_eq!(r.body["status"], "cancelled");
    let r = h
        .call(
            "POST",
            &format!("/api/v1/runs/{first}/cancel"),
            &assessor,
            None,
        )
        .await;
    assert_eq!(r.status, 202);
    let done = h.wait_finished(&assessor, &first, 30).await;
    assert_eq!(done["status"], "cancelled", "{done}");
    assert!(done["scored"].as_u64().unwrap() < 100, "{done}");
    let store = touchstone_store::SqliteStore::open(&h.db()).unwrap();
    use touchstone_store::Store;
    assert_eq!(
        store.run(&first).unwrap().unwrap().status,
        touchstone_store::RunStatus::Interrupted
    );
    assert!(store.run(&second).unwrap().is_none());
    // Each stream ends with how its job ended, the queued one's too.
    for (id, status) in [(&first, "cancelled"), (&second, "cancelled")] {
        let (_, events) = h.events(&assessor, id, None).await;
        let last = events.last().unwrap();
        assert_eq!(
            (last.1.as_str(), &last.2["status"]),
            ("done", &json!(status))
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn live_progress_streams_every_event_and_resumes_after_the_last_one_seen() {
    let h = Harness::start_with(
        1,
        MockConfig {
            latency: Duration::from_millis(10),
            ..MockConfig::default()
        },
    )
    .await;
    h.create_org("acme").await;
    let alice = h.user("alice", "applicant", Some("acme")).await;
    let model = h.model(&alice, "acme").await;
    let r = h
        .call(
            "POST",
            "/api/v1/runs",
            &alice,
            Some(json!({ "organisation": "acme", "suite": "quick", "models": [model], "epochs": 4, "concurrency": 2 })),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let run = r.body["run_id"].as_str().unwrap().to_string();
    // Subscribers from the start, while the run is queued or running: all see the same events.
    let streams: Vec<_> = (0..20).map(|_| h.events(&alice, &run, None)).collect();
    let all = futures::future::join_all(streams).await;
    let (status, events) = all[0].clone();
    assert_eq!(status, 200);
    for other in &all[1..] {
        assert_eq!(other.1, events, "every subscriber receives every event");
    }
    let ids: Vec<u64> = events.iter().map(|e| e.0).collect();
    assert_eq!(
        ids,
        (1..=events.len() as u64).collect::<Vec<_>>(),
        "ids are dense"
    );
    let kinds: Vec<&str> = events.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(kinds[0], "planned", "{kinds:?}");
    assert_eq!(*kinds.last().unwrap(), "done", "{kinds:?}");
    let planned = &events[0].2;
    let total = planned["planned"].as_u64().unwrap();
    assert_eq!(planned["recorded"], 0);
    let tasks = planned["tasks"].as_array().unwrap();
    assert_eq!(
        tasks
            .iter()
            .map(|t| t["planned"].as_u64().unwrap())
            .sum::<u64>(),
        total
    );
    // One `task` event per task, when its last item is recorded, with all its items.
    let done_tasks: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e.1 == "task")
        .map(|e| &e.2)
        .collect();
    assert_eq!(done_tasks.len(), tasks.len(), "{kinds:?}");
    for t in &done_tasks {
        assert_eq!(
            t["scored"].as_u64().unwrap() + t["failed"].as_u64().unwrap(),
            t["planned"].as_u64().unwrap()
        );
    }
    // Progress climbs to the whole run, with a rate and an ETA on the way.
    let progress: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e.1 == "progress")
        .map(|e| &e.2)
        .collect();
    assert!(progress.len() >= 2, "{kinds:?}");
    let done_counts: Vec<u64> = progress
        .iter()
        .map(|p| p["done"].as_u64().unwrap())
        .collect();
    assert!(
        done_counts.windows(2).all(|w| w[0] <= w[1]),
        "{done_counts:?}"
    );
    assert_eq!(*done_counts.last().unwrap(), total);
    assert!(
        progress
            .iter()
            .any(|p| p["rate_per_s"].as_f64().unwrap() > 0.0 && p["eta_s"].is_u64())
    );
    assert_eq!(events.last().unwrap().2["status"], "completed");

    // A reconnect after event k receives exactly the events after k, by header or query.
    let k = events.len() as u64 / 2;
    let (_, rest) = h.events(&alice, &run, Some(&k.to_string())).await;
    assert_eq!(rest, events[k as usize..].to_vec());
    let (_, none) = h
        .events(&alice, &run, Some(&events.len().to_string()))
        .await;
    assert!(none.is_empty());
    // A bad Last-Event-ID is refused with where it is wrong; another organisation sees nothing.
    let (status, _) = h.events(&alice, &run, Some("seven")).await;
    assert_eq!(status, 400);
    h.create_org("rival").await;
    let bob = h.user("bob", "applicant", Some("rival")).await;
    assert_eq!(h.events(&bob, &run, None).await.0, 404);

    // The run's report through the API, as `touchstone report` writes it.
    let html = h
        .call("GET", &format!("/api/v1/runs/{run}/report"), &alice, None)
        .await;
    assert_eq!(html.status, 200);
    assert_eq!(html.headers["content-type"], "text/html; charset=utf-8");
    assert!(html.text.contains("<html") && html.text.contains(&run));
    // Its inline style sheet may apply; no script may run.
    let csp = html.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("style-src 'unsafe-inline'") && !csp.contains("script-src"),
        "{csp}"
    );
    let md = h
        .call(
            "GET",
            &format!("/api/v1/runs/{run}/report?format=md&lang=en"),
            &alice,
            None,
        )
        .await;
    assert!(
        md.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/markdown")
    );
    let json = h
        .call(
            "GET",
            &format!("/api/v1/runs/{run}/report?format=json"),
            &alice,
            None,
        )
        .await;
    assert_eq!(json.body["results"]["run_id"], run.as_str());
    let bad = h
        .call(
            "GET",
            &format!("/api/v1/runs/{run}/report?format=pdf"),
            &alice,
            None,
        )
        .await;
    assert_eq!(
        (bad.status, &bad.body["error"]["location"]),
        (400, &json!("query:format"))
    );
    assert_eq!(
        h.call("GET", &format!("/api/v1/runs/{run}/report"), &bob, None)
            .await
            .status,
        404
    );
    // A comparison needs every run to be the caller's to read.
    let theirs = h.model(&bob, "rival").await;
    let r = h
        .call(
            "POST",
            "/api/v1/runs",
            &bob,
            Some(json!({ "organisation": "rival", "suite": "quick", "models": [theirs], "limit": 2 })),
        )
        .await;
    let their_run = r.body["run_id"].as_str().unwrap().to_string();
    h.wait_finished(&bob, &their_run, 60).await;
    let mixed = format!("/api/v1/compare?runs={run},{their_run}&format=json");
    assert_eq!(h.call("GET", &mixed, &bob, None).await.status, 404);
    assert_eq!(h.call("GET", &mixed, &h.admin, None).await.status, 200);
    let none = h.call("GET", "/api/v1/compare?runs=", &h.admin, None).await;
    assert_eq!(
        (none.status, &none.body["error"]["location"]),
        (400, &json!("query:runs"))
    );
    // One run compares its models; this one has a single model, and the answer says why not.
    let one = h
        .call(
            "GET",
            &format!("/api/v1/compare?runs={run}"),
            &h.admin,
            None,
        )
        .await;
    assert_eq!(one.status, 409, "{}", one.text);
    assert!(
        one.body["error"]["message_zh"]
            .as_str()
            .unwrap()
            .contains("比较至少需要两个模型"),
        "{}",
        one.text
    );
}
