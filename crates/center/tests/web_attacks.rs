//! Acceptance 2 of issue 14: web attacks tried against the API. Each refused request must
//! change nothing, and nothing may bring the server down.

mod common;

use common::{Auth, Harness, session_of};
use serde_json::{Value, json};

async fn org_names(h: &Harness) -> Vec<String> {
    let r = h.call("GET", "/api/v1/organisations", &h.admin, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["organisations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_string())
        .collect()
}

async fn raw_post(
    h: &Harness,
    path: &str,
    auth: &Auth,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (u16, Value) {
    let mut req = h.http.post(format!("{}{path}", h.base));
    if let Auth::Cookie(c) = auth {
        req = req.header("cookie", format!("touchstone_session={c}"));
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.body(body).send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cookie_authenticated_write_from_another_origin_is_refused() {
    let h = Harness::start(0).await;
    let body = || serde_json::to_vec(&json!({ "name": "csrf" })).unwrap();
    for headers in [
        &[
            ("content-type", "application/json"),
            ("origin", "https://evil.example"),
        ][..],
        &[("content-type", "application/json"), ("origin", "null")][..],
        &[
            ("content-type", "application/json"),
            ("sec-fetch-site", "cross-site"),
        ][..],
        &[
            ("content-type", "application/json"),
            ("sec-fetch-site", "same-site"),
        ][..],
    ] {
        let (status, e) = raw_post(&h, "/api/v1/organisations", &h.admin, headers, body()).await;
        assert_eq!(status, 403, "{headers:?}: {e}");
        assert_eq!(e["error"]["code"], "cross_origin");
    }
    assert!(!org_names(&h).await.contains(&"csrf".to_string()));
    // The same request from the center's own origin is accepted.
    let own = format!("http://{}", h.addr);
    let (status, e) = raw_post(
        &h,
        "/api/v1/organisations",
        &h.admin,
        &[
            ("content-type", "application/json"),
            ("origin", &own),
            ("sec-fetch-site", "same-origin"),
        ],
        body(),
    )
    .await;
    assert_eq!(status, 201, "{e}");
    // A form posted from one of the center's pages, which send no referrer: the browser says
    // `Origin: null` and, in its fetch metadata, that the post is its own origin's.
    let (status, e) = raw_post(
        &h,
        "/api/v1/organisations",
        &h.admin,
        &[
            ("content-type", "application/json"),
            ("origin", "null"),
            ("sec-fetch-site", "same-origin"),
        ],
        serde_json::to_vec(&json!({ "name": "from-a-page" })).unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_session_id_is_never_adopted_by_a_login() {
    let h = Harness::start(0).await;
    h.create_org("acme").await;
    let mallory = h.user("mallory", "reviewer", None).await;
    let Auth::Cookie(planted) = mallory.clone() else {
        unreachable!()
    };
    h.user("victim", "applicant", Some("acme")).await;
    // The victim signs in in a browser where the attacker planted their session id.
    let r = h
        .call(
            "POST",
            "/api/v1/login",
            &mallory,
            Some(json!({ "name": "victim", "password": "pw-victim-long-enough" })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let fresh = session_of(&r.headers).unwrap();
    assert_ne!(fresh, planted);
    let cookie = r.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    // The planted id opens nothing now; the new one is the victim's.
    let me = h
        .call("GET", "/api/v1/me", &Auth::Cookie(planted.clone()), None)
        .await;
    assert_eq!(me.status, 401, "{}", me.text);
    let me = h
        .call("GET", "/api/v1/me", &Auth::Cookie(fresh), None)
        .await;
    assert_eq!(me.body["name"], "victim");
    // A made-up session id is not one.
    let me = h
        .call("GET", "/api/v1/me", &Auth::Cookie("0".repeat(64)), None)
        .await;
    assert_eq!(me.status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_passwords_is_throttled_with_retry_after() {
    let h = Harness::start(0).await;
    h.user("bob", "auditor", None).await;
    let attempt = |password: &'static str| {
        h.call(
            "POST",
            "/api/v1/login",
            &Auth::None,
            Some(json!({ "name": "bob", "password": password })),
        )
    };
    for _ in 0..5 {
        let r = attempt("wrong-password-0").await;
        assert_eq!(r.status, 401, "{}", r.text);
        assert_eq!(r.body["error"]["code"], "bad_credentials");
    }
    let r = attempt("wrong-password-0").await;
    assert_eq!(r.status, 429, "{}", r.text);
    assert_eq!(r.body["error"]["code"], "throttled");
    let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&wait), "{wait}");
    // Even the right password waits, and no session is given.
    let r = attempt("pw-bob-long-enough").await;
    assert_eq!(r.status, 429);
    assert!(session_of(&r.headers).is_none());
    // An unknown name answers like a wrong password.
    let r = h
        .call(
            "POST",
            "/api/v1/login",
            &Auth::None,
            Some(json!({ "name": "nobody", "password": "x" })),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"]["code"], "bad_credentials");
    // Each failure is in the audit trail.
    let audit = h.call("GET", "/api/v1/audit", &h.admin, None).await;
    assert!(
        audit.text.matches("refused:bad_credentials").count() >= 6,
        "{}",
        audit.text
    );
    assert!(audit.text.contains("refused:throttled"));
}

/// Strings that break naive SQL, paths and HTML.
const HOSTILE: &[&str] = &[
    "' OR '1'='1",
    "x'); DROP TABLE center_users; --",
    "../../../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "名字 with spaces",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_strings_in_every_field_are_refused_or_kept_as_text() {
    let h = Harness::start(0).await;
    h.create_org("acme").await;
    let alice = h.user("alice", "applicant", Some("acme")).await;
    let before = org_names(&h).await;
    for s in HOSTILE {
        // Names are refused with where the problem is.
        for (path, body, field) in [
            ("/api/v1/organisations", json!({ "name": s }), "name"),
            (
                "/api/v1/users",
                json!({ "name": s, "role": "auditor" }),
                "name",
            ),
            ("/api/v1/users", json!({ "name": "ok", "role": s }), "role"),
            (
                "/api/v1/users",
                json!({ "name": "ok2", "role": "applicant", "organisation": s }),
                "organisation",
            ),
        ] {
            let r = h.call("POST", path, &h.admin, Some(body)).await;
            assert!(matches!(r.status, 400 | 404), "{path} {s}: {}", r.text);
            assert_eq!(r.body["error"]["location"], field, "{path} {s}: {}", r.text);
        }
        let r = h
            .call(
                "POST",
                "/api/v1/runs",
                &alice,
                Some(json!({ "suite": s, "models": ["m_1"] })),
            )
            .await;
        assert_eq!(r.status, 400, "{}", r.text);
        let r = h
            .call(
                "POST",
                "/api/v1/runs",
                &alice,
                Some(json!({ "suite": "quick", "models": [s] })),
            )
            .await;
        assert_eq!(r.status, 404, "{}", r.text);
        assert_eq!(r.body["error"]["location"], "models[0]");
        // Free text is kept exactly, as JSON text: never markup, never SQL.
        let r = h
            .call(
                "POST",
                "/api/v1/organisations",
                &h.admin,
                Some(json!({ "name": format!("o{}", s.len()), "display_name": s })),
            )
            .await;
        assert!(matches!(r.status, 201 | 409), "{}", r.text);
        let r = h
            .call(
                "POST",
                "/api/v1/models",
                &alice,
                Some(json!({ "name": s, "base_url": "http://127.0.0.1:9/v1", "api_key": s })),
            )
            .await;
        assert_eq!(r.status, 201, "{s}: {}", r.text);
        assert_eq!(r.body["name"], *s);
        assert_eq!(r.headers["content-type"], "application/json");
        assert_eq!(r.headers["x-content-type-options"], "nosniff");
        assert!(!r.text.contains("sk-"), "a key was returned");
        let r = h
            .call(
                "POST",
                "/api/v1/tokens",
                &alice,
                Some(json!({ "name": s, "scopes": ["read"] })),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        // In a path: no such object, and nothing read outside.
        for prefix in ["/api/v1/runs/", "/api/v1/models/", "/api/v1/tokens/"] {
            let method = if prefix.ends_with("tokens/") {
                "DELETE"
            } else {
                "GET"
            };
            let path = format!(
                "{prefix}{}",
                s.replace(' ', "%20")
                    .replace('"', "%22")
                    .replace('<', "%3C")
                    .replace('>', "%3E")
            );
            let r = h.call(method, &path, &alice, None).await;
            assert_eq!(r.status, 404, "{method} {path}: {}", r.text);
        }
    }
    // The tables are intact: the admin still signs in and lists everything.
    h.login("admin", &h.admin_password).await;
    let users = h.call("GET", "/api/v1/users", &h.admin, None).await;
    assert_eq!(
        users.body["users"].as_array().unwrap().len(),
        2,
        "{}",
        users.text
    );
    let after = org_names(&h).await;
    assert!(before.iter().all(|o| after.contains(o)));
    assert!(
        after.iter().all(|o| o == "acme" || o.starts_with('o')),
        "{after:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_get_located_errors_and_change_nothing() {
    let h = Harness::start(0).await;
    let json_ct = [("content-type", "application/json")];
    // Over the limit, with a length given and without (chunked).
    let big = vec![b' '; 2 * 1024 * 1024];
    let (status, e) = raw_post(&h, "/api/v1/organisations", &h.admin, &json_ct, big.clone()).await;
    assert_eq!(status, 413, "{e}");
    assert_eq!(e["error"]["code"], "too_large");
    let Auth::Cookie(cookie) = &h.admin else {
        unreachable!()
    };
    assert_eq!(chunked_post(&h, cookie, &big).await, 413);
    for (body, code, location) in [
        (&b"{\"name\": "[..], "bad_json", "name"),
        (&b"[1, 2]"[..], "bad_json", "[0]"),
        (&b"{\"name\": \"a\", \"extra\": 1}"[..], "bad_json", "extra"),
        (
            &b"{\"name\": \"a\", \"max_running\": \"two\"}"[..],
            "bad_json",
            "max_running",
        ),
        (&b"{\"name\": \"a\"} trailing"[..], "bad_json", "body"),
        (&b"\xff\xfe"[..], "bad_json", "body"),
    ] {
        let (status, e) = raw_post(
            &h,
            "/api/v1/organisations",
            &h.admin,
            &json_ct,
            body.to_vec(),
        )
        .await;
        assert_eq!(status, 400, "{}: {e}", String::from_utf8_lossy(body));
        assert_eq!(e["error"]["code"], code);
        assert_eq!(
            e["error"]["location"],
            location,
            "{}: {e}",
            String::from_utf8_lossy(body)
        );
    }
    let (status, e) = raw_post(
        &h,
        "/api/v1/organisations",
        &h.admin,
        &[("content-type", "text/plain")],
        b"{\"name\": \"a\"}".to_vec(),
    )
    .await;
    assert_eq!(status, 415, "{e}");
    assert!(org_names(&h).await.is_empty());
    let r = h.call("PUT", "/api/v1/runs", &h.admin, None).await;
    assert_eq!(r.status, 405);
    let r = h.call("GET", "/api/v1/nothing", &h.admin, None).await;
    assert_eq!(r.status, 404);
    let r = h.call("GET", "/api/v1/audit?after=x", &h.admin, None).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["location"], "query:after");
    // Still up, and the trail intact.
    assert_eq!(
        h.call("GET", "/api/v1/health", &Auth::None, None)
            .await
            .status,
        200
    );
    let store = touchstone_store::SqliteStore::open(&h.db()).unwrap();
    touchstone_audit::verify(&store, None).unwrap();
}

/// POSTs `body` with chunked transfer encoding (no Content-Length announces its size) over a
/// plain socket; the status line's code.
async fn chunked_post(h: &Harness, cookie: &str, body: &[u8]) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut sock = tokio::net::TcpStream::connect(h.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/organisations HTTP/1.1\r\nhost: {}\r\ncookie: touchstone_session={cookie}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
        h.addr
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.chunks(64 * 1024) {
        // The server may answer and close before all is sent: stop writing then.
        if sock
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .await
            .is_err()
            || sock.write_all(chunk).await.is_err()
            || sock.write_all(b"\r\n").await.is_err()
        {
            break;
        }
    }
    let _ = sock.write_all(b"0\r\n\r\n").await;
    let mut answer = vec![0u8; 1024];
    let n = sock.read(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer[..n]).to_string();
    text.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status: {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_someone_else_set_is_changed_before_anything_else() {
    let h = Harness::start(0).await;
    let given = "given-by-the-administrator";
    let r = h
        .call(
            "POST",
            "/api/v1/users",
            &h.admin,
            Some(json!({ "name": "rita", "role": "reviewer", "password": given })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["must_change_password"], true);
    let r = h
        .call(
            "POST",
            "/api/v1/login",
            &Auth::None,
            Some(json!({ "name": "rita", "password": given })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["user"]["must_change_password"], true);
    let first = Auth::Cookie(common::session_of(&r.headers).unwrap());

    // Until the password is changed: who am I, sign out, change it; nothing else.
    let me = h.call("GET", "/api/v1/me", &first, None).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["must_change_password"], true);
    for (method, path) in [
        ("GET", "/api/v1/runs"),
        ("GET", "/api/v1/tokens"),
        ("POST", "/api/v1/tokens"),
    ] {
        let r = h
            .call(
                method,
                path,
                &first,
                Some(json!({ "name": "t", "scopes": ["read"] })),
            )
            .await;
        assert_eq!(r.status, 403, "{method} {path}: {}", r.text);
        assert_eq!(r.body["error"]["code"], "password_change_required");
    }

    // The current password is asked for; the new one is checked.
    let change = |current: &str, new: &str| json!({ "current": current, "new": new });
    for (body, code, location) in [
        (
            change("not it at all", "a-new-long-password"),
            "wrong_password",
            "current",
        ),
        (change(given, "short"), "bad_request", "new"),
        (change(given, given), "bad_request", "new"),
    ] {
        let r = h
            .call("POST", "/api/v1/me/password", &first, Some(body.clone()))
            .await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert_eq!(r.body["error"]["code"], code, "{}", r.text);
        assert_eq!(r.body["error"]["location"], location, "{}", r.text);
    }
    let other = h.login("rita", given).await;
    let renewed = h
        .change_password(&first, given, "rita-chose-this-one")
        .await;

    // Every session of the old password has ended; the renewed one works for everything.
    for old in [&first, &other] {
        let r = h.call("GET", "/api/v1/me", old, None).await;
        assert_eq!(r.status, 401, "{}", r.text);
    }
    let r = h.call("GET", "/api/v1/runs", &renewed, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = h
        .call(
            "POST",
            "/api/v1/login",
            &Auth::None,
            Some(json!({ "name": "rita", "password": given })),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.text);
    let r = h
        .call(
            "POST",
            "/api/v1/login",
            &Auth::None,
            Some(json!({ "name": "rita", "password": "rita-chose-this-one" })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["user"]["must_change_password"], false);
    // Neither password is in the audit trail.
    let audit = h.call("GET", "/api/v1/audit", &h.admin, None).await;
    assert!(audit.text.contains("PasswordChange"), "{}", audit.text);
    assert!(!audit.text.contains("rita-chose-this-one") && !audit.text.contains(given));
}
