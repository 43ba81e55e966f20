//! Acceptance 3 of issue 14: the center survives `kill -9`. A 2,000-item run is submitted to
//! `touchstone center` against the mock with latency; the server is killed mid-run and started
//! again; the run finishes with every item scored once, and no request recorded before the kill
//! is sent again.

mod common;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};
use touchstone_mock::{MockConfig, spawn_background};
use touchstone_store::{SqliteStore, Store};

/// Starts the center on a free port; its address and (on first start) the admin's password.
fn start_center(db: &std::path::Path, first: bool) -> (Child, String, Option<String>) {
    let mut child = bin()
        .args([
            "--db",
            db.to_str().unwrap(),
            "center",
            "--listen",
            "127.0.0.1:0",
            "--workers",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let password = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = BufReader::new(stdout).read_line(&mut text);
        text.split("password ")
            .nth(1)
            .map(|rest| rest.split_whitespace().next().unwrap().to_string())
    });
    let mut addr = None;
    for line in stderr.lines() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("center at http://") {
            addr = Some(rest.split_whitespace().next().unwrap().to_string());
            break;
        }
    }
    let addr = addr.expect("the center did not say where it listens");
    // Only a first start prints a password; later ones print nothing to wait for.
    let password = if first {
        password.join().unwrap()
    } else {
        None
    };
    (child, format!("http://{addr}"), password)
}

struct Client {
    http: reqwest::Client,
    base: String,
    auth: String,
}

impl Client {
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .header("authorization", &self.auth);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

/// A fresh center on `db` with organisation `acme`, the mock registered as its model, and an
/// admin and an assessor each with a token.
struct Setup {
    server: Child,
    base: String,
    admin: Client,
    assessor: Client,
    assessor_token: String,
    model: Value,
}

/// Signs `name` in and makes an API token with `scopes` from the session.
async fn sign_in_for_token(
    http: &reqwest::Client,
    base: &str,
    name: &str,
    password: &str,
    scopes: &[&str],
) -> String {
    let login = http
        .post(format!("{base}/api/v1/login"))
        .json(&json!({ "name": name, "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let cookie_of = |r: &reqwest::Response| {
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string()
    };
    let mut cookie = cookie_of(&login);
    let signed_in: Value = login.json().await.unwrap();
    if signed_in["user"]["must_change_password"] == true {
        // A password someone else set (the printed one-time one) is replaced first.
        let changed = http
            .post(format!("{base}/api/v1/me/password"))
            .header("cookie", &cookie)
            .json(&json!({ "current": password, "new": format!("{password}-changed") }))
            .send()
            .await
            .unwrap();
        assert_eq!(changed.status(), 200);
        cookie = cookie_of(&changed);
    }
    let answer: Value = http
        .post(format!("{base}/api/v1/tokens"))
        .header("cookie", &cookie)
        .json(&json!({ "name": "test", "scopes": scopes }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["token"].as_str().unwrap().to_string()
}

async fn setup(db: &std::path::Path, mock_url: &str) -> Setup {
    let (server, base, password) = start_center(db, true);
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let token = sign_in_for_token(
        &http,
        &base,
        "admin",
        &password.unwrap(),
        &["read", "models", "admin"],
    )
    .await;
    let admin = Client {
        http: http.clone(),
        base: base.clone(),
        auth: format!("Bearer {token}"),
    };
    assert_eq!(
        admin
            .call(
                "POST",
                "/api/v1/organisations",
                Some(json!({ "name": "acme" }))
            )
            .await
            .0,
        201
    );
    let (status, model) = admin
        .call(
            "POST",
            "/api/v1/models",
            Some(json!({ "organisation": "acme", "name": "mock", "base_url": mock_url })),
        )
        .await;
    assert_eq!(status, 201, "{model}");
    let (status, user) = admin
        .call(
            "POST",
            "/api/v1/users",
            Some(json!({ "name": "asa", "role": "assessor", "password": "assessor-password" })),
        )
        .await;
    assert_eq!(status, 201, "{user}");
    let token =
        sign_in_for_token(&http, &base, "asa", "assessor-password", &["read", "runs"]).await;
    let assessor = Client {
        http: http.clone(),
        base: base.clone(),
        auth: format!("Bearer {token}"),
    };
    Setup {
        server,
        base,
        admin,
        assessor,
        assessor_token: token,
        model,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_center_killed_mid_run_finishes_it_after_restart_without_sending_twice() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db");
    let mock = spawn_background(MockConfig {
        latency: Duration::from_millis(10),
        ..MockConfig::default()
    })
    .unwrap();
    let Setup {
        mut server,
        mut admin,
        mut assessor,
        model,
        ..
    } = setup(&db, &mock.base_url()).await;
    // quick has 100 items: 20 epochs make 2,000.
    let (status, submitted) = assessor
        .call(
            "POST",
            "/api/v1/runs",
            Some(json!({ "organisation": "acme", "suite": "quick", "models": [model["id"]], "epochs": 20, "concurrency": 4, "no_cache": true })),
        )
        .await;
    assert_eq!(status, 202, "{submitted}");
    let run_id = submitted["run_id"].as_str().unwrap().to_string();

    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, r) = assessor
            .call("GET", &format!("/api/v1/runs/{run_id}"), None)
            .await;
        if r["scored"].as_u64().unwrap_or(0) + r["failed"].as_u64().unwrap_or(0) >= 300 {
            assert_eq!(r["planned"], 2000, "{r}");
            break;
        }
        assert!(Instant::now() < deadline, "the run never got going: {r}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill().unwrap(); // SIGKILL: nothing is cleaned up.
    server.wait().unwrap();

    // What the first server sent, and what it recorded.
    let sent_before: Vec<String> = mock.requests().into_iter().map(|r| r.body_sha256).collect();
    let distinct_before: HashSet<&String> = sent_before.iter().collect();
    assert_eq!(
        distinct_before.len(),
        sent_before.len(),
        "a request was sent twice before the kill"
    );
    let recorded_before = SqliteStore::open(&db)
        .unwrap()
        .counts(&run_id)
        .unwrap()
        .total();
    assert!((300..2000).contains(&recorded_before), "{recorded_before}");

    let (mut server, base, _) = start_center(&db, false);
    assessor.base = base.clone();
    admin.base = base;
    // Accounts and tokens survive; no second administrator was made.
    let (status, users) = admin.call("GET", "/api/v1/users", None).await;
    assert_eq!(status, 200, "{users}");
    assert_eq!(users["users"].as_array().unwrap().len(), 2, "{users}");
    let deadline = Instant::now() + Duration::from_secs(300);
    let done = loop {
        let (status, r) = assessor
            .call("GET", &format!("/api/v1/runs/{run_id}"), None)
            .await;
        assert_eq!(status, 200, "{r}");
        if r["status"] != "queued" && r["status"] != "running" {
            break r;
        }
        assert!(
            Instant::now() < deadline,
            "the run did not finish after the restart: {r}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        done["scored"].as_u64().unwrap() + done["failed"].as_u64().unwrap(),
        2000,
        "{done}"
    );
    // Live progress kept both executions' events: planned from nothing, planned again from
    // what was recorded before the kill, and the end.
    let text = assessor
        .http
        .get(format!("{}/api/v1/runs/{run_id}/events", assessor.base))
        .header("authorization", &assessor.auth)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let events: Vec<(u64, String, Value)> = text
        .split("\n\n")
        .filter_map(|block| {
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(name).map(str::to_string))
            };
            Some((
                field("id: ")?.parse().ok()?,
                field("event: ")?,
                serde_json::from_str(&field("data: ")?).ok()?,
            ))
        })
        .collect();
    let ids: Vec<u64> = events.iter().map(|e| e.0).collect();
    assert_eq!(ids, (1..=events.len() as u64).collect::<Vec<_>>(), "{text}");
    let planned: Vec<&Value> = events
        .iter()
        .filter(|e| e.1 == "planned")
        .map(|e| &e.2)
        .collect();
    assert_eq!(planned.len(), 2, "{text}");
    assert_eq!(planned[0]["recorded"], 0);
    assert!(
        planned[1]["recorded"].as_u64().unwrap() >= recorded_before,
        "{text}"
    );
    let last = events.last().unwrap();
    assert_eq!(
        (last.1.as_str(), &last.2["status"]),
        ("done", &Value::from("completed"))
    );
    server.kill().unwrap();
    server.wait().unwrap();

    // Every item recorded once.
    let store = SqliteStore::open(&db).unwrap();
    let ids = store.recorded_ids(&run_id).unwrap();
    assert_eq!(ids.len(), 2000);
    // Requests: every item asked; the only repeats are of the items that were in flight (sent,
    // not recorded) at the kill, each exactly once more. A recorded item asked again would
    // make one repeat too many.
    let mut times: HashMap<String, usize> = HashMap::new();
    for r in mock.requests() {
        *times.entry(r.body_sha256).or_default() += 1;
    }
    assert_eq!(
        times.len(),
        2000,
        "not every item was asked, or items were asked in different words"
    );
    let repeats: usize = times.values().map(|n| n - 1).sum();
    let in_flight = sent_before.len() - recorded_before as usize;
    assert!(times.values().all(|n| *n <= 2));
    assert_eq!(
        repeats, in_flight,
        "{repeats} repeats for {in_flight} items in flight at the kill"
    );
    assert!(in_flight <= 8, "{in_flight} in flight with concurrency 4");
    // The trail is intact and holds the resumed run's end.
    let o = run(&["audit", "verify", "--db", db.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stdout(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendor_gates_its_ci_on_the_center() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db");
    let mock = spawn_background(MockConfig::default()).unwrap();
    let Setup {
        mut server,
        base,
        assessor_token,
        ..
    } = setup(&db, &mock.base_url()).await;
    let client = |args: &[&str]| {
        let mut c = bin();
        c.args(args)
            .args(["--url", &base, "--token-env", "CENTER_TOKEN"])
            .env("CENTER_TOKEN", &assessor_token);
        c.output().unwrap()
    };
    let submit = |extra: &[&str]| {
        let mut args = vec![
            "center",
            "submit",
            "--suite",
            "quick",
            "--model",
            "mock",
            "--organisation",
            "acme",
            "--limit",
            "1",
        ];
        args.extend_from_slice(extra);
        client(&args)
    };
    // The model by its name; followed to the end; the table printed.
    let o = submit(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let run_id = out.lines().next().unwrap().trim().to_string();
    assert!(out.contains("Task"), "{out}");
    assert!(stderr(&o).contains("completed"), "{}", stderr(&o));
    // --strict: the mock does not meet quick's expectations.
    let o = submit(&["--strict"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("not met"), "{}", stderr(&o));
    let o = client(&["center", "status", &run_id]);
    assert!(
        stdout(&o).contains("completed") && stdout(&o).contains(&run_id),
        "{}",
        stdout(&o)
    );
    let results = dir.path().join("results.json");
    let o = client(&[
        "center",
        "fetch",
        &run_id,
        "--out",
        results.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(read_json(&results)["run_id"], run_id.as_str());
    // Mistakes are said plainly.
    let o = client(&[
        "center",
        "submit",
        "--suite",
        "quick",
        "--model",
        "nope",
        "--organisation",
        "acme",
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("no registered model named `nope`"),
        "{}",
        stderr(&o)
    );
    let o = client(&[
        "center",
        "submit",
        "--suite",
        "nosuch",
        "--model",
        "mock",
        "--organisation",
        "acme",
    ]);
    assert!(
        stderr(&o).contains("bad_request") && stderr(&o).contains("suite"),
        "{}",
        stderr(&o)
    );
    let o = bin()
        .args([
            "center",
            "status",
            &run_id,
            "--url",
            &base,
            "--token-env",
            "UNSET_VARIABLE_X",
        ])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(stderr(&o).contains("UNSET_VARIABLE_X"), "{}", stderr(&o));
    server.kill().unwrap();
    server.wait().unwrap();
}
