//! Certificates through the API: issued by an assessor with the key's passphrase (kept nowhere),
//! downloaded by the run's readers, verified by anyone against the center's key and log, with
//! each check in words; a changed file, another center's certificate and a run not finished are
//! told apart.

mod common;

use common::{Auth, Harness};
use serde_json::{Value, json};

const PASSPHRASE: &str = "a passphrase nobody logs";

fn checks(body: &Value) -> Vec<(String, Value)> {
    body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["check"].as_str().unwrap().to_string(),
                c["passed"].clone(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_assessor_issues_a_certificate_that_anyone_verifies() {
    let h = Harness::start(1).await;
    h.create_org("acme").await;
    let alice = h.user("alice", "applicant", Some("acme")).await;
    let assessor = h.user("asa", "assessor", None).await;
    let model = h.model(&alice, "acme").await;
    let run = h.finished_run(&alice, &model, 2).await;
    let issue = |passphrase: &str| {
        let path = format!("/api/v1/runs/{run}/certificate");
        let body = json!({ "passphrase": passphrase });
        let h = &h;
        let assessor = assessor.clone();
        async move { h.call("POST", &path, &assessor, Some(body)).await }
    };

    // No key pair yet: the assessor is told how to make one.
    let r = issue(PASSPHRASE).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.body["error"]["code"], "keys_missing");
    assert!(r.text.contains("touchstone keys generate"), "{}", r.text);
    let public = h.keys(PASSPHRASE);

    // A wrong passphrase opens nothing and appends nothing to the log.
    let r = issue("not the passphrase").await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error"]["code"], "bad_passphrase");
    assert_eq!(r.body["error"]["location"], "passphrase");
    let head = h.call("GET", "/api/v1/log/head", &Auth::None, None).await;
    assert_eq!(head.body["tree_size"], 0);

    let r = issue(PASSPHRASE).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["leaf_index"], 0);
    assert_eq!(r.body["tree_size"], 1);
    assert_eq!(r.body["issued_by"], "asa");
    assert_eq!(r.body["key_fingerprint"], json!(public.fingerprint));
    let head = h.call("GET", "/api/v1/log/head", &Auth::None, None).await;
    assert_eq!(head.body["tree_size"], 1);
    assert_eq!(head.body["root_hash"], r.body["root_hash"]);

    // The applicant downloads it as a file; the command line's verifier accepts it with the
    // center's public key.
    let download = h
        .call(
            "GET",
            &format!("/api/v1/runs/{run}/certificate"),
            &alice,
            None,
        )
        .await;
    assert_eq!(download.status, 200, "{}", download.text);
    assert_eq!(
        download.headers["content-disposition"],
        format!("attachment; filename=\"touchstone-{run}.cert.json\"").as_str()
    );
    let bytes = download.text.clone().into_bytes();
    let report = touchstone_trust::verify(
        &bytes,
        &touchstone_trust::VerifyOptions {
            pubkey: Some(public.clone()),
            tree_head: None,
            check_files: None,
        },
    )
    .unwrap();
    assert_eq!(report.run_id, run);
    assert!(report.key_anchored);

    // Anyone verifies it through the API, each check in words.
    let verify = |bytes: Vec<u8>| {
        let h = &h;
        async move {
            let resp = h
                .http
                .post(format!("{}/api/v1/certificates/verify", h.base))
                .header("content-type", "application/json")
                .body(bytes)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status().as_u16(), 200);
            resp.json::<Value>().await.unwrap()
        }
    };
    let v = verify(bytes.clone()).await;
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(
        checks(&v),
        ["signatures", "issuer", "log_proof", "in_log"]
            .map(|c| (c.to_string(), json!(true)))
            .to_vec()
    );
    assert_eq!(v["certificate"]["run_id"], json!(run));
    assert!(
        v["offline"]["message"]
            .as_str()
            .unwrap()
            .contains("touchstone verify")
    );
    for c in v["checks"].as_array().unwrap() {
        assert!(
            c["message"].is_string() && c["message_zh"].is_string(),
            "{c}"
        );
    }

    // One changed character in the results: the signatures fail, nothing after is claimed.
    let text = String::from_utf8(bytes.clone()).unwrap();
    let key = text.find("\"run_id\"").unwrap();
    // The first character of the value: past `"run_id"`, the colon and the opening quote.
    let value = key + "\"run_id\"".len();
    let at = value + text[value..].find('"').unwrap() + 1;
    let mut altered = text.into_bytes();
    altered[at] = if altered[at] == b'a' { b'b' } else { b'a' };
    let v = verify(altered).await;
    assert_eq!(v["valid"], false, "{v}");
    assert_eq!(
        checks(&v),
        vec![
            ("signatures".to_string(), json!(false)),
            ("issuer".to_string(), Value::Null),
            ("log_proof".to_string(), Value::Null),
            ("in_log".to_string(), Value::Null),
        ]
    );
    // Not a certificate at all: the same answer shape, not an error.
    let v = verify(b"{\"hello\": 1}".to_vec()).await;
    assert_eq!(v["valid"], false, "{v}");

    // Another center (its own key pair and log) does not vouch for this one's certificate.
    let other = Harness::start(0).await;
    other.keys("another passphrase");
    let resp = other
        .http
        .post(format!("{}/api/v1/certificates/verify", other.base))
        .header("content-type", "application/json")
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["valid"], false, "{v}");
    assert_eq!(checks(&v)[0], ("signatures".to_string(), json!(true)));
    assert_eq!(checks(&v)[1], ("issuer".to_string(), json!(false)));

    // The passphrase is in no record: not the database, not the audit trail.
    let db = std::fs::read(h.db()).unwrap();
    let wal = std::fs::read(h.db().with_extension("db-wal")).unwrap_or_default();
    for bytes in [db, wal] {
        assert!(
            !bytes
                .windows(PASSPHRASE.len())
                .any(|w| w == PASSPHRASE.as_bytes()),
            "the passphrase was stored"
        );
    }
    let audit = h.call("GET", "/api/v1/audit", &h.admin, None).await;
    assert!(audit.text.contains("RunsCertify"), "{}", audit.text);
    assert!(!audit.text.contains(PASSPHRASE));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_run_that_has_not_completed_is_not_certified() {
    // No workers: the run stays queued.
    let h = Harness::start(0).await;
    h.create_org("acme").await;
    let assessor = h.user("asa", "assessor", None).await;
    let model = h.model(&h.admin, "acme").await;
    h.keys(PASSPHRASE);
    let r = h
        .call(
            "POST",
            "/api/v1/runs",
            &assessor,
            Some(
                json!({ "organisation": "acme", "suite": "quick", "models": [model], "limit": 1 }),
            ),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let run = r.body["run_id"].as_str().unwrap().to_string();
    let r = h
        .call(
            "POST",
            &format!("/api/v1/runs/{run}/certificate"),
            &assessor,
            Some(json!({ "passphrase": PASSPHRASE })),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.body["error"]["code"], "conflict");
    let r = h
        .call(
            "GET",
            &format!("/api/v1/runs/{run}/certificate"),
            &assessor,
            None,
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    // Unknown fields in the body are refused with their place.
    let r = h
        .call(
            "POST",
            &format!("/api/v1/runs/{run}/certificate"),
            &assessor,
            Some(json!({ "passphrase": PASSPHRASE, "center": "someone else" })),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
}
