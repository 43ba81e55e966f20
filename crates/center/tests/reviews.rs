//! Human review through the API: a reviewer sets a score with a reason; a later review
//! supersedes and both are kept (the database refuses edits and removals); readers see the
//! automatic and reviewed values side by side with Cohen's κ; bad reviews are refused with
//! their location and change nothing; hostile text is kept as text; every review is audited.

mod common;

use common::{Auth, Harness};
use serde_json::{Value, json};

async fn items_of(h: &Harness, who: &Auth, run: &str) -> Vec<Value> {
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
    let samples = items_of(&h, &reviewer, &run).await;
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
    let item = items_of(&h, &reviewer, &run).await[0]["item_id"]
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_queue_holds_disagreements_and_flags_open_ones_first() {
    let h = Harness::start(1).await;
    h.create_org("acme").await;
    let alice = h.user("alice", "applicant", Some("acme")).await;
    let reviewer = h.user("rev", "reviewer", None).await;
    let auditor = h.user("aud", "auditor", None).await;
    // Two scorers: `exact` fails "the answer is 2" where `includes` passes it.
    let model = h.model(&alice, "acme").await;
    let run = h
        .replies_run(
            &alice,
            &model,
            "two-scorers",
            "[exact, includes]",
            &[
                ("agree", "2"),
                ("disagree", "the answer is 2"),
                ("plain", "2"),
            ],
        )
        .await;
    let samples = items_of(&h, &reviewer, &run).await;
    let id_of = |sample: &str| {
        samples
            .iter()
            .find(|s| s["sample_id"] == sample)
            .unwrap_or_else(|| panic!("{sample}: {samples:?}"))["item_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let queue_path = format!("/api/v1/runs/{run}/queue");

    // The scorers' disagreement alone is in the queue.
    let q = h.call("GET", &queue_path, &auditor, None).await;
    assert_eq!(q.status, 200, "{}", q.text);
    let queued: Vec<&str> = q.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["sample_id"].as_str().unwrap())
        .collect();
    assert_eq!(queued, ["disagree"], "{}", q.text);
    assert_eq!(q.body["items"][0]["reasons"], json!(["disagree"]));
    assert_eq!(q.body["counts"]["open"], 1);

    // The applicant flags another item; an empty reason or an unknown item is refused where
    // it is wrong, and an auditor may not flag.
    let flags = format!("/api/v1/runs/{run}/flags");
    let hostile = "<script>alert(1)</script> \"><img src=x onerror=alert(1)>";
    let r = h
        .call(
            "POST",
            &flags,
            &alice,
            Some(json!({ "item": id_of("plain"), "reason": hostile })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["reason"], hostile);
    for (body, status, location) in [
        (
            json!({ "item": id_of("plain"), "reason": "  " }),
            400,
            "reason",
        ),
        (
            json!({ "item": "no-such-item", "reason": "why" }),
            404,
            "item",
        ),
    ] {
        let r = h.call("POST", &flags, &alice, Some(body)).await;
        assert_eq!(
            (r.status, r.body["error"]["location"].as_str()),
            (status, Some(location)),
            "{}",
            r.text
        );
    }
    let r = h
        .call(
            "POST",
            &flags,
            &auditor,
            Some(json!({ "item": id_of("plain"), "reason": "x" })),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);

    // Reviewing the disagreement closes it: the flagged item is now the open one, first.
    let r = h
        .call(
            "POST",
            &format!("/api/v1/runs/{run}/reviews"),
            &reviewer,
            Some(json!({ "item": id_of("disagree"), "value": 1, "reason": "includes is right" })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let q = h.call("GET", &queue_path, &alice, None).await;
    let items = q.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", q.text);
    assert_eq!(items[0]["sample_id"], "plain");
    assert_eq!(items[0]["reasons"], json!(["flagged"]));
    assert_eq!(items[0]["flags"][0]["by"], "alice");
    assert_eq!(items[0]["reviewed"], false);
    assert_eq!(items[1]["sample_id"], "disagree");
    assert_eq!(items[1]["reviewed"], true);
    assert_eq!(
        q.body["counts"],
        json!({ "disagree": 1, "low_agreement": 0, "flagged": 1, "open": 1, "total": 2 })
    );

    // The pages: the queue links each item to its drawer, which shows the flag as text.
    let page = h
        .call(
            "GET",
            &format!("/console/runs/{run}/queue"),
            &reviewer,
            None,
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("有人标记"), "{}", page.text);
    assert!(
        page.text.contains(&format!(
            "/console/runs/{run}/samples?item={}#drawer",
            id_of("plain")
        )),
        "{}",
        page.text
    );
    let drawer = h
        .call(
            "GET",
            &format!("/console/runs/{run}/samples?item={}", id_of("plain")),
            &reviewer,
            None,
        )
        .await;
    assert_eq!(drawer.status, 200, "{}", drawer.text);
    for text in [&page.text, &drawer.text] {
        assert!(!text.contains("<script>alert") && !text.contains("<img src=x"));
        assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    }
    assert!(drawer.text.contains("复核请求"), "{}", drawer.text);
    // Flagging in the drawer: a reason left blank comes back in the flag's form, open.
    let back = format!("/console/runs/{run}/samples?item={}", id_of("agree"));
    let form = |reason: &str| json!({ "item": id_of("agree"), "reason": reason, "back": back });
    let page_flags = format!("/console/runs/{run}/flags");
    let r = h.call("POST", &page_flags, &alice, Some(form(" "))).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(
        r.text.contains("<details open") && r.text.contains("请说明需要复核的原因"),
        "{}",
        r.text
    );
    let r = h
        .call("POST", &page_flags, &alice, Some(form("look again")))
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(r.headers["location"], format!("{back}#drawer"));

    // Every flag is an audit event, the refused ones with their code.
    let audit = h.call("GET", "/api/v1/audit", &auditor, None).await;
    let flagged: Vec<Value> = audit
        .text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["action"] == "FlagsCreate")
        .collect();
    assert_eq!(flagged.len(), 4, "{}", audit.text);
    let in_pages = audit
        .text
        .lines()
        .filter(|l| l.contains("\"PageFlagCreate\""))
        .count();
    assert_eq!(in_pages, 2, "{}", audit.text);
    assert_eq!(flagged[0]["outcome"], "ok");
    assert_eq!(flagged[0]["actor"], "alice");
    assert!(
        flagged[0]["object"]
            .as_str()
            .unwrap()
            .starts_with(&format!("run:{run}/flag:"))
    );
    assert!(
        flagged[1..].iter().all(|e| e["outcome"] != "ok"),
        "{flagged:?}"
    );
}
