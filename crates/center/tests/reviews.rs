//! Human review through the API: a reviewer sets a score with a reason; a later review
//! supersedes and both are kept (the database refuses edits and removals); readers see the
//! automatic and reviewed values side by side with Cohen's κ; bad reviews are refused with
//! their location and change nothing; hostile text is kept as text; every review is audited.

mod common;

use common::{Auth, Harness};
use serde_json::{Value, json};

async fn items(h: &Harness, who: &Auth, run: &str) -> Vec<Value> {
    let r = h
        .call(
            "GET",
            &format!("/api/v1/runs/{run}/samples?status=scored"),
            who,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["samples"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reviewer_sets_scores_that_supersede_and_are_kept() {
    let h = Harness::start(1).await;
    h.create_org("acme").await;
    let alice = h.user("alice", "applicant", Some("acme")).await;
    let reviewer = h.user("rev", "reviewer", None).await;
    let assessor = h.user("asa", "assessor", None).await;
    let auditor = h.user("aud", "auditor", None).await;
    let model = h.model(&alice, "acme").await;
    let run = h.finished_run(&alice, &model, 4).await;
    let samples = items(&h, &reviewer, &run).await;
    assert!(samples.len() >= 3, "{samples:?}");
    let path = format!("/api/v1/runs/{run}/reviews");
    let review = |who: &Auth, body: Value| {
        let (h, path, who) = (&h, path.clone(), who.clone());
        async move { h.call("POST", &path, &who, Some(body)).await }
    };
    let item = |i: usize| samples[i]["item_id"].as_str().unwrap().to_string();
    let automatic = |i: usize| samples[i]["scores"][0]["value"].as_f64().unwrap();
    let flipped = |i: usize| 1.0 - automatic(i).round();

    // Nothing reviewed yet: no agreement to speak of.
    let r = h.call("GET", &path, &alice, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["agreement"]["reviewed_scores"], 0);
    assert!(r.body["agreement"]["kappa"].is_null());

    // The reviewer overrules the scorer on item 0, with a reason holding markup.
    let reason = "<script>alert(1)</script> \"><img src=x onerror=alert(1)> javascript:alert(1)";
    let first = review(
        &reviewer,
        json!({ "item": item(0), "value": flipped(0), "reason": reason }),
    )
    .await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.body["reason"], reason, "kept as the text it is");
    assert_eq!(first.body["automatic"], automatic(0));
    assert_eq!(first.body["scorer"], samples[0]["scores"][0]["scorer"]);
    assert_eq!(first.body["reviewer"], "rev");
    assert!(first.body["supersedes"].is_null());
    // An assessor reviews it again (back to the scorer's value): supersedes, does not replace.
    let second = review(
        &assessor,
        json!({ "item": item(0), "scorer": samples[0]["scores"][0]["scorer"],
                "value": automatic(0), "reason": "re-read: the scorer was right" }),
    )
    .await;
    assert_eq!(second.status, 201, "{}", second.text);
    assert_eq!(second.body["supersedes"], first.body["id"]);
    // Two more items, one agreeing with the scorer and one not.
    for (i, value) in [(1, automatic(1)), (2, flipped(2))] {
        let r = review(
            &reviewer,
            json!({ "item": item(i), "value": value, "reason": "checked" }),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }

    // The applicant reads both reviews of item 0 and the current one beside the automatic.
    let r = h.call("GET", &path, &alice, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["reviews"].as_array().unwrap().len(), 4);
    let current = r.body["current"].as_array().unwrap();
    assert_eq!(current.len(), 3);
    let of0 = current.iter().find(|c| c["item_id"] == item(0)).unwrap();
    assert_eq!(of0["reviewed"], automatic(0));
    assert_eq!(of0["reviews"], 2);
    assert_eq!(of0["review_id"], second.body["id"]);
    assert_eq!(r.body["agreement"]["reviewed_scores"], 3);
    assert_eq!(r.body["agreement"]["changed"], 1);
    assert!((r.body["agreement"]["observed"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-12);

    // The database refuses to edit or remove a review.
    let conn = rusqlite::Connection::open(h.db()).unwrap();
    for sql in [
        "UPDATE center_reviews SET value = 0.5",
        "DELETE FROM center_reviews",
    ] {
        let e = conn.execute(sql, []).unwrap_err().to_string();
        assert!(e.contains("append-only"), "{sql}: {e}");
    }
    let kept: i64 = conn
        .query_row("SELECT COUNT(*) FROM center_reviews", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, 4);

    // Each review is an audit event naming who reviewed what.
    let audit = h.call("GET", "/api/v1/audit", &auditor, None).await;
    let events: Vec<Value> = audit
        .text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let reviews: Vec<&Value> = events
        .iter()
        .filter(|e| e["action"] == "ReviewsCreate" && e["outcome"] == "ok")
        .collect();
    assert_eq!(reviews.len(), 4, "{}", audit.text);
    assert_eq!(
        reviews[0]["object"],
        format!("run:{run}/review:{}", first.body["id"])
    );
    assert_eq!(reviews[1]["actor"], "asa");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_reviews_are_refused_where_they_are_wrong_and_store_nothing() {
    let h = Harness::start(1).await;
    h.create_org("acme").await;
    h.create_org("other").await;
    let alice = h.user("alice", "applicant", Some("acme")).await;
    let reviewer = h.user("rev", "reviewer", None).await;
    let model = h.model(&alice, "acme").await;
    let run = h.finished_run(&alice, &model, 2).await;
    let item = items(&h, &reviewer, &run).await[0]["item_id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v1/runs/{run}/reviews");
    for (body, status, location) in [
        (
            json!({ "item": item, "value": 1.5, "reason": "r" }),
            400,
            "value",
        ),
        (
            json!({ "item": item, "value": -0.1, "reason": "r" }),
            400,
            "value",
        ),
        (
            json!({ "item": item, "value": 1, "reason": "  " }),
            400,
            "reason",
        ),
        (
            json!({ "item": item, "value": 1, "reason": "a\u{7}b" }),
            400,
            "reason",
        ),
        (
            json!({ "item": item, "value": 1, "reason": "x".repeat(2001) }),
            400,
            "reason",
        ),
        (json!({ "item": item, "value": 1 }), 400, ""),
        (
            json!({ "item": item, "value": "1", "reason": "r" }),
            400,
            "value",
        ),
        (
            json!({ "item": item, "value": 1, "reason": "r", "score": 1 }),
            400,
            "",
        ),
        (
            json!({ "item": item, "value": 1, "reason": "r", "scorer": "nope" }),
            409,
            "scorer",
        ),
        (
            json!({ "item": "' OR '1'='1", "value": 1, "reason": "r" }),
            404,
            "item",
        ),
        (
            json!({ "item": "../../../../etc/passwd", "value": 1, "reason": "r" }),
            404,
            "item",
        ),
    ] {
        let r = h.call("POST", &path, &reviewer, Some(body.clone())).await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
        if !location.is_empty() {
            assert_eq!(r.body["error"]["location"], location, "{body}: {}", r.text);
        }
        assert!(r.body["error"]["message_zh"].is_string(), "{}", r.text);
    }
    let r = h.call("GET", &path, &alice, None).await;
    assert_eq!(r.body["reviews"], json!([]), "{}", r.text);
    // A run that does not exist, and another organisation's member asking: not found.
    let r = h
        .call(
            "POST",
            "/api/v1/runs/nope/reviews",
            &reviewer,
            Some(json!({ "item": item, "value": 1, "reason": "r" })),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    let oscar = h.user("oscar", "applicant", Some("other")).await;
    let r = h.call("GET", &path, &oscar, None).await;
    assert_eq!(r.status, 404, "{}", r.text);
}
